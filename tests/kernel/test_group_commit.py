"""Group commit: concurrent writes share transactions, each caller gets its own result
only after the commit that holds it, and a failing write fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from ombud.kernel.db.group_commit import GroupCommit


class FakeUow:
    """Records the writes of one transaction; they count only once committed."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.pending: list[Any] = []

    def __enter__(self) -> FakeUow:
        self.store.begun += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.pending = []  # leaving without commit rolls back

    def commit(self) -> None:
        self.store.transactions.append(list(self.pending))
        self.pending = []


class FakeStore:
    def __init__(self) -> None:
        self.begun = 0
        self.transactions: list[list[Any]] = []

    def factory(self, readonly: bool = False) -> FakeUow:
        return FakeUow(self)

    @property
    def committed(self) -> list[Any]:
        return [w for t in self.transactions for w in t]


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _behind_a_held_batch(
    step: Callable[[int, Any], Any], others: int
) -> tuple[FakeStore, GroupCommit, list[Future[Any]], bool]:
    """Write 0 holds the first transaction open until writes 1..others have queued
    behind it, then all go on. ``step(n, uow)`` is write n's work. Returns the store,
    the group commit, each write's future, and whether any queued write was answered
    before the held transaction ended."""
    store = FakeStore()
    gc = GroupCommit(store.factory)  # type: ignore[arg-type]
    release = threading.Event()

    def write(n: int) -> Callable[[Any], Any]:
        def w(uow: Any) -> Any:
            if n == 0:
                release.wait(10)
            return step(n, uow)

        return w

    with ThreadPoolExecutor(others + 1) as pool:
        futures = [pool.submit(gc.run, write(0))]
        _wait_for(lambda: store.begun == 1)
        futures += [pool.submit(gc.run, write(n)) for n in range(1, others + 1)]
        _wait_for(lambda: gc.waiting == others)
        answered_early = any(f.done() for f in futures)
        release.set()
        for f in futures:
            f.exception(timeout=10)  # every caller is answered
    return store, gc, futures, answered_early


def test_writes_that_queue_together_share_one_transaction() -> None:
    def step(n: int, uow: Any) -> str:
        uow.pending.append(n)
        return f"receipt {n}"

    store, gc, futures, answered_early = _behind_a_held_batch(step, 7)
    assert not answered_early  # nobody is answered before its commit
    assert [f.result() for f in futures] == [f"receipt {n}" for n in range(8)]
    assert store.transactions == [[0], list(range(1, 8))]
    assert gc.waiting == 0


def test_a_failing_write_fails_alone_and_the_others_are_committed() -> None:
    def step(n: int, uow: Any) -> int:
        if n == 3:
            raise ValueError("report 3 is bad")
        uow.pending.append(n)
        return n

    store, _gc, futures, _ = _behind_a_held_batch(step, 5)
    with pytest.raises(ValueError, match="report 3 is bad"):
        futures[3].result()
    assert [futures[n].result() for n in (0, 1, 2, 4, 5)] == [0, 1, 2, 4, 5]
    # the batch of five was rolled back, then each write ran in its own transaction
    assert store.transactions == [[0], [1], [2], [4], [5]]
    assert store.begun == 1 + 1 + 5


def test_many_threads_every_write_committed_exactly_once() -> None:
    store = FakeStore()
    gc = GroupCommit(store.factory, max_batch=5)  # type: ignore[arg-type]

    def write(n: int) -> Any:
        def w(uow: Any) -> int:
            uow.pending.append(n)
            return n * n

        return w

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: gc.run(write(n)), range(400)))
    assert results == [n * n for n in range(400)]
    assert sorted(store.committed) == list(range(400))
    assert all(1 <= len(t) <= 5 for t in store.transactions)
    assert gc.waiting == 0


def test_an_interrupt_in_the_leader_wakes_every_caller_of_its_batch() -> None:
    def step(n: int, uow: Any) -> int:
        if n == 0:
            raise KeyboardInterrupt
        uow.pending.append(n)
        return n

    store, _gc, futures, _ = _behind_a_held_batch(step, 2)
    with pytest.raises(KeyboardInterrupt):
        futures[0].result()
    assert [f.result() for f in futures[1:]] == [1, 2]  # the lead passed on
    assert store.committed == [1, 2]
