"""The file store: atomic writes, and every new folder made durable in its parent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pointcare.archive import files
from pointcare.archive.files import FileStore


def test_a_write_into_new_folders_fsyncs_each_new_folder_in_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real = files._fsync_directory

    def record(directory: Path) -> None:
        synced.append(directory)
        real(directory)

    monkeypatch.setattr(files, "_fsync_directory", record)
    store = FileStore(tmp_path / "archive")
    stored = store.write("objects/1.2/1.2.3/1.2.3.4.dcm", [b"DICM", b"rest"])
    root = (tmp_path / "archive").resolve()
    assert store.read(stored.relative_path) == b"DICMrest"
    assert stored.size == 8
    # The archive and every folder under it are new: each parent is fsync'd, then the folder
    # holding the file once the file is in place.
    assert synced == [
        root.parent,
        root,
        root / "objects",
        root / "objects" / "1.2",
        root / "objects" / "1.2" / "1.2.3",
    ]
    synced.clear()
    store.write("objects/1.2/1.2.3/1.2.3.5.dcm", b"again")
    assert synced == [root / "objects" / "1.2" / "1.2.3"], "existing folders are not re-synced"


def test_nothing_outside_the_archive_is_written(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "archive")
    with pytest.raises(ValueError, match="outside the archive"):
        store.write("../escape.dcm", b"x")
    assert not (tmp_path / "escape.dcm").exists()


@pytest.mark.parametrize(
    "path", ["../escape.dcm", "objects/../../escape.dcm", "/etc/passwd", "thumbnails/../../x"]
)
def test_a_path_leaving_the_archive_is_refused_for_every_use(tmp_path: Path, path: str) -> None:
    store = FileStore(tmp_path / "archive")
    for use in (store.resolve, store.read, store.remove):
        with pytest.raises(ValueError, match="outside the archive"):
            use(path)


def test_a_folder_linked_to_another_disk_stays_usable(tmp_path: Path) -> None:
    """Hospitals grow an archive by linking a folder to a larger disk."""
    bigger_disk = tmp_path / "bigger-disk"
    bigger_disk.mkdir()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "objects").symlink_to(bigger_disk)
    store = FileStore(tmp_path / "archive")
    stored = store.write("objects/1.2/1.2.3/1.2.3.4.dcm", b"DICM")
    assert store.read(stored.relative_path) == b"DICM"
    assert (bigger_disk / "1.2" / "1.2.3" / "1.2.3.4.dcm").read_bytes() == b"DICM"
