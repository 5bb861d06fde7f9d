"""HTML forms: the submitted form as a dependency (so that page handlers are plain
``def``), and its fields turned into domain values, or field-level messages."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from starlette.datastructures import FormData, UploadFile

from ombud.kernel.errors import Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import refuse_control_characters

E = TypeVar("E", bound=enum.Enum)

UPLOAD_CHUNK = 1 << 20


# -- reading the submitted form ---------------------------------------------------


async def submitted_form(
    request: Request, _checked: Annotated[None, Depends(refuse_control_characters)]
) -> FormData:
    """The submitted form (fields, and files spooled to temporary files), for a plain
    ``def`` handler: ``form: SubmittedForm``.

    Reading the body awaits the client, so it happens here, on the event loop; the
    handler then runs in FastAPI's thread pool, where a synchronous service call holds
    up no other request. The body was held to its limit as it was read (413, from
    BodySizeLimitMiddleware) and the fields passed the control-character check (422
    naming the field), which this asks for so that a router mounted without the app's
    dependencies keeps it; FastAPI runs it once a request all the same. Starlette
    parses a request's form once: the CSRF check reads the same one.
    """
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(submitted_form)]


def chosen_files(form: FormData, name: str) -> list[UploadFile]:
    """The files chosen in the file input ``name``; an input left empty sends a part
    without a file name, which is not a file."""
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]


def chosen_file(form: FormData, name: str) -> UploadFile | None:
    """The first file chosen in the file input ``name``, or None."""
    files = chosen_files(form, name)
    return files[0] if files else None


def file_content(upload: UploadFile, max_bytes: int | None = None) -> bytes:
    """What was uploaded, read from its temporary file: blocking file I/O, so call it
    from a plain ``def`` handler (the thread pool), never from ``async def``. With
    ``max_bytes`` at most one byte more is read: enough to tell that it is too large."""
    return upload.file.read(-1 if max_bytes is None else max_bytes + 1)


def file_chunks(upload: UploadFile, size: int = UPLOAD_CHUNK) -> Iterator[bytes]:
    """What was uploaded, in pieces of ``size`` bytes, for files too large to hold in
    memory (blocking file I/O, like ``file_content``)."""
    while chunk := upload.file.read(size):
        yield chunk


# -- turning fields into values -----------------------------------------------------


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _not_a_choice(raw: str, label: str, enum_type: type[enum.Enum]) -> str:
    allowed = ", ".join(str(m.value) for m in enum_type)
    return f"'{raw[:50]}' is not a valid choice for {label}: use one of {allowed}."


def choice(
    form: FormData,
    name: str,
    enum_type: type[E],
    errors: dict[str, str],
    label: str | None = None,
) -> E | None:
    """The submitted member of ``enum_type``, or None with a message in ``errors`` that
    names the field by ``label`` (the form's words; default: the field's name)."""
    raw = text(form, name)
    try:
        return enum_type(raw)
    except ValueError:
        errors[name] = _not_a_choice(raw, label or name.replace("_", " "), enum_type)
        return None


def required_choice(form: FormData, name: str, enum_type: type[E]) -> E:
    """The submitted member of ``enum_type``; Invalid naming the field otherwise."""
    errors: dict[str, str] = {}
    member = choice(form, name, enum_type, errors)
    if member is None:
        raise Invalid.from_fields(errors)
    return member


def query_enum(raw: str, enum_type: type[E], name: str, label: str | None = None) -> E | None:
    """An optional enum from a query string; '' means no filter."""
    if not raw:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        message = _not_a_choice(raw, label or name.replace("_", " "), enum_type)
        raise Invalid.from_fields({name: message}, "query") from None


def query_int(raw: str, name: str) -> int | None:
    if not raw:
        return None
    value = whole_number(raw)
    if value is None:
        raise Invalid.from_fields({name: f"'{raw[:50]}' is not a valid {name} id."}, "query")
    return value


QueryText = Annotated[str, Query(max_length=200)]
QueryChoice = Annotated[str, Query(max_length=40)]
