"""The landing page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ombud.kernel.web.deps import ContainerDep, OptionalSession
from ombud.kernel.web.templating import redirect, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, c: ContainerDep, info: OptionalSession) -> Response:
    if info is not None:
        return redirect(request, "/systems")
    published = c.public_register.search(None, 0, 5)
    return render(request, "home.html", {"latest": published})


@router.get("/healthz")
def healthz(c: ContainerDep) -> Response:
    return JSONResponse({"status": "ok", "database": c.migrations.dialect})
