"""What every command shares: error handling, the container, acting as a user, consoles."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, ClassVar, ParamSpec, TypeVar

import typer
import typer._click as click  # the Click that Typer vendors (its Context and Command types)
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from ombud.kernel.access import SYSTEM_PRINCIPAL, Principal
from ombud.kernel.errors import Invalid, OmbudError
from ombud.kernel.module import CliCommand, CliGroup, load

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


class LazyGroup(TyperGroup):
    """The root command: areas' command groups are imported only when one is run.

    ``ombud --help`` lists them from their registered help texts, without importing
    them (an area's CLI may import pyarrow, WeasyPrint or the whole composition root).
    """

    lazy: ClassVar[Mapping[str, CliGroup | CliCommand]] = {}
    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return super().list_commands(ctx) + [n for n in self.lazy if n not in self.commands]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        entry = self.lazy[cmd_name]
        if self._listing:  # a stand-in that only knows its help text
            return TyperCommand(cmd_name, help=entry.help, short_help=entry.help)
        command = _build(entry)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _build(entry: CliGroup | CliCommand) -> click.Command:
    if isinstance(entry, CliGroup):
        command = typer.main.get_command(load(entry.app))
    else:
        single = typer.Typer()
        single.command(entry.name, help=entry.help)(load(entry.command))
        command = typer.main.get_command(single)
    command.name = entry.name
    return command


def lazy_root(entries: Iterable[CliGroup | CliCommand]) -> type[LazyGroup]:
    """A root command class that knows ``entries`` (by name) without importing them."""
    return type("OmbudCommands", (LazyGroup,), {"lazy": {e.name: e for e in entries}})
