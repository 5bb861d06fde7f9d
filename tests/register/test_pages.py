"""Pages: sign-in, CSRF, sessions, forms with field errors, and the internal register."""

from __future__ import annotations

from datetime import timedelta

from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import AccountsService
from ombud.kernel.service import utcnow
from ombud.kernel.web.security import SESSION_COOKIE
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details
from tests.web_helpers import csrf_from, form_for, login


def _ledger_head(container):
    with container.accounts.uow_factory(readonly=True) as uow:
        return uow.ledger.head()


def test_security_headers_on_every_page(app_client):
    response = app_client.get("/register")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_sign_in_and_out(app_client, world):
    login(app_client, "city-editor@example.org")
    page = app_client.get("/systems")
    assert "city-editor@example.org" in page.text
    token = csrf_from(page.text)
    app_client.post("/logout", data={"csrf_token": token})
    assert app_client.get("/systems", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_without_saying_which_part(app_client, world):
    page = app_client.get("/login")
    response = app_client.post(
        "/login",
        data={
            "email": "city-editor@example.org",
            "password": "nope-nope-nope",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 401
    assert "Wrong e-mail address or password" in response.text


def test_login_without_csrf_token_is_refused(app_client, world):
    app_client.get("/login")
    response = app_client.post(
        "/login", data={"email": "city-editor@example.org", "password": "x" * 20}
    )
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_register_through_the_form(app_client, world, container):
    token = login(app_client, "city-editor@example.org")
    data = form_for({"organisation_id": str(world.city.id), "csrf_token": token})
    response = app_client.post("/systems/new", data=data, follow_redirects=False)
    assert response.status_code == 303
    system_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = app_client.get(f"/systems/{system_id}")
    assert "Parking permit chatbot" in page.text
    assert "City FAQ pages" in page.text
    system = container.register.get(world["city-editor@example.org"], system_id).system
    assert system.details.affected_groups == ["residents", "visitors"]
    assert system.publication_state is PublicationState.DRAFT


def test_form_post_with_wrong_csrf_token_changes_nothing(app_client, world, container):
    login(app_client, "city-editor@example.org")
    head = _ledger_head(container)
    data = form_for({"organisation_id": str(world.city.id), "csrf_token": "forged"})
    response = app_client.post("/systems/new", data=data)
    assert response.status_code == 403
    assert "security token" in response.text
    assert _ledger_head(container) == head


def test_field_errors_are_shown_next_to_fields_and_nothing_is_saved(app_client, world, container):
    token = login(app_client, "city-editor@example.org")
    head = _ledger_head(container)
    data = form_for(
        {
            "organisation_id": str(world.city.id),
            "csrf_token": token,
            "name": "",
            "sector": "astrology",
            "purpose": "p" * 10_001,
        }
    )
    response = app_client.post("/systems/new", data=data)
    assert response.status_code == 422
    assert "is not a valid choice for Sector" in response.text
    assert 'aria-invalid="true"' in response.text
    # what was typed is still there
    assert "Answers questions about parking permits" not in response.text  # purpose replaced
    assert "City website, all residents." in response.text
    assert _ledger_head(container) == head
    data["sector"] = "transport"
    response = app_client.post("/systems/new", data=data)
    assert response.status_code == 422
    assert "Name is required" in response.text
    assert "at most 10000 are allowed" in response.text
    assert _ledger_head(container) == head


def test_expired_session_gets_a_clear_error_and_changes_nothing(app_client, world, container):
    token = login(app_client, "city-editor@example.org")
    # Expire every session by asking the service for its view one day later.
    later = AccountsService(
        container.accounts.uow_factory,
        Argon2PasswordHasher(fast=True),
        clock=lambda: utcnow() + timedelta(days=1),
    )
    app_client.app.state.container.accounts = later
    head = _ledger_head(container)
    data = form_for({"organisation_id": str(world.city.id), "csrf_token": token})
    response = app_client.post("/systems/new", data=data)
    assert response.status_code == 401
    assert "session has expired" in response.text
    assert _ledger_head(container) == head
    page = app_client.get("/systems", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_unknown_session_cookie_is_treated_as_signed_out(app_client, world):
    app_client.cookies.set(SESSION_COOKIE, "made-up")
    response = app_client.get("/systems", follow_redirects=False)
    assert response.status_code == 303


def test_other_organisation_cannot_open_a_draft(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("City secret draft")
    )
    login(app_client, "agency-admin@example.org")
    response = app_client.get(f"/systems/{system.id}")
    assert response.status_code == 404
    assert "City secret draft" not in response.text
    listing = app_client.get("/systems?q=secret")
    assert "City secret draft" not in listing.text


def test_oversight_body_reads_but_cannot_edit(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Overseen system")
    )
    token = login(app_client, "oversight-viewer@example.org")
    page = app_client.get(f"/systems/{system.id}")
    assert page.status_code == 200
    assert "Overseen system" in page.text
    assert f'href="/systems/{system.id}/edit"' not in page.text
    response = app_client.post(
        f"/systems/{system.id}/transition",
        data={"to_stage": "design", "reason": "x", "csrf_token": token},
    )
    assert response.status_code == 403


def test_edit_shows_history_with_diff_and_significant_flag(app_client, world, container):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details("Chatbot"))
    token = login(app_client, "city-editor@example.org")
    form = app_client.get(f"/systems/{system.id}/edit").text
    assert 'name="revision" value="1"' in form
    data = form_for(
        {
            "csrf_token": token,
            "name": "Chatbot",
            "revision": "1",
            "purpose": "Answers questions about waste collection.",
        }
    )
    response = app_client.post(f"/systems/{system.id}/edit", data=data, follow_redirects=False)
    assert response.status_code == 303
    history = app_client.get(f"/systems/{system.id}/history").text
    assert "Revision 2" in history
    assert "Significant modification" in history
    assert "Answers questions about waste collection." in history
    # a second edit from the stale form keeps the typed text and explains the conflict
    data["purpose"] = "Stale edit"
    stale = app_client.post(f"/systems/{system.id}/edit", data=data)
    assert stale.status_code == 409
    assert "changed by someone else" in stale.text
    assert "Stale edit" in stale.text


def test_gate_blocks_deployment_on_the_page(app_client, world, container):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details("Bare", legal_basis=""), LifecycleStage.TESTING
    )
    token = login(app_client, "city-editor@example.org")
    page = app_client.get(f"/systems/{system.id}").text
    assert "Deployment is blocked" in page
    assert "Legal basis must be filled in" in page
    response = app_client.post(
        f"/systems/{system.id}/transition",
        data={"to_stage": "deployment", "reason": "go live", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "coe-fc:14.2.b" in response.text
    assert (
        container.register.get(editor, system.id).system.lifecycle_stage is LifecycleStage.TESTING
    )


def test_members_page_invites_and_changes_roles(app_client, container, world):
    token = login(app_client, "city-admin@example.org")
    page = app_client.get("/admin/members")
    assert "city-viewer@example.org" in page.text
    response = app_client.post(
        "/admin/members",
        data={
            "org": str(world.city.id),
            "email": "new.person@example.org",
            "role": "editor",
            "display_name": "New Person",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "new.person@example.org is now editor in City of Lindholm" in response.text
    # No credential on the page: the person sets their own password through a link.
    assert "initial password" not in response.text.lower()
    assert 'id="set-password-link"' not in response.text
    members = container.accounts.members(world["city-admin@example.org"], world.city.id)
    person = next(u for u, _ in members if u.email == "new.person@example.org")
    changed = app_client.post(
        f"/admin/members/{world.city.id}/{person.id}/role",
        data={"role": "viewer", "csrf_token": token},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    # An admin's own row has no role form: nobody changes their own role.
    own = world["city-admin@example.org"].user_id
    assert f"/admin/members/{world.city.id}/{own}/role" not in app_client.get("/admin/members").text
    refused = app_client.post(
        f"/admin/members/{world.city.id}/{own}/role", data={"role": "viewer", "csrf_token": token}
    )
    assert refused.status_code == 403
    bad = app_client.post(
        "/admin/members",
        data={
            "org": str(world.city.id),
            "email": "not-an-email",
            "role": "editor",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert "Enter an e-mail address" in bad.text


def test_members_page_is_for_admins_only(app_client, world):
    login(app_client, "city-editor@example.org")
    assert app_client.get("/admin/members").status_code == 403


def test_ledger_page_lists_and_verifies(app_client, world, container):
    container.register.create(world["city-editor@example.org"], world.city.id, complete_details())
    login(app_client, "city-admin@example.org")
    page = app_client.get("/admin/ledger?entity_type=ai_system&verify=1")
    assert page.status_code == 200
    assert "Chain verified" in page.text
    assert "ai_system" in page.text
    assert app_client.get("/admin/ledger?since=yesterday").status_code == 422


def test_api_tokens_page_shows_token_once(app_client, world):
    token = login(app_client, "city-editor@example.org")
    response = app_client.post(
        "/account/tokens", data={"name": "scripts", "expires_days": "30", "csrf_token": token}
    )
    assert response.status_code == 201
    assert "ombud_" in response.text
    again = app_client.get("/account").text
    assert "scripts" in again
    assert 'id="new-token"' not in again


def test_oversized_request_body_is_refused(app_client, world):
    response = app_client.post(
        "/login", content=b"x" * 12_000_000, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413
