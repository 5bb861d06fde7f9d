"""Message catalogues (Babel, gettext .po files) for ombud's own public texts.

Catalogues live in resources/locale/<lang>/LC_MESSAGES/messages.po and are
compiled in memory when first used, so a checkout or an installed package
works without a build step. Adding a language is adding a .po file
(`pybabel init -i src/ombud/resources/locale/messages.pot -d src/ombud/resources/locale -l de`).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "resources" / "locale"
SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """Languages with a catalogue (English, the source language, always)."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")}
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


@lru_cache(maxsize=32)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang``; the source texts for English or unknown."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def language_name(lang: str) -> str:
    """The language's name in itself (English, français)."""
    return Locale.parse(lang).get_display_name(lang) or lang


def local_date(value: object, lang: str) -> str:
    return format_date(value, format="long", locale=lang)  # type: ignore[arg-type]


def negotiate(accept_language: str, allowed: tuple[str, ...]) -> str:
    """The best of ``allowed`` for an Accept-Language header; the first allowed if none."""
    preferred: list[tuple[float, str]] = []
    for n, part in enumerate(accept_language.split(",")[:20]):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code and quality > 0:
            preferred.append((-quality + n * 1e-6, code.strip().lower()))
    for _, code in sorted(preferred):
        for lang in allowed:
            if code == lang or code.split("-")[0] == lang:
                return lang
    return allowed[0] if allowed else SOURCE_LANGUAGE


class Catalogues:
    """What the web layer and the reports need of the catalogues."""

    def available(self) -> tuple[str, ...]:
        return available_languages()

    def context(self, lang: str) -> dict[str, object]:
        """Template variables for jinja2.ext.i18n (old-style gettext) in ``lang``."""
        t = translations(lang)
        return {
            "gettext": t.gettext,
            "ngettext": t.ngettext,
            "_": t.gettext,
            "lang": lang,
            "lang_name": language_name,
            "local_date": lambda value: local_date(value, lang),
        }

    def negotiate(self, accept_language: str, allowed: tuple[str, ...]) -> str:
        return negotiate(accept_language, allowed)
