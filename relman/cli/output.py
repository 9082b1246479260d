"""Printing for the `relman` command: results on stdout, errors on stderr, and the exit codes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from relman.cli.i18n import _


class ExitCode(IntEnum):
    """What `relman` exits with. Scripts may rely on these numbers.

    0  done.
    1  refused: the server (or the database, for admin commands) said no; the reason is printed.
    2  usage error: a wrong option or argument.
    3  cannot reach the server (or the database), or not logged in.
    4  conflict: someone changed the object since you read it; reload and try again.
    """

    OK = 0
    REFUSED = 1
    USAGE = 2
    UNREACHABLE = 3
    CONFLICT = 4


# Both consoles write to whatever sys.stdout / sys.stderr are when they print.
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def say(message: Any, style: str | None = None) -> None:
    """Print one line of result text as is (no markup, never wrapped: scripts grep it)."""
    out.print(message, style=style, markup=False, soft_wrap=True)


def note(message: str, style: str | None = None) -> None:
    """Print a message for the person on stderr, keeping stdout for the result."""
    err.print(message, style=style, markup=False, soft_wrap=True)


def warn(message: str) -> None:
    """Print a warning on stderr."""
    err.print(message, style="yellow", markup=False, soft_wrap=True)


def error_lines(message: str, details: Iterable[str] = (), indent: str = "  ") -> None:
    """Print an error and its details on stderr, in red, one per line."""
    if message:
        err.print(message, style="bold red", markup=False, soft_wrap=True)
    for line in details:
        err.print(f"{indent}{line}", style="red", markup=False, soft_wrap=True)


def fail(
    message: str, details: Iterable[str] = (), code: int = ExitCode.REFUSED, indent: str = "  "
) -> NoReturn:
    """Print an error (and its details, one per line) on stderr and exit with `code`."""
    error_lines(message, details, indent)
    raise typer.Exit(int(code))


def problem_lines(
    detail: str, errors: dict[str, list[str]] | None, unmet: list[str] | None
) -> tuple[str, list[str]]:
    """The headline and the detail lines of a refusal, without saying anything twice."""
    lines: list[str] = []
    if unmet:
        lines += [f"• {sentence}" for sentence in unmet]
        if detail == " ".join(unmet):
            detail = _("Refused: the gate of the current stage is not met.")
    for field_name, messages in (errors or {}).items():
        for message in messages:
            if detail in (message, f"{field_name}: {message}"):
                continue
            lines.append(f"{field_name}: {message}" if field_name else message)
    return detail, lines


def new_table(title: str | None = None, **options: Any) -> Table:
    """A table in the command's one style: a title on the left, light rules."""
    options.setdefault("box", box.SIMPLE_HEAD)
    options.setdefault("title_justify", "left")
    options.setdefault("title_style", "bold")
    return Table(title=title, **options)
