"""The built-in archive: Part-10 files and thumbnails in the FileStore, indexed in the database.

Objects enter it through the stored-object pipeline (``pointcare.capture.pipeline``), which writes
the file and its index row together. ``store`` therefore only confirms objects it already holds,
byte for byte (as a PACS answers a duplicate STOW-RS), and refuses anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, select

from pointcare.archive.files import FileStore
from pointcare.archive.protocol import (
    InstanceRef,
    InstanceResult,
    Outcome,
    OutgoingInstance,
    PatientKey,
    StoreReport,
    StudySummary,
)
from pointcare.db.engine import Database
from pointcare.db.models import Instance, Patient, Series, Study
from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.dicom.photo import MODALITY
from pointcare.domain.clock import at_offset
from pointcare.errors import NotFound


class BuiltinArchive:
    def __init__(self, db: Database, files: FileStore) -> None:
        self.db = db
        self.files = files

    def close(self) -> None:
        """Nothing to release: the database and files belong to the runtime."""

    def store(self, instances: Sequence[OutgoingInstance]) -> StoreReport:
        uids = [instance.sop_instance_uid for instance in instances]
        with self.db.session() as session:
            rows = session.execute(
                select(Instance.sop_instance_uid, Instance.sha256).where(
                    Instance.sop_instance_uid.in_(uids)
                )
            )
            held = {uid: digest for uid, digest in rows}
        results: dict[str, InstanceResult] = {}
        for instance in instances:
            digest = held.get(instance.sop_instance_uid)
            if digest is None:
                results[instance.sop_instance_uid] = InstanceResult(
                    Outcome.FAILED, "the built-in archive holds only photos captured in Pointcare"
                )
            elif digest != hashlib.sha256(instance.part10).hexdigest():
                results[instance.sop_instance_uid] = InstanceResult(
                    Outcome.FAILED, "another object with this SOP Instance UID is stored"
                )
            else:
                results[instance.sop_instance_uid] = InstanceResult(Outcome.STORED)
        return StoreReport(results)

    def search_studies(self, patient: PatientKey) -> list[StudySummary]:
        query = (
            select(Study, func.count(Instance.id))
            .join(Patient, Patient.id == Study.patient_id)
            .join(Instance, Instance.study_id == Study.id)
            .where(Patient.mrn == patient.patient_id)
            .group_by(Study.id)
            .order_by(Study.study_datetime.desc(), Study.id.desc())
        )
        if patient.issuer is not None:
            query = query.where(Patient.issuer == patient.issuer)
        with self.db.session() as session:
            return [
                StudySummary(
                    study_instance_uid=study.study_instance_uid,
                    study_date=at_offset(
                        study.study_datetime, study.study_tz_offset_minutes
                    ).date(),
                    modalities=(MODALITY,),
                    description=study.description,
                    accession_number="",
                    number_of_instances=count,
                )
                for study, count in session.execute(query)
            ]

    def search_instances(self, study_instance_uid: str) -> list[InstanceRef]:
        query = (
            select(Series.series_instance_uid, Instance.sop_instance_uid)
            .join(Series, Series.id == Instance.series_id)
            .join(Study, Study.id == Instance.study_id)
            .where(Study.study_instance_uid == study_instance_uid)
            .order_by(Series.series_number, Instance.instance_number, Instance.id)
        )
        with self.db.session() as session:
            return [
                InstanceRef(study_instance_uid, series, sop)
                for series, sop in session.execute(query)
            ]

    def holds(self, ref: InstanceRef) -> bool:
        try:
            self._paths(ref)
        except NotFound:
            return False
        return True

    def retrieve_instance(self, ref: InstanceRef) -> bytes:
        try:
            return self.files.read(self._paths(ref)[0])
        except FileNotFoundError:
            raise NotFound("The built-in archive no longer holds this object.") from None

    def retrieve_rendered(self, ref: InstanceRef) -> bytes:
        return first_jpeg_frame(self.retrieve_instance(ref))

    def retrieve_thumbnail(self, ref: InstanceRef) -> bytes:
        thumbnail = self._paths(ref)[1]
        if thumbnail is None:
            raise NotFound("This object has no thumbnail: it is not an image.")
        try:
            return self.files.read(thumbnail)
        except FileNotFoundError:
            raise NotFound("The built-in archive has no thumbnail of this object.") from None

    def _paths(self, ref: InstanceRef) -> tuple[str, str | None]:
        """(Part-10 file, thumbnail) of an instance; ``NotFound`` when it is not indexed."""
        query = (
            select(Instance.storage_path, Instance.thumbnail_path)
            .join(Series, Series.id == Instance.series_id)
            .join(Study, Study.id == Instance.study_id)
            .where(
                Study.study_instance_uid == ref.study_instance_uid,
                Series.series_instance_uid == ref.series_instance_uid,
                Instance.sop_instance_uid == ref.sop_instance_uid,
            )
        )
        with self.db.session() as session:
            row = session.execute(query).first()
        if row is None:
            raise NotFound("The built-in archive does not hold this object.")
        storage_path, thumbnail_path = row
        return storage_path, thumbnail_path
