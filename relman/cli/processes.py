"""Server-side commands for process definitions: validate, show, load, list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from relman.cli.bootstrap import on_server, setup_django
from relman.cli.i18n import _, language, language_option
from relman.cli.output import fail, new_table, out, say

process_app = typer.Typer(
    help=_("Process definitions: validate files, show, load and list them."),
    no_args_is_help=True,
)


@process_app.command("validate")
def process_validate(
    files: Annotated[
        list[Path], typer.Argument(help=_("Process files (YAML) to check."), show_default=False)
    ],
) -> None:
    """Check process files; print each problem as `file:line: field: message`. No database needed."""
    setup_django()
    from django.utils import translation

    from relman.processes.loader import InvalidProcess, validate_file
    from relman.processes.services import BUILTIN_ROLES

    problems: list[str] = []
    with translation.override(language()):
        for path in files:
            try:
                _data, process = validate_file(path, BUILTIN_ROLES)
            except InvalidProcess as exc:
                problems += [str(p) for p in exc.problems]
                continue
            say(
                _("%(file)s: valid (process '%(name)s', %(flows)d flow(s), %(stages)d stage(s)).")
                % {
                    "file": path,
                    "name": process.name,
                    "flows": len(process.variants),
                    "stages": sum(len(v.stages) for v in process.variants),
                },
                style="green",
            )
    if problems:
        # Unindented, so editors and CI logs recognise `file:line:`.
        fail(_("%d problem(s) found:") % len(problems), problems, indent="")


def _condition(condition: Any) -> str:
    """A variant's or stage's condition as 'kind=a,b method=c'."""
    if condition is None:
        return ""
    parts = [
        f"{name}={','.join(values)}"
        for name, values in (
            ("kind", condition.kind),
            ("method", condition.method),
            ("class", condition.release_class),
        )
        if values
    ]
    return " ".join(parts)


def _gate_lines(process: Any, stage: Any, lang: str) -> list[str]:
    from relman.processes.definition import INVOLVED, pick
    from relman.processes.messages import step_label

    lines = [
        _("deliverable: %s") % (pick(process.deliverables.get(key), lang) or key)
        for key in stage.deliverables
    ]
    lines += [
        _("approval step %(n)d: %(who)s") % {"n": step.group + 1, "who": step_label(process, step)}
        if step.department == INVOLVED  # one per department, as its label says
        else _("approval step %(n)d: %(who)s × %(count)s")
        % {
            "n": step.group + 1,
            "who": step_label(process, step),
            "count": step.count if step.count is not None else _("all"),
        }
        for step in stage.approvals
    ]
    lines += [
        _("check: %s") % (pick(process.checklist.get(key), lang) or key) for key in stage.checklist
    ]
    return lines


def _stage_moves(variant: Any, index: int) -> str:
    """What a stage lets a release do: its transitions (declared, or the defaults for its
    place in the flow), where it returns or rolls back to, and when it is skipped."""
    stage = variant.stages[index]
    first, last = index == 0, index == len(variant.stages) - 1
    moves = stage.transitions or (
        ("close", "return", "cancel") if last else ("advance", "return", "cancel")
    )
    moves = tuple(m for m in moves if not (m == "return" and first))
    lines = [", ".join(moves)]
    if stage.return_to:
        lines.append(_("return to: %s") % ", ".join(stage.return_to))
    if stage.rollback_to:
        lines.append(_("roll back to: %s") % stage.rollback_to)
    if stage.skip_for:
        lines.append(_("skipped for: %s") % _condition(stage.skip_for))
    return "; ".join(lines)


def _render(process: Any, lang: str, heading: str) -> None:
    """Print each flow as a tree: stages, their roles, the gate to leave each, their moves."""
    from relman.processes.definition import pick
    from relman.processes.messages import role_label

    out.print(f"[bold]{escape(heading)}[/bold]")
    if process.description:
        out.print(escape(pick(process.description, lang)), style="dim")
    for variant in process.variants:
        when = _condition(variant.when) or _("every release")
        tree = Tree(
            _("Flow '%(key)s': %(label)s (for %(when)s)")
            % {"key": variant.key, "label": pick(variant.label, lang), "when": when},
            style="bold",
            guide_style="dim",
            highlight=False,
        )
        for number, stage in enumerate(variant.stages, start=1):
            node = tree.add(
                f"[bold]{number}. {escape(pick(stage.label, lang))}[/bold] "
                f"[dim]({escape(stage.key)})[/dim]"
            )
            roles = ", ".join(role_label(process, r) for r in stage.roles)
            node.add(Text(_("roles: %s") % roles, style="default"))
            gate = _gate_lines(process, stage, lang)
            if gate:
                branch = node.add(Text(_("gate to leave it:"), style="default"))
                for line in gate:
                    branch.add(Text(line, style="default"))
            else:
                node.add(Text(_("gate to leave it: none"), style="default"))
            node.add(Text(_("moves: %s") % _stage_moves(variant, number - 1), style="dim"))
        out.print()
        out.print(tree)


def _from_file(path: Path) -> Any:
    from relman.processes.loader import InvalidProcess, validate_file
    from relman.processes.services import BUILTIN_ROLES

    try:
        return validate_file(path, BUILTIN_ROLES)[1]
    except InvalidProcess as exc:
        fail(_("%s is not a valid process file:") % path, [str(p) for p in exc.problems])


@process_app.command("show")
def process_show(
    name: Annotated[
        str, typer.Argument(help=_("A loaded process's name, or a process file to preview."))
    ],
    mermaid: Annotated[
        bool, typer.Option("--mermaid", help=_("Print only the Mermaid flowchart of each flow."))
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help=_("Labels in en or zh-hans (default: yours)."), callback=language_option
        ),
    ] = None,
) -> None:
    """Show a process: each flow's stages, their roles and the gate to leave each."""
    lang = lang or language()
    with on_server():
        from django.utils import translation

        from relman.processes import services
        from relman.processes.definition import pick

        with translation.override(lang):
            path = Path(name)
            if name.endswith((".yaml", ".yml")) and path.is_file():
                process, heading = _from_file(path), str(path)
            else:
                version = services.current_version(name)
                process = services.definition(version)
                heading = _("%(label)s — %(name)s, version %(version)d") % {
                    "label": pick(process.label, lang),
                    "name": version.name,
                    "version": version.version,
                }
            if mermaid:
                for variant in process.variants:
                    if len(process.variants) > 1:
                        typer.echo(f"%% {process.name} / {variant.key}")
                    typer.echo(services.mermaid(process, variant, lang))
                return
            _render(process, lang, heading)


@process_app.command("load")
def process_load() -> None:
    """Load the presets and the files in RELMAN_PROCESS_DIRS; store a new version of each change."""
    with on_server():
        from relman.processes.services import load_processes

        results = load_processes()
        table = new_table(_("Processes"))
        table.add_column(_("Name"), style="bold")
        table.add_column(_("Version"), justify="right")
        table.add_column(_("Result"))
        table.add_column(_("File"), overflow="fold")
        for result in results:
            state = f"[green]{_('created')}[/green]" if result.created else _("unchanged")
            table.add_row(result.name, str(result.version), state, escape(result.source))
        out.print(table)
        created = sum(r.created for r in results)
        say(
            _("%(created)d created, %(same)d unchanged.")
            % {"created": created, "same": len(results) - created}
        )


@process_app.command("list")
def process_list() -> None:
    """List the loaded processes (newest version of each) and the applications using them."""
    with on_server():
        from django.utils import timezone

        from relman.cmdb.models import Application
        from relman.processes.services import latest_versions

        lang = language()
        users: dict[str, list[str]] = {}
        for code, process_name in Application.objects.values_list("code", "process_name"):
            users.setdefault(process_name, []).append(code)
        table = new_table(_("Processes"))
        table.add_column(_("Name"), style="bold")
        table.add_column(_("Version"), justify="right")
        table.add_column(_("Label"), overflow="fold")
        table.add_column(_("Applications"), overflow="fold")
        table.add_column(_("Loaded"))
        for version in latest_versions():
            label = version.label_zh_hans if lang == "zh-hans" else version.label_en
            table.add_row(
                version.name,
                str(version.version),
                escape(label),
                ", ".join(users.get(version.name, [])),
                f"{timezone.localtime(version.created):%Y-%m-%d}",
            )
        out.print(table)
