"""DICOMweb (QIDO-RS, WADO-RS) over the built-in archive, under /dicomweb.

Routes (all for clinicians and admins); the conformance statement (docs/conformance.md) lists
every media type, transfer syntax and query key:

* QIDO-RS (``search_routes``): ``/studies``, ``/series``, ``/instances``,
  ``/studies/{study}/series``, ``/studies/{study}/instances``,
  ``/studies/{study}/series/{series}/instances``; DICOM JSON or the XML model.
* WADO-RS (``retrieve_routes``): objects at study, series and instance level (Explicit VR
  Little Endian by default, as stored for ``transfer-syntax=*``), ``/metadata`` at each level,
  ``.../frames/{frames}`` and ``.../bulkdata/{tag}``.
* Rendered and thumbnails (``render_routes``): ``/rendered`` at study, series, instance and
  frame level (JPEG, PNG), ``/thumbnail`` at study, series and instance level.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from pointcare.web.dicomweb.render_routes import RenderController
from pointcare.web.dicomweb.retrieve_routes import RetrieveController
from pointcare.web.dicomweb.search_routes import SearchController

DICOMWEB_ROUTES: list[ControllerRouterHandler] = [
    SearchController,
    RetrieveController,
    RenderController,
]
