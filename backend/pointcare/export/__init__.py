"""Exports of a patient's photos for people outside Pointcare.

- ``report``: a PDF for insurers and courts (each image large, who, when, consent, UID, SHA-256);
- ``dicomdir``: a ZIP with a DICOMDIR, for another hospital;
- ``teaching``: de-identified JPEGs and a CSV, only of images whose consent allows teaching.

``items`` loads what was selected, once, and reads each stored object with its integrity checked:
every export is built from the same verified bytes.
"""
