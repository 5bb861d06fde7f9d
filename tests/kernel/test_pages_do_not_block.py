"""The event loop never waits on a service (issue 14, item 7): page handlers that call
synchronous services are plain ``def`` (FastAPI runs them in its thread pool) and get
the form from an async dependency, so one slow service call does not hold up the
other people sending a form at the same moment.

On a live server, N people post the same form at once while the service call is
replaced by one that waits, in whatever thread it was called from, until all N calls
are inside it together. Run in the thread pool, all N get in and every post succeeds.
Run on the event loop, the first call holds the loop, no other request is read, and
the wait gives up after WAIT_LIMIT seconds with one call inside: the count, not the
time, is what the test asserts."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from fastapi.routing import APIRoute

import ombud
from ombud.app import create_app
from ombud.bootstrap import Container
from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, Category, PublicReport
from tests.conftest import PASSWORD, World
from tests.factories import complete_details
from tests.web_helpers import csrf_from, form_token_of

PEOPLE = 4
WAIT_LIMIT = 30.0  # only reached when the calls cannot overlap, i.e. when the test fails
EDITOR = "city-editor@example.org"
ASSESSOR = "city-assessor@example.org"


class Overlap:
    """Wraps a service method: each call waits until ``n`` calls are inside at once
    (or WAIT_LIMIT passed), then does the real work; ``most`` is how many were inside
    together."""

    def __init__(self, n: int, real: Callable[..., Any]) -> None:
        self.real = real
        self._all_in = threading.Barrier(n, timeout=WAIT_LIMIT)
        self._lock = threading.Lock()
        self._inside = 0
        self.most = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._inside += 1
            self.most = max(self.most, self._inside)
        try:
            self._all_in.wait()
        except threading.BrokenBarrierError:
            pass  # not all could get in: ``most`` says how many did
        finally:
            with self._lock:
                self._inside -= 1
        return self.real(*args, **kwargs)


@pytest.fixture
def live(container: Container) -> Iterator[str]:
    """The whole app on a uvicorn server on 127.0.0.1; its base URL."""
    app = create_app(container)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def signed_in(client: httpx.Client, email: str) -> str:
    """Sign in through the form; the CSRF token of the new session."""
    token = csrf_from(client.get("/login").text)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    return csrf_from(client.get("/systems").text)


@dataclass
class FormPost:
    """One person's form, ready to send: where, the fields, the files."""

    path: str
    data: dict[str, str]
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None


@dataclass
class Scenario:
    service: str  # the container attribute ...
    method: str  # ... and the method the handler calls
    prepare: Callable[[httpx.Client, Container, World, Any], FormPost]
    success: int


def _published(c: Container, world: World) -> Any:
    system = c.register.create(world[EDITOR], world.city.id, complete_details("Benefit chatbot"))
    c.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def _report(client: httpx.Client, c: Container, world: World, system: Any) -> FormPost:
    page = client.get(f"/register/{system.id}/report").text
    return FormPost(
        f"/register/{system.id}/report",
        {
            "csrf_token": csrf_from(page),
            "form_token": form_token_of(page),
            "kind": "complaint",
            "category": "decision_error",
            "description": "My benefit was stopped without a reason.",
        },
        [("attachments", ("letter.txt", b"The letter I got.", "text/plain"))],
    )


def _follow_up(client: httpx.Client, c: Container, world: World, system: Any) -> FormPost:
    receipt = c.remedies.submit(
        PublicReport(system.id, CaseKind.COMPLAINT, Category.DECISION_ERROR, "Stopped.")
    )
    path = f"/follow/{receipt.tracking_code}/{receipt.secret}"
    return FormPost(
        path,
        {"csrf_token": csrf_from(client.get(path).text), "text": "I found the letter."},
        [("attachments", ("letter.txt", b"The letter I got.", "text/plain"))],
    )


def _case_note(client: httpx.Client, c: Container, world: World, system: Any) -> FormPost:
    c.remedies.submit(
        PublicReport(system.id, CaseKind.COMPLAINT, Category.DECISION_ERROR, "Stopped.")
    )
    case = c.remedies.cases(world[EDITOR]).items[0]
    token = signed_in(client, EDITOR)
    return FormPost(f"/cases/{case.id}/notes", {"csrf_token": token, "text": "Called them."})


def _risk_level(client: httpx.Client, c: Container, world: World, system: Any) -> FormPost:
    token = signed_in(client, ASSESSOR)
    return FormPost(
        f"/systems/{system.id}/risk",
        {"csrf_token": token, "risk_level": "high", "reason": "Decides on benefits."},
    )


SCENARIOS = {
    "public report with a file": Scenario("remedies", "submit", _report, 201),
    "information added on the follow page": Scenario(
        "remedies", "add_information", _follow_up, 303
    ),
    "note on a case (signed in)": Scenario("remedies", "note", _case_note, 303),
    "risk level of a system (signed in)": Scenario("register", "classify_risk", _risk_level, 303),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_people_sending_a_form_at_once_do_not_wait_for_each_other(
    name: str, live: str, container: Container, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = SCENARIOS[name]
    system = _published(container, world)
    clients = [httpx.Client(base_url=live, timeout=2 * WAIT_LIMIT) for _ in range(PEOPLE)]
    try:
        posts = [scenario.prepare(client, container, world, system) for client in clients]
        service = getattr(container, scenario.service)
        overlap = Overlap(PEOPLE, getattr(service, scenario.method))
        monkeypatch.setattr(service, scenario.method, overlap)
        with ThreadPoolExecutor(PEOPLE) as pool:
            answers = list(
                pool.map(
                    lambda cp: cp[0].post(cp[1].path, data=cp[1].data, files=cp[1].files),
                    zip(clients, posts, strict=True),
                )
            )
    finally:
        for client in clients:
            client.close()
    assert overlap.most == PEOPLE, (
        f"only {overlap.most} of {PEOPLE} posts reached the service at once: "
        "the handler runs it on the event loop (make it a plain def)"
    )
    assert [a.status_code for a in answers] == [scenario.success] * PEOPLE, answers[0].text


# Bias audits stream uploads through an async service call; their pages are converted
# on their own (issue 14, item 7), with the same dependency.
AWAITING_MODULES = {"ombud.audits.pages", "ombud.audits.api"}
ENTRY_POINTS = {"pages", "public", "admin", "api", "public_api", "lifecycle_api", "home"}


def _handlers() -> Iterator[tuple[str, APIRoute]]:
    """Every route of every page and API module: (module, route)."""
    for info in pkgutil.walk_packages(ombud.__path__, "ombud."):
        if info.name.rsplit(".", 1)[-1] not in ENTRY_POINTS or info.ispkg:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                for route in value.routes:
                    if isinstance(route, APIRoute) and route.endpoint.__module__ == info.name:
                        yield info.name, route


def test_no_page_or_api_handler_is_a_coroutine() -> None:
    """FastAPI runs an ``async def`` handler on the event loop: every service call in
    it holds up every other request."""
    handlers = list(_handlers())
    seen = {(m, r.endpoint.__name__) for m, r in handlers}
    assert {
        ("ombud.remedies.public", "submit_report"),
        ("ombud.remedies.api", "submit_report"),
    } <= seen
    on_the_loop = sorted(
        f"{module}.{route.endpoint.__name__} ({route.path})"
        for module, route in handlers
        if inspect.iscoroutinefunction(route.endpoint) and module not in AWAITING_MODULES
    )
    assert on_the_loop == []
