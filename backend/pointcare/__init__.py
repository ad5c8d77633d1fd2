"""Pointcare: point-of-care clinical photography into DICOM archives."""

__version__ = "0.1.0"
