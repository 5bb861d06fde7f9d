"""Group commit: concurrent writes share transactions, each caller gets its own result
only after the commit that holds it, and a failing write fails alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ombud.services.group_commit import GroupCommit


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


def test_writes_that_queue_together_share_one_transaction() -> None:
    store = FakeStore()
    gc = GroupCommit(store.factory)  # type: ignore[arg-type]
    release = threading.Event()

    def write(n: int) -> Any:
        def w(uow: Any) -> str:
            if n == 0:
                release.wait(10)  # the first batch stays open while the others queue
            uow.pending.append(n)
            return f"receipt {n}"

        return w

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(gc.run, write(0))
        _wait_for(lambda: store.begun == 1)
        rest = [pool.submit(gc.run, write(n)) for n in range(1, 8)]
        _wait_for(lambda: gc.waiting == 7)
        assert not any(f.done() for f in rest)  # nobody is answered before its commit
        release.set()
        assert first.result() == "receipt 0"
        assert [f.result() for f in rest] == [f"receipt {n}" for n in range(1, 8)]
    assert store.transactions == [[0], list(range(1, 8))]
    assert gc.waiting == 0


def test_a_failing_write_fails_alone_and_the_others_are_committed() -> None:
    store = FakeStore()
    gc = GroupCommit(store.factory)  # type: ignore[arg-type]
    release = threading.Event()

    def write(n: int) -> Any:
        def w(uow: Any) -> int:
            if n == 0:
                release.wait(10)
            if n == 3:
                raise ValueError("report 3 is bad")
            uow.pending.append(n)
            return n

        return w

    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(gc.run, write(0))
        _wait_for(lambda: store.begun == 1)
        rest = {n: pool.submit(gc.run, write(n)) for n in range(1, 6)}
        _wait_for(lambda: gc.waiting == 5)
        release.set()
        assert first.result() == 0
        with pytest.raises(ValueError, match="report 3 is bad"):
            rest[3].result()
        assert [rest[n].result() for n in (1, 2, 4, 5)] == [1, 2, 4, 5]
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
    store = FakeStore()
    gc = GroupCommit(store.factory)  # type: ignore[arg-type]
    release = threading.Event()

    def write(n: int) -> Any:
        def w(uow: Any) -> int:
            if n == 0:
                release.wait(10)
                raise KeyboardInterrupt
            uow.pending.append(n)
            return n

        return w

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(gc.run, write(0))
        _wait_for(lambda: store.begun == 1)
        rest = [pool.submit(gc.run, write(n)) for n in (1, 2)]
        _wait_for(lambda: gc.waiting == 2)
        release.set()
        with pytest.raises(KeyboardInterrupt):
            first.result(timeout=10)
        assert [f.result(timeout=10) for f in rest] == [1, 2]  # the lead passed on
    assert store.committed == [1, 2]
