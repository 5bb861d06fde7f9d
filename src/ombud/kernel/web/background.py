"""Background work inside the server process: a thread per periodic job, started and
stopped with the app (the e-mail sender; later, queued audit runs)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

log = logging.getLogger("ombud.background")


class Periodic:
    """Calls ``job`` every ``interval`` seconds on its own thread until stopped; an
    exception is logged and the loop goes on (the job's state lives in the database)."""

    def __init__(self, name: str, job: Callable[[], object], interval: float) -> None:
        self.name, self.job, self.interval = name, job, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ombud-{name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.job()
            except Exception:
                log.exception("background job %s failed", self.name)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def lifespan_with(
    jobs: Callable[[], list[Periodic]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = jobs()
        for job in running:
            job.start()
        try:
            yield
        finally:
            for job in running:
                job.stop()

    return lifespan
