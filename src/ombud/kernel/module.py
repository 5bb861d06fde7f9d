"""How an area plugs into ombud: one `Module` per area, listed in bootstrap.MODULES.

The application, the API, the CLI, the unit of work and the test database iterate
the modules instead of naming each area. Routers and CLI groups are named by import
path ("ombud.remedies.pages:router") and imported only when the app or the command
is built, so `ombud --help` loads no area's heavy dependencies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

# A repository is built for one connection of a unit of work: factory(conn, dialect).
RepositoryFactory = Callable[[Any, str], Any]

Access = Literal["public", "token", "sign-in"]


@dataclass(frozen=True)
class ApiRoutes:
    """Routers of the JSON API. ``access``: "token" routers need a bearer token (the
    scheme is documented on them); "public" and "sign-in" ones do not. ``first``: matched
    before every other router (routes are tried in order; the public intake is hot)."""

    router: str
    access: Access = "token"
    first: bool = False
    # Error statuses documented on every route of the router (token routers: 401, 403, 422).
    responses: tuple[int, ...] = ()


@dataclass(frozen=True)
class CliGroup:
    """A Typer app attached as ``ombud <name>``; ``help`` is shown by ``ombud --help``
    without importing the group's module."""

    name: str
    app: str
    help: str


@dataclass(frozen=True)
class CliCommand:
    """A single command attached as ``ombud <name>``."""

    name: str
    command: str
    help: str


@dataclass(frozen=True)
class Module:
    """What an area contributes. Every field is optional: an area plugs in only what it has."""

    name: str
    tables: tuple[str, ...] = ()  # modules whose import declares the area's tables
    # "module:REPOSITORIES", a {unit-of-work attribute: RepositoryFactory} mapping
    repositories: str | None = None
    pages: tuple[str, ...] = ()  # page routers behind CSRF protection
    open_pages: tuple[str, ...] = ()  # page routers without forms (no CSRF dependency)
    api: tuple[ApiRoutes, ...] = ()
    cli: tuple[CliGroup | CliCommand, ...] = ()
    # "module:TEMPLATE_GLOBALS": names templates use (the area's enums, field labels)
    # and "module:LABELS": {kind: {value: label}} for the `label` filter.
    template_globals: str | None = None
    labels: str | None = None
    # "module:LEDGER_RECORDS" (RecordSpec: what the entries vouch for) and
    # "module:RECORD_SOURCES" (RecordSource: where the current record is stored).
    record_specs: str | None = None
    record_sources: str | None = None
    # "module:SUBSCRIPTIONS": ((event type, handler(uow, event)), ...) run inside the
    # unit of work that publishes the event (kernel/events.py).
    subscriptions: str | None = None
    # What the register consults: "module:GATES" (gates a system passes before a stage),
    # "module:gate_facts" (the facts those gates read) and "module:kept_records" (records
    # that keep a draft from being deleted).
    gates: str | None = None
    gate_facts: str | None = None
    kept_records: str | None = None


def load(path: str) -> Any:
    """The object named "package.module:attribute"."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def contributions(modules: Iterable[Module], field: str) -> list[Any]:
    """What the modules that fill ``field`` (an import path) contribute, loaded, in
    module order: e.g. ``contributions(MODULES, "gates")`` is each area's GATES."""
    return [load(path) for m in modules if (path := getattr(m, field))]


def import_tables(modules: Iterable[Module]) -> None:
    """Declare the kernel's and every area's tables on the shared MetaData (migrations and
    the tests need all of them)."""
    importlib.import_module("ombud.kernel.ledger.tables")
    for m in modules:
        for path in m.tables:
            importlib.import_module(path)
