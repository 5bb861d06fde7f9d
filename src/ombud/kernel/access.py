"""Organisations, roles and who may do what.

Organisation kinds follow coe-fc:3.1: public authorities (3.1.a), private actors
acting on their behalf (3.1.a), private actors (3.1.b); plus the bodies that
check them: oversight bodies (coe-fc:26) and parliaments (ipu-149).

The policy is one explicit table (``POLICY``): for each action, which roles of
the organisation that owns the record may perform it, whether an oversight
body with jurisdiction may (read-only), and which roles of which kinds of
overseeing organisation may (e.g. an oversight body's officers writing on a
case escalated to it). The authorization matrix tests walk it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field


class OrganisationKind(enum.StrEnum):
    PUBLIC_AUTHORITY = "public_authority"
    PRIVATE_ON_BEHALF_OF_PUBLIC = "private_on_behalf_of_public"
    PRIVATE_ACTOR = "private_actor"
    OVERSIGHT_BODY = "oversight_body"
    PARLIAMENT = "parliament"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def operates_systems(self) -> bool:
        """Kinds that build, buy or run AI systems and keep them in the register."""
        return self in OPERATOR_KINDS

    @property
    def oversees(self) -> bool:
        """Kinds that may be given jurisdiction over other organisations."""
        return self in OVERSIGHT_KINDS


_KIND_LABELS = {
    OrganisationKind.PUBLIC_AUTHORITY: "Public authority",
    OrganisationKind.PRIVATE_ON_BEHALF_OF_PUBLIC: (
        "Private actor acting on behalf of a public authority"
    ),
    OrganisationKind.PRIVATE_ACTOR: "Private actor",
    OrganisationKind.OVERSIGHT_BODY: "Oversight body",
    OrganisationKind.PARLIAMENT: "Parliament",
}

OPERATOR_KINDS = frozenset(
    {
        OrganisationKind.PUBLIC_AUTHORITY,
        OrganisationKind.PRIVATE_ON_BEHALF_OF_PUBLIC,
        OrganisationKind.PRIVATE_ACTOR,
    }
)
OVERSIGHT_KINDS = frozenset({OrganisationKind.OVERSIGHT_BODY, OrganisationKind.PARLIAMENT})


class Role(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ASSESSOR = "assessor"
    APPROVER = "approver"
    ADMIN = "admin"


class Action(enum.StrEnum):
    SYSTEM_READ = "system.read"
    SYSTEM_CREATE = "system.create"
    SYSTEM_UPDATE = "system.update"
    SYSTEM_TRANSITION = "system.transition"
    SYSTEM_FLAG_SIGNIFICANT = "system.flag_significant"
    SYSTEM_PUBLISH = "system.publish"
    SYSTEM_CLASSIFY_RISK = "system.classify_risk"
    SYSTEM_DELETE = "system.delete"
    CASE_HANDLE = "case.handle"  # triage, move, decide, assign: the organisation's own
    CASE_READ = "case.read"  # a case, its messages and files
    CASE_WRITE = "case.write"  # internal notes and messages to the person
    INCIDENT_RECORD = "incident.record"
    AUDIT_RUN = "audit.run"
    ASSESSMENT_EDIT = "assessment.edit"
    ASSESSMENT_SIGN = "assessment.sign"
    LEDGER_READ = "ledger.read"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"


ALL_ROLES = frozenset(Role)
WRITERS = frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN})
HANDLERS = WRITERS  # of cases, in the organisation they are about
# Who acts for an oversight body (coe-fc:26): its viewers only follow what it does.
OFFICERS = WRITERS


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]  # roles in the owning organisation
    operator_only: bool = True  # only organisations that operate systems
    oversight_reads: bool = False  # an oversight body with jurisdiction may, read-only
    # Roles in an overseeing organisation, by its kind, that may act on the owner's
    # records; applies only to the overseers the caller passes to ``is_allowed``.
    overseers: Mapping[OrganisationKind, frozenset[Role]] = field(default_factory=dict)


POLICY: Mapping[Action, Rule] = {
    Action.SYSTEM_READ: Rule(ALL_ROLES, oversight_reads=True),
    Action.SYSTEM_CREATE: Rule(WRITERS),
    Action.SYSTEM_UPDATE: Rule(WRITERS),
    Action.SYSTEM_TRANSITION: Rule(WRITERS),
    Action.SYSTEM_FLAG_SIGNIFICANT: Rule(WRITERS | {Role.ASSESSOR}),
    Action.SYSTEM_PUBLISH: Rule(frozenset({Role.APPROVER, Role.ADMIN})),
    Action.SYSTEM_CLASSIFY_RISK: Rule(frozenset({Role.ASSESSOR, Role.APPROVER, Role.ADMIN})),
    Action.SYSTEM_DELETE: Rule(frozenset({Role.ADMIN})),
    Action.CASE_HANDLE: Rule(HANDLERS),
    # Once a case is escalated (coe-fc:14.2.c) the bodies with jurisdiction over the
    # organisation read it; an oversight body's officers also write on it, to the
    # organisation and to the person. A parliament never writes on cases.
    Action.CASE_READ: Rule(
        HANDLERS,
        overseers={
            OrganisationKind.OVERSIGHT_BODY: ALL_ROLES,
            OrganisationKind.PARLIAMENT: ALL_ROLES,
        },
    ),
    Action.CASE_WRITE: Rule(HANDLERS, overseers={OrganisationKind.OVERSIGHT_BODY: OFFICERS}),
    Action.AUDIT_RUN: Rule(frozenset({Role.EDITOR, Role.ASSESSOR, Role.APPROVER, Role.ADMIN})),
    Action.INCIDENT_RECORD: Rule(
        frozenset({Role.EDITOR, Role.ASSESSOR, Role.APPROVER, Role.ADMIN})
    ),
    Action.ASSESSMENT_EDIT: Rule(frozenset({Role.ASSESSOR, Role.APPROVER, Role.ADMIN})),
    Action.ASSESSMENT_SIGN: Rule(frozenset({Role.APPROVER, Role.ADMIN})),
    Action.LEDGER_READ: Rule(frozenset({Role.ADMIN}), operator_only=False, oversight_reads=True),
    Action.MEMBERS_READ: Rule(frozenset({Role.ADMIN}), operator_only=False),
    Action.MEMBERS_MANAGE: Rule(frozenset({Role.ADMIN}), operator_only=False),
}


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    kind: OrganisationKind
    name: str = ""


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user (or API token holder), with their memberships.

    ``jurisdiction`` holds the organisations that the user's oversight bodies
    oversee; it is filled in by the accounts service when the principal is loaded.
    """

    user_id: int
    email: str
    memberships: Mapping[int, Role] = field(default_factory=dict)
    org_kinds: Mapping[int, OrganisationKind] = field(default_factory=dict)
    jurisdiction: frozenset[int] = frozenset()
    is_superuser: bool = False

    @property
    def label(self) -> str:
        return self.email

    def role_in(self, org_id: int) -> Role | None:
        return self.memberships.get(org_id)

    def readable_org_ids(self) -> frozenset[int]:
        """Organisations whose private records this principal may read."""
        return frozenset(self.memberships) | self.jurisdiction


SYSTEM_PRINCIPAL = Principal(user_id=0, email="ombud (system)", is_superuser=True)


def acting_for(
    principal: Principal,
    action: Action,
    org: OrganisationRef,
    overseers: Collection[OrganisationRef] = (),
) -> OrganisationRef | None:
    """On whose behalf ``principal`` may do ``action`` on records of ``org``: ``org``
    itself (by their role there), one of ``overseers`` (the organisations with
    jurisdiction over ``org``, by their role there and its kind), or None."""
    rule = POLICY[action]
    if rule.operator_only and not org.kind.operates_systems:
        return None
    role = principal.role_in(org.id)
    if role is not None and role in rule.roles:
        return org
    if org.id not in principal.jurisdiction:  # the principal's own view must agree
        return None
    for body in overseers:
        body_role = principal.role_in(body.id)
        if body_role is not None and body_role in rule.overseers.get(body.kind, frozenset()):
            return body
    return None


def is_allowed(
    principal: Principal,
    action: Action,
    org: OrganisationRef,
    overseers: Collection[OrganisationRef] = (),
) -> bool:
    """The single decision point: may ``principal`` do ``action`` on records of ``org``?

    ``overseers`` are the organisations with jurisdiction over ``org`` for the rules
    that name overseeing kinds; without them such a rule allows its overseers nothing."""
    rule = POLICY[action]
    if rule.operator_only and not org.kind.operates_systems:
        return False
    if acting_for(principal, action, org, overseers) is not None:
        return True
    return rule.oversight_reads and org.id in principal.jurisdiction
