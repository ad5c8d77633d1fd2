"""What the review pages show of a patient's photos: one query, shaped for the templates.

The listing loads every photo of the patient with its study, series, consent and operator in a
single SELECT (joined eager loads), newest first, and groups them by the local date on which
they were taken (the offset of the phone that took each photo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from pointcare.archive.outbox import DeliveryState, delivery_state, delivery_states
from pointcare.consent.changes import ConsentInForce, consent_in_force
from pointcare.corrections.visibility import images_in_force
from pointcare.db.models import ConsentRecord, Instance, Patient
from pointcare.domain.consent import ConsentMethod
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import view_label
from pointcare.errors import InvalidInput, NotFound
from pointcare.web.pages.common import PatientUrls
from pointcare.web.pages.filters import TimelineFilter

THUMBNAIL_SIZE = 320
"""The longest side of a DICOMweb thumbnail, in pixels."""


def dicomweb_url(instance: Instance, kind: str) -> str:
    return (
        f"/dicomweb/studies/{instance.study.study_instance_uid}"
        f"/series/{instance.series.series_instance_uid}"
        f"/instances/{instance.sop_instance_uid}/{kind}"
    )


def thumbnail_size(instance: Instance) -> tuple[int, int]:
    """Width and height of the thumbnail, so the page reserves its box before it loads."""
    columns, rows = instance.size
    scale = min(1.0, THUMBNAIL_SIZE / max(columns, rows, 1))
    return max(1, round(columns * scale)), max(1, round(rows * scale))


@dataclass(frozen=True, slots=True)
class DeliveryBadge:
    """Where a photo is on its way to the PACS, in words and an icon (never colour alone)."""

    label: str
    icon: str
    tone: str
    """CSS modifier: ``yes`` (delivered), ``pending`` or ``alert`` (parked)."""


DELIVERY_BADGES = {
    DeliveryState.DELIVERED: DeliveryBadge("In PACS", "tick", "yes"),
    DeliveryState.PENDING: DeliveryBadge("Sending to PACS", "send", "pending"),
    DeliveryState.PARKED: DeliveryBadge(
        "Not delivered \u2014 waiting for an admin", "warning", "alert"
    ),
}


def delivery_badge(state: DeliveryState | None) -> DeliveryBadge | None:
    return DELIVERY_BADGES[state] if state is not None else None


@dataclass(frozen=True, slots=True)
class PhotoCard:
    sop_instance_uid: str
    study_instance_uid: str
    href: str
    thumbnail_url: str
    width: int
    height: int
    where: str
    view: str
    time: str
    teaching: bool
    publication: bool
    sensitive: bool
    description: str
    finding: str
    """The wound or lesion it is filed under ("Wound 1"); empty for none."""
    delivery: DeliveryBadge | None = None
    """None with the built-in archive (nothing is delivered)."""
    clip: bool = False
    """A video clip: its thumbnail is its poster frame, and it is played, not compared."""


@dataclass(frozen=True, slots=True)
class DayGroup:
    day: date
    photos: list[PhotoCard]
    encounters: tuple[str, ...] = ()
    """The visits (encounters) the day's photos were filed under, when the ADT feed gave one."""

    @property
    def label(self) -> str:
        """'Monday 4 May 2026'."""
        return f"{self.day:%A} {self.day.day} {self.day:%B %Y}"

    @property
    def anchor(self) -> str:
        return f"day-{self.day.isoformat()}"


def _card(
    urls: PatientUrls,
    instance: Instance,
    consent: ConsentInForce,
    delivery: DeliveryBadge | None,
) -> PhotoCard:
    width, height = thumbnail_size(instance)
    return PhotoCard(
        sop_instance_uid=instance.sop_instance_uid,
        study_instance_uid=instance.study.study_instance_uid,
        href=urls.photo(instance.sop_instance_uid),
        thumbnail_url=dicomweb_url(instance, "thumbnail"),
        width=width,
        height=height,
        where=instance.where,
        view=view_label(instance.view),
        time=instance.taken_at.strftime("%H:%M"),
        teaching=consent.teaching,
        publication=consent.publication,
        sensitive=instance.sensitive,
        description=instance.description,
        finding=instance.finding_label,
        delivery=delivery,
        clip=instance.object_kind is ObjectKind.VIDEO,
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of the timeline stops: the last photo shown (newest first)."""

    captured_at: datetime
    instance_id: int

    @property
    def token(self) -> str:
        return f"{self.captured_at.isoformat()}~{self.instance_id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        moment, _, ident = token.partition("~")
        try:
            at = datetime.fromisoformat(moment)
            number = int(ident)
        except ValueError:
            raise InvalidInput(
                "That link to older photos is not valid: open the patient's photos again.",
                errors={"before": "not a timeline position"},
            ) from None
        if at.tzinfo is None:
            raise InvalidInput("That link to older photos is not valid.", errors={"before": "?"})
        return cls(at, number)


@dataclass(frozen=True, slots=True)
class Timeline:
    days: list[DayGroup]
    older: Cursor | None
    """Where the next page starts, when there are older photos."""


def photo_days(
    session: Session,
    patient: Patient,
    *,
    with_delivery: bool = False,
    limit: int | None = None,
    before: Cursor | None = None,
    only: TimelineFilter | None = None,
) -> Timeline:
    """The patient's photos, newest first, grouped by local capture date: all of them, or a
    page of ``limit`` photos older than ``before``, those ``only`` admits (one SELECT; with
    ``with_delivery``, one more for the delivery states)."""
    only = only or TimelineFilter()
    query = (
        select(Instance)
        .where(Instance.patient_id == patient.id, images_in_force(), *only.conditions())
        .options(
            joinedload(Instance.study),
            joinedload(Instance.series),
            joinedload(Instance.consent),
            joinedload(Instance.finding),
        )
        .order_by(Instance.captured_at.desc(), Instance.id.desc())
    )
    if before is not None:
        query = query.where(
            or_(
                Instance.captured_at < before.captured_at,
                and_(
                    Instance.captured_at == before.captured_at,
                    Instance.id < before.instance_id,
                ),
            )
        )
    if limit is not None:
        query = query.limit(limit + 1)
    instances = list(session.scalars(query).all())
    older = None
    if limit is not None and len(instances) > limit:
        instances = instances[:limit]
        older = Cursor(instances[-1].captured_at, instances[-1].id)
    consents = consent_in_force(session, instances)
    instances = [item for item in instances if only.admits(consents[item.id])]
    # Newest first by the local date the clinic saw, then by the moment itself: a photo taken
    # late in the evening abroad may be newer than one taken early the next local day.
    ordered = sorted(
        instances, key=lambda item: (item.taken_at.date(), item.captured_at), reverse=True
    )
    states = delivery_states(session, [item.id for item in instances]) if with_delivery else {}
    urls = PatientUrls.of(patient)
    days = []
    for day, group in groupby(ordered, key=lambda item: item.taken_at.date()):
        members = list(group)
        cards = [
            _card(urls, instance, consents[instance.id], delivery_badge(states.get(instance.id)))
            for instance in members
        ]
        visits = sorted({m.study.visit_number for m in members if m.study.visit_number})
        days.append(DayGroup(day, cards, tuple(visits)))
    return Timeline(days, older)


def photo_count(session: Session, patient: Patient, only: TimelineFilter | None = None) -> int:
    """How many photos in force the patient has (that the filter's SQL part admits)."""
    conditions = only.conditions() if only else []
    query = select(func.count(Instance.id)).where(
        Instance.patient_id == patient.id, images_in_force(), *conditions
    )
    return session.scalar(query) or 0


@dataclass(frozen=True, slots=True)
class PhotoDetail:
    instance: Instance
    where: str
    view: str
    taken: datetime
    rendered_url: str
    consent_method: str
    consent_now: ConsentInForce
    """Teaching and publication as they stand now, after any later change."""
    newer_href: str | None
    older_href: str | None
    delivery: DeliveryBadge | None = None

    @property
    def thumbnail_url(self) -> str:
        """The list thumbnail: what a sealed sensitive photo shows, blurred by the server."""
        return dicomweb_url(self.instance, "thumbnail")

    @property
    def clip(self) -> bool:
        """A video clip: played from ``rendered_url`` (``video/mp4``, in byte ranges)."""
        return self.instance.object_kind is ObjectKind.VIDEO

    @property
    def utc_offset(self) -> str:
        minutes = self.instance.captured_tz_offset_minutes
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        return f"UTC{sign}{hours:02d}:{rest:02d}"


def photo_detail(
    session: Session, patient: Patient, sop_instance_uid: str, *, with_delivery: bool = False
) -> PhotoDetail:
    instance = session.scalar(
        select(Instance)
        .where(
            Instance.sop_instance_uid == sop_instance_uid,
            Instance.patient_id == patient.id,
            images_in_force(),
        )
        .options(
            joinedload(Instance.study),
            joinedload(Instance.series),
            joinedload(Instance.operator),
            joinedload(Instance.consent).joinedload(ConsentRecord.recorded_by),
        )
    )
    if instance is None:
        raise NotFound("This photo is not in this patient's record.")
    try:
        method = ConsentMethod(instance.consent_record.method).label
    except ValueError:
        method = instance.consent_record.method
    newer, older = _neighbours(session, instance)
    return PhotoDetail(
        instance=instance,
        where=instance.where,
        view=view_label(instance.view),
        taken=instance.taken_at,
        rendered_url=dicomweb_url(instance, "rendered"),
        consent_method=method,
        consent_now=consent_in_force(session, [instance])[instance.id],
        newer_href=PatientUrls.of(patient).photo(newer) if newer else None,
        older_href=PatientUrls.of(patient).photo(older) if older else None,
        delivery=delivery_badge(delivery_state(session, instance.id)) if with_delivery else None,
    )


def _neighbours(session: Session, instance: Instance) -> tuple[str | None, str | None]:
    """SOP Instance UIDs of the next newer and next older photo of the same patient."""
    same_patient = and_(Instance.patient_id == instance.patient_id, images_in_force())
    at, ident = instance.captured_at, instance.id
    newer = session.scalar(
        select(Instance.sop_instance_uid)
        .where(
            same_patient,
            or_(Instance.captured_at > at, and_(Instance.captured_at == at, Instance.id > ident)),
        )
        .order_by(Instance.captured_at.asc(), Instance.id.asc())
        .limit(1)
    )
    older = session.scalar(
        select(Instance.sop_instance_uid)
        .where(
            same_patient,
            or_(Instance.captured_at < at, and_(Instance.captured_at == at, Instance.id < ident)),
        )
        .order_by(Instance.captured_at.desc(), Instance.id.desc())
        .limit(1)
    )
    return newer, older
