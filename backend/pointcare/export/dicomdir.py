"""The DICOM export: a ZIP holding a DICOM File-set (PS3.10) with its DICOMDIR.

What another hospital's PACS or CD importer expects: the objects exactly as stored (byte for
byte, same UIDs), under PS3.10 file IDs (8 upper-case characters per component), and a
DICOMDIR indexing them Patient → Study → Series → Image. The objects are JPEG already, so the
ZIP stores them without compressing again.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import IO

from pydicom import dcmread
from pydicom.fileset import FileSet

FILE_SET_ID = "POINTCARE"


def write_dicom_zip(objects: Iterable[bytes], destination: IO[bytes]) -> int:
    """Write the ZIP of ``objects`` (Part-10 bytes, as stored) to ``destination``; the number
    of DICOM objects in it."""
    with tempfile.TemporaryDirectory(prefix="pointcare-export-") as folder:
        root = Path(folder) / "export"
        file_set = FileSet()
        file_set.ID = FILE_SET_ID
        count = 0
        for data in objects:
            file_set.add(dcmread(BytesIO(data)))
            count += 1
        file_set.write(root, use_existing=False)
        with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED) as archive:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(root).as_posix())
    return count
