"""Organisations: creating them, finding them, and the languages of their notices."""

from __future__ import annotations

from dataclasses import replace

from ombud.accounts.access import authorize, get_org
from ombud.accounts.domain import Organisation, parse_languages, slugify, validate_slug
from ombud.accounts.service.base import AccountsBase
from ombud.kernel.access import Action, OrganisationKind, Principal
from ombud.kernel.errors import Conflict, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import UnitOfWork
from ombud.kernel.service import require_superuser

ORG_NAME_MAX = 200


class Organisations(AccountsBase):
    """The organisations part of ``AccountsService``."""

    def create_organisation(
        self,
        actor: Principal,
        name: str,
        kind: OrganisationKind,
        slug: str | None = None,
        country: str = "",
    ) -> Organisation:
        """Create an organisation (platform administrators only)."""
        require_superuser(actor, "create organisations")
        name = name.strip()
        slug = (slug or slugify(name)).strip()
        country = country.strip().upper()
        problems = {}
        if not name:
            problems["name"] = "Name is required."
        elif len(name) > ORG_NAME_MAX:
            problems["name"] = f"Name has {len(name)} characters; at most {ORG_NAME_MAX}."
        if msg := validate_slug(slug):
            problems["slug"] = msg
        if country and (len(country) != 2 or not country.isalpha()):
            problems["country"] = "Use a two-letter ISO 3166 country code (e.g. FR)."
        if problems:
            raise Invalid.from_fields(problems)
        with self.uow_factory() as uow:
            if uow.organisations.get_by_slug(slug):
                raise Conflict(f"An organisation with the short name '{slug}' already exists.")
            org = uow.organisations.add(name, slug, kind, country, self.clock())
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "organisation",
                org.id,
                org.id,
                after={"name": name, "slug": slug, "kind": kind.value, "country": country},
            )
            uow.commit()
            return org

    def list_organisations(self) -> list[Organisation]:
        """All organisations (names and kinds are public: they run the public register)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.organisations.all()

    def get_organisation(self, ref: str | int) -> Organisation:
        """An organisation by id or by short name (slug)."""
        with self.uow_factory(readonly=True) as uow:
            return self._find_org(uow, ref)

    @staticmethod
    def _find_org(uow: UnitOfWork, ref: str | int) -> Organisation:
        org: Organisation | None
        if isinstance(ref, int) or (ref.isascii() and ref.isdigit() and len(ref) <= 18):
            org = uow.organisations.get(int(ref))
        else:
            org = uow.organisations.get_by_slug(ref)
        if org is None:
            raise NotFound(f"Organisation '{ref}' does not exist.")
        return org

    def set_notice_languages(
        self, actor: Principal, org_id: int, raw: str | list[str] | tuple[str, ...]
    ) -> Organisation:
        """The languages of the organisation's public AI notices (its admins or a platform
        admin); the first is the default."""
        try:
            languages = parse_languages(raw, self.languages)
        except ValueError as exc:
            raise Invalid.from_fields({"notice_languages": str(exc)}) from None
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_MANAGE, org)
            uow.organisations.set_notice_languages(org.id, languages)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "organisation",
                org.id,
                org.id,
                before={"notice_languages": list(org.notice_languages)},
                after={"notice_languages": list(languages)},
            )
            uow.commit()
        return replace(org, notice_languages=languages)
