"""POST /api/v1/wristbands/scan and /parse: which patient a wristband barcode names.

``scan`` takes a camera frame and decodes it here (for browsers without BarcodeDetector);
``parse`` takes the text a client decoded itself. Both answer the same way: 200 with the patient,
200 with ``found: false`` when the frame shows no barcode yet (the client sends the next frame),
422 when the barcode is not a wristband the rules recognise, 404 when no patient has the MRN.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import anyio
from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.rejections import image_refused
from pointcare.db.models import Patient
from pointcare.errors import Conflict, InvalidInput, NotFound
from pointcare.identity.directory import find_by_mrn
from pointcare.imaging.photo import PhotoRejected
from pointcare.launch.binding import remember_search
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from pointcare.web.api.patients import PatientOut, patient_out
from pointcare.web.limits import UPLOAD_ROUTE
from pointcare.wristband.barcodes import decode_barcodes
from pointcare.wristband.identifiers import (
    UnrecognisedWristband,
    WristbandId,
    WristbandRule,
    WristbandRules,
)

log = logging.getLogger(__name__)

NO_BARCODE = "No barcode in view yet: hold the wristband barcode steady in the frame."
CONFIRM = "Wristband read. Check the name and birth date with the patient before you continue."
TWO_PATIENTS = "Barcodes of two different patients are in view: scan one wristband at a time."


@dataclass
class ScanForm:
    """Multipart form: ``frame`` is one camera frame (JPEG, PNG, WebP or HEIC)."""

    frame: UploadFile | None = None


@dataclass
class ParseIn:
    text: str
    """The decoded barcode text, as the client's decoder gave it."""
    format: str | None = None
    """The client decoder's format name (e.g. ``code_128``); echoed back."""
    symbology_identifier: str | None = None
    """AIM symbology identifier (``]C1``...) when the client decoder reports one."""


@dataclass
class BarcodeOut:
    format: str | None
    text: str


@dataclass
class WristbandScan:
    found: bool
    """Whether a barcode was seen (when True, ``patient`` is set)."""
    barcode: BarcodeOut | None
    rule: str | None
    """The payload rule that matched: ``plain``, ``prefixed``, ``hl7-cx`` or ``gs1-gsrn``."""
    patient: PatientOut | None
    message: str


@dataclass(frozen=True, slots=True)
class _Read:
    """A barcode text from either path (decoded here, or by the client)."""

    format: str | None
    text: str
    symbology_identifier: str | None


# --- Service ------------------------------------------------------------------------------------


def wristband_rules(settings: Settings) -> WristbandRules:
    return _rules(
        settings.wristband_prefixes, settings.wristband_mrn_pattern, settings.wristband_gsrn_issuer
    )


@lru_cache(maxsize=8)
def _rules(prefixes: str, mrn_pattern: str, gsrn_issuer: str) -> WristbandRules:
    return WristbandRules.from_config(
        prefixes=prefixes, mrn_pattern=mrn_pattern, gsrn_issuer=gsrn_issuer
    )


def decode_frame(frame: bytes, *, max_pixels: int) -> list[_Read]:
    """The barcodes in a camera frame; a bad frame becomes a 4xx with a readable reason."""
    try:
        found = decode_barcodes(frame, max_pixels=max_pixels)
    except PhotoRejected as exc:
        raise image_refused(exc, "frame") from None
    return [_Read(b.format.value, b.text, b.symbology_identifier) for b in found]


def identify(session: Session, rules: WristbandRules, reads: Sequence[_Read]) -> WristbandScan:
    """The patient the barcodes in view name; raises the application error to answer."""
    if not reads:
        return WristbandScan(False, None, None, None, NO_BARCODE)
    matched: list[tuple[_Read, WristbandId]] = []
    refusal: UnrecognisedWristband | None = None
    for read in reads:
        try:
            matched.append(
                (read, rules.read(read.text, symbology_identifier=read.symbology_identifier))
            )
        except UnrecognisedWristband as exc:
            refusal = refusal or exc
    if not matched:
        assert refusal is not None
        raise InvalidInput(str(refusal), errors={"barcode": refusal.reason})
    # A wristband may carry the same identifier twice (a 1D and a 2D code); other codes in view
    # (a bed label, a medicine box) are ignored unless they name another known patient.
    found: dict[int, tuple[_Read, WristbandId, Patient]] = {}
    for read, wristband in matched:
        patient = find_by_mrn(session, wristband.mrn, wristband.issuer)
        if patient is not None:
            found.setdefault(patient.id, (read, wristband, patient))
    if len(found) > 1:
        raise Conflict(TWO_PATIENTS)
    if not found:
        raise NotFound(_not_found(matched[0][1]), errors={"barcode": "no such patient"})
    ((read, wristband, patient),) = found.values()
    log.info("wristband read by rule %s: patient id %s", wristband.rule.value, patient.id)
    return WristbandScan(
        True,
        BarcodeOut(read.format, read.text),
        wristband.rule.value,
        patient_out(patient),
        CONFIRM,
    )


def _not_found(wristband: WristbandId) -> str:
    label = "GSRN" if wristband.rule is WristbandRule.GS1_GSRN else "MRN"
    issuer = f" (issuer {wristband.issuer})" if wristband.issuer else ""
    return (
        f"No patient with {label} {wristband.mrn}{issuer} — check the wristband or search by name."
    )


def _identify_in_thread(
    runtime: Runtime, actor: audit.Actor, principal: Principal, reads: list[_Read]
) -> WristbandScan:
    """Identify, then treat the wristband like a search that found its patient: audited, and
    (for a session opened from the EHR) that patient may now be opened."""
    with runtime.db.session() as session:
        scan = identify(session, wristband_rules(runtime.settings), reads)
        if scan.patient is None:
            return scan
        patient = find_by_mrn(session, scan.patient.mrn, scan.patient.issuer)
        assert patient is not None, "identify() found this patient"
        session.expunge(patient)
    event = audit.patient_search(actor, criteria=["wristband"], found=[patient], via="wristband")
    audit.record_now(runtime.db, event)
    remember_search(runtime.db, principal, [patient], mrn=patient.mrn)  # a whole identifier
    return scan


# --- Controllers --------------------------------------------------------------------------------


@post("/api/v1/wristbands/scan", tags=["wristbands"], status_code=200, opt=UPLOAD_ROUTE)
async def scan_wristband(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[ScanForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> WristbandScan:
    """Decode one camera frame and name the patient its wristband barcode identifies."""
    if not isinstance(data.frame, UploadFile):
        raise InvalidInput(
            "Send the camera frame as the multipart field 'frame'.",
            errors={"frame": "a camera frame is required"},
        )
    frame = await data.frame.read()
    reads = await anyio.to_thread.run_sync(
        lambda: decode_frame(frame, max_pixels=runtime.settings.max_image_pixels),
        limiter=runtime.image_limiter,
    )
    actor = audit.actor_of(request, principal)
    return await anyio.to_thread.run_sync(_identify_in_thread, runtime, actor, principal, reads)


@post("/api/v1/wristbands/parse", tags=["wristbands"], status_code=200, sync_to_thread=True)
def parse_wristband(
    request: Request[Principal, Any, Any], runtime: Runtime, principal: Principal, data: ParseIn
) -> WristbandScan:
    """Name the patient a barcode text identifies (the client decoded the barcode itself)."""
    read = _Read(data.format, data.text, data.symbology_identifier)
    return _identify_in_thread(runtime, audit.actor_of(request, principal), principal, [read])


WRISTBAND_ROUTES = [scan_wristband, parse_wristband]

__all__ = [
    "WRISTBAND_ROUTES",
    "BarcodeOut",
    "ParseIn",
    "WristbandScan",
    "decode_frame",
    "identify",
    "parse_wristband",
    "scan_wristband",
    "wristband_rules",
]
