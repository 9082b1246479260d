"""`relman backup` and `relman restore`: every table, the files and the audit chain, and back."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from relman.audit import exports
from relman.audit.models import AuditEvent, ChainHead
from relman.audit.services import verify_chain
from relman.core import backup as archive
from relman.releases import services as releases
from relman.releases.models import DeliverableVersion, Release
from tests import factories


@pytest.fixture
def data_dir(settings, tmp_path) -> Path:
    """The server's data directory for this test (files under it, as in production)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = settings.DATA_DIR / "files"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def history(app, data_dir, fast_passwords):
    """A release that went through its first gate (uploads, approvals) and a comment on it."""
    crew = factories.crew(app)
    release = factories.release(factories.user("req", "requester", app=app), app)
    factories.meet_gate(crew, release)
    release = releases.advance(crew, release, revision=release.revision)
    releases.add_comment(crew, release, body="Backout plan reviewed; 备份已检查。")
    factories.release(crew, app, title="Second release")
    return release


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _empty_the_server(settings, tmp_path) -> None:
    """A fresh database (every row gone, migration-made ones too) and a new data directory."""
    archive.delete_all_rows()
    settings.DATA_DIR = tmp_path / "fresh"
    settings.MEDIA_ROOT = settings.DATA_DIR / "files"


def _rewrite(source: Path, target: Path, change) -> None:
    """Copy an archive member by member, letting `change(name, data)` return new bytes."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def test_a_restored_backup_is_identical_rows_files_and_audit_chain(
    run, history, settings, tmp_path
):
    path = tmp_path / "backup.tar.gz"
    made = run("backup", "-o", str(path))
    assert made.exit_code == 0, made.output
    assert "Backup complete." in made.stdout
    before = archive.dump_all()
    audit_before = exports.to_json(AuditEvent.objects.all())
    files_before = _files(Path(settings.MEDIA_ROOT))
    password_hash = get_user_model().objects.get(username="req").password
    assert files_before and any(v.file for v in DeliverableVersion.objects.all())

    _empty_the_server(settings, tmp_path)
    assert not Release.objects.exists() and not ChainHead.objects.exists()
    restored = run("restore", str(path))

    assert restored.exit_code == 0, restored.output
    assert "checksums match" in restored.stdout
    assert "the audit chain is intact" in restored.stdout
    assert archive.dump_all() == before
    assert exports.to_json(AuditEvent.objects.all()) == audit_before
    assert _files(Path(settings.MEDIA_ROOT)) == files_before
    for version in DeliverableVersion.objects.exclude(file=""):
        data = (Path(settings.MEDIA_ROOT) / version.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == version.sha256
    assert verify_chain().ok
    assert verify_chain().checked == AuditEvent.objects.count() > 5
    assert get_user_model().objects.get(username="req").password == password_hash
    # New rows get new keys (the sequences moved past the loaded ones) and chain on.
    crew = factories.crew(history.application)
    releases.add_comment(crew, history, body="After the restore")
    assert verify_chain().ok


def test_the_manifest_records_versions_counts_checksums_and_the_chain_head(run, history, tmp_path):
    path = tmp_path / "backup.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0

    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        release_rows = tar.extractfile("database/releases.release.jsonl").read()
    assert names[0] == "manifest.json"
    assert manifest["tables"]["releases.release"] == 2 == len(release_rows.splitlines())
    assert (
        manifest["members"]["database/releases.release.jsonl"]["sha256"]
        == hashlib.sha256(release_rows).hexdigest()
    )
    assert "releases.0001_initial" in manifest["database"]["migrations"]
    head = ChainHead.objects.get(pk=1)
    assert manifest["audit"] == {
        "intact": True,
        "checked": head.seq,
        "problem": "",
        "head_seq": head.seq,
        "head_hash": head.hash,
    }
    assert set(names) == {"manifest.json", *manifest["members"]}


def test_a_tampered_archive_is_refused_and_nothing_changes(run, history, settings, tmp_path):
    path, tampered = tmp_path / "backup.tar.gz", tmp_path / "tampered.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0
    _rewrite(
        path,
        tampered,
        lambda name, data: (
            data.replace(b"Second release", b"Third release")
            if name == "database/releases.release.jsonl"
            else data
        ),
    )
    _empty_the_server(settings, tmp_path)

    result = run("restore", str(tampered))

    assert result.exit_code == 1
    assert "'database/releases.release.jsonl' does not match the SHA-256" in result.stderr
    assert not Release.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("../evil.txt", "unsafe path"), ("/etc/evil", "unsafe path"), ("files/x/../../e", "unsafe")],
)
def test_archive_members_outside_the_data_directory_are_refused(
    run, data_dir, tmp_path, name, message
):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))

    result = run("restore", str(bad))

    assert result.exit_code == 1
    assert message in result.stderr
    assert not (tmp_path / "evil.txt").exists()


def test_links_in_an_archive_are_refused(run, history, tmp_path):
    path, linked = tmp_path / "backup.tar.gz", tmp_path / "linked.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0
    with tarfile.open(path, "r:gz") as old, tarfile.open(linked, "w:gz") as new:
        for member in old.getmembers():
            new.addfile(member, old.extractfile(member))
        link = tarfile.TarInfo("files/ab/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        new.addfile(link)

    result = run("restore", "--force", str(linked))

    assert result.exit_code == 1
    assert "'files/ab/link' is not a regular file" in result.stderr


def test_an_archive_from_a_newer_relman_is_refused(run, history, settings, tmp_path):
    path, newer = tmp_path / "backup.tar.gz", tmp_path / "newer.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0

    def future(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["database"]["migrations"].append("releases.9999_from_the_future")
        return json.dumps(manifest).encode()

    _rewrite(path, newer, future)
    _empty_the_server(settings, tmp_path)

    result = run("restore", str(newer))

    assert result.exit_code == 1
    assert "made by a newer relman" in result.stderr
    assert "releases.9999_from_the_future" in result.stderr
    assert not Release.objects.exists()


def test_a_database_that_is_not_empty_is_refused_without_force(run, history, tmp_path):
    path = tmp_path / "backup.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0
    before = archive.dump_all()
    releases.add_comment(factories.crew(history.application), history, body="After the backup")

    refused = run("restore", str(path))

    assert refused.exit_code == 1
    assert "is not empty; nothing was changed" in refused.stderr
    events = AuditEvent.objects.count()
    assert f"table audit.auditevent: {events} rows" in refused.stderr
    assert archive.dump_all() != before

    forced = run("restore", "--force", str(path))

    assert forced.exit_code == 0, forced.output
    assert archive.dump_all() == before
    assert verify_chain().ok


def test_restore_refuses_an_archive_whose_chain_no_longer_verifies(
    run, history, settings, tmp_path
):
    """Rows edited and the manifest rewritten to match: the chain still tells."""
    path, forged = tmp_path / "backup.tar.gz", tmp_path / "forged.tar.gz"
    assert run("backup", "-o", str(path)).exit_code == 0
    table = "database/audit.auditevent.jsonl"
    with tarfile.open(path, "r:gz") as tar:
        events = tar.extractfile(table).read().replace(b'"reason": ""', b'"reason": "x"', 1)

    def forge(name: str, data: bytes) -> bytes:
        if name == table:
            return events
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["members"][table] = {
                "sha256": hashlib.sha256(events).hexdigest(),
                "size": len(events),
            }
            return json.dumps(manifest).encode()
        return data

    _rewrite(path, forged, forge)
    _empty_the_server(settings, tmp_path)

    result = run("restore", str(forged))

    assert result.exit_code == 1
    assert "The restored audit chain does not verify" in result.stderr
    assert "was edited" in result.stderr
    assert not AuditEvent.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists()
