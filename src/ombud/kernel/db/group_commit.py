"""Group commit: writes that queue up together share one transaction and one commit.

Every public report is committed before it is acknowledged (coe-fc:14.2.c,
unga-78-265:op6.c). With one transaction each, reports queue for the database's single
writer (SQLite's write lock; in PostgreSQL the row lock on the ledger head) and take
their turn one commit at a time: under 20 concurrent reporters each waited about 80 ms
for a turn of about 4 ms. Here the first waiting writer leads: it writes everything
queued so far in one transaction, commits once, wakes the writers whose work that
commit holds, and hands the lead to the first writer that came while it wrote. A write
still returns only after the commit that holds it.

A batch that fails is rolled back and its writes run again one transaction each, so a
write that fails fails alone and the others are not lost. Writes must therefore only
touch the database through the unit of work they are given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from ombud.kernel.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")


@dataclass(eq=False)
class _Write(Generic[T]):
    write: Callable[[UnitOfWork], T]
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this caller writes the next batch
    result: T | None = None
    error: BaseException | None = None


class GroupCommit:
    """Runs ``write(uow)`` functions in shared transactions; thread-safe, one per process."""

    def __init__(self, uow_factory: UnitOfWorkFactory, max_batch: int = 64) -> None:
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._mutex = threading.Lock()
        self._queue: list[_Write[object]] = []
        self._leading = False  # invariant: False only while the queue is empty

    @property
    def waiting(self) -> int:
        """Writes queued for the next batch."""
        with self._mutex:
            return len(self._queue)

    def run(self, write: Callable[[UnitOfWork], T]) -> T:
        """The write's result once its transaction is committed; its error if it failed."""
        job: _Write[T] = _Write(write)
        with self._mutex:
            self._queue.append(cast(_Write[object], job))
            if not self._leading:
                self._leading = job.lead = True
        if not job.lead:
            job.wake.wait()  # written by another caller's batch, or the lead came here
        if job.lead:
            self._lead()
        if job.error is not None:
            raise job.error
        return cast(T, job.result)

    def _lead(self) -> None:
        with self._mutex:  # the leader's own write is first in the queue
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            self._write(batch)
        except BaseException as exc:  # KeyboardInterrupt and the like: nobody waits forever
            for job in batch:
                if not job.wake.is_set():
                    job.error = exc
                    job.wake.set()
            raise
        finally:
            with self._mutex:
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.wake.set()
                else:
                    self._leading = False

    def _write(self, batch: list[_Write[object]]) -> None:
        try:
            with self._uow_factory() as uow:
                results = [job.write(uow) for job in batch]
                uow.commit()
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                batch[0].wake.set()
            else:
                for job in batch:
                    self._write([job])
            return
        for job, result in zip(batch, results, strict=True):
            job.result = result
            job.wake.set()
