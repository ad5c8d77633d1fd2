"""Bedside capture sessions: who confirmed which patient, when, and the consent recorded there.

A session starts when a user confirms a patient on the confirmation card (two identifiers shown:
name and birth date, with the MRN), holds the consent recorded once for the session, and files
every photo taken in it under that patient and that consent: the capture screen never names a
patient itself. See ``sessions`` for the service functions and ``consent`` for the answers.
"""
