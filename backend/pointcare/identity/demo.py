"""Synthetic patients for demos, manual testing and the end-to-end tests. None of them is real.

They are chosen to exercise what goes wrong with names at the bedside: letters beyond ASCII
(Swedish, Polish, Turkish, Vietnamese, Spanish, Danish, German), apostrophes, a hyphenated and a
two-part family name, two look-alike patients (ANDERSSON, Eva) told apart only by birth date, a
child, a patient without a visit, and sexes O and U. Birth dates are fixed so that screenshots
and tests do not drift.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.identity.directory import upsert_patient

DEMO_ISSUER = "PCDEMO"
"""Matches the default ``POINTCARE_ISSUER_OF_PATIENT_ID``, so demo wristbands resolve."""


def _patient(
    mrn: str,
    family: str,
    given: str,
    born: date,
    sex: Sex,
    visit: str | None,
) -> PatientIdentity:
    return PatientIdentity(
        mrn=mrn,
        issuer=DEMO_ISSUER,
        family_name=family,
        given_name=given,
        birth_date=born,
        sex=sex,
        visit_number=visit,
    )


HISTORY_PATIENTS: tuple[PatientIdentity, ...] = (
    # Followed at the wound clinic without a current encounter: each visit is its own study.
    _patient("PC100021", "Lindgren", "Karl", date(1941, 6, 2), Sex.MALE, None),
    _patient("PC100022", "Okafor", "Grace", date(1968, 9, 14), Sex.FEMALE, None),
    _patient("PC100023", "Haddad", "Samir", date(1983, 3, 8), Sex.MALE, None),
)
"""The demo patients with photo histories (``pointcare.demo.histories``): the tests that add
photos of their own leave them alone."""

DEMO_PATIENTS: tuple[PatientIdentity, ...] = (
    _patient("PC100001", "Öberg", "Åsa", date(1957, 3, 14), Sex.FEMALE, "V24-000101"),
    _patient("PC100002", "Ångström", "Zoë", date(1990, 11, 2), Sex.FEMALE, "V24-000102"),
    _patient("PC100003", "O'Brien", "Seán", date(1948, 7, 30), Sex.MALE, "V24-000103"),
    # Look-alikes: same name, different birth dates. The confirmation card must warn.
    _patient("PC100004", "Andersson", "Eva", date(1962, 5, 9), Sex.FEMALE, "V24-000104"),
    _patient("PC100005", "Andersson", "Eva", date(1985, 1, 23), Sex.FEMALE, "V24-000105"),
    _patient("PC100006", "Wójcik", "Łukasz", date(1979, 9, 17), Sex.MALE, "V24-000106"),
    _patient("PC100007", "Çelik", "Şükrü", date(1971, 2, 28), Sex.MALE, "V24-000107"),
    _patient("PC100008", "Nguyễn", "Thị Minh Anh", date(2001, 6, 5), Sex.FEMALE, "V24-000108"),
    _patient("PC100009", "Lindqvist-Nilsson", "Maja", date(2016, 4, 12), Sex.FEMALE, "V24-000109"),
    _patient("PC100010", "Müller", "Jürgen", date(1953, 12, 1), Sex.MALE, "V24-000110"),
    _patient("PC100011", "García Márquez", "José Luis", date(1966, 8, 21), Sex.MALE, "V24-000111"),
    _patient("PC100012", "Sørensen", "Bjørn", date(1982, 10, 3), Sex.MALE, "V24-000112"),
    _patient("PC100013", "Strauß", "Grete", date(1939, 1, 7), Sex.FEMALE, None),
    _patient("PC100014", "Taylor", "Alex", date(1998, 4, 25), Sex.OTHER, "V24-000114"),
    _patient("PC100015", "Novak", "Kim", date(1970, 7, 1), Sex.UNKNOWN, "V24-000115"),
    _patient("PC100016", "Dubois", "Chloé", date(1975, 9, 30), Sex.FEMALE, "V24-000116"),
    _patient("PC100017", "D'Angelo", "Marco", date(1988, 2, 14), Sex.MALE, None),
    _patient("PC100018", "Trần", "Văn Đức", date(1958, 11, 11), Sex.MALE, "V24-000118"),
    _patient("PC100019", "Núñez", "Inés", date(2010, 5, 19), Sex.FEMALE, "V24-000119"),
    _patient("PC100020", "Evans", "Tom", date(1944, 12, 24), Sex.MALE, None),
    *HISTORY_PATIENTS,
)

WRISTBAND_DEMO_MRNS = ("PC100001", "PC100003", "PC100004", "PC100005", "PC100009", "PC100014")
"""Patients to print demo wristbands for. Their MRNs are short ASCII (Code 128, PDF417, Data
Matrix and QR all carry them); the names cover what the confirmation card must show right after a
scan: accents, an apostrophe, a hyphen, sex O, and the two ANDERSSON, Eva look-alikes."""

WRISTBAND_DEMO: tuple[PatientIdentity, ...] = tuple(
    patient for patient in DEMO_PATIENTS if patient.mrn in WRISTBAND_DEMO_MRNS
)


def seed_demo(session: Session) -> int:
    """Create or refresh the demo patients (safe to run again); returns how many there are."""
    for identity in DEMO_PATIENTS:
        upsert_patient(session, identity)
    session.flush()
    return len(DEMO_PATIENTS)


__all__ = [
    "DEMO_ISSUER",
    "DEMO_PATIENTS",
    "HISTORY_PATIENTS",
    "WRISTBAND_DEMO",
    "WRISTBAND_DEMO_MRNS",
    "seed_demo",
]
