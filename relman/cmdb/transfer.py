"""Import and export of the CMDB as CSV and JSON: item types with their schemas, items, and
relationships (by names: `source_type,source,kind,target_type,target`), so that an existing
CMDB can move in.

An import is all or nothing: every row is checked first (reference data read once, the
items' schemas compiled once), ALL problems are collected (up to `MAX_ERRORS`) and reported
by line and field ("line 734, owner_team: There is no team 'xyz'."), and only a file without
any is written, in one transaction, with bulk inserts and updates and one audit event
carrying the counts and the file's SHA-256. Items are matched by (type, name): an existing
one is updated with the columns the file has, a new one created.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb import access
from relman.cmdb.models import CIType, ConfigurationItem, Relationship
from relman.cmdb.services.items import ITEM_FIELDS, REFERENCES, clean_item
from relman.cmdb.services.refs import Refs
from relman.cmdb.services.relationships import kind_error
from relman.cmdb.services.types import TYPE_FIELDS, clean_type
from relman.core.checksums import sha256_of
from relman.core.errors import Conflict, ValidationFailed

FORMAT_NAME = "relman-cmdb"
FORMAT_VERSION = 1
WHATS = ("types", "items", "relationships")
COLUMNS = {
    "types": TYPE_FIELDS,
    "items": ITEM_FIELDS,
    "relationships": ("source_type", "source", "kind", "target_type", "target"),
}
REQUIRED = {
    "types": ("code",),
    "items": ("type", "name"),
    "relationships": ("source_type", "source", "kind", "target_type", "target"),
}
JSON_COLUMNS = {"schema", "attributes"}  # JSON text in a CSV cell
MAX_ERRORS = 200
BATCH = 1000
CHUNK = 500  # names per `IN (...)` when looking existing items up


def max_bytes() -> int:
    return int(getattr(settings, "RELMAN_CMDB_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "RELMAN_CMDB_IMPORT_MAX_ROWS", 200_000))


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do)."""

    sha256: str
    dry_run: bool
    types: Counts = field(default_factory=Counts)
    items: Counts = field(default_factory=Counts)
    relationships: Counts = field(default_factory=Counts)

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: vars(getattr(self, name)) for name in WHATS}


@dataclass(frozen=True)
class CmdbImport:
    """What the import's audit event is about: the file, named by its SHA-256."""

    pk: str


@dataclass
class Row:
    where: str  # "line 734" or "items[733]"
    values: dict[str, Any]


class Problems:
    """The import's problems in file order, keyed "line 734, owner_team", up to a cap."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.total = 0

    def add(self, key: str, message: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_ERRORS or key in self.errors:
            self.errors.setdefault(key, []).append(message)

    def merge(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            for message in messages:
                self.add(key, message)

    def raise_if_any(self) -> None:
        if not self.total:
            return
        key, messages = next(iter(self.errors.items()))
        detail = _("%(count)d problem(s); nothing was imported. First: %(first)s") % {
            "count": self.total,
            "first": f"{key}: {messages[0]}",
        }
        if self.total > sum(len(m) for m in self.errors.values()):
            detail += " " + _("(only the first %d are listed)") % MAX_ERRORS
        raise ValidationFailed(detail, errors=self.errors)


# ---------------------------------------------------------------- reading a file


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def read_upload(handle: BinaryIO) -> tuple[bytes, str]:
    """The file's bytes (refused when larger than the limit) and their SHA-256."""
    limit = max_bytes()
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise _file_error(
            _("The file is larger than %d MB (RELMAN_CMDB_IMPORT_MAX_MB).") % (limit // 2**20)
        )
    if not data.strip():
        raise _file_error(_("The file is empty."))
    return data, sha256_of(io.BytesIO(data))


def guess_format(filename: str, data: bytes) -> str:
    """ "json" or "csv", by the file's name, else by its first character."""
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "csv"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            _("The file is not UTF-8 text (byte %d cannot be read).") % (exc.start + 1)
        ) from exc


def parse_csv(data: bytes, what: str) -> dict[str, list[Row]]:
    """The rows of a CSV file of `what` (types, items or relationships), with their lines.
    Only the columns the file has are set; an empty cell of a JSON column is {}."""
    text = _text(data)
    if "\x00" in text:
        raise _file_error(_("The file holds NUL characters."))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration as exc:
        raise _file_error(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise ValidationFailed(f"line 1: {exc}", field="line 1") from exc
    unknown = [c for c in header if c not in COLUMNS[what]]
    absent = [c for c in REQUIRED[what] if c not in header]
    if unknown or absent or len(set(header)) != len(header):
        words = []
        if unknown:
            words.append(_("unknown column(s) %s") % ", ".join(unknown))
        if absent:
            words.append(_("missing column(s) %s") % ", ".join(absent))
        if len(set(header)) != len(header):
            words.append(_("a column appears twice"))
        raise ValidationFailed(
            _("line 1: %(problems)s; the columns of %(what)s are: %(columns)s.")
            % {"problems": "; ".join(words), "what": what, "columns": ",".join(COLUMNS[what])},
            field="line 1",
        )
    rows: list[Row] = []
    problems = Problems()
    limit = max_rows()
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ValidationFailed(f"line {line}: {exc}", field=f"line {line}") from exc
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= limit:
            raise _file_error(
                _("The file has more than %d rows (RELMAN_CMDB_IMPORT_MAX_ROWS).") % limit
            )
        if len(cells) != len(header):
            problems.add(
                f"line {line}",
                _("%(found)d cells where the header has %(expected)d.")
                % {"found": len(cells), "expected": len(header)},
            )
            continue
        values: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=True):
            if column in JSON_COLUMNS:
                try:
                    values[column] = json.loads(cell) if cell.strip() else {}
                except ValueError as exc:
                    problems.add(f"line {line}, {column}", _("Not JSON: %s.") % exc)
            elif column == "is_service":
                flag = cell.strip().lower()
                values[column] = flag in ("true", "yes", "1") if flag else False
                if flag and flag not in ("true", "yes", "1", "false", "no", "0"):
                    problems.add(f"line {line}, {column}", _("true or false is expected."))
            else:
                values[column] = cell
        rows.append(Row(f"line {line}", values))
    problems.raise_if_any()
    return {what: rows}


def parse_json(data: bytes, what: str | None) -> dict[str, list[Row]]:
    """The rows of a JSON export: an object with "types", "items" and/or "relationships"
    lists (a bare list is the `what` given)."""
    try:
        document = json.loads(_text(data))
    except ValueError as exc:
        raise _file_error(_("The file is not valid JSON: %s.") % exc) from exc
    if isinstance(document, list):
        document = {what or "items": document}
    if not isinstance(document, dict):
        raise _file_error(_("The JSON file must hold an object with %s.") % ", ".join(WHATS))
    unknown = sorted(set(document) - {*WHATS, "format", "version"})
    if unknown:
        raise _file_error(_("Unknown key(s) in the JSON file: %s.") % ", ".join(unknown))
    out: dict[str, list[Row]] = {}
    problems = Problems()
    count = 0
    for section in WHATS:
        entries = document.get(section, [])
        if not isinstance(entries, list):
            raise ValidationFailed(_("A list is expected."), field=section)
        count += len(entries)
        if count > max_rows():
            raise _file_error(
                _("The file has more than %d rows (RELMAN_CMDB_IMPORT_MAX_ROWS).") % max_rows()
            )
        rows = []
        for index, entry in enumerate(entries):
            where = f"{section}[{index}]"
            if not isinstance(entry, dict):
                problems.add(where, _("An object is expected."))
                continue
            unknown = sorted(set(entry) - set(COLUMNS[section]))
            if unknown:
                problems.add(where, _("Unknown field(s): %s.") % ", ".join(unknown))
                continue
            absent = [c for c in REQUIRED[section] if c not in entry]
            for column in absent:
                problems.add(f"{where}, {column}", _("This field is required."))
            values = {
                k: ("" if v is None and k not in JSON_COLUMNS else v) for k, v in entry.items()
            }
            for key, value in values.items():
                if key not in JSON_COLUMNS and key != "is_service" and not isinstance(value, str):
                    problems.add(f"{where}, {key}", _("Text is expected."))
            if not absent:
                rows.append(Row(where, values))
        out[section] = rows
    problems.raise_if_any()
    return out


# ---------------------------------------------------------------- checking and writing


@dataclass
class Plan:
    """What the import will write, once every row is known to be good."""

    new_types: list[CIType] = field(default_factory=list)
    changed_types: list[CIType] = field(default_factory=list)
    new_items: list[ConfigurationItem] = field(default_factory=list)
    changed_items: list[ConfigurationItem] = field(default_factory=list)
    item_fields: set[str] = field(default_factory=set)
    new_relationships: list[tuple[tuple[int, str], str, tuple[int, str]]] = field(
        default_factory=list
    )
    items_by_key: dict[tuple[int, str], ConfigurationItem] = field(default_factory=dict)


def _plan_types(rows: list[Row], refs: Refs, problems: Problems, plan: Plan, report: ImportReport):
    seen: dict[str, str] = {}
    for row in rows:
        errors: dict[str, list[str]] = {}
        values = clean_type(row.values, errors, f"{row.where}, ")
        code = values.get("code", "")
        if code and code in seen:
            errors.setdefault(f"{row.where}, code", []).append(
                _("The type '%(code)s' appears twice (first at %(where)s).")
                % {"code": code, "where": seen[code]}
            )
        problems.merge(errors)
        if errors:
            continue
        seen[code] = row.where
        existing = refs.get("type", code)
        if existing is None:
            values.setdefault("name", code)
            made = CIType(**values)
            plan.new_types.append(made)
            refs.add("type", made)
            report.types.created += 1
        elif any(getattr(existing, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(existing, key, value)
            plan.changed_types.append(existing)
            report.types.updated += 1
        else:
            report.types.unchanged += 1


def _existing_items(keys: set[tuple[int | None, str]]) -> dict[tuple[int, str], ConfigurationItem]:
    """Items already in the CMDB by (type id, name), read in chunks of names (a type made by
    this import, without an id yet, has none)."""
    by_type: dict[int, list[str]] = {}
    for type_id, name in keys:
        if type_id:
            by_type.setdefault(type_id, []).append(name)
    found: dict[tuple[int, str], ConfigurationItem] = {}
    for type_id, names in by_type.items():
        for start in range(0, len(names), CHUNK):
            for item in ConfigurationItem.objects.filter(
                type_id=type_id, name__in=names[start : start + CHUNK]
            ):
                found[(type_id, item.name)] = item
    return found


def _plan_items(rows: list[Row], refs: Refs, problems: Problems, plan: Plan, report: ImportReport):
    # First the type and name of every row, to read the existing items in a few queries.
    keyed: list[tuple[Row, Any, str]] = []
    for row in rows:
        errors: dict[str, list[str]] = {}
        head = clean_item(
            {"type": row.values.get("type"), "name": row.values.get("name")},
            refs,
            errors,
            f"{row.where}, ",
        )
        if errors:
            problems.merge(errors)
            continue
        keyed.append((row, head["type"], head["name"]))
    existing = _existing_items({(kind.pk, name) for _r, kind, name in keyed})
    seen: dict[tuple[int, str], str] = {}
    now = timezone.now()
    for row, kind, name in keyed:
        key = (id(kind), name)
        if key in seen:
            problems.add(
                f"{row.where}, name",
                _("The %(type)s '%(name)s' appears twice (first at %(where)s).")
                % {"type": kind.code, "name": name, "where": seen[key]},
            )
            continue
        seen[key] = row.where
        current = existing.get((kind.pk, name)) if kind.pk else None
        if current is not None:
            current.type = kind  # the import's own copy, with the schema the file gives it
        values = {k: v for k, v in row.values.items() if k not in ("type", "name")}
        if current is None:
            values = {"type": kind, **values}
        errors = {}
        cleaned = clean_item(values, refs, errors, f"{row.where}, ", current=current)
        if errors:
            problems.merge(errors)
            continue
        if current is None:
            made = ConfigurationItem(name=name, **cleaned)
            plan.new_items.append(made)
            plan.items_by_key[key] = made
            report.items.created += 1
            continue
        plan.items_by_key[key] = current
        changed = {
            k: v
            for k, v in cleaned.items()
            if (
                getattr(current, f"{k}_id") != getattr(v, "pk", None)
                if k in REFERENCES
                else getattr(current, k) != v
            )
        }
        if changed:
            for k, v in changed.items():
                setattr(current, k, v)
            current.updated = now
            plan.item_fields.update(changed)
            plan.changed_items.append(current)
            report.items.updated += 1
        else:
            report.items.unchanged += 1


def _plan_relationships(
    rows: list[Row], refs: Refs, problems: Problems, plan: Plan, report: ImportReport
):
    # Items named by the rows and not in this import: read by (type, name) in a few queries.
    wanted: set[tuple[int | None, str]] = set()
    for row in rows:
        for side in ("source", "target"):
            kind = refs.get("type", str(row.values.get(f"{side}_type", "")).strip())
            name = str(row.values.get(side, "")).strip()
            if kind is not None and (id(kind), name) not in plan.items_by_key:
                wanted.add((kind.pk, name))
    existing = _existing_items(wanted)
    seen: set[tuple] = set()
    resolved: list[tuple[Row, Any, str, Any]] = []
    for row in rows:
        ends = {}
        for side in ("source", "target"):
            type_code = str(row.values.get(f"{side}_type", "")).strip()
            name = str(row.values.get(side, "")).strip()
            kind = refs.get("type", type_code)
            if kind is None:
                problems.add(
                    f"{row.where}, {side}_type", _("There is no item type '%s'.") % type_code
                )
                continue
            item = plan.items_by_key.get((id(kind), name)) or existing.get((kind.pk, name))
            if item is None:
                problems.add(
                    f"{row.where}, {side}",
                    _("There is no %(type)s named '%(name)s'.") % {"type": kind.code, "name": name},
                )
                continue
            ends[side] = item
        relation = str(row.values.get("kind", "")).strip()
        problem = kind_error(relation)
        if problem:
            problems.add(f"{row.where}, kind", problem)
        if len(ends) < 2 or problem:
            continue
        if ends["source"] is ends["target"]:
            problems.add(f"{row.where}, target", _("An item cannot be related to itself."))
            continue
        key = (id(ends["source"]), relation, id(ends["target"]))
        if key in seen:
            report.relationships.unchanged += 1
            continue
        seen.add(key)
        resolved.append((row, ends["source"], relation, ends["target"]))
    # Which of them exist already: only items that exist can have relationships.
    known_ids = {item.pk for _r, s, _k, t in resolved for item in (s, t) if item.pk}
    present: set[tuple[int, str, int]] = set()
    ids = sorted(known_ids)
    for start in range(0, len(ids), CHUNK):
        present.update(
            Relationship.objects.filter(source_id__in=ids[start : start + CHUNK]).values_list(
                "source_id", "kind", "target_id"
            )
        )
    for _row, source, relation, target in resolved:
        if source.pk and target.pk and (source.pk, relation, target.pk) in present:
            report.relationships.unchanged += 1
            continue
        plan.new_relationships.append((source, relation, target))
        report.relationships.created += 1


def import_file(
    actor: Any,
    handle: BinaryIO,
    *,
    filename: str = "",
    format: str | None = None,
    what: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a CSV (of `what`: types, items or relationships) or JSON file. Nothing is
    written when any row is wrong, or with `dry_run`; the report says what was (or would be)
    created, updated and left unchanged."""
    access.require_change(actor)
    data, digest = read_upload(handle)
    format = format or guess_format(filename, data)
    if format == "csv":
        if what not in WHATS:
            raise ValidationFailed(
                _("Say what the CSV file holds: %s.") % ", ".join(WHATS), field="what"
            )
        sections = parse_csv(data, what)
    elif format == "json":
        sections = parse_json(data, what)
    else:
        raise ValidationFailed(_("The format is csv or json."), field="format")
    report = ImportReport(sha256=digest, dry_run=dry_run)
    with transaction.atomic():
        refs = Refs(preload=True)
        problems, plan = Problems(), Plan()
        _plan_types(sections.get("types", []), refs, problems, plan, report)
        _plan_items(sections.get("items", []), refs, problems, plan, report)
        _plan_relationships(sections.get("relationships", []), refs, problems, plan, report)
        problems.raise_if_any()
        if dry_run:
            return report
        try:
            _write(plan)
        except IntegrityError as exc:
            raise Conflict(
                _("The CMDB changed while the file was imported; import it again.")
            ) from exc
        audit.record(
            actor,
            "cmdb.imported",
            CmdbImport(digest),
            after={"file": filename, "format": format, "sha256": digest, **report.counts()},
        )
    return report


def _write(plan: Plan) -> None:
    CIType.objects.bulk_create(plan.new_types, batch_size=BATCH)
    if plan.changed_types:
        CIType.objects.bulk_update(
            plan.changed_types, ["name", "description", "schema", "is_service"], batch_size=BATCH
        )
    for item in plan.new_items:
        item.type_id = item.type.pk  # a type made by this import has its id only now
    ConfigurationItem.objects.bulk_create(plan.new_items, batch_size=BATCH)
    if plan.changed_items:
        ConfigurationItem.objects.bulk_update(
            plan.changed_items, sorted({*plan.item_fields, "updated"}), batch_size=BATCH
        )
    missing = [item for item in plan.new_items if item.pk is None]
    if missing:  # a database that does not return the ids of a bulk insert
        fetched = _existing_items({(item.type_id, item.name) for item in missing})
        for item in missing:
            item.pk = fetched[(item.type.pk, item.name)].pk
    Relationship.objects.bulk_create(
        [
            Relationship(source_id=source.pk, kind=kind, target_id=target.pk)
            for source, kind, target in plan.new_relationships
        ],
        batch_size=BATCH,
    )


# ---------------------------------------------------------------- export


def _type_rows() -> Iterator[dict[str, Any]]:
    for kind in CIType.objects.order_by("code"):
        yield {name: getattr(kind, name) for name in TYPE_FIELDS}


def _item_rows() -> Iterator[dict[str, Any]]:
    rows = (
        ConfigurationItem.objects.order_by("type__code", "name", "id")
        .values_list(
            F("type__code"),
            "name",
            "description",
            F("owner_team__code"),
            F("environment__code"),
            F("application__code"),
            "status",
            "attributes",
        )
        .iterator(chunk_size=2000)
    )
    for values in rows:
        yield {
            name: ("" if value is None else value)
            for name, value in zip(ITEM_FIELDS, values, strict=True)
        }


def _relationship_rows() -> Iterator[dict[str, Any]]:
    rows = (
        Relationship.objects.order_by("source__type__code", "source__name", "kind", "id")
        .values_list(
            F("source__type__code"),
            F("source__name"),
            "kind",
            F("target__type__code"),
            F("target__name"),
        )
        .iterator(chunk_size=2000)
    )
    for values in rows:
        yield dict(zip(COLUMNS["relationships"], values, strict=True))


ROWS = {"types": _type_rows, "items": _item_rows, "relationships": _relationship_rows}


def export(what: str, format: str) -> tuple[str, str, str]:
    """The CMDB's `what` (types, items, relationships, or all for JSON) as a file:
    (text, content type, file name). Every signed-in user may export what they may read."""
    if what not in (*WHATS, "all"):
        raise ValidationFailed(_("Export types, items or relationships."), field="what")
    if format == "json":
        sections = WHATS if what == "all" else (what,)
        document: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
        for section in sections:
            document[section] = list(ROWS[section]())
        text = json.dumps(document, ensure_ascii=False, indent=1)
        return text, "application/json", f"cmdb-{what}.json"
    if format != "csv":
        raise ValidationFailed(_("The format is csv or json."), field="format")
    if what == "all":
        raise ValidationFailed(
            _("A CSV file holds one of types, items or relationships."), field="what"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS[what])
    for row in ROWS[what]():
        writer.writerow(
            json.dumps(value, ensure_ascii=False, sort_keys=True)
            if name in JSON_COLUMNS
            else ("true" if value is True else "false" if value is False else value)
            for name, value in row.items()
        )
    return buffer.getvalue(), "text/csv; charset=utf-8", f"cmdb-{what}.csv"
