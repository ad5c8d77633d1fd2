"""Where DICOM objects are kept: the built-in archive (files + database index)."""
