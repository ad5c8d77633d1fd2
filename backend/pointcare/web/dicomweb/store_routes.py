"""STOW-RS (PS3.18 10.5): other capture devices and apps store into Pointcare, as into the Image
Manager of IHE Web-based Image Capture, with a bearer token (or a signed-in session).

``POST /dicomweb/studies`` (or ``/studies/{study}``, whose objects must be of that study) with a
``multipart/related`` of binary DICOM objects, or of DICOM JSON metadata and JPEG bulk data.
Photos need the patient's consent, answered with the request: the API's four fields as query
parameters (``consent_clinical=yes&consent_teaching=no&...``) or as ``Pointcare-Consent-*``
headers (``Pointcare-Consent-Clinical: yes``), for a sender that can add headers but not
parameters. The answer names every object (``stow_answer``).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from litestar import Response, post
from litestar.openapi.datastructures import ResponseSpec

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.dicom.xml_model import to_xml
from pointcare.domain.consent import (
    CONSENT_FIELDS,
    ConsentAnswers,
    ConsentUnanswered,
    read_consent_answers,
)
from pointcare.errors import InvalidInput
from pointcare.intake.service import receive
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.common import STUDY, AnyRequest, accept_of, checked, service_of
from pointcare.web.dicomweb.media import DICOM_JSON, DICOM_XML, JSON, require_single
from pointcare.web.dicomweb.stow_answer import StoredInstance, stow_answer
from pointcare.web.dicomweb.stow_request import received_objects
from pointcare.web.limits import STOW_ROUTE

HEADER_PREFIX = "pointcare-"


def consent_of(request: AnyRequest) -> ConsentAnswers | None:
    """The consent answered with the request, or None when none of its questions is."""
    raw: dict[str, str | None] = {}
    for name in CONSENT_FIELDS:
        header = HEADER_PREFIX + name.replace("_", "-")
        raw[name] = request.query_params.get(name) or request.headers.get(header)
    if not any(raw.values()):
        return None
    try:
        return read_consent_answers(raw)
    except ConsentUnanswered as exc:
        raise InvalidInput(str(exc), errors=exc.errors) from None


def _answer(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=dict[str, Any],
        media_type=DICOM_JSON,
        description=description,
        generate_examples=False,
    )


STOW_ANSWERS = {
    200: _answer("Every object stored: the Store Instances Response (PS3.18 10.5.3)."),
    202: _answer("Some objects stored, the others named with their Failure Reason."),
    409: _answer("No object stored: each named with its Failure Reason."),
}


@post(
    [links.PREFIX + "/studies", links.PREFIX + STUDY],
    tags=["dicomweb"],
    status_code=200,
    responses=STOW_ANSWERS,
    opt=STOW_ROUTE,
)
async def store_instances(
    request: AnyRequest, runtime: Runtime, principal: Principal, study: str | None = None
) -> Response[Any]:
    """Store DICOM objects (STOW-RS): 200 when all are stored, 202 when some are, 409 when none;
    the Store Instances Response says why each refused one was."""
    answer_type = require_single(accept_of(request), DICOM_JSON, JSON, DICOM_XML)
    target = checked(study)[0] if study is not None else None
    consent = consent_of(request)
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    actor = audit.actor_of(request, principal)
    service = service_of(request)

    def store() -> tuple[int, Any]:
        items = received_objects(content_type, body, max_pixels=runtime.settings.max_image_pixels)
        stored, refused = receive(
            runtime.objects,
            actor,
            principal.user_id,
            items,
            target_study=target,
            consent=consent,
        )
        held = [
            StoredInstance(
                item.sop_class_uid,
                item.sop_instance_uid,
                item.study_instance_uid,
                item.series_instance_uid,
            )
            for item in stored
        ]
        return stow_answer(held, refused, service=service, target_study=target)

    status, answer = await anyio.to_thread.run_sync(store)
    # One data set (PS3.18 10.5.3): a JSON object, or one XML document, not a list of them.
    if answer_type == DICOM_XML:
        return Response(to_xml(answer), media_type=DICOM_XML, status_code=status)
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type=answer_type, status_code=status)
