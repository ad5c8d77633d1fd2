"""The built-in archive's file store: Part-10 files and thumbnails under the data dir.

Every write is atomic and durable: a temporary file in the target folder, fsync, rename, then
fsync of the folder, so that after a crash a file is either whole or absent.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


@dataclass(frozen=True, slots=True)
class StoredFile:
    relative_path: str
    size: int
    sha256: str


def _check_uid(uid: str) -> str:
    if not _UID.match(uid) or len(uid) > 64:
        raise ValueError(f"not a DICOM UID: {uid!r}")
    return uid


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def object_path(self, study_uid: str, series_uid: str, sop_uid: str) -> str:
        return "/".join(
            ("objects", _check_uid(study_uid), _check_uid(series_uid), _check_uid(sop_uid) + ".dcm")
        )

    def thumbnail_path(self, sop_uid: str) -> str:
        return f"thumbnails/{_check_uid(sop_uid)[-2:]}/{sop_uid}.jpg"

    def resolve(self, relative_path: str) -> Path:
        """Absolute path of a stored file; refuses a path that would leave the archive.

        The path is checked as written (relative, no ``..``), not by following symbolic links:
        a folder of the archive may be a link to a larger disk, and the check costs no system
        call on the ingest path.
        """
        path = PurePosixPath(relative_path)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("path outside the archive")
        return self.root.joinpath(*path.parts)

    def write(self, relative_path: str, data: bytes | Sequence[bytes]) -> StoredFile:
        """Write ``data`` (or the concatenation of its pieces, never joined in memory)."""
        chunks = (data,) if isinstance(data, bytes) else tuple(data)
        digest = hashlib.sha256()
        target = self.resolve(relative_path)
        self._make_folders(target.parent)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                for chunk in chunks:
                    digest.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return StoredFile(relative_path, sum(map(len, chunks)), digest.hexdigest())

    def _make_folders(self, folder: Path) -> None:
        """Create ``folder`` and any missing parents, each made durable: a new folder's entry
        is in its parent's directory, which is fsync'd too (else a crash could lose the folder,
        and the file in it, after the row that points to it committed)."""
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for created in reversed(missing):
            created.mkdir(exist_ok=True)
            _fsync_directory(created.parent)

    def read(self, relative_path: str) -> bytes:
        return self.resolve(relative_path).read_bytes()

    def remove(self, relative_path: str) -> None:
        """Delete a file if present (used to undo a store that did not commit)."""
        self.remove_all([relative_path])

    def remove_all(self, relative_paths: Sequence[str]) -> None:
        """Delete files if present; each folder they were in is made durable once, after all
        of them are gone (the spool copies of a delivered batch share their series' folder)."""
        folders: dict[Path, None] = {}
        for relative_path in relative_paths:
            path = self.resolve(relative_path)
            path.unlink(missing_ok=True)
            folders[path.parent] = None
        for folder in folders:
            _fsync_directory(folder)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
