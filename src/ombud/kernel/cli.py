"""What every command shares: error handling, the container, acting as a user, consoles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from ombud.kernel.access import SYSTEM_PRINCIPAL, Principal
from ombud.kernel.errors import Invalid, OmbudError

if TYPE_CHECKING:  # the composition root loads every adapter: only commands that need it
    from ombud.bootstrap import Container

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn ombud errors into one clear line on stderr and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            for p in exc.problems:
                if p.loc and p.loc[0] == "file":  # a data file: file:line: field: message
                    where = f"{p.loc[1]}:{p.loc[3]}"
                else:
                    where = ".".join(str(x) for x in p.loc[1:])
                err.print(f"  {where}: {p.message}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except OmbudError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def container() -> Container:
    from ombud.bootstrap import bootstrap

    return bootstrap()


def as_user(c: Container, email: str | None) -> Principal:
    """Act as a named account (its roles apply) or, without one, as the platform operator."""
    if not email:
        return SYSTEM_PRINCIPAL
    return c.accounts.principal_for_email(email)


AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this account (e-mail); its roles apply.")
]
