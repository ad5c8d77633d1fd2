"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) over the built-in archive, under /dicomweb.

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
* STOW-RS (``store_routes``): ``POST /studies[/{study}]`` from other capture devices (IHE WIC).
"""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from pointcare.web.dicomweb.render_routes import RenderController
from pointcare.web.dicomweb.retrieve_routes import RetrieveController
from pointcare.web.dicomweb.search_routes import SearchController
from pointcare.web.dicomweb.store_routes import store_instances

# One router for all: STOW-RS shares ``/studies`` and ``/studies/{study}`` with the synchronous
# GETs of search and retrieve. Registered on the app one by one, Litestar (2.25) would register
# a path's handlers again when another joins it, wrapping a synchronous handler twice (its
# answer: an unawaited coroutine); paths joined inside a router are registered on the app once.
DICOMWEB_ROUTES: list[ControllerRouterHandler] = [
    Router(
        path="/",
        route_handlers=[SearchController, RetrieveController, RenderController, store_instances],
    )
]
