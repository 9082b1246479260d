"""`relman backup` and `relman restore`: the database, the data files and the audit chain.

The archive format and the database-independent dump live in `relman.core.backup`; this
module adds what is relman's: the audit chain recorded and verified, the rows migrations
make, the deliverable files checked against the checksums their rows hold.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from relman.cli.bootstrap import describe_database, on_server, unapplied_migrations
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, new_table, out, say, warn

MB = 1024 * 1024
# Top-level folders of the data folders that are scratch space, not data.
SKIP = {"files": {"tmp"}}


def _folders() -> dict[str, Path]:
    """The data folders an archive holds, by member prefix."""
    from django.conf import settings

    return {
        "files": Path(settings.MEDIA_ROOT),
        "processes": Path(settings.DATA_DIR) / "processes",
    }


def _audit_snapshot() -> dict[str, Any]:
    """The audit chain as the backup sees it: its head and whether it verifies."""
    from relman.audit.models import ChainHead
    from relman.audit.services import GENESIS, verify_chain

    result = verify_chain()
    head = ChainHead.objects.filter(pk=1).first()
    return {
        "audit": {
            "intact": result.ok,
            "checked": result.checked,
            "problem": result.problem,
            "head_seq": head.seq if head else 0,
            "head_hash": head.hash if head else GENESIS,
        }
    }


def _bad_deliverable_files(present: dict[str, str] | None = None) -> list[str]:
    """Deliverable versions whose stored file is missing or whose SHA-256 differs.

    `present` maps archive paths under `files/` to their SHA-256; without it the files on
    disk are read again.
    """
    from relman.releases import storage
    from relman.releases.models import DeliverableVersion

    bad = []
    versions = DeliverableVersion.objects.exclude(file="").select_related("deliverable__release")
    for version in versions.iterator(chunk_size=500):
        if present is not None:
            found = present.get(version.file)
        else:
            try:
                found = storage.checksum_of(version.file)
            except OSError:
                found = None
        if found != version.sha256:
            bad.append(
                _("%(release)s %(key)s v%(n)d (%(file)s): %(what)s")
                % {
                    "release": version.deliverable.release.number,
                    "key": version.deliverable.key,
                    "n": version.number,
                    "file": version.file,
                    "what": _("missing") if found is None else _("checksum differs"),
                }
            )
    return bad


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = new_table(title)
    table.add_column(_("Table"))
    table.add_column(_("Rows"), justify="right")
    for name, count in counts.items():
        if count:
            table.add_row(name, str(count))
    table.add_row(_("total"), str(sum(counts.values())), style="bold")
    out.print(table)


def backup(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=_("The archive to write (default: relman-backup-DATE-TIME.tar.gz here)."),
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Back up every table, the data files and the audit chain into one tar.gz archive.

    The rows are read in one consistent snapshot while relman keeps running. The manifest
    records the relman version, the migrations, the rows per table and the SHA-256 of every
    member. Exit 1 if a deliverable's file is missing or damaged (the archive is still
    written, to keep what there is).
    """
    with on_server():
        from relman.core import backup as archive

        if pending := unapplied_migrations():
            fail(
                _("The database is not up to date (%(n)d migrations missing): run `relman setup`.")
                % {"n": len(pending)}
            )
        destination = output or Path(datetime.now().strftime("relman-backup-%Y%m%d-%H%M%S.tar.gz"))
        made = archive.write_backup(
            destination, _folders(), snapshot_info=_audit_snapshot, skip=SKIP
        )
        manifest = made.manifest
        files = {
            name.removeprefix("files/"): member["sha256"]
            for name, member in manifest["members"].items()
            if name.startswith("files/")
        }
        _print_counts(_("Backed up from %s") % describe_database(), manifest["tables"])
        say(
            _("Files: %(n)d (%(mb).1f MB).")
            % {
                "n": sum(1 for n in manifest["members"] if not n.startswith("database/")),
                "mb": sum(
                    m["size"]
                    for n, m in manifest["members"].items()
                    if not n.startswith("database/")
                )
                / MB,
            }
        )
        audit = manifest["audit"]
        if audit["intact"]:
            say(
                _("Audit chain: %(n)d events verified, head #%(seq)d %(hash)s.")
                % {"n": audit["checked"], "seq": audit["head_seq"], "hash": audit["head_hash"][:16]}
            )
        else:
            warn(_("Audit chain: already broken, backed up as it is: %s") % audit["problem"])
        say(
            _("Archive: %(path)s (%(mb).1f MB), SHA-256 %(sha)s")
            % {"path": made.path, "mb": made.path.stat().st_size / MB, "sha": made.sha256}
        )
        bad = _bad_deliverable_files(files)
        if bad:
            fail(
                _(
                    "The archive is written, but %d deliverable file(s) are missing or damaged "
                    "in the data directory:"
                )
                % len(bad),
                bad,
                code=ExitCode.REFUSED,
            )
        say(_("Backup complete."), style="green")


def _rows_in_the_way() -> dict[str, int]:
    """The tables that hold rows beyond those migrations make (content types, permissions,
    the built-in roles, an unused audit chain head)."""
    from relman.accounts.models import Role
    from relman.audit.models import ChainHead
    from relman.core import backup as archive

    counts = archive.table_counts()
    counts.pop("contenttypes.contenttype", None)
    counts.pop("auth.permission", None)
    if counts.get("accounts.role"):
        counts["accounts.role"] = Role.objects.filter(builtin=False).count()
    if counts.get("audit.chainhead"):
        counts["audit.chainhead"] = ChainHead.objects.filter(seq__gt=0).count()
    busiest = sorted(counts.items(), key=lambda item: -item[1])
    return {name: count for name, count in busiest if count}


def restore(
    archive_path: Annotated[
        Path,
        typer.Argument(
            metavar="ARCHIVE",
            help=_("An archive made by `relman backup`."),
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help=_("Replace every row of a database that is not empty, and files in the way."),
        ),
    ] = False,
    max_member_mb: Annotated[
        int, typer.Option(help=_("Refuse an archive member larger than this."), min=1)
    ] = 4096,
    max_total_mb: Annotated[
        int, typer.Option(help=_("Refuse an archive that unpacks to more than this."), min=1)
    ] = 65536,
) -> None:
    """Restore an archive made by `relman backup` into an empty database and data directory.

    Every member is checked against the manifest's SHA-256 first; the rows are loaded in
    one transaction, the audit chain verified before it commits, and nothing is changed
    when anything fails. Exit 1 when it refuses (the reason is printed).
    """
    with on_server():
        from django.conf import settings
        from django.contrib.contenttypes.models import ContentType
        from django.core.management import call_command
        from django.db import transaction

        from relman.audit.services import verify_chain
        from relman.core import backup as archive

        folders = _folders()
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".relman-restore-", dir=data_dir))
        try:
            staged = archive.read_archive(
                archive_path,
                staging,
                set(folders),
                max_member_bytes=max_member_mb * MB,
                max_total_bytes=max_total_mb * MB,
            )
            manifest = staged.manifest
            archive.check_migrations(manifest)
            say(
                _(
                    "Archive %(path)s: relman %(version)s, %(db)s, made %(created)s; checksums match."
                )
                % {
                    "path": archive_path,
                    "version": manifest.get("relman_version", "?"),
                    "db": manifest["database"].get("vendor", "?"),
                    "created": manifest.get("created", "?"),
                }
            )
            rows = _rows_in_the_way()
            busy = [
                str(folders[prefix])
                for prefix in sorted(staged.files)
                if not archive.folder_is_empty(folders[prefix], frozenset(SKIP.get(prefix, set())))
            ]
            if (rows or busy) and not force:
                details = [
                    _("table %(table)s: %(n)d rows") % {"table": name, "n": count}
                    for name, count in list(rows.items())[:8]
                ]
                if len(rows) > 8:
                    details.append(_("and %d more tables") % (len(rows) - 8))
                details += [_("folder %s holds files") % folder for folder in busy]
                fail(
                    _(
                        "The database (%(db)s) or the data directory is not empty; nothing was "
                        "changed. Restore into an empty one, or add --force to replace it:"
                    )
                    % {"db": describe_database()},
                    details,
                )
            migrated = archive.migrate_to_archive(manifest)
            if migrated:
                say(_("Database: applied %d migrations of the archive's schema.") % migrated)
            current = not unapplied_migrations()
            historical = archive.historical_apps(manifest)
            audit = manifest.get("audit", {})
            with archive.installed_files(staged, folders) as install, transaction.atomic():
                archive.delete_all_rows()
                loaded = archive.load_rows(staged, historical)
                result = verify_chain() if current else None
                if result is not None and audit.get("intact") and not result.ok:
                    raise archive.ArchiveRefused(
                        _(
                            "The restored audit chain does not verify, though it did when "
                            "backed up: %s"
                        )
                        % result.problem
                    )
                placed = install()
            ContentType.objects.clear_cache()
        finally:
            archive.remove_staging(staging)
        if not current:
            call_command("migrate", interactive=False, verbosity=0)
            say(_("Database: migrated forward to this version of relman."))
            result = verify_chain()
        _print_counts(_("Restored into %s") % describe_database(), loaded)
        say(_("Files: %d restored, each matching its SHA-256.") % placed)
        bad = _bad_deliverable_files()
        if bad:
            fail(_("Restored, but %d deliverable file(s) do not match their rows:") % len(bad), bad)
        assert result is not None
        if not result.ok:
            fail(
                _("Restored, but the audit chain was already broken when backed up: %s")
                % result.problem
            )
        say(_("%d events verified: the audit chain is intact.") % result.checked, style="green")
        say(_("Restore complete."), style="green")


def register(app: typer.Typer, panel: str, epilog: str) -> None:
    """Add `relman backup` and `relman restore` to the command, in the server panel."""
    app.command("backup", rich_help_panel=panel, epilog=epilog)(backup)
    app.command("restore", rich_help_panel=panel, epilog=epilog)(restore)
