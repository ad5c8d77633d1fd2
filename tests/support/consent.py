"""The consent answers a test sends with a photo: every question answered, as the API asks."""

from __future__ import annotations

CLINICAL_ONLY = {
    "consent_clinical": "yes",
    "consent_teaching": "no",
    "consent_publication": "no",
    "consent_method": "verbal",
}
"""Verbal consent for the clinical record only."""
