"""DICOMweb (QIDO-RS, WADO-RS) over the built-in archive, under /dicomweb.

Routes (all for clinicians and admins):

* QIDO-RS, ``application/dicom+json``: ``/studies``, ``/series``, ``/instances``,
  ``/studies/{study}/series``, ``/studies/{study}/instances``,
  ``/studies/{study}/series/{series}/instances``.
* WADO-RS, ``multipart/related; type="application/dicom"``, files as stored:
  ``/studies/{study}``, ``.../series/{series}``, ``.../instances/{instance}``.
* ``/metadata`` at each of those three levels (DICOM JSON of each file's header).
* ``.../instances/{instance}/frames/1`` (``multipart/related; type="image/jpeg"``),
  ``.../instances/{instance}/rendered`` (``image/jpeg``, ``viewport``, ``quality``),
  ``/thumbnail`` at study, series and instance level (``image/jpeg``).
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from pointcare.web.dicomweb.controllers import DicomwebController

DICOMWEB_ROUTES: list[ControllerRouterHandler] = [DicomwebController]
