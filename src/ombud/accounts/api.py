"""Who you are, your API tokens, organisations, their members and jurisdictions.

``auth_router`` is public (it hands out tokens); ``router`` needs a token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from ombud.accounts.schemas import (
    InvitationOut,
    IssuedTokenOut,
    JurisdictionIn,
    JurisdictionOut,
    MemberCreate,
    MemberOut,
    MemberPage,
    MemberUpdate,
    MeOut,
    NoticeLanguagesIn,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    SetPasswordIn,
    TokenCreate,
    TokenOut,
    TokenPage,
    TokenRequest,
)
from ombud.kernel.access import OrganisationKind
from ombud.kernel.errors import NotFound
from ombud.kernel.web.api import (
    PagingDep,
    PathId,
    PathOrgRef,
    errors,
    rate_limit,
    window,
)
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep

auth_router = APIRouter(tags=["auth"])
router = APIRouter(tags=["accounts"])


def _org_id(c: ContainerDep, ref: str) -> int:
    """An organisation's id from its id or short name (404 when there is none)."""
    return int(ref) if ref.isascii() and ref.isdigit() else c.accounts.get_organisation(ref).id


# -- tokens --------------------------------------------------------------------


@auth_router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    summary="Exchange a password for an API token",
    description="Checks the e-mail address and password and issues a personal API token, "
    "shown once. No web session is left behind. Rate limited per client address; after a "
    "few failures with one e-mail address each further attempt must wait longer (doubling, "
    "at most a few minutes), whether or not the address has an account; every refusal is "
    "the same 401.",
    responses=errors(401, 403, 422, 429),
)
def issue_token(body: TokenRequest, c: ContainerDep, request: Request) -> IssuedTokenOut:
    rate_limit(request, c.settings.login_rate_limit, "login")
    signed_in = c.accounts.login(body.email, body.password)
    try:
        issued = c.accounts.create_token(signed_in.principal, body.name, body.expires_days)
    finally:
        # The API speaks tokens, not cookies: end the session login opened.
        c.accounts.logout(signed_in.session_token)
    return IssuedTokenOut.from_domain(issued)


@auth_router.post(
    "/auth/set-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a password through a link",
    description="With the token of a set-password link (an invitation, or one from the "
    "platform operator): sets the account's password; the link then stops working, every "
    "session of the account ends and its API tokens are revoked. Signs nobody in.",
    responses=errors(404, 422, 429),
)
def set_password(body: SetPasswordIn, c: ContainerDep, request: Request) -> None:
    rate_limit(request, c.settings.login_rate_limit, "login")
    c.accounts.set_password_with_link(body.token, body.password)


@router.get("/me", summary="Who you are", description="Your account, roles and jurisdiction.")
def me(c: ContainerDep, principal: ApiPrincipal) -> MeOut:
    return MeOut.from_domain(principal, c.accounts.memberships(principal))


@router.get("/tokens", summary="Your API tokens", description="Never shows a token in clear.")
def list_tokens(c: ContainerDep, principal: ApiPrincipal, paging: PagingDep) -> TokenPage:
    tokens = c.accounts.tokens(principal)
    return TokenPage.of(
        [TokenOut.from_domain(t) for t in window(tokens, paging)],
        len(tokens),
        paging.offset,
        paging.limit,
    )


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API token",
    description="The token is in the response once; only its hash is kept.",
)
def create_token(body: TokenCreate, c: ContainerDep, principal: ApiPrincipal) -> IssuedTokenOut:
    return IssuedTokenOut.from_domain(
        c.accounts.create_token(principal, body.name, body.expires_days)
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token",
    description="The token stops working at once. Revoking twice is not an error.",
    responses=errors(404),
)
def revoke_token(token_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> None:
    c.accounts.revoke_token(principal, token_id)


# -- organisations ---------------------------------------------------------------


@router.get(
    "/organisations",
    summary="List organisations",
    description="Organisations that keep or oversee records (names and kinds are public).",
)
def list_organisations(
    c: ContainerDep,
    _principal: ApiPrincipal,
    paging: PagingDep,
    kind: OrganisationKind | None = None,
) -> OrganisationPage:
    orgs = [o for o in c.accounts.list_organisations() if kind is None or o.kind is kind]
    return OrganisationPage.of(
        [OrganisationOut.from_domain(o) for o in window(orgs, paging)],
        len(orgs),
        paging.offset,
        paging.limit,
    )


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organisation",
    description="Platform administrators only. Kinds follow coe-fc:3.1 (public authorities, "
    "private actors) plus oversight bodies (coe-fc:26) and parliaments.",
    responses=errors(409),
)
def create_organisation(
    body: OrganisationCreate, c: ContainerDep, principal: ApiPrincipal
) -> OrganisationOut:
    org = c.accounts.create_organisation(principal, body.name, body.kind, body.slug, body.country)
    return OrganisationOut.from_domain(org)


@router.get(
    "/organisations/{ref}",
    summary="Get one organisation",
    description="By id or short name (slug).",
    responses=errors(404),
)
def get_organisation(ref: PathOrgRef, c: ContainerDep, _principal: ApiPrincipal) -> OrganisationOut:
    return OrganisationOut.from_domain(c.accounts.get_organisation(ref))


@router.put(
    "/organisations/{ref}/notice-languages",
    summary="Set the notice languages",
    description="The languages of the organisation's public AI notices (coe-fc:15.2), from "
    "those with a message catalogue; its admins or a platform administrator.",
    responses=errors(404),
)
def set_notice_languages(
    ref: PathOrgRef, body: NoticeLanguagesIn, c: ContainerDep, principal: ApiPrincipal
) -> OrganisationOut:
    org = c.accounts.get_organisation(ref)
    return OrganisationOut.from_domain(
        c.accounts.set_notice_languages(principal, org.id, body.languages)
    )


@router.get(
    "/organisations/{ref}/jurisdiction",
    summary="Jurisdiction of an organisation",
    description="The organisations it oversees and the bodies that oversee it (coe-fc:26).",
    responses=errors(404),
)
def get_jurisdiction(ref: PathOrgRef, c: ContainerDep, _principal: ApiPrincipal) -> JurisdictionOut:
    return JurisdictionOut.from_domain(*c.accounts.jurisdiction(ref))


@router.post(
    "/organisations/{ref}/jurisdiction",
    status_code=status.HTTP_201_CREATED,
    summary="Give an oversight body jurisdiction",
    description="Platform administrators only, and not for a body they are a member of. "
    "The oversight body or parliament `ref` may then read the records of `organisation`, "
    "read-only (coe-fc:26).",
    responses=errors(404),
)
def grant_jurisdiction(
    ref: PathOrgRef, body: JurisdictionIn, c: ContainerDep, principal: ApiPrincipal
) -> JurisdictionOut:
    c.accounts.grant_jurisdiction(principal, ref, str(body.organisation))
    return JurisdictionOut.from_domain(*c.accounts.jurisdiction(ref))


@router.delete(
    "/organisations/{ref}/jurisdiction/{organisation}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw jurisdiction",
    description="Platform administrators only, and not for a body they are a member of.",
    responses=errors(404),
)
def revoke_jurisdiction(
    ref: PathOrgRef, organisation: PathOrgRef, c: ContainerDep, principal: ApiPrincipal
) -> None:
    c.accounts.revoke_jurisdiction(principal, ref, organisation)


# -- members -----------------------------------------------------------------------


@router.get(
    "/organisations/{ref}/members",
    summary="Members of an organisation",
    description="The organisation's admins and platform administrators only (who may read "
    "the list; once an organisation has an admin, only its admins change it).",
    responses=errors(404),
)
def list_members(
    ref: PathOrgRef, c: ContainerDep, principal: ApiPrincipal, paging: PagingDep
) -> MemberPage:
    members = c.accounts.members(principal, _org_id(c, ref))
    return MemberPage.of(
        [MemberOut.from_domain(u, r) for u, r in window(members, paging)],
        len(members),
        paging.offset,
        paging.limit,
    )


@router.post(
    "/organisations/{ref}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Add a member",
    description="Gives a person a role, creating the account if there is none. Nobody but "
    "the person gets a credential: a new account receives by e-mail a single-use link "
    "(72 hours) to set its password and cannot sign in before; an existing one is told by "
    "e-mail. The answer is the same either way. Its admins add members; a platform "
    "administrator only an organisation's first admin. Nobody changes their own role (403).",
    responses=errors(404, 409),
)
def add_member(
    ref: PathOrgRef, body: MemberCreate, c: ContainerDep, principal: ApiPrincipal
) -> InvitationOut:
    invitation = c.accounts.invite_member(
        principal, _org_id(c, ref), body.email, body.role, body.display_name
    )
    return InvitationOut.from_invitation(invitation)


@router.put(
    "/organisations/{ref}/members/{user_id}",
    summary="Change a member's role",
    description="An organisation keeps at least one admin (409); nobody changes their own "
    "role (403).",
    responses=errors(404, 409),
)
def set_member_role(
    ref: PathOrgRef, user_id: PathId, body: MemberUpdate, c: ContainerDep, principal: ApiPrincipal
) -> MemberOut:
    org_id = _org_id(c, ref)
    member = next((u for u, _ in c.accounts.members(principal, org_id) if u.id == user_id), None)
    if member is None:
        raise NotFound(f"Account {user_id} is not a member of this organisation.")
    c.accounts.set_role(principal, org_id, member.email, body.role)
    return MemberOut.from_domain(member, body.role)


@router.delete(
    "/organisations/{ref}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    description="The account stays; it loses its role here. One may remove oneself; the "
    "last admin cannot leave (409).",
    responses=errors(404, 409),
)
def remove_member(
    ref: PathOrgRef, user_id: PathId, c: ContainerDep, principal: ApiPrincipal
) -> None:
    c.accounts.remove_member(principal, _org_id(c, ref), user_id)
