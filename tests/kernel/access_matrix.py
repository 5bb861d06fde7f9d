"""What the access-policy matrices share: reading a table of expected outcomes, and a
fresh system of the city to act on."""

from __future__ import annotations

from typing import Any

from ombud.register.domain.lifecycle import LifecycleStage
from tests.conftest import World
from tests.factories import complete_details


def parse_matrix(matrix: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The operations (the header) and, per person, the expected outcome of each."""
    header, *rows = [line.split() for line in matrix.strip().splitlines()]
    table = {}
    for row in rows:
        assert len(row) == len(header) + 1, row
        table[row[0]] = dict(zip(header, row[1:], strict=True))
    return header, table


def fresh_city_system(c: Any, w: World) -> int:
    """A new system of the city, in development, registered by its admin."""
    system = c.register.create(
        w["city-admin@example.org"],
        w.city.id,
        complete_details("Parking permit triage"),
        LifecycleStage.DEVELOPMENT,
    )
    return int(system.id)
