"""A correction on a site whose archive is a PACS: the corrected copy and the rejection note
both reach Orthanc through the outbox; the rejected original stays there, named by the note."""

from __future__ import annotations

from dicomweb_client.api import DICOMwebClient
from dicomweb_client.session_utils import create_session_from_auth
from pydicom import Dataset
from requests.auth import HTTPBasicAuth
from sqlalchemy import select

from pointcare import audit
from pointcare.archive.outbox import DeliveryState
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.corrections.service import Correction, CorrectionKind, DetailChanges, correct
from pointcare.db.models import Instance, Patient, User
from pointcare.dicom.pdf import encapsulated_pdf
from pointcare.runtime import build_runtime
from tests.integration.delivery.conftest import (
    ISSUER,
    MakeSite,
    in_process_app,
    small_photo,
    upload_photos,
)
from tests.support.orthanc import Orthanc
from tests.unit.dicom.test_pdf import a_pdf


def test_details_correction_delivers_the_copy_and_the_rejection_note(
    orthanc: Orthanc, make_site: MakeSite
) -> None:
    site = make_site(orthanc)
    with in_process_app(site) as client:
        (stored,) = upload_photos(client, site, [small_photo(1)])
    runtime = build_runtime(site.settings)
    try:
        forwarder = runtime.new_forwarder()
        assert forwarder is not None
        forwarder.run_once()
        with runtime.db.session() as session:
            admin = session.scalars(select(User).where(User.role == "admin")).one()
            patient = session.scalars(select(Patient).where(Patient.mrn == site.mrn)).one()
            session.expunge_all()
        who = Principal(admin.id, admin.username, admin.display_name, Role.ADMIN)
        result = correct(
            runtime,
            who,
            audit.Actor.of(who),
            patient,
            [stored["sop_instance_uid"]],
            Correction(
                CorrectionKind.DETAILS,
                "Wrong view recorded",
                "0d9bd3c1-3f0e-4ad5-a8a5-0b1c8e1f4e55",
                details=DetailChanges(description="Sacral pressure ulcer, corrected"),
            ),
        )
        while forwarder.run_once():
            pass
        assert site.states() == {
            DeliveryState.PENDING: 0,
            DeliveryState.DELIVERED: 3,
            DeliveryState.PARKED: 0,
        }
        with runtime.db.session() as session:
            note = session.scalars(select(Instance).where(Instance.kind == "rejection_note")).one()
            note_series = note.series.series_instance_uid
            copy = session.scalars(select(Instance).where(Instance.replaces_id.is_not(None))).one()
            copy_study = copy.study.study_instance_uid
        (copy_uid,) = [c.sop_instance_uid for c in result.copies]
        assert copy.sop_instance_uid == copy_uid
        # Orthanc holds the original, the note beside it in the original's study, and the copy.
        in_original_study = orthanc.sop_uids(stored["study_instance_uid"])
        assert stored["sop_instance_uid"] in in_original_study
        assert note.sop_instance_uid in in_original_study
        assert copy_uid in orthanc.sop_uids(copy_study)
        kos = _retrieve(orthanc, stored["study_instance_uid"], note_series, note.sop_instance_uid)
        assert kos.ConceptNameCodeSequence[0].CodeValue == "113037"
        evidence = kos.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        assert (
            evidence.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            == (stored["sop_instance_uid"])
        )
    finally:
        runtime.close()


def _retrieve(orthanc: Orthanc, study: str, series: str, sop: str) -> Dataset:
    """One object from Orthanc, by WADO-RS with a real DICOMweb client."""
    session = create_session_from_auth(HTTPBasicAuth(orthanc.user, orthanc.password))
    client = DICOMwebClient(url=orthanc.dicomweb_url, session=session)
    return client.retrieve_instance(study, series, sop)


def test_a_document_reaches_the_pacs_as_encapsulated_pdf(
    orthanc: Orthanc, make_site: MakeSite
) -> None:
    site = make_site(orthanc)
    pdf = a_pdf("Referral letter")
    with in_process_app(site) as client:
        answer = client.post(
            "/api/v1/documents",
            data={
                "patient_id": site.mrn,
                "issuer": ISSUER,
                "title": "Referral letter",
                "capture_id": "5b2f4f0e-9d43-4a6e-9a4b-2a7d0c1e3f10",
            },
            files={"file": ("referral.pdf", pdf, "application/pdf")},
            headers=site.headers(),
        )
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    runtime = build_runtime(site.settings)
    try:
        forwarder = runtime.new_forwarder()
        assert forwarder is not None
        while forwarder.run_once():
            pass
        assert site.states()[DeliveryState.DELIVERED] == 1
        with runtime.db.session() as session:
            document = session.scalars(select(Instance).where(Instance.kind == "document")).one()
            series = document.series.series_instance_uid
        ds = _retrieve(orthanc, stored["study_instance_uid"], series, stored["sop_instance_uid"])
        assert ds.Modality == "DOC" and encapsulated_pdf(ds) == pdf
    finally:
        runtime.close()
