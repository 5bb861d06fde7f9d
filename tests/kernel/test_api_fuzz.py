"""A bounded schemathesis run over the whole JSON API, on SQLite and PostgreSQL.

Every operation in /api/v1/openapi.json gets generated requests, valid and
invalid (schemathesis' positive and negative modes), anonymous and with the
API token of an organisation admin, against a database holding the demo data
(so path ids meet real records). Two properties must hold for every answer:
no server error (5xx) and, where the schema documents the status, a body that
matches the documented response schema. A bounded stateful run then follows
the links schemathesis infers between operations (create, then read, update
and delete what was created).

The run prints its counts (operations, cases, failures) so that they can be
read from the suite's output (`pytest -s` or -rA shows them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from ombud.api import create_api
from ombud.bootstrap import Container
from ombud.kernel.web.deps import RateLimits

# Cases per operation and auth mode: with ~70 operations, two auth modes and two
# databases the run stays near a minute on this 2-core machine.
EXAMPLES_PER_OPERATION = 10
STATEFUL_STEPS = 30
STATEFUL_RUNS = 6

CHECKS = [not_a_server_error, response_schema_conformance]

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    unsatisfiable: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)


@pytest.fixture
def demo_api(container: Container) -> tuple[Any, dict[str, str]]:
    """The API over the demo data, and the headers of a demo organisation admin."""
    report = container.demo.load()
    admin = next(
        u for u in report.users if "lindholm" in u.email and any("admin" in r for r in u.roles)
    )
    principal = container.accounts.principal_for_email(admin.email)
    token = container.accounts.create_token(principal, "fuzz").token
    app = create_api(container, RateLimits())
    return app, {"Authorization": f"Bearer {token}"}


def _known_ids(container: Container) -> dict[str, list[Any]]:
    """Ids of real demo records for each path parameter name, so that generated
    requests reach records and not only 404s."""
    from sqlalchemy import text

    queries = {
        "system_id": "SELECT id FROM ai_systems",
        "assessment_id": "SELECT id FROM assessments",
        "case_id": "SELECT id FROM cases",
        "incident_id": "SELECT id FROM incidents",
        "run_id": "SELECT id FROM audit_runs",
        "user_id": "SELECT id FROM users",
        "token_id": "SELECT id FROM api_tokens",
        "ref": "SELECT slug FROM organisations",
        "organisation": "SELECT slug FROM organisations",
    }
    with container.engines.read.connect() as conn:
        known = {name: list(conn.execute(text(sql)).scalars()) for name, sql in queries.items()}
    known["instrument_id"] = ["coe-fc", "unga-78-265", "ipu-149"]
    known["provision_id"] = ["coe-fc:16.2.g", "coe-fc:14", "unga-78-265:op6.k"]
    return known


def _strategies(operation: Any, known: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    """Valid requests, invalid ones, and valid ones aimed at real records."""
    found = [
        ("positive", operation.as_strategy(GenerationMode.POSITIVE)),
        ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
    ]
    names = [p.name for p in operation.path_parameters]
    if names and all(known.get(n) for n in names):
        found.append(
            (
                "real records",
                st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names}).flatmap(
                    lambda ids: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=ids)
                ),
            )
        )
    return found


def _run_operation(
    operation: Any, strategy: Any, headers: dict[str, str] | None, tally: Tally
) -> None:

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        tally.cases += 1
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            tally.failures.append(
                f"{operation.label} [{'token' if headers else 'anonymous'}] "
                f"-> {response.status_code}: {first}"
            )

    try:
        check()
    except Unsatisfiable:
        # nothing to negate (an operation without parameters or body): no cases
        tally.unsatisfiable += 1


def test_no_server_errors_and_documented_answers(container, demo_api, capsys):
    app, token_headers = demo_api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()
    known = _known_ids(container)
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        for _mode, strategy in _strategies(operation, known):
            for headers in (None, token_headers):
                _run_operation(operation, strategy, headers, tally)
    with capsys.disabled():
        print(  # noqa: T201 - the counts are what the run is read for
            f"\nschemathesis: {tally.operations} operations, {tally.cases} cases, "
            f"{len(tally.failures)} failures"
        )
    assert tally.operations >= 60, "the API schema lost operations"
    assert not tally.failures, "\n".join(sorted(set(tally.failures))[:40])


def test_stateful_links(demo_api, capsys):
    """Sequences of calls along the links between operations (those in the schema
    and those schemathesis infers from it): create a record, then use its id."""
    app, token_headers = demo_api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    machine = schema.as_state_machine()
    links = sum(len(t.outgoing) for t in machine._transitions.operations.values())
    calls: list[int] = []

    class Scenario(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": token_headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

    Scenario.run(
        settings=settings(
            max_examples=STATEFUL_RUNS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    with capsys.disabled():
        print(  # noqa: T201 - the counts are what the run is read for
            f"\nschemathesis stateful: {len(calls)} calls, {links} links, "
            f"{sum(1 for s in calls if s < 300)} succeeded"
        )
    assert calls, "the state machine made no call"
