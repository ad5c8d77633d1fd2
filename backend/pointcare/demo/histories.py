"""Photo histories for the demo, so that review, compare, export and the viewer have something
to show after ``make run``.

Three demo patients, photographed over weeks by the demo nurse: a sacral pressure injury
closing week by week, a venous leg ulcer photographed front and back at each visit with the
GP's referral letter, a forearm burn whose first photo was filed under the wrong side and
corrected by the doctor, and an intimate (sensitive) photo. Everything is stored the way a
nurse's photos are: one ``CaptureCommand`` each, carried out by ``runtime.capture`` through the
one pipeline, and the correction by the corrections service. Capture ids and session ids are
derived from the plan, so a second start stores nothing twice (and draws nothing: it checks
first).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from pointcare import audit
from pointcare.auth.accounts import find_user, principal_of
from pointcare.auth.principal import Principal
from pointcare.capture.command import CaptureCommand, ConfirmedPatient, ImageTags, Source
from pointcare.corrections.service import Correction, CorrectionKind, DetailChanges, correct
from pointcare.db.models import Instance
from pointcare.demo.letters import referral_letter
from pointcare.demo.pictures import Lesion, Scene, draw
from pointcare.domain.body_sites import Aspect, Laterality, body_site
from pointcare.domain.clock import TakenAt, TakenAtSource
from pointcare.domain.consent import ConsentAnswers, ConsentMethod
from pointcare.domain.objects import ObjectKind
from pointcare.domain.patients import PatientIdentity
from pointcare.domain.views import View
from pointcare.identity.demo import DEMO_ISSUER, HISTORY_PATIENTS
from pointcare.identity.directory import find_by_mrn, identity_of
from pointcare.runtime import Runtime

NAMESPACE = uuid.UUID("8f5b2d4e-1c3a-4e6f-9b7d-2a4c6e8f0b1d")
"""Derives the demo's capture, session and correction ids from the plan."""
SACRUM, LOWER_LEG, FOREARM, PERINEUM = "54735007", "30021000", "14975008", "38864007"
BROWN, LIGHT, OLIVE = (150, 102, 74), (232, 190, 162), (205, 160, 122)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shot:
    site: str
    laterality: Laterality
    scene: Scene
    aspect: Aspect | None = None
    view: View = View.CLOSE_UP
    description: str = ""
    filed_as: Laterality | None = None
    """The side the nurse recorded by mistake; the doctor corrects it to ``laterality``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    days_ago: int
    hour: int
    shots: tuple[Shot, ...]
    letter: str = ""
    """A referral letter filed with the visit's photos (the text of the letter)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    mrn: str
    consent: ConsentAnswers
    visits: tuple[Visit, ...] = field(default_factory=tuple)


def _verbal(*, teaching: bool) -> ConsentAnswers:
    return ConsentAnswers(
        clinical_record=True, teaching=teaching, publication=False, method=ConsentMethod.VERBAL
    )


def _pressure_injury() -> History:
    sizes = (4.6, 3.9, 3.1, 2.2, 1.4)
    return History(
        mrn=HISTORY_PATIENTS[0].mrn,
        consent=_verbal(teaching=True),
        visits=tuple(
            Visit(
                days_ago=7 * (len(sizes) - week),
                hour=10,
                shots=(
                    Shot(
                        site=SACRUM,
                        laterality=Laterality.UNPAIRED,
                        scene=Scene(
                            seed=21,
                            lesion=Lesion.PRESSURE,
                            size_cm=size,
                            skin=LIGHT,
                            shift=(week * 9, -week * 5),
                        ),
                        description=f"Category 3 pressure injury, week {week + 1}",
                    ),
                ),
            )
            for week, size in enumerate(sizes)
        ),
    )


def _venous_ulcer() -> History:
    letter = (
        "Thank you for seeing this patient with a venous ulcer of the left lower leg, present "
        "for six weeks despite compression. ABPI 0.95. Photographs attached to the record."
    )
    visits = []
    for number, (days_ago, front, back) in enumerate(
        ((28, 5.2, 3.0), (14, 4.4, 2.4), (1, 3.5, 1.6))
    ):
        visits.append(
            Visit(
                days_ago=days_ago,
                hour=14,
                letter=letter if number == 0 else "",
                shots=(
                    Shot(
                        site=LOWER_LEG,
                        laterality=Laterality.LEFT,
                        aspect=Aspect.ANTERIOR,
                        view=View.OVERVIEW if number == 0 else View.CLOSE_UP,
                        scene=Scene(seed=22, lesion=Lesion.ULCER, size_cm=front, skin=BROWN),
                        description="Venous ulcer, front of the leg above the ankle",
                    ),
                    Shot(
                        site=LOWER_LEG,
                        laterality=Laterality.LEFT,
                        aspect=Aspect.POSTERIOR,
                        scene=Scene(seed=23, lesion=Lesion.ULCER, size_cm=back, skin=BROWN),
                        description="Second ulcer, back of the calf",
                    ),
                ),
            )
        )
    return History(
        mrn=HISTORY_PATIENTS[1].mrn,
        consent=ConsentAnswers(
            clinical_record=True, teaching=True, publication=False, method=ConsentMethod.WRITTEN
        ),
        visits=tuple(visits),
    )


def _burn() -> History:
    return History(
        mrn=HISTORY_PATIENTS[2].mrn,
        consent=_verbal(teaching=False),
        visits=(
            Visit(
                days_ago=10,
                hour=9,
                shots=(
                    Shot(
                        site=FOREARM,
                        laterality=Laterality.RIGHT,
                        filed_as=Laterality.LEFT,
                        scene=Scene(seed=24, lesion=Lesion.BURN, size_cm=6.5, skin=OLIVE),
                        description="Scald, partial thickness",
                    ),
                    Shot(
                        site=PERINEUM,
                        laterality=Laterality.UNPAIRED,
                        scene=Scene(seed=25, lesion=Lesion.BURN, size_cm=3.0, skin=OLIVE),
                        description="Scald, superficial",
                    ),
                ),
            ),
            Visit(
                days_ago=3,
                hour=9,
                shots=(
                    Shot(
                        site=FOREARM,
                        laterality=Laterality.RIGHT,
                        scene=Scene(
                            seed=24, lesion=Lesion.BURN, size_cm=4.8, skin=OLIVE, shift=(20, 12)
                        ),
                        description="Scald, healing",
                    ),
                ),
            ),
        ),
    )


HISTORIES: tuple[History, ...] = (_pressure_injury(), _venous_ulcer(), _burn())
PHOTOGRAPHER, REVIEWER = "nurse", "doctor"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts)))


def _shots() -> Iterator[tuple[History, int, Visit, int, Shot]]:
    for history in HISTORIES:
        for v, visit in enumerate(history.visits):
            for s, shot in enumerate(visit.shots):
                yield history, v, visit, s, shot


def seed_histories(runtime: Runtime, now: datetime) -> int:
    """Store the demo's photo histories (``now``: timezone-aware, the demo's "today"); how many
    objects were stored, 0 when they are there already. Needs the demo users."""
    with runtime.db.session() as session:
        if session.scalar(
            select(Instance.id).where(Instance.capture_id == _id(HISTORIES[0].mrn, 0, 0))
        ):
            return 0
        users = {}
        for name in (PHOTOGRAPHER, REVIEWER):
            user = find_user(session, name)
            if user is None:
                raise ValueError(f"the demo histories need the demo user {name!r}")
            users[name] = principal_of(user)
        patients = {}
        for history in HISTORIES:
            patient = find_by_mrn(session, history.mrn, DEMO_ISSUER)
            if patient is None:
                raise ValueError(f"the demo histories need the demo patient {history.mrn}")
            patients[history.mrn] = identity_of(patient)
    # Drawing is most of the work; Pillow lets threads draw side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pictures = list(pool.map(lambda entry: draw(entry[4].scene), _shots()))
    stored = 0
    nurse = users[PHOTOGRAPHER]
    for (history, v, visit, s, shot), picture in zip(_shots(), pictures, strict=True):
        runtime.capture.capture(nurse, _photo_command(history, v, visit, s, shot, now), picture)
        stored += 1
        if s == 0 and visit.letter:
            stored += _letter(runtime, nurse, history, v, visit, patients[history.mrn], now)
    for history, v, _visit, s, shot in _shots():
        if shot.filed_as is not None:
            stored += _correct_side(runtime, users[REVIEWER], history, v, s, shot)
    return stored


def _taken(visit: Visit, now: datetime, minute: int) -> TakenAt:
    day = now - timedelta(days=visit.days_ago)
    moment = day.replace(hour=visit.hour, minute=minute, second=0, microsecond=0)
    return TakenAt(moment, TakenAtSource.DEVICE)


def _photo_command(
    history: History, v: int, visit: Visit, s: int, shot: Shot, now: datetime
) -> CaptureCommand:
    site = body_site(shot.site)
    return CaptureCommand(
        kind=ObjectKind.PHOTO,
        source=Source.DEMO,
        patient=ConfirmedPatient(mrn=history.mrn, issuer=DEMO_ISSUER),
        capture_id=_id(history.mrn, v, s),
        session_id=_id(history.mrn, "visit", v),
        taken=_taken(visit, now, 5 + 2 * s),
        consent=history.consent,
        tags=ImageTags(
            site=site,
            laterality=shot.filed_as or shot.laterality,
            aspect=shot.aspect,
            view=shot.view,
            description=shot.description,
            sensitive=site.intimate,
            recognizable=site.identifying,
        ),
    )


def _letter(
    runtime: Runtime,
    who: Principal,
    history: History,
    v: int,
    visit: Visit,
    patient: PatientIdentity,
    now: datetime,
) -> int:
    written = (now - timedelta(days=visit.days_ago + 3)).date()
    command = CaptureCommand(
        kind=ObjectKind.DOCUMENT,
        source=Source.DEMO,
        patient=ConfirmedPatient(mrn=history.mrn, issuer=DEMO_ISSUER),
        capture_id=_id(history.mrn, v, "letter"),
        session_id=_id(history.mrn, "visit", v),
        taken=_taken(visit, now, 1),
        title="Referral letter",
    )
    runtime.capture.capture(
        who, command, referral_letter(patient, written=written, about=visit.letter)
    )
    return 1


def _correct_side(
    runtime: Runtime, doctor: Principal, history: History, v: int, s: int, shot: Shot
) -> int:
    """The doctor moves the photo to the right side: a corrected copy and a rejection note."""
    with runtime.db.session() as session:
        original = session.scalar(
            select(Instance).where(Instance.capture_id == _id(history.mrn, v, s))
        )
        patient = find_by_mrn(session, history.mrn, DEMO_ISSUER)
        if original is None or patient is None:
            raise ValueError("the photo to correct was not stored")
        uid = original.sop_instance_uid
        session.expunge_all()
    side = shot.laterality.label.lower()
    correction = Correction(
        kind=CorrectionKind.DETAILS,
        reason_text=f"Wrong side recorded at capture: the burn is on the {side} forearm",
        token=_id(history.mrn, v, s, "correction"),
        details=DetailChanges(laterality=shot.laterality),
    )
    done = correct(runtime, doctor, audit.Actor.of(doctor), patient, [uid], correction)
    return len(done.copies) + len(done.notes)
