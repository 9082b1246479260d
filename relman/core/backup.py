"""Backups: every table, the data files and a manifest of checksums in one tar.gz, and back.

The database part is database-independent: each model's rows, in Django's "python"
serialisation (explicit primary keys, foreign keys as ids, many-to-many as id lists),
one JSON object a line, times in UTC at full precision (the audit chain hashes them to
the microsecond, which Django's own JSON encoder would cut to milliseconds). A restore
loads the rows through the *historical* models of the archive's migration state, so an
archive made by an older relman loads into the schema it was made with and is then
migrated forward like any upgrade.

This module knows no app: the caller passes in what is domain-specific (what to record
next to the counts, which rows migrations make, how to check the result).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps as global_apps
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from relman.core.checksums import sha256_file
from relman.core.errors import DomainError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database"
CHUNK = 1000
# Member names: the manifest, one file per table, and files under the data folders.
_TABLE_MEMBER = re.compile(r"^database/([a-z0-9_]+\.[a-z0-9_]+)\.jsonl$")


class ArchiveRefused(DomainError):
    """The archive, or the place it should be restored into, is not fit: nothing was changed."""

    code = "backup_refused"


class _Encoder(DjangoJSONEncoder):
    """Times at full precision and in UTC, so equal instants always read the same."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            if o.tzinfo is not None:
                o = o.astimezone(UTC)
            return o.isoformat()
        if isinstance(o, time):
            return o.isoformat()
        return super().default(o)


# ---------------------------------------------------------------- the tables


def models_in_order() -> list[type[models.Model]]:
    """Every concrete model of every installed app, dependencies first where they are known.

    Foreign keys are checked at the end of the restore's transaction (Django creates them
    deferrable on SQLite and PostgreSQL), so the order only makes a failure easier to read.
    """
    app_list = [(config, None) for config in global_apps.get_app_configs() if config.models_module]
    ordered = serializers.sort_dependencies(app_list, allow_cycles=True)
    return [m for m in ordered if m._meta.managed and not m._meta.proxy]


def label(model: type[models.Model]) -> str:
    """'app_label.modelname', as in the archive's member names and counts."""
    return model._meta.label_lower


def _existing_tables(using: str = DEFAULT_DB_ALIAS) -> set[str]:
    return set(connections[using].introspection.table_names())


def table_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """The number of rows of every model (0 for a table not created yet)."""
    existing = _existing_tables(using)
    return {
        label(m): (m._base_manager.using(using).count() if m._meta.db_table in existing else 0)
        for m in models_in_order()
    }


def records(model: type[models.Model], using: str = DEFAULT_DB_ALIAS) -> Iterator[dict[str, Any]]:
    """The rows of a model as Django's python serialisation, by primary key, m2m ids sorted.

    Read in keyset chunks, so a large table (the audit log) never sits in memory whole.
    """
    serializer = serializers.get_serializer("python")()
    # Only many-to-many fields with an automatic through table are serialised inline; an
    # explicit through model is a table of its own.
    m2m = [f.name for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
    queryset = model._base_manager.using(using).order_by("pk")
    last: Any = None
    while True:
        chunk = list((queryset if last is None else queryset.filter(pk__gt=last))[:CHUNK])
        if not chunk:
            return
        for record in serializer.serialize(chunk):
            for name in m2m:
                record["fields"][name] = sorted(record["fields"][name], key=str)
            yield record
        last = chunk[-1].pk


def dump_line(record: dict[str, Any]) -> str:
    """One record as one line of JSON, times at full precision.

    Keys keep their order (the fields' order, and JSON values' own order as stored), so a
    JSON column reads back exactly as it was.
    """
    return json.dumps(record, cls=_Encoder, ensure_ascii=False)


def dump_all(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Every table as its sorted lines: equal before a backup and after its restore."""
    return {label(m): sorted(dump_line(r) for r in records(m, using)) for m in models_in_order()}


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations recorded as applied, 'app.name', sorted."""
    recorder = MigrationRecorder(connections[using])
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


# ---------------------------------------------------------------- writing an archive


@dataclass
class Backup:
    """What `write_backup` made: the archive, its manifest and the archive's own SHA-256."""

    path: Path
    manifest: dict[str, Any]
    sha256: str


def _files_under(folder: Path, skip: set[str]) -> list[tuple[str, Path]]:
    """Regular files under `folder` as (relative POSIX path, path), sorted; links are skipped."""
    found = []
    if not folder.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(folder):
        relative_dir = Path(dirpath).relative_to(folder)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not (relative_dir == Path(".") and d in skip)
            and not (Path(dirpath) / d).is_symlink()
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append(((relative_dir / name).as_posix(), path))
    return found


def write_backup(
    destination: Path,
    folders: dict[str, Path],
    *,
    snapshot_info: Callable[[], dict[str, Any]] | None = None,
    skip: dict[str, set[str]] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Backup:
    """Write every table and the files under `folders` into `destination` (a tar.gz).

    `folders` maps a member prefix ('files') to a folder; `skip` names top-level
    sub-folders to leave out (scratch space). The tables are read in one transaction
    (REPEATABLE READ on PostgreSQL), and `snapshot_info()` runs inside it, so what it
    records (the audit chain's head) matches the rows. The archive is written next to
    `destination` and renamed into place when complete (mode 0600: it holds password hashes).
    """
    skip = skip or {}
    destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    with tempfile.TemporaryDirectory(prefix=".relman-backup-", dir=destination.parent) as tmp:
        staging = Path(tmp)
        members: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        # One snapshot for every table; inside a caller's transaction (tests) it is theirs.
        fresh = not connection.in_atomic_block
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql" and fresh:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            info = snapshot_info() if snapshot_info else {}
            migrations = applied_migrations(using)
            for model in models_in_order():
                name = f"{DATABASE}/{label(model)}.jsonl"
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                digest, count = hashlib.sha256(), 0
                with path.open("wb") as handle:
                    for record in records(model, using):
                        line = (dump_line(record) + "\n").encode()
                        digest.update(line)
                        handle.write(line)
                        count += 1
                counts[label(model)] = count
                members[name] = {"sha256": digest.hexdigest(), "size": path.stat().st_size}
        # Stored files are named by their content's SHA-256 and never rewritten, so reading
        # them after the rows' snapshot still finds every file a row refers to.
        sources: dict[str, Path] = {name: staging / name for name in members}
        for prefix, folder in sorted(folders.items()):
            for relative, path in _files_under(Path(folder), skip.get(prefix, set())):
                name = f"{prefix}/{relative}"
                sources[name] = path
                members[name] = {"sha256": sha256_file(path), "size": path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "relman_version": metadata.version("relman"),
            "created": datetime.now(UTC).isoformat(),
            "database": {"vendor": connection.vendor, "migrations": migrations},
            "tables": counts,
            "members": members,
            **info,
        }
        partial = destination.with_name(destination.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                body = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
                _add_member(tar, MANIFEST, _BytesReader(body), len(body))
                for name, path in sources.items():
                    with path.open("rb") as handle:
                        _add_member(tar, name, handle, members[name]["size"])
            os.replace(partial, destination)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    return Backup(destination, manifest, sha256_file(destination))


class _BytesReader:
    """A minimal readable file over bytes, for tarfile.addfile."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk


def _add_member(tar: tarfile.TarFile, name: str, handle: IO[bytes] | Any, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    tar.addfile(info, handle)


# ---------------------------------------------------------------- reading an archive


@dataclass
class Staged:
    """An archive checked and unpacked into a staging folder, ready to restore."""

    folder: Path
    manifest: dict[str, Any]
    files: dict[str, list[str]] = field(default_factory=dict)  # prefix -> relative paths

    def table_member(self, table: str) -> Path:
        return self.folder / DATABASE / f"{table}.jsonl"


def _check_name(name: str, prefixes: set[str]) -> str:
    """The member name if it is safe to unpack, else a refusal naming it."""
    path = PurePosixPath(name)
    parts = path.parts
    if (
        not name
        or "\\" in name
        or any(ord(c) < 32 for c in name)
        or path.is_absolute()
        or any(p in {"", ".", ".."} for p in parts)
    ):
        raise ArchiveRefused(
            _("The archive member '%s' has an unsafe path (absolute, '..' or odd characters).")
            % name
        )
    if name == MANIFEST or _TABLE_MEMBER.match(name):
        return name
    if len(parts) < 2 or parts[0] not in prefixes:
        raise ArchiveRefused(_("The archive member '%s' is not part of a relman backup.") % name)
    return name


def read_archive(
    archive: Path,
    staging: Path,
    prefixes: set[str],
    *,
    max_member_bytes: int,
    max_total_bytes: int,
) -> Staged:
    """Check the archive member by member and unpack it into `staging`.

    Refuses (before writing anything outside `staging`) a member that is not a regular
    file (links, devices, folders), has an absolute path or '..', is not listed in the
    manifest or is listed twice, is larger than `max_member_bytes` (or all together than
    `max_total_bytes`), or whose SHA-256 differs from the manifest's; and a manifest
    member that is missing from the archive.
    """
    manifest: dict[str, Any] | None = None
    seen: set[str] = set()
    total = 0
    staged = Staged(staging, {})
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                name = _check_member(member, prefixes, seen, max_member_bytes)
                total += member.size
                if total > max_total_bytes:
                    raise ArchiveRefused(
                        _("The archive unpacks to more than the limit of %d MB.")
                        % (max_total_bytes // (1024 * 1024))
                    )
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isreg() members always have content
                    raise ArchiveRefused(_("Cannot read the archive member '%s'.") % name)
                if name == MANIFEST:
                    if seen != {MANIFEST}:
                        raise ArchiveRefused(_("The archive's manifest is not its first member."))
                    manifest = staged.manifest = _parse_manifest(source.read())
                    continue
                if manifest is None:
                    raise ArchiveRefused(
                        _("The archive has no manifest: it is not a relman backup.")
                    )
                _unpack(name, member.size, source, manifest, staging)
                prefix, _sep, relative = name.partition("/")
                if prefix in prefixes:
                    staged.files.setdefault(prefix, []).append(relative)
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise ArchiveRefused(
            _("Cannot read the archive %(path)s: %(error)s") % {"path": archive, "error": exc}
        ) from exc
    if manifest is None:
        raise ArchiveRefused(_("The archive has no manifest: it is not a relman backup."))
    missing = sorted(set(manifest["members"]) - seen)
    if missing:
        raise ArchiveRefused(
            _("The archive lacks %(n)d member(s) its manifest lists, first '%(name)s'.")
            % {"n": len(missing), "name": missing[0]}
        )
    return staged


def _check_member(
    member: tarfile.TarInfo, prefixes: set[str], seen: set[str], max_bytes: int
) -> str:
    """The member's name once it is safe: a regular file, a safe path, once, not too large."""
    name = _check_name(member.name, prefixes)
    if not member.isreg():
        raise ArchiveRefused(
            _("The archive member '%s' is not a regular file (a link or a folder).") % name
        )
    if name in seen:
        raise ArchiveRefused(_("The archive holds '%s' twice.") % name)
    seen.add(name)
    if member.size > max_bytes:
        raise ArchiveRefused(
            _("The archive member '%(name)s' is larger than the limit of %(mb)d MB.")
            % {"name": name, "mb": max_bytes // (1024 * 1024)}
        )
    return name


def _unpack(
    name: str, size: int, source: IO[bytes], manifest: dict[str, Any], staging: Path
) -> None:
    """Copy one member into `staging`, refusing it unless its SHA-256 is the manifest's."""
    expected = manifest["members"].get(name)
    if not isinstance(expected, dict):
        raise ArchiveRefused(_("The archive member '%s' is not listed in its manifest.") % name)
    target = (staging / name).resolve()
    if staging.resolve() not in target.parents:
        raise ArchiveRefused(_("The archive member '%s' has an unsafe path.") % name)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in iter(functools.partial(source.read, 1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected.get("sha256") or size != expected.get("size"):
        raise ArchiveRefused(
            _(
                "The archive member '%s' does not match the SHA-256 in the manifest: "
                "the archive is damaged or was altered."
            )
            % name
        )


def _parse_manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        raise ArchiveRefused(_("The archive's manifest is not valid JSON.")) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveRefused(
            _("The archive's format (%(found)s) is not one this relman reads (%(known)d).")
            % {
                "found": manifest.get("format") if isinstance(manifest, dict) else "?",
                "known": FORMAT,
            }
        )
    for key in ("members", "tables", "database"):
        if not isinstance(manifest.get(key), dict):
            raise ArchiveRefused(_("The archive's manifest lacks '%s'.") % key)
    return manifest


# ---------------------------------------------------------------- the schema


def check_migrations(manifest: dict[str, Any], using: str = DEFAULT_DB_ALIAS) -> None:
    """Refuse an archive made by a newer relman: migrations or tables this code lacks."""
    loader = MigrationExecutor(connections[using]).loader
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    unknown = sorted(set(manifest["database"].get("migrations", [])) - known)
    if unknown:
        raise ArchiveRefused(
            _(
                "The archive was made by a newer relman (%(version)s): its database has "
                "%(n)d migration(s) this version does not know, first %(first)s. Restore it "
                "with that version or a later one."
            )
            % {
                "version": manifest.get("relman_version", "?"),
                "n": len(unknown),
                "first": unknown[0],
            }
        )
    tables = {label(m) for m in models_in_order()}
    strange = sorted(set(manifest["tables"]) - tables)
    if strange:
        raise ArchiveRefused(
            _("The archive holds the table %s, which this version of relman does not have.")
            % strange[0]
        )


def _targets(applied: set[tuple[str, str]], executor: MigrationExecutor) -> list[tuple]:
    """The migration targets that bring each app to the archive's state (None: nothing)."""
    graph = executor.loader.graph
    targets: list[tuple[str, str | None]] = []
    for app in sorted(executor.loader.migrated_apps):
        nodes = {key for key in applied if key[0] == app and key in graph.nodes}
        leaves = [
            key
            for key in sorted(nodes)
            if not any(child in nodes for child in graph.node_map[key].children)
        ]
        targets += leaves or [(app, None)]
    return targets


def migrate_to_archive(manifest: dict[str, Any], using: str = DEFAULT_DB_ALIAS) -> int:
    """Bring the database to the archive's migration state, forwards only; return how many.

    A database ahead of the archive is refused: unapplying migrations could lose data.
    """
    connection = connections[using]
    executor = MigrationExecutor(connection)
    applied = {tuple(item.split(".", 1)) for item in manifest["database"].get("migrations", [])}
    targets = _targets(applied, executor)  # type: ignore[arg-type]
    plan = executor.migration_plan(targets)
    backwards = [f"{m.app_label}.{m.name}" for m, backward in plan if backward]
    if backwards:
        raise ArchiveRefused(
            _(
                "The database has migrations the archive does not (first %s): restore into a "
                "new, empty database; `relman restore` sets its schema up itself."
            )
            % backwards[0]
        )
    if plan:
        executor.migrate(targets, plan=plan)
    return len(plan)


def historical_apps(manifest: dict[str, Any], using: str = DEFAULT_DB_ALIAS) -> Any:
    """The models as they were at the archive's migration state (its rows' shape)."""
    executor = MigrationExecutor(connections[using])
    applied = {tuple(item.split(".", 1)) for item in manifest["database"].get("migrations", [])}
    targets = [t for t in _targets(applied, executor) if t[1] is not None]  # type: ignore[arg-type]
    return executor.loader.project_state(targets, at_end=True).apps


# ---------------------------------------------------------------- loading the rows


def delete_all_rows(using: str = DEFAULT_DB_ALIAS) -> None:
    """Delete the rows of every model's table and its many-to-many tables.

    DELETE, not TRUNCATE: it stays inside the caller's transaction on every database, and
    foreign keys are deferred, so the order does not matter.
    """
    connection = connections[using]
    existing = _existing_tables(using)
    tables = []
    for model in models_in_order():
        tables += [f.remote_field.through._meta.db_table for f in model._meta.local_many_to_many]
        tables.append(model._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            if table in existing:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608


def _instance(model: type[models.Model], record: dict[str, Any]) -> tuple[models.Model, dict]:
    """A historical model instance from one record, and its many-to-many ids."""
    values: dict[str, Any] = {model._meta.pk.attname: model._meta.pk.to_python(record["pk"])}
    m2m: dict[str, list] = {}
    for name, value in record["fields"].items():
        try:
            model_field = model._meta.get_field(name)
        except Exception as exc:
            raise ArchiveRefused(
                _("The archive's table %(table)s has a field '%(field)s' the schema lacks.")
                % {"table": label(model), "field": name}
            ) from exc
        if model_field.many_to_many:
            m2m[name] = value
        elif model_field.is_relation:
            target = model_field.target_field
            values[model_field.attname] = None if value is None else target.to_python(value)
        else:
            values[model_field.attname] = model_field.to_python(value)
    return model(**values), m2m


def load_rows(staged: Staged, historical: Any, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Insert every archived row with its own primary key; return the rows per table.

    Runs inside the caller's transaction. Raw saves keep `created`/`updated` as archived;
    PostgreSQL's sequences are then moved past the loaded keys, and foreign keys checked.
    """
    connection = connections[using]
    loaded: dict[str, int] = {}
    current_models = []
    for model in models_in_order():
        table = label(model)
        if table not in staged.manifest["tables"]:
            continue
        old_model = historical.get_model(model._meta.app_label, model._meta.model_name)
        count = 0
        with staged.table_member(table).open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                instance, m2m = _instance(old_model, json.loads(line))
                instance.save_base(raw=True, force_insert=True, using=using)
                for name, ids in m2m.items():
                    if ids:
                        getattr(instance, name).set(ids)
                count += 1
        if count != staged.manifest["tables"][table]:
            raise ArchiveRefused(
                _("The archive's table %(table)s holds %(found)d rows, its manifest says %(n)d.")
                % {"table": table, "found": count, "n": staged.manifest["tables"][table]}
            )
        loaded[table] = count
        current_models.append(model)
    statements = connection.ops.sequence_reset_sql(no_style(), current_models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    try:
        connection.check_constraints()
    except Exception as exc:
        raise ArchiveRefused(
            _("The archived rows do not fit together: %s") % " ".join(str(exc).split())
        ) from exc
    return loaded


# ---------------------------------------------------------------- the files


@contextlib.contextmanager
def installed_files(staged: Staged, folders: dict[str, Path]) -> Iterator[Callable[[], int]]:
    """Yield `install()`, which moves the staged files into their folders and says how many;
    when the block fails (the restore's transaction included) the new files are taken away.

    Wrap the transaction in this block and call `install()` last inside it, so a failure
    leaves neither rows nor new files behind.
    """
    placed: list[Path] = []

    def install() -> int:
        for prefix, relatives in sorted(staged.files.items()):
            root = Path(folders[prefix])
            for relative in relatives:
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                existed = target.exists()
                shutil.move(staged.folder / prefix / relative, target)
                if not existed:
                    placed.append(target)
        return sum(len(r) for r in staged.files.values())

    try:
        yield install
    except BaseException:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def folder_is_empty(folder: Path, skip: frozenset[str] = frozenset()) -> bool:
    """Whether `folder` holds no file (top-level sub-folders in `skip` do not count)."""
    return not _files_under(folder, set(skip))


def remove_staging(folder: Path) -> None:
    """Remove a staging folder and whatever is left in it."""
    shutil.rmtree(folder, ignore_errors=True)
