"""What an export holds: the selected photos of one patient, each with its verified object."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare.archive.protocol import InstanceRef
from pointcare.archive.reader import InstanceReader, ref_of
from pointcare.consent.changes import ConsentInForce, consent_in_force
from pointcare.corrections.visibility import images_in_force
from pointcare.db.models import ConsentRecord, Instance, Patient
from pointcare.dicom.part10 import Part10Source
from pointcare.domain.consent import ConsentMethod
from pointcare.domain.views import view_label
from pointcare.errors import InvalidInput, PointcareError
from pointcare.findings.service import reports_by_photo

MAX_ITEMS = 200
"""The most photos one export may hold: a report of 200 full-size photos is already ~1 GB."""


class StoredObjectAltered(PointcareError):
    """A stored object no longer has the SHA-256 recorded when it was stored."""

    status_code = 500
    title = "Stored object failed its integrity check"


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One photo as every export describes it."""

    instance: Instance
    where: str
    """'Left forearm', as the review pages say it."""
    view: str
    taken: datetime
    """When it was taken, at the offset of the device that took it."""
    consent_method: str
    """How consent was given at capture."""
    in_force: ConsentInForce
    """What the photo may be used for now, after any later change of consent."""
    reports: tuple[Instance, ...] = ()
    """The measurement reports (DICOM SR) in force traced on the photo: they leave with it in
    a DICOM export, so that the receiving PACS shows the wound's measurements too."""

    @property
    def ref(self) -> InstanceRef:
        return ref_of(self.instance)

    @property
    def consent(self) -> ConsentRecord:
        return self.instance.consent_record


def select_items(session: Session, patient: Patient, sop_uids: Sequence[str]) -> list[ExportItem]:
    """The patient's photos named by ``sop_uids``, oldest first; all of them when none is named.

    A UID that is not one of this patient's photos is refused (422, naming it): an export never
    silently leaves out what was asked for, nor takes in another patient's photo.
    """
    wanted = list(dict.fromkeys(uid.strip() for uid in sop_uids if uid.strip()))
    query = (
        select(Instance)
        .where(Instance.patient_id == patient.id, images_in_force())
        .options(
            joinedload(Instance.study),
            joinedload(Instance.series),
            joinedload(Instance.operator),
            joinedload(Instance.consent).joinedload(ConsentRecord.recorded_by),
            joinedload(Instance.finding),
        )
        .order_by(Instance.captured_at.asc(), Instance.id.asc())
    )
    if wanted:
        query = query.where(Instance.sop_instance_uid.in_(wanted))
    instances = list(session.scalars(query).unique())
    missing = sorted(set(wanted) - {instance.sop_instance_uid for instance in instances})
    if missing:
        raise InvalidInput(
            "Some selected photos are not in this patient's record.",
            errors={"photos": "Not this patient's photos: " + ", ".join(missing[:5])},
        )
    if not instances:
        raise InvalidInput(
            "This patient has no photos to export.", errors={"photos": "Nothing to export."}
        )
    if len(instances) > MAX_ITEMS:
        raise InvalidInput(
            f"An export holds at most {MAX_ITEMS} photos; {len(instances)} were selected.",
            errors={"photos": f"Select at most {MAX_ITEMS} photos."},
        )
    in_force = consent_in_force(session, instances)
    reports = reports_by_photo(session, instances)
    return [
        _item(instance, in_force[instance.id], tuple(reports.get(instance.id, ())))
        for instance in instances
    ]


def _item(
    instance: Instance, in_force: ConsentInForce, reports: tuple[Instance, ...]
) -> ExportItem:
    try:
        method = ConsentMethod(instance.consent_record.method).label
    except ValueError:
        method = instance.consent_record.method
    return ExportItem(
        instance=instance,
        where=instance.where,
        view=view_label(instance.view),
        taken=instance.taken_at,
        consent_method=method,
        in_force=in_force,
        reports=reports,
    )


def stored_object(reader: InstanceReader, instance: Instance) -> bytes:
    """The stored Part-10 object, checked against the SHA-256 recorded when it was stored."""
    source: Part10Source = reader.part10(ref_of(instance), instance.storage_path)
    data = source.read_bytes() if not isinstance(source, bytes) else source
    if hashlib.sha256(data).hexdigest() != instance.sha256:
        raise StoredObjectAltered(
            f"The stored object {instance.sop_instance_uid} does not match the SHA-256 "
            "recorded when it was stored. Nothing was exported; tell the system administrator."
        )
    return data


def with_objects(
    reader: InstanceReader, items: Sequence[ExportItem]
) -> Iterator[tuple[ExportItem, bytes]]:
    """Each item with its verified stored object, read one at a time (bounded memory)."""
    for item in items:
        yield item, stored_object(reader, item.instance)


def objects_with_reports(reader: InstanceReader, items: Sequence[ExportItem]) -> Iterator[bytes]:
    """Each photo's verified stored object followed by its measurement reports', one at a time."""
    for item in items:
        yield stored_object(reader, item.instance)
        for report in item.reports:
            yield stored_object(reader, report)


def exported_uids(items: Sequence[ExportItem], *, with_reports: bool = False) -> list[str]:
    """The SOP Instance UIDs that leave in an export: what its audit event names."""
    uids = []
    for item in items:
        uids.append(item.instance.sop_instance_uid)
        if with_reports:
            uids.extend(report.sop_instance_uid for report in item.reports)
    return uids
