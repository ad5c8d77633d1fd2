"""The consent answers given at the bedside, checked before they are recorded.

Unlike ``domain.consent.Consent`` (the consent a stored photo carries, which always includes the
clinical record), these answers may decline the clinical record: the decline is recorded too,
and it blocks capture for the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from pointcare.domain.consent import Consent, ConsentMethod
from pointcare.errors import ConsentRequired

DECLINED = (
    "The patient declined photographs for the clinical record, so no photo can be taken in "
    "this session. If the patient changes their mind, record their consent again."
)
BEST_INTERESTS_SCOPE = (
    "Consent in the patient's best interests covers the clinical record only. Answer No for "
    "teaching and publication, or choose verbal or written consent."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentAnswers:
    clinical_record: bool
    teaching: bool
    publication: bool
    method: ConsentMethod

    def __post_init__(self) -> None:
        if self.method is ConsentMethod.BEST_INTERESTS and (self.teaching or self.publication):
            raise ValueError(BEST_INTERESTS_SCOPE)
        if not self.clinical_record and (self.teaching or self.publication):
            raise ValueError(
                "Teaching and publication need consent for the clinical record first: answer "
                "No to both when the patient declines the clinical record."
            )

    def for_capture(self) -> Consent:
        """The consent photos of this session carry; ``ConsentRequired`` when declined."""
        if not self.clinical_record:
            raise ConsentRequired(DECLINED)
        return Consent(
            clinical_record=True,
            teaching=self.teaching,
            publication=self.publication,
            method=self.method,
        )
