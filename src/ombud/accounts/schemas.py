"""The API schemas of accounts, organisations, members and jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ombud.accounts.domain import PASSWORD_MAX, Organisation, User
from ombud.accounts.service import ORG_NAME_MAX, TOKEN_NAME_MAX, Invitation, IssuedToken
from ombud.kernel.access import OrganisationKind, Principal, Role
from ombud.kernel.web.schemas import DomainOut, OrgRef, PageOut, RecordId, RequestModel, UtcDateTime


class TokenRequest(RequestModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=PASSWORD_MAX)
    name: str = Field(max_length=TOKEN_NAME_MAX, description="What the token is for.")
    expires_days: int | None = Field(
        90, ge=1, le=366, description="Days until the token expires; null for no expiry."
    )


class TokenCreate(RequestModel):
    name: str = Field(max_length=TOKEN_NAME_MAX, description="What the token is for.")
    expires_days: int | None = Field(
        90, ge=1, le=366, description="Days until the token expires; null for no expiry."
    )


class TokenOut(DomainOut):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None


class TokenPage(PageOut[TokenOut]):
    pass


class IssuedTokenOut(BaseModel):
    token: str = Field(description="The token in clear: shown this once, never stored.")
    id: int
    name: str
    prefix: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None

    @classmethod
    def from_domain(cls, issued: IssuedToken) -> IssuedTokenOut:
        r = issued.record
        return cls(
            token=issued.token,
            id=r.id,
            name=r.name,
            prefix=r.prefix,
            created_at=r.created_at,
            expires_at=r.expires_at,
        )


class MembershipOut(BaseModel):
    organisation_id: int
    organisation: str
    kind: OrganisationKind
    role: Role


class MeOut(BaseModel):
    id: int
    email: str
    is_superuser: bool
    memberships: list[MembershipOut]
    jurisdiction: list[int] = Field(
        description="Organisations whose records the caller's oversight bodies may read."
    )

    @classmethod
    def from_domain(
        cls, principal: Principal, memberships: Sequence[tuple[Organisation, Role]]
    ) -> MeOut:
        return cls(
            id=principal.user_id,
            email=principal.email,
            is_superuser=principal.is_superuser,
            memberships=[
                MembershipOut(organisation_id=o.id, organisation=o.name, kind=o.kind, role=r)
                for o, r in memberships
            ],
            jurisdiction=sorted(principal.jurisdiction),
        )


class OrganisationCreate(RequestModel):
    name: str = Field(max_length=ORG_NAME_MAX)
    kind: OrganisationKind = Field(
        description="coe-fc:3.1 public authority or private actor; oversight body (coe-fc:26) "
        "or parliament."
    )
    slug: str | None = Field(None, max_length=64, description="Short name; made from the name.")
    country: str = Field("", max_length=2, description="ISO 3166 two-letter code.")


class OrganisationOut(DomainOut):
    id: int
    slug: str
    name: str
    kind: OrganisationKind
    country: str
    created_at: UtcDateTime
    notice_languages: list[str] = Field(
        description="Languages of its public AI notices (coe-fc:15.2); the first is the default."
    )


class NoticeLanguagesIn(RequestModel):
    languages: list[str] = Field(min_length=1, max_length=20, examples=[["en", "fr"]])


class OrganisationPage(PageOut[OrganisationOut]):
    pass


class JurisdictionIn(RequestModel):
    organisation: RecordId | OrgRef = Field(
        description="Id or short name of the overseen organisation."
    )


class JurisdictionOut(BaseModel):
    oversees: list[OrganisationOut]
    overseen_by: list[OrganisationOut]

    @classmethod
    def from_domain(
        cls, oversees: Sequence[Organisation], overseen_by: Sequence[Organisation]
    ) -> JurisdictionOut:
        return cls(
            oversees=[OrganisationOut.from_domain(o) for o in oversees],
            overseen_by=[OrganisationOut.from_domain(o) for o in overseen_by],
        )


class MemberCreate(RequestModel):
    email: str = Field(max_length=320)
    role: Role
    display_name: str = Field("", max_length=200)


class MemberUpdate(RequestModel):
    role: Role


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: Role
    is_active: bool

    @classmethod
    def from_domain(cls, user: User, role: Role) -> MemberOut:
        return cls(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=role,
            is_active=user.is_active,
        )


class MemberPage(PageOut[MemberOut]):
    pass


class InvitationOut(BaseModel):
    """The same shape and words whether or not the address had an account."""

    email: str
    role: Role
    organisation_id: int
    message: str = Field(description="What happened and who is told, in words to show.")
    set_password_link: str | None = Field(
        description="Only for a platform administrator, on an installation without e-mail, "
        "when the person has no password yet: the single-use link to give them, shown this "
        "once. Never given to an organisation's admin."
    )

    @classmethod
    def from_invitation(cls, inv: Invitation) -> InvitationOut:
        return cls(
            email=inv.email,
            role=inv.role,
            organisation_id=inv.organisation.id,
            message=inv.message,
            set_password_link=inv.set_password_link,
        )


class SetPasswordIn(RequestModel):
    token: str = Field(
        min_length=20,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The token at the end of the set-password link.",
    )
    password: str = Field(max_length=PASSWORD_MAX, description="At least 12 characters.")
