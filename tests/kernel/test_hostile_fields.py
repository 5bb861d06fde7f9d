"""Hostile values in every field: no input makes a server error.

Two sweeps over the demo data, on SQLite and PostgreSQL:

- **API**: every operation of /api/v1/openapi.json. A plausible request is
  built from the schema (real ids in the path); then each string field, query
  parameter and path parameter in turn gets hostile text (NUL, other control
  characters, non-ASCII digits, a very long value) and each number field a huge
  or malformed number.
- **Pages**: the app is crawled as an organisation admin, as a platform
  administrator and anonymously; every form found is sent back with one field
  at a time replaced by a hostile value (hidden fields and tokens included).

Each answer must be below 500 and, for the API, an error must say which field
(the `fields` of the problem document, or the message).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ombud.bootstrap import Container
from tests.web_helpers import csrf_from

pytestmark = pytest.mark.slow

HOSTILE_TEXT = (
    "\x00",
    "name\x00with NUL",
    "bell\x07 escape\x1b[31m del\x7f",
    "²³",
    "١٢٣",
    "9" * 40,
    "x" * 70_000,
    "\u202eevil\u202c",
)
HOSTILE_NUMBERS = ("²", "99999999999999999999999", "-9223372036854775809", "1e400", "NaN", "")
HOSTILE_JSON_NUMBERS: tuple[Any, ...] = (2**64, -(2**63) - 1, 10**30, 1e308)

DEMO_ADMIN = ("karin.ek@lindholm.example", "lindholm-admin-demo")
PLATFORM_ADMIN = ("admin@ombud.example", "ombud-platform-admin-demo")


@pytest.fixture
def demo(container: Container) -> Container:
    container.demo.load()
    return container


def _client(container: Container) -> TestClient:
    from ombud.app import create_app

    return TestClient(
        create_app(container), base_url="http://127.0.0.1", raise_server_exceptions=False
    )


# -- API ------------------------------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _plain(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without references and Optional wrappers (anyOf [X, null])."""
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve(spec, s) for s in schema[key]]
            non_null = [s for s in options if s.get("type") != "null"]
            return _plain(spec, non_null[0] if non_null else options[0])
    return schema


def _sample(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for a schema: the example, the default, the first enum value."""
    schema = _plain(spec, schema)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            name: _sample(spec, sub, depth + 1)
            for name, sub in props.items()
            if name in required or depth == 0
        }
    if kind == "array":
        return [] if depth > 1 else [_sample(spec, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") in ("byte", "base64") or schema.get("contentEncoding") == "base64":
        return "aGVsbG8="
    if schema.get("format") == "email":
        return "someone@example.org"
    if schema.get("format") in ("date-time", "date"):
        return "2026-01-15T10:00:00Z" if schema["format"] == "date-time" else "2026-01-15"
    return "A plain value"


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _leaves(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _leaves(sub, (*path, i))
    else:
        yield path, value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _known_ids(container: Container) -> dict[str, Any]:
    queries = {
        "system_id": "SELECT MIN(id) FROM ai_systems",
        "assessment_id": "SELECT MIN(id) FROM assessments",
        "case_id": "SELECT MIN(id) FROM cases",
        "incident_id": "SELECT MIN(id) FROM incidents",
        "run_id": "SELECT MIN(id) FROM audit_runs",
        "user_id": "SELECT MIN(id) FROM users",
        "token_id": "SELECT MIN(id) FROM api_tokens",
    }
    with container.engines.read.connect() as conn:
        known = {name: conn.execute(text(sql)).scalar() for name, sql in queries.items()}
    known |= {
        "ref": "city-of-lindholm",
        "organisation": "benefits-agency",
        "instrument_id": "coe-fc",
        "provision_id": "coe-fc:16.2.g",
    }
    return known


@dataclass
class Sweep:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)

    def check(self, what: str, response: Any, field_name: str | None = None) -> None:
        """``field_name``: the field whose value alone makes the request invalid."""
        self.requests += 1
        if response.status_code >= 500:
            title = re.search(r"<title>(.*?)</title>", response.text, re.S)
            said = title.group(1).strip() if title else response.text[:160]
            self.server_errors.append(f"{what} -> {response.status_code}: {said}")
        elif response.status_code == 422 and field_name is not None:
            body = response.text
            if field_name not in body:
                self.unnamed.append(f"{what} -> 422 without naming {field_name!r}: {body[:160]}")

    def assert_clean(self) -> None:
        problems = self.server_errors + self.unnamed
        assert not problems, f"{len(problems)} of {self.requests} requests:\n" + "\n".join(
            problems[:30]
        )


def _hostile_for(value: Any, index: int) -> list[Any]:
    """Two hostile values for a leaf, varied by position so every value gets used."""
    if isinstance(value, bool):
        return ["²"]
    if isinstance(value, int | float):
        pool: tuple[Any, ...] = (*HOSTILE_JSON_NUMBERS, "²")
    else:
        pool = HOSTILE_TEXT
    return [pool[index % len(pool)], pool[(index + 3) % len(pool)]]


def test_api_fields_refuse_hostile_values_cleanly(demo: Container) -> None:
    admin = demo.accounts.principal_for_email(DEMO_ADMIN[0])
    token = demo.accounts.create_token(admin, "hostile").token
    auth = {"Authorization": f"Bearer {token}"}
    known = _known_ids(demo)
    sweep = Sweep()
    counter = itertools.count()
    with _client(demo) as client:
        spec = client.get("/api/v1/openapi.json").json()
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                if method == "delete":
                    continue  # deleting the records the sweep aims at would blunt it
                params = op.get("parameters", [])
                path_values = {
                    p["name"]: known.get(p["name"], 1) for p in params if p["in"] == "path"
                }
                query = {
                    p["name"]: _sample(spec, p.get("schema", {}))
                    for p in params
                    if p["in"] == "query" and p.get("required")
                }
                body_schema = (
                    op.get("requestBody", {})
                    .get("content", {})
                    .get("application/json", {})
                    .get("schema")
                )
                body = _sample(spec, body_schema) if body_schema else None

                url = "/api/v1" + path.format(**{k: str(v) for k, v in path_values.items()})
                plain = client.request(method.upper(), url, params=query, json=body, headers=auth)
                # only a request that is fine until one field is spoiled must name that field
                baseline_ok = plain.status_code != 422

                def send(
                    pv: dict[str, Any],
                    q: dict[str, Any],
                    b: Any,
                    what: str,
                    name: str | None,
                    method: str = method,
                    path: str = path,
                    baseline_ok: bool = baseline_ok,
                ) -> None:
                    url = "/api/v1" + path.format(**{k: str(v) for k, v in pv.items()})
                    response = client.request(method.upper(), url, params=q, json=b, headers=auth)
                    sweep.check(
                        f"{method.upper()} {path} {what}", response, name if baseline_ok else None
                    )

                url = "/api/v1" + path.format(**{k: str(v) for k, v in path_values.items()})
                plain = client.request(method.upper(), url, params=query, json=body, headers=auth)
                # only a request that is fine until one field is spoiled must name that field
                baseline_ok = plain.status_code != 422

                for name in path_values:
                    for bad in ("²", "99999999999999999999", "1%00", "-1"):
                        send({**path_values, name: bad}, query, body, f"path {name}={bad!r}", None)
                for p in params:
                    if p["in"] != "query":
                        continue
                    for bad in [*_hostile_for("", next(counter)), "²", "99999999999999999999"]:
                        bad = bad[:6000]  # a URL has its own limit
                        what = f"query {p['name']}={bad[:12]!r}"
                        send(path_values, {**query, p["name"]: bad}, body, what, p["name"])
                if body is not None:
                    for leaf, value in _leaves(body):
                        for bad in _hostile_for(value, next(counter)):
                            name = str(leaf[-1]) if leaf else None
                            send(
                                path_values,
                                query,
                                _replaced(body, leaf, bad),
                                f"body {'.'.join(map(str, leaf))}={str(bad)[:12]!r}",
                                name,
                            )
    print(f"\nhostile API sweep: {sweep.requests} requests")  # noqa: T201 - read for the counts
    sweep.assert_clean()


# -- pages ----------------------------------------------------------------------


@dataclass
class Form:
    page: str
    action: str
    method: str
    enctype: str
    fields: list[tuple[str, str, str]]  # (name, kind, value)


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        elif tag == "form":
            self._form = Form(
                self.page,
                urljoin(self.page, a.get("action") or self.page),
                (a.get("method") or "get").lower(),
                a.get("enctype", ""),
                [],
            )
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.fields.append((a["name"], kind, a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.fields.append((a["name"], "select", ""))
        elif tag == "option" and self._select is not None:
            name, kind, value = self._form.fields[-1]
            if not value or "selected" in a:
                self._form.fields[-1] = (name, kind, a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.fields.append((a["name"], "textarea", ""))

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            name, kind, value = self._form.fields[-1]
            self._form.fields[-1] = (name, kind, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


_SKIP = re.compile(r"/logout|\.pdf$|\.svg$|/report\.pdf|/static/")


def _crawl(client: TestClient, start: list[str], limit: int) -> list[Form]:
    seen: set[str] = set()
    queue = list(start)
    forms: list[Form] = []
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc not in ("", "127.0.0.1") or _SKIP.search(parts.path):
            continue
        key = parts.path + ("?" + parts.query if parts.query else "")
        if key in seen:
            continue
        seen.add(key)
        response = client.get(key)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _FormParser("http://127.0.0.1" + key)
        parser.feed(response.text)
        forms.extend(parser.forms)
        # one representative per route shape: /systems/7 and /systems/8 render the same forms
        for link in parser.links:
            shape = re.sub(r"/\d+", "/N", urlsplit(link).path)
            if not any(re.sub(r"/\d+", "/N", s.split("?")[0]) == shape for s in seen):
                queue.append(link)
    return forms


def _sign_in(client: TestClient, email: str, password: str) -> None:
    page = client.get("/login")
    client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )


def _submit(
    client: TestClient, form: Form, values: dict[str, str], sweep: Sweep, what: str
) -> None:
    target = urlsplit(form.action)
    path = target.path + ("?" + target.query if target.query else "")
    if form.method == "get":
        response = client.get(path, params={k: v[:6000] for k, v in values.items()})
    elif form.enctype == "multipart/form-data":
        files = {
            name: ("note\x01²\u202e.txt", b"plain text", "text/plain")
            for name, kind, _ in form.fields
            if kind == "file"
        }
        response = client.post(path, data=values, files=files or None, follow_redirects=False)
    else:
        response = client.post(path, data=values, follow_redirects=False)
    sweep.check(f"{form.method.upper()} {path} ({form.page}) {what}", response)


def _fuzz_forms(client: TestClient, forms: list[Form], sweep: Sweep) -> None:
    counter = itertools.count()
    done: set[tuple[str, str, tuple[str, ...]]] = set()
    for form in forms:
        shape = (
            form.method,
            re.sub(r"/\d+", "/N", urlsplit(form.action).path),
            tuple(n for n, _, _ in form.fields),
        )
        if shape in done or _SKIP.search(form.action):
            continue
        done.add(shape)
        base = {n: v for n, kind, v in form.fields if kind not in ("file", "submit")}
        for name, kind, _value in form.fields:
            if kind in ("file", "submit"):
                continue
            i = next(counter)
            if kind in ("number", "select") or name.endswith("_id") or "token" in name:
                bad = [HOSTILE_NUMBERS[i % len(HOSTILE_NUMBERS)], HOSTILE_TEXT[i % 4]]
            else:
                bad = [HOSTILE_TEXT[i % len(HOSTILE_TEXT)], HOSTILE_TEXT[(i + 1) % 4]]
            for value in bad:
                _submit(client, form, {**base, name: value}, sweep, f"{name}={value[:12]!r}")


def test_page_forms_refuse_hostile_values_cleanly(demo: Container) -> None:
    sweep = Sweep()
    forms_seen = 0
    for who in (DEMO_ADMIN, PLATFORM_ADMIN, None):
        with _client(demo) as client:
            if who is not None:
                _sign_in(client, *who)
            start = ["/", "/systems", "/register", "/cases", "/incidents", "/members", "/account"]
            if who is None:
                start = ["/register", "/instruments", "/login"]
            forms = _crawl(client, start, limit=45)
            forms_seen += len(forms)
            _fuzz_forms(client, forms, sweep)
    print(f"\nhostile page sweep: {forms_seen} forms, {sweep.requests} requests")  # noqa: T201
    assert forms_seen > 20, "the crawl found too few forms to mean anything"
    sweep.assert_clean()
