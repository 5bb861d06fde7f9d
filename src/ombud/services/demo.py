"""Demo data: organisations, people and AI systems across the lifecycle.

The data (resources/demo/demo.yaml, read by an adapter) is loaded through the
same services as real use, so every demo record passes the same validation and
gates and leaves the same ledger trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ombud.domain.access import SYSTEM_PRINCIPAL, OrganisationKind, Principal, Role
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.systems import PublicationState, RiskLevel, SystemDetails
from ombud.errors import Invalid
from ombud.services.accounts import AccountsService
from ombud.services.common import Service
from ombud.services.register import RegisterService


@dataclass
class DemoUser:
    email: str
    password: str
    roles: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    organisations: int = 0
    systems: int = 0
    users: list[DemoUser] = field(default_factory=list)


class DemoService(Service):
    def __init__(
        self,
        accounts: AccountsService,
        register: RegisterService,
        read_demo_data: Callable[[], dict[str, Any]],
    ) -> None:
        super().__init__(register.uow_factory, register.clock)
        self.accounts = accounts
        self.register = register
        self.read_demo_data = read_demo_data

    def is_empty(self) -> bool:
        with self.uow_factory(readonly=True) as uow:
            return uow.organisations.count() == 0

    def load(self, data: dict[str, Any] | None = None) -> DemoReport:
        """Create the demo organisations, users and systems (on an empty database)."""
        data = data if data is not None else self.read_demo_data()
        if not self.is_empty():
            raise Invalid(
                "The database already holds organisations; demo data goes into an "
                "empty database only."
            )
        report = DemoReport()
        root = SYSTEM_PRINCIPAL
        orgs: dict[str, int] = {}
        for raw in data["organisations"]:
            org = self.accounts.create_organisation(
                root,
                raw["name"],
                OrganisationKind(raw["kind"]),
                raw["slug"],
                raw.get("country", ""),
            )
            orgs[org.slug] = org.id
        report.organisations = len(orgs)
        for raw in data.get("jurisdiction", []):
            for slug in raw["organisations"]:
                self.accounts.grant_jurisdiction(root, raw["oversight"], slug)
        actors: dict[int, Principal] = {}
        for raw in data["users"]:
            user = self.accounts.create_user(
                root,
                raw["email"],
                raw["password"],
                raw.get("display_name", ""),
                bool(raw.get("superuser", False)),
            )
            roles = []
            for m in raw.get("memberships", []):
                self.accounts.set_role(root, orgs[m["org"]], user.email, Role(m["role"]))
                roles.append(f"{m['role']} @ {m['org']}")
            if raw.get("superuser"):
                roles.append("platform administrator")
            report.users.append(DemoUser(user.email, raw["password"], roles))
        for raw in data["systems"]:
            org_id = orgs[raw["org"]]
            actor = actors.get(org_id) or self._admin_of(org_id)
            actors[org_id] = actor
            self._load_system(actor, org_id, raw)
            report.systems += 1
        return report

    def _admin_of(self, org_id: int) -> Principal:
        members = self.accounts.members(SYSTEM_PRINCIPAL, org_id)
        admin = next((u for u, r in members if r is Role.ADMIN), None)
        if admin is None:
            raise Invalid(f"Demo organisation {org_id} has systems but no admin.")
        return self.accounts.principal_for_user(admin.id)

    def _load_system(self, actor: Principal, org_id: int, raw: dict[str, Any]) -> None:
        details = SystemDetails.from_snapshot(raw["details"])
        path = [LifecycleStage(s) for s in raw["path"]]
        system = self.register.create(actor, org_id, details, path[0], "Registered from demo data")
        for stage in path[1:]:
            system = self.register.transition(actor, system.id, stage, f"Moved to {stage.label}")
        for edit in raw.get("edits", []):
            snapshot = {**system.details.snapshot(), **edit["changes"]}
            system = self.register.update(
                actor,
                system.id,
                SystemDetails.from_snapshot(snapshot),
                significant_reason=edit.get("significant_reason", ""),
                note=edit.get("note", ""),
            )
        level = RiskLevel(raw.get("risk_level", "unassessed"))
        if level is not RiskLevel.UNASSESSED:
            self.register.classify_risk(actor, system.id, level, "Preliminary classification")
        state = PublicationState(raw.get("publication", "draft"))
        if state is not PublicationState.DRAFT:
            self.register.set_publication(actor, system.id, PublicationState.PUBLISHED)
        if state is PublicationState.ARCHIVED:
            self.register.set_publication(actor, system.id, PublicationState.ARCHIVED)
