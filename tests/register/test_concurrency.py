"""Two people changing the same records at the same moment.

On SQLite, writing transactions start with BEGIN IMMEDIATE and so run one after
the other: there is no race to test. On PostgreSQL two writers could both read
before either writes; these tests make that happen by holding each writer just
after its read until the other has read too. When the read takes a lock
(SELECT ... FOR UPDATE), the second writer waits for the lock instead; the hold
sees that in pg_stat_activity and lets the first writer go on.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import AccountsService
from ombud.kernel.access import SYSTEM_PRINCIPAL, Role
from ombud.kernel.errors import Conflict, Invalid
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.service import RegisterService
from tests.factories import complete_details, sign_current_assessments

S = LifecycleStage
HOLD_SECONDS = 10.0  # a safety net only: the hold ends on a condition, not a timer


class HoldAfterRead:
    """A unit-of-work factory whose writing units pause after one repository read.

    Each writer, once it has read, waits until the other writer has read too, or
    until the other writer is seen waiting for a database lock (the writers are
    serialised: nothing to hold for).
    """

    def __init__(
        self,
        inner: Any,
        someone_waits_for_a_lock: Any,
        read: tuple[str, str] = ("systems", "get"),
        parties: int = 2,
    ) -> None:
        self.inner = inner
        self.read = read
        self.someone_waits_for_a_lock = someone_waits_for_a_lock
        self.parties = parties
        self.reads = 0
        self.count_lock = threading.Lock()
        self.all_read = threading.Event()

    def __call__(self, *, readonly: bool = False) -> Any:
        uow = self.inner(readonly=readonly)
        if readonly:
            return uow
        return _Holding(uow, self)

    def hold(self) -> None:
        with self.count_lock:
            self.reads += 1
            if self.reads >= self.parties:
                self.all_read.set()
        deadline = time.monotonic() + HOLD_SECONDS
        while not self.all_read.wait(0.01):
            if self.someone_waits_for_a_lock() or time.monotonic() > deadline:
                return


class _Holding:
    def __init__(self, uow: Any, factory: HoldAfterRead) -> None:
        self.uow = uow
        self.factory = factory

    def __enter__(self) -> Any:
        inner = self.uow.__enter__()
        repo_name, method_name = self.factory.read
        repo = getattr(inner, repo_name)
        read = getattr(repo, method_name)

        def read_then_hold(*args: Any, **kwargs: Any) -> Any:
            result = read(*args, **kwargs)
            self.factory.hold()
            return result

        setattr(repo, method_name, read_then_hold)
        return inner

    def __exit__(self, *exc: Any) -> None:
        self.uow.__exit__(*exc)


def _race(calls: dict[str, Any]) -> dict[str, Any]:
    """Run the calls in two threads at once; return each result or exception."""
    out: dict[str, Any] = {}

    def run(key: str) -> None:
        try:
            out[key] = calls[key]()
        except Exception as exc:
            out[key] = exc

    threads = [threading.Thread(target=run, args=(key,)) for key in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.fixture
def someone_waits_for_a_lock(container):
    if container.engines.dialect == "sqlite":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE")

    def check() -> bool:
        with container.engines.write.connect() as conn:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalar_one()
            return bool(waiting)

    return check


@pytest.fixture
def racing(container, someone_waits_for_a_lock):
    return RegisterService(HoldAfterRead(container.register.uow_factory, someone_waits_for_a_lock))


def test_concurrent_transitions_keep_the_lifecycle_consistent(container, world, racing):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details(), S.DEPLOYMENT)
    sign_current_assessments(
        container,
        world["city-assessor@example.org"],
        world["city-approver@example.org"],
        system.id,
    )
    container.register.transition(editor, system.id, S.USE, "In use")

    outcomes = _race(
        {
            "decommission": lambda: racing.transition(
                editor, system.id, S.DECOMMISSIONING, "Switched off"
            ),
            "operate": lambda: racing.transition(editor, system.id, S.OPERATION, "Handed over"),
        }
    )

    for outcome in outcomes.values():
        assert not isinstance(outcome, Exception) or isinstance(outcome, Conflict | Invalid)
    history = container.register.history(editor, system.id).transitions[::-1]  # oldest first
    for before, after in itertools.pairwise(history):
        # Each move starts where the previous one ended: a decommissioned system
        # cannot come back to operation through a stale copy.
        assert after.from_stage == before.to_stage, history
    current = container.register.get(editor, system.id).system.lifecycle_stage
    assert current is history[-1].to_stage


def test_concurrent_edits_of_the_same_revision_give_one_conflict(container, world, racing):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details())

    outcomes = _race(
        {
            vendor: (
                lambda vendor=vendor: racing.update(
                    editor, system.id, complete_details(vendor=vendor), expected_revision=1
                )
            )
            for vendor in ("Vendor A", "Vendor B")
        }
    )

    errors = [o for o in outcomes.values() if isinstance(o, Exception)]
    saved = [o for o in outcomes.values() if not isinstance(o, Exception)]
    # The loser is told someone else changed the record, not shown a database error.
    assert [type(e) for e in errors] == [Conflict], errors
    assert len(saved) == 1
    current = container.register.get(editor, system.id).system
    assert current.revision == 2
    assert current.details.vendor == saved[0].details.vendor
    assert container.ledger.verify().ok


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    container, world, someone_waits_for_a_lock
):
    acc = container.accounts
    first = world["city-admin@example.org"]
    acc.set_role(first, world.city.id, "city-approver@example.org", Role.ADMIN)
    second = acc.principal_for_email("city-approver@example.org")
    racing_accounts = AccountsService(
        HoldAfterRead(
            container.accounts.uow_factory, someone_waits_for_a_lock, ("users", "members_of")
        ),
        Argon2PasswordHasher(fast=True),
    )

    outcomes = _race(
        {
            "first demotes second": lambda: racing_accounts.set_role(
                first, world.city.id, second.email, Role.EDITOR
            ),
            "second demotes first": lambda: racing_accounts.set_role(
                second, world.city.id, first.email, Role.EDITOR
            ),
        }
    )

    errors = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert [type(e) for e in errors] == [Conflict], outcomes
    admins = [u for u, r in acc.members(SYSTEM_PRINCIPAL, world.city.id) if r is Role.ADMIN]
    assert len(admins) == 1
