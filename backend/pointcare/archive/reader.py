"""Reading a photo Pointcare captured: its spool copy while there is one, else from the archive.

With the built-in archive the spool copy is the archived file and is never removed. With a
PACS it is removed once the PACS confirms the object; from then on the object is retrieved from
the PACS (WADO-RS), under the UIDs it was stored with.
"""

from __future__ import annotations

from pointcare.archive.files import FileStore
from pointcare.archive.protocol import Archive, InstanceRef
from pointcare.db.models import Instance
from pointcare.dicom.part10 import Part10Source


class InstanceReader:
    def __init__(self, files: FileStore, archive: Archive) -> None:
        self.files = files
        self.archive = archive

    def part10(self, ref: InstanceRef, storage_path: str) -> Part10Source:
        """The spool file's path when it is still there, else the object's bytes from the
        archive (``NotFound`` or ``ArchiveUnavailable`` when that fails)."""
        path = self.files.resolve(storage_path)
        if path.is_file():
            return path
        return self.archive.retrieve_instance(ref)


def ref_of(instance: Instance) -> InstanceRef:
    """Where an indexed photo is in the DICOM hierarchy (its study and series loaded)."""
    return InstanceRef(
        instance.study.study_instance_uid,
        instance.series.series_instance_uid,
        instance.sop_instance_uid,
    )
