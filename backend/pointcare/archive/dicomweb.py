"""A PACS over DICOMweb (PS3.18): STOW-RS to store, QIDO-RS to search, WADO-RS to retrieve.

Tested against Orthanc 1.10 with its DICOMweb plugin 1.7; written to the standard, with two
habits of real servers in mind: WADO-RS is asked for ``transfer-syntax=*`` (otherwise Orthanc
transcodes a photo to uncompressed pixels, ten times the bytes), and thumbnails are asked for
as ``/rendered?viewport=320,320`` with a literal comma (Orthanc has no ``/thumbnail`` and
refuses ``%2C``).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast
from urllib.parse import quote

import httpx

from pointcare.archive.protocol import (
    THUMBNAIL_SIZE,
    ArchiveUnavailable,
    Cause,
    InstanceRef,
    Outcome,
    OutgoingInstance,
    PatientKey,
    StoreReport,
    StudySummary,
)
from pointcare.archive.stow import DICOM_JSON, read_stow_response, stow_request
from pointcare.dicom import json_model
from pointcare.dicom.json_model import ReceivedObject
from pointcare.errors import NotFound

log = logging.getLogger(__name__)

WADO_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
JPEG = "image/jpeg"

STUDY_INSTANCE_UID = "0020000D"
SERIES_INSTANCE_UID = "0020000E"
SOP_INSTANCE_UID = "00080018"
STUDY_DATE = "00080020"
ACCESSION_NUMBER = "00080050"
MODALITIES_IN_STUDY = "00080061"
STUDY_DESCRIPTION = "00081030"
ISSUER_OF_PATIENT_ID = "00100021"
NUMBER_OF_STUDY_RELATED_INSTANCES = "00201208"
STUDY_FIELDS = (
    STUDY_DATE,
    ACCESSION_NUMBER,
    MODALITIES_IN_STUDY,
    STUDY_DESCRIPTION,
    ISSUER_OF_PATIENT_ID,
    NUMBER_OF_STUDY_RELATED_INSTANCES,
)
QIDO_WILDCARDS = frozenset("*?\\")
UPLOAD_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class DicomwebConnection:
    """How to reach the PACS."""

    url: str
    """The DICOMweb root, e.g. ``https://pacs.hospital.org/dicom-web``."""
    username: str = ""
    password: str = ""
    token: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""
    timeout_seconds: float = 30.0
    """Longest wait to connect, or for any one read or write."""
    request_seconds: float = 300.0
    """Longest time one STOW-RS request may take in all: a PACS that trickles its answer a
    byte at a time never trips the per-read timeout."""

    def tls(self) -> ssl.SSLContext | bool:
        if not self.verify_tls:
            return False
        if self.ca_bundle:
            return ssl.create_default_context(cafile=self.ca_bundle)
        return ssl.create_default_context()

    def client(self) -> httpx.Client:
        headers = {"User-Agent": "Pointcare"}
        auth: httpx.BasicAuth | None = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username:
            auth = httpx.BasicAuth(self.username, self.password)
        return httpx.Client(
            base_url=self.url.rstrip("/"),
            auth=auth,
            headers=headers,
            verify=self.tls(),
            timeout=httpx.Timeout(self.timeout_seconds),
            # Only our settings decide where requests go: no proxy or CA from the environment.
            trust_env=False,
        )


class DicomwebArchive:
    """A PACS reached over DICOMweb; thread-safe (one pooled HTTP client)."""

    def __init__(self, connection: DicomwebConnection) -> None:
        self.connection = connection
        self._http = connection.client()

    def close(self) -> None:
        self._http.close()

    # --- STOW-RS ----------------------------------------------------------------------------

    def store(self, instances: Sequence[OutgoingInstance]) -> StoreReport:
        sent = [instance.sop_instance_uid for instance in instances]
        request = stow_request(instances)
        deadline = time.monotonic() + self.connection.request_seconds
        headers = {
            "Content-Type": request.content_type,
            "Content-Length": str(request.length),  # sent as is, not chunked
            "Accept": DICOM_JSON,
        }
        try:
            with self._http.stream(
                "POST",
                "/studies",
                content=_before(deadline, _pieces(request.parts)),
                headers=headers,
            ) as response:
                answer = b"".join(_before(deadline, response.iter_bytes()))
        except _Overtime:
            return StoreReport.for_all(
                sent,
                Outcome.UNCONFIRMED,
                f"the PACS took more than {self.connection.request_seconds:g} s for the request",
                Cause.TIMEOUT,
            )
        except httpx.TimeoutException as exc:
            return StoreReport.for_all(
                sent,
                Outcome.UNCONFIRMED,
                f"no answer from the PACS in time ({_kind(exc)})",
                Cause.TIMEOUT,
            )
        except httpx.HTTPError as exc:
            return StoreReport.for_all(
                sent,
                Outcome.UNCONFIRMED,
                f"could not reach the PACS ({_kind(exc)}: {exc})",
                Cause.UNREACHABLE,
            )
        return read_stow_response(
            response.status_code, response.headers.get("content-type", ""), answer, sent
        )

    # --- QIDO-RS ----------------------------------------------------------------------------

    def search_studies(self, patient: PatientKey) -> list[StudySummary]:
        if not patient.patient_id or QIDO_WILDCARDS & set(patient.patient_id):
            raise ValueError(f"not a Patient ID to search for: {patient.patient_id!r}")
        params = httpx.QueryParams(
            {"PatientID": patient.patient_id, "includefield": list(STUDY_FIELDS)}
        )
        found = self._search("/studies", params)
        studies = [
            _study(obj)
            for obj in found
            if _same_issuer(obj, patient.issuer) and json_model.first_text(obj, STUDY_INSTANCE_UID)
        ]
        return sorted(studies, key=lambda s: s.study_date or date.min, reverse=True)

    def search_instances(self, study_instance_uid: str) -> list[InstanceRef]:
        found = self._search(f"/studies/{_uid(study_instance_uid)}/instances", None)
        return [
            InstanceRef(
                study_instance_uid,
                json_model.first_text(obj, SERIES_INSTANCE_UID),
                json_model.first_text(obj, SOP_INSTANCE_UID),
            )
            for obj in found
        ]

    def holds(self, ref: InstanceRef) -> bool:
        params = httpx.QueryParams({"SOPInstanceUID": ref.sop_instance_uid})
        series = f"/studies/{_uid(ref.study_instance_uid)}/series/{_uid(ref.series_instance_uid)}"
        try:
            found = self._search(f"{series}/instances", params)
        except NotFound:  # Orthanc: an unknown study or series is a 404, not an empty list
            return False
        return any(
            json_model.first_text(obj, SOP_INSTANCE_UID) == ref.sop_instance_uid for obj in found
        )

    def _search(self, path: str, params: httpx.QueryParams | None) -> list[ReceivedObject]:
        response = self._get(path, accept=DICOM_JSON, params=params)
        if response.status_code == 204 or not response.content.strip():
            return []
        try:
            return json_model.parse_json_objects(response.content)
        except ValueError as exc:
            raise ArchiveUnavailable(f"The PACS answered a search with {exc}.") from None

    # --- WADO-RS ----------------------------------------------------------------------------

    def retrieve_instance(self, ref: InstanceRef) -> bytes:
        response = self._get(_instance_path(ref), accept=WADO_DICOM)
        part = first_part(response.headers.get("content-type", ""), response.content)
        if part is None:
            raise ArchiveUnavailable("The PACS answered a retrieve without a DICOM object.")
        return part

    def retrieve_rendered(self, ref: InstanceRef) -> bytes:
        return self._get(_instance_path(ref) + "/rendered", accept=JPEG).content

    def retrieve_thumbnail(self, ref: InstanceRef) -> bytes:
        viewport = f"{THUMBNAIL_SIZE},{THUMBNAIL_SIZE}"
        return self._get(f"{_instance_path(ref)}/rendered?viewport={viewport}", accept=JPEG).content

    def _get(
        self, path: str, *, accept: str, params: httpx.QueryParams | None = None
    ) -> httpx.Response:
        try:
            response = self._http.get(path, params=params, headers={"Accept": accept})
        except httpx.HTTPError as exc:
            log.warning("PACS request failed path=%s error=%s", path, _kind(exc))
            raise ArchiveUnavailable(
                f"The PACS could not be reached ({_kind(exc)}); try again later."
            ) from None
        if response.status_code == 404:
            raise NotFound("The PACS does not hold this object.")
        if response.status_code not in (200, 204):
            log.warning("PACS answered path=%s status=%d", path, response.status_code)
            raise ArchiveUnavailable(f"The PACS answered HTTP {response.status_code}.")
        return response


class _Overtime(Exception):
    """A request went on past its deadline."""


def _pieces(parts: Sequence[bytes]) -> Iterator[bytes]:
    """``parts`` in pieces of at most ``UPLOAD_CHUNK`` bytes, each a view, not a copy (the
    socket takes any bytes-like object)."""
    for part in parts:
        view = memoryview(part)
        for start in range(0, len(view), UPLOAD_CHUNK):
            yield cast(bytes, view[start : start + UPLOAD_CHUNK])


def _before(deadline: float, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces``, raising ``_Overtime`` once the deadline has passed."""
    for piece in pieces:
        if time.monotonic() > deadline:
            raise _Overtime
        yield piece


def first_part(content_type: str, body: bytes) -> bytes | None:
    """The payload of the first part of a ``multipart/related`` body (RFC 2046 5.1.1)."""
    boundary = _parameter(content_type, "boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("ascii", "replace")
    start = body.find(delimiter)
    if start < 0:
        return None
    headers_end = body.find(b"\r\n\r\n", start)
    if headers_end < 0:
        return None
    payload_start = headers_end + 4
    end = body.find(b"\r\n" + delimiter, payload_start)
    return body[payload_start:end] if end >= 0 else None


def _parameter(content_type: str, name: str) -> str:
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return ""


def _uid(uid: str) -> str:
    return quote(uid, safe="")


def _instance_path(ref: InstanceRef) -> str:
    return (
        f"/studies/{_uid(ref.study_instance_uid)}/series/{_uid(ref.series_instance_uid)}"
        f"/instances/{_uid(ref.sop_instance_uid)}"
    )


def _kind(exc: httpx.HTTPError) -> str:
    return type(exc).__name__


def _same_issuer(obj: ReceivedObject, issuer: str | None) -> bool:
    """Whether a study's Issuer of Patient ID, when the PACS gives one, is ``issuer``: a PACS
    that holds the same MRN from two issuers must not show one patient the other's studies."""
    found = json_model.first_text(obj, ISSUER_OF_PATIENT_ID)
    return issuer is None or not found or found == issuer


def _study(obj: ReceivedObject) -> StudySummary:
    modalities = tuple(str(m) for m in json_model.values(obj, MODALITIES_IN_STUDY) if m)
    return StudySummary(
        study_instance_uid=json_model.first_text(obj, STUDY_INSTANCE_UID),
        study_date=_date(json_model.first_text(obj, STUDY_DATE)),
        modalities=modalities,
        description=json_model.first_text(obj, STUDY_DESCRIPTION),
        accession_number=json_model.first_text(obj, ACCESSION_NUMBER),
        number_of_instances=json_model.first_int(obj, NUMBER_OF_STUDY_RELATED_INSTANCES),
    )


def _date(text: str) -> date | None:
    try:
        return datetime.strptime(text[:8], "%Y%m%d").date() if text else None
    except ValueError:
        return None
