"""SHA-256 of files, read in 1 MiB blocks: deliverables, the CLI's uploads and backups use it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20


def sha256_of(handle: BinaryIO) -> str:
    """The hex SHA-256 of what is left to read in an open binary file."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(BLOCK), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file on disk."""
    with path.open("rb") as handle:
        return sha256_of(handle)
