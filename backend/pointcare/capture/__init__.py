"""Capture: from an uploaded photo to a stored, indexed DICOM object."""
