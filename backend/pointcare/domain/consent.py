"""Consent for clinical photography (UK IMI / GMC practice) and its DICOM projection.

Consent is given separately for the clinical record, for teaching within the organisation and for
publication, and every one of those questions is asked: an answer is never assumed, on any way
into Pointcare (``read_consent_answers`` refuses a question left unanswered). The database is the
source of truth (a consent record per capture session); DICOM carries the reuse scopes only, in
the Consent for Clinical Trial Use Sequence (0012,0083).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

CONSENT_FIELDS = ("consent_clinical", "consent_teaching", "consent_publication", "consent_method")
"""The four questions, as every form and the API name them."""
DECLINED = (
    "The patient declined photographs for the clinical record, so no photo can be taken or "
    "stored. If the patient changes their mind, record their consent again."
)
BEST_INTERESTS_SCOPE = (
    "Consent in the patient's best interests covers the clinical record only. Answer No for "
    "teaching and publication, or choose verbal or written consent."
)
_YES = {"yes", "true", "1", "on"}
_NO = {"no", "false", "0", "off"}


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    BEST_INTERESTS = "best_interests"
    """Recorded in the patient's best interests when they lack capacity (clinical record only)."""

    @property
    def label(self) -> str:
        return {
            "verbal": "Verbal",
            "written": "Written",
            "best_interests": "Best interests (patient lacks capacity)",
        }[self.value]


class DistributionType(StrEnum):
    """DICOM Distribution Type (0012,0084) values used for the reuse scopes."""

    TEACHING = "RESTRICTED_REUSE"
    PUBLICATION = "PUBLIC_RELEASE"


class ConsentNotGiven(ValueError):
    """Capture may not proceed: there is no consent for the clinical record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    clinical_record: bool
    teaching: bool
    publication: bool
    method: ConsentMethod

    def __post_init__(self) -> None:
        if not self.clinical_record:
            raise ConsentNotGiven(
                "the patient has not consented to photographs for the clinical record, "
                "so no photo can be taken or stored"
            )
        if self.method is ConsentMethod.BEST_INTERESTS and (self.teaching or self.publication):
            raise ValueError(
                "consent recorded in best interests covers the clinical record only, "
                "not teaching or publication"
            )

    def dicom_items(self) -> list[tuple[DistributionType, bool]]:
        """(distribution type, consented) pairs for the Consent for Clinical Trial Use Sequence."""
        return [
            (DistributionType.TEACHING, self.teaching),
            (DistributionType.PUBLICATION, self.publication),
        ]


class ConsentUnanswered(ValueError):
    """Questions were left unanswered or answered with something that is not an answer."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentAnswers:
    """The four answers as the patient (or whoever may speak for them) gave them. Unlike
    ``Consent`` they may decline the clinical record: a decline is recorded too, and it blocks
    capture."""

    clinical_record: bool
    teaching: bool
    publication: bool
    method: ConsentMethod

    def __post_init__(self) -> None:
        if self.method is ConsentMethod.BEST_INTERESTS and (self.teaching or self.publication):
            raise ConsentUnanswered({"consent_teaching": BEST_INTERESTS_SCOPE})
        if not self.clinical_record and (self.teaching or self.publication):
            raise ConsentUnanswered(
                {
                    "consent_teaching": "Teaching and publication need consent for the clinical "
                    "record first: answer No to both when the patient declines the clinical "
                    "record."
                }
            )

    @property
    def declined(self) -> bool:
        return not self.clinical_record

    def for_capture(self) -> Consent:
        """The consent a photo taken under these answers carries; ``ConsentNotGiven`` when the
        clinical record was declined."""
        if not self.clinical_record:
            raise ConsentNotGiven(DECLINED)
        return Consent(
            clinical_record=True,
            teaching=self.teaching,
            publication=self.publication,
            method=self.method,
        )


def read_consent_answers(raw: Mapping[str, str | None]) -> ConsentAnswers:
    """The answers to the four questions from form or API fields (``CONSENT_FIELDS``).

    Yes/no questions take yes/no or true/false; the method is one of ``ConsentMethod``. A
    question with no answer is refused, never taken as yes or no: ``ConsentUnanswered`` names
    each one.
    """
    errors: dict[str, str] = {}
    answers: dict[str, bool] = {}
    questions = {
        "consent_clinical": "whether the patient agrees to photographs for the clinical record",
        "consent_teaching": "whether the photos may be used for teaching",
        "consent_publication": "whether the photos may be published",
    }
    for field, question in questions.items():
        value = (raw.get(field) or "").strip().lower()
        if value in _YES:
            answers[field] = True
        elif value in _NO:
            answers[field] = False
        elif not value:
            errors[field] = f"Answer {question} (yes or no)."
        else:
            errors[field] = f"Answer {question} with yes or no, not {value[:20]!r}."
    method_text = (raw.get("consent_method") or "").strip().lower().replace(" ", "_")
    method = None
    try:
        method = ConsentMethod(method_text.replace("-", "_"))
    except ValueError:
        choices = ", ".join(m.value for m in ConsentMethod)
        errors["consent_method"] = (
            "Say how consent was given."
            if not method_text
            else f"How consent was given is one of {choices}, not {method_text[:20]!r}."
        )
    if errors or method is None:
        raise ConsentUnanswered(errors)
    return ConsentAnswers(
        clinical_record=answers["consent_clinical"],
        teaching=answers["consent_teaching"],
        publication=answers["consent_publication"],
        method=method,
    )
