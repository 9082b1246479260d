"""Deliverable files on disk: streamed, measured, checked and stored by their SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from relman.core.checksums import sha256_of
from relman.core.errors import ValidationFailed

TEXT = "text"
# Extension -> the content types the file's own bytes may show. TEXT: UTF-8 text, no magic.
ALLOWED: dict[str, set[str]] = {
    "pdf": {"application/pdf"},
    "docx": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
    },
    "xlsx": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
    },
    "pptx": {
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/zip",
    },
    "odt": {"application/vnd.oasis.opendocument.text", "application/zip"},
    "ods": {"application/vnd.oasis.opendocument.spreadsheet", "application/zip"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "zip": {"application/zip"},
    "gz": {"application/gzip"},
    "tgz": {"application/gzip"},
    **{
        ext: {TEXT}
        for ext in ("txt", "md", "csv", "json", "yaml", "yml", "xml", "log", "sql", "sh")
    },
}
TEXT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
    "md": "text/markdown",
}


@dataclass(frozen=True)
class StoredFile:
    """A file kept under the data directory."""

    path: str  # relative to MEDIA_ROOT
    sha256: str
    size: int
    content_type: str


def root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _sniff(head: bytes, extension: str) -> str:
    """The content type the bytes show, checked against the extension; raise if they disagree."""
    allowed = ALLOWED.get(extension)
    if allowed is None:
        raise ValidationFailed(
            _("Files of type '.%(ext)s' are not accepted. Accepted: %(list)s.")
            % {"ext": extension or "?", "list": ", ".join(sorted(ALLOWED))},
            field="file",
        )
    kind = filetype.guess(head)
    if TEXT in allowed:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            if exc.start < len(head) - 4:
                raise ValidationFailed(
                    _("The file is named '.%s' but is not UTF-8 text.") % extension, field="file"
                ) from exc
        if kind is not None:
            raise ValidationFailed(
                _("The file is named '.%(ext)s' but its content is %(mime)s.")
                % {"ext": extension, "mime": kind.mime},
                field="file",
            )
        return TEXT_TYPES.get(extension, "text/plain")
    if kind is None or kind.mime not in allowed:
        raise ValidationFailed(
            _("The file is named '.%(ext)s' but its content is %(mime)s.")
            % {"ext": extension, "mime": kind.mime if kind else _("not recognised")},
            field="file",
        )
    return (
        sorted(allowed - {"application/zip"})[0]
        if kind.mime == "application/zip" and len(allowed) > 1
        else kind.mime
    )


def store(stream: IO[bytes] | Any, filename: str) -> StoredFile:
    """Stream an upload to disk, refusing it whole if too large, empty or of a wrong type."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    limit = settings.RELMAN_MAX_UPLOAD_BYTES
    tmp_dir = root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = (
                stream.chunks()
                if hasattr(stream, "chunks")
                else iter(lambda: stream.read(65536), b"")
            )
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed(
                        _("The file is larger than the limit of %s.") % filesizeformat(limit),
                        field="file",
                    )
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed(_("The file is empty."), field="file")
        content_type = _sniff(head, extension)
        sha = digest.hexdigest()
        final = root() / sha[:2] / sha
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)
        return StoredFile(f"{sha[:2]}/{sha}", sha, size, content_type)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def open_stored(path: str) -> IO[bytes]:
    """Open a stored file for reading."""
    full = (root() / path).resolve()
    if root().resolve() not in full.parents:
        raise ValidationFailed(_("Bad file path."), field="file")
    return full.open("rb")


def checksum_of(path: str) -> str:
    """Re-read a stored file and return its SHA-256, to prove it is intact."""
    with open_stored(path) as handle:
        return sha256_of(handle)
