"""Administration: members of an organisation, organisations and jurisdiction, the ledger."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ombud.accounts.access import org_ref
from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, OrganisationKind, Principal, Role, is_allowed
from ombud.kernel.errors import Conflict, Forbidden, Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import SubmittedForm, required_choice, text
from ombud.kernel.web.templating import redirect, render

router = APIRouter(prefix="/admin")


def _member_orgs(c: ContainerDep, principal: Principal) -> list[Organisation]:
    """Organisations whose members page the principal may open: those it is an admin of
    and, for a platform administrator, every one (it adds an organisation's first admin;
    once there is one, the page is read-only to it)."""
    return [
        o
        for o in c.accounts.list_organisations()
        if principal.is_superuser or is_allowed(principal, Action.MEMBERS_READ, org_ref(o))
    ]


def _members_page(
    request: Request,
    c: ContainerDep,
    principal: Principal,
    orgs: list[Organisation],
    org: Organisation,
    extra: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, object] = {
        "orgs": orgs,
        "org": org,
        "members": c.accounts.members(principal, org.id),
        "rights": c.accounts.member_rights(principal, org.id),
        "mail_enabled": c.accounts.mail_enabled,
        "invitation": None,
        "errors": {},
        "languages": c.i18n.available(),
        "lang_name": c.i18n.context("en")["lang_name"],
    }
    context.update(extra or {})
    return render(request, "accounts/members.html", context, status_code)


@router.get("/members", response_class=HTMLResponse)
def members(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    org: int | None = None,
) -> Response:
    orgs = _member_orgs(c, principal)
    if not orgs:
        raise Forbidden("You are not an admin of any organisation.")
    current = next((o for o in orgs if o.id == org), orgs[0])
    return _members_page(request, c, principal, orgs, current)


@router.post("/members", response_class=HTMLResponse)
def invite(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    org_id = whole_number(text(form, "org")) or 0
    orgs = _member_orgs(c, principal)
    org = next((o for o in orgs if o.id == org_id), None)
    if org is None:
        raise Invalid.from_fields({"org": "Choose an organisation."})
    raw_role = text(form, "role")
    errors: dict[str, str] = {}
    invitation = None
    try:
        role = Role(raw_role)
    except ValueError:
        errors["role"] = (
            f"'{raw_role}' is not a role: use viewer, editor, assessor, approver or admin."
        )
    if not errors:
        try:
            invitation = c.accounts.invite_member(
                principal, org.id, text(form, "email"), role, text(form, "display_name")
            )
        except Invalid as exc:
            errors = exc.field_messages()
        except (Conflict, Forbidden) as exc:
            errors = {"email": exc.message}
    # The same page and words whether or not the address had an account.
    return _members_page(
        request,
        c,
        principal,
        orgs,
        org,
        {
            "invitation": invitation,
            "errors": errors,
            "email": "" if invitation else text(form, "email"),
        },
        422 if errors else 200,
    )


@router.post("/members/{org_id}/languages")
def notice_languages(
    request: Request, org_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    chosen = [v for v in form.getlist("languages") if isinstance(v, str)]
    default = text(form, "default")
    ordered = ([default] if default in chosen else []) + [v for v in chosen if v != default]
    org = c.accounts.set_notice_languages(principal, org_id, ordered)
    return redirect(
        request,
        f"/admin/members?org={org_id}",
        f"AI notices of {org.name}: {', '.join(org.notice_languages)}.",
    )


@router.post("/members/{org_id}/{user_id}/role")
def change_role(
    request: Request,
    org_id: int,
    user_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    role = required_choice(form, "role", Role)
    member = next((u for u, _ in c.accounts.members(principal, org_id) if u.id == user_id), None)
    if member is None:
        raise Invalid.from_fields({"user": "This person is not a member."})
    c.accounts.set_role(principal, org_id, member.email, role)
    return redirect(request, f"/admin/members?org={org_id}", f"{member.email} is now {role.value}.")


@router.post("/members/{org_id}/{user_id}/remove")
def remove_member(
    request: Request, org_id: int, user_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    c.accounts.remove_member(principal, org_id, user_id)
    return redirect(request, f"/admin/members?org={org_id}", "Member removed.")


@router.get("/organisations", response_class=HTMLResponse)
def organisations(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    if not principal.is_superuser:
        raise Forbidden("Only a platform administrator manages organisations.")
    orgs = c.accounts.list_organisations()
    overseen = {o.id: c.accounts.jurisdiction(o.id)[0] for o in orgs if o.kind.oversees}
    return render(
        request,
        "accounts/organisations.html",
        {
            "orgs": orgs,
            "overseen": overseen,
            "grantable": c.accounts.grantable_overseers(principal),
            "errors": {},
        },
    )


@router.post("/organisations", response_class=HTMLResponse)
def create_organisation(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    raw_kind = text(form, "kind")
    try:
        kind = OrganisationKind(raw_kind)
        c.accounts.create_organisation(
            principal, text(form, "name"), kind, text(form, "slug") or None, text(form, "country")
        )
    except ValueError:
        errors = {"kind": "Choose the kind of organisation."}
    except (Invalid, Conflict) as exc:
        errors = exc.field_messages() if isinstance(exc, Invalid) else {"slug": exc.message}
    else:
        return redirect(request, "/admin/organisations", "Organisation created.")
    orgs = c.accounts.list_organisations()
    overseen = {o.id: c.accounts.jurisdiction(o.id)[0] for o in orgs if o.kind.oversees}
    return render(
        request,
        "accounts/organisations.html",
        {
            "orgs": orgs,
            "overseen": overseen,
            "grantable": c.accounts.grantable_overseers(principal),
            "errors": errors,
            "form": dict(form),
        },
        422,
    )


@router.post("/organisations/jurisdiction")
def jurisdiction(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    oversight, org = text(form, "oversight"), text(form, "organisation")
    if "revoke" in form:
        c.accounts.revoke_jurisdiction(principal, oversight, org)
        return redirect(request, "/admin/organisations", "Jurisdiction removed.")
    c.accounts.grant_jurisdiction(principal, oversight, org)
    return redirect(request, "/admin/organisations", "Jurisdiction granted.")
