"""Server-side commands for applications and the process each one follows."""

from __future__ import annotations

from typing import Annotated

import typer

from relman.cli.bootstrap import on_server
from relman.cli.i18n import _
from relman.cli.output import new_table, out, say

app_app = typer.Typer(
    help=_("Applications: create, list, choose their process."), no_args_is_help=True
)


@app_app.command("create")
def app_create(
    code: Annotated[str, typer.Argument(help=_("Short code, e.g. crm."))],
    name: Annotated[str, typer.Argument(help=_("Full name."))],
    process: Annotated[
        str, typer.Option(help=_("The process its releases follow (`relman process list`)."))
    ],
    description: Annotated[str, typer.Option(help=_("Description."))] = "",
) -> None:
    """Register an application."""
    with on_server():
        from relman.cmdb.services import create_application

        created = create_application(
            None, code=code, name=name, process=process, description=description
        )
        say(
            _("Application %(code)s created; its releases follow '%(process)s'.")
            % {"code": created.code, "process": created.process_name}
        )


@app_app.command("list")
def app_list() -> None:
    """List the applications and their processes."""
    with on_server():
        from relman.cmdb.models import Application

        table = new_table()
        for column in (_("Code"), _("Name"), _("Process"), _("Active")):
            table.add_column(column)
        for application in Application.objects.order_by("code"):
            table.add_row(
                application.code,
                application.name,
                application.process_name,
                _("yes") if application.is_active else _("no"),
            )
        out.print(table)


@app_app.command("set-process")
def app_set_process(
    code: Annotated[str, typer.Argument(help=_("Application code."))],
    process: Annotated[str, typer.Argument(help=_("Process name."))],
) -> None:
    """Choose the process new releases of an application follow."""
    with on_server():
        from relman.cmdb.services import set_process

        changed = set_process(None, code, process)
        say(
            _("New releases of %(code)s follow '%(process)s'.")
            % {"code": changed.code, "process": changed.process_name}
        )
