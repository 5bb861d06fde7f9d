"""The SQLite write gate: writers queue first come, first served in a process, and
across processes on the lock file (released by the kernel when a holder dies)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from ombud.kernel.db.engine import FifoLock, WriteGate


def test_waiters_get_the_lock_in_the_order_they_came():
    lock = FifoLock()
    assert lock.acquire(1)
    order: list[int] = []

    def wait(i: int) -> None:
        assert lock.acquire(5)
        order.append(i)
        lock.release()

    threads = []
    for i in range(6):
        t = threading.Thread(target=wait, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.02)  # each is queued before the next comes
    lock.release()
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def test_a_waiter_that_times_out_leaves_the_queue():
    lock = FifoLock()
    assert lock.acquire(1)
    assert lock.acquire(0.05) is False
    lock.release()
    assert lock.acquire(0.05) is True  # nobody left waiting: free at once
    lock.release()


def test_the_gate_waits_for_another_process_and_not_for_a_dead_one(tmp_path):
    database = tmp_path / "ombud.db"
    holder = (
        "import fcntl, os, sys, time; "
        f"fd = os.open({str(database) + '.write-lock'!r}, os.O_RDWR | os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(float(sys.argv[1]))"
    )
    gate = WriteGate(str(database), timeout_s=5)
    proc = subprocess.Popen([sys.executable, "-c", holder, "0.4"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"held"
    started = time.monotonic()
    info: dict[str, object] = {}
    gate.enter(info)
    waited = time.monotonic() - started
    gate.leave(info)
    proc.wait(5)
    assert waited >= 0.2

    proc = subprocess.Popen([sys.executable, "-c", holder, "60"], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"held"
    proc.kill()  # SIGKILL while holding the lock: the kernel drops it
    proc.wait(5)
    started = time.monotonic()
    gate.enter(info)
    gate.leave(info)
    assert time.monotonic() - started < 2
