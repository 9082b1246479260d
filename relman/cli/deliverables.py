"""API client commands for deliverables: upload a file (checksum verified), add a link, list."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from relman.cli.client import Api
from relman.cli.clock import when
from relman.cli.i18n import _
from relman.cli.output import fail, new_table, out, say
from relman.cli.releases import JsonOption, Number, print_json
from relman.core.checksums import sha256_file

deliverable_app = typer.Typer(
    help=_("Deliverables of a release: upload files, add links, list them."),
    no_args_is_help=True,
)


@deliverable_app.command("upload")
def deliverable_upload(
    number: Number,
    key: Annotated[str, typer.Argument(help=_("The deliverable's key in the process."))],
    file: Annotated[
        Path,
        typer.Argument(help=_("The file."), exists=True, dir_okay=False, readable=True),
    ],
    note_text: Annotated[str, typer.Option("--note", help=_("A note on this version."))] = "",
) -> None:
    """Upload a file as a new version of a deliverable; check the server stored it intact."""
    local = sha256_file(file)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with Api.from_login() as api, file.open("rb") as handle:
        version = api.post(
            f"/releases/{number}/deliverables",
            data={"key": key, "note": note_text},
            files={"file": (file.name, handle, content_type)},
        )
    if version["sha256"] != local:
        fail(
            _(
                "The server stored a different file: SHA-256 %(stored)s, but the local file's "
                "is %(local)s. Upload it again."
            )
            % {"stored": version["sha256"], "local": local}
        )
    say(
        _("Uploaded %(file)s as %(key)s version %(n)d of %(number)s.")
        % {"file": file.name, "key": key, "n": version["number"], "number": number},
        style="green",
    )
    say(_("SHA-256 %s (matches the local file)") % version["sha256"])


@deliverable_app.command("link")
def deliverable_link(
    number: Number,
    key: Annotated[str, typer.Argument(help=_("The deliverable's key in the process."))],
    url: Annotated[str, typer.Argument(help=_("Where the deliverable is."))],
    note_text: Annotated[str, typer.Option("--note", help=_("A note on this version."))] = "",
) -> None:
    """Add a link as a new version of a deliverable."""
    with Api.from_login() as api:
        version = api.post(
            f"/releases/{number}/deliverables", data={"key": key, "url": url, "note": note_text}
        )
    say(
        _("Linked %(url)s as %(key)s version %(n)d of %(number)s.")
        % {"url": url, "key": key, "n": version["number"], "number": number},
        style="green",
    )


@deliverable_app.command("list")
def deliverable_list(number: Number, as_json: JsonOption = False) -> None:
    """List a release's deliverables and their versions."""
    with Api.from_login() as api:
        deliverables = api.get(f"/releases/{number}/deliverables")
    if as_json:
        print_json(deliverables)
        return
    table = new_table()
    for heading in (_("Key"), _("Version"), _("File or link"), _("SHA-256"), _("By"), _("When")):
        table.add_column(heading, overflow="fold")
    for deliverable in deliverables:
        for version in deliverable["versions"]:
            table.add_row(
                deliverable["key"],
                str(version["number"]),
                escape(version["filename"] or version["url"]),
                version["sha256"][:12],
                version["uploaded_by"],
                when(version["created"]),
            )
    out.print(table)
