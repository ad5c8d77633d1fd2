"""Findings (wounds, lesions) of a patient, the photos linked to them, and their measurements."""
