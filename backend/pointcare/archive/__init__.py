"""Where DICOM objects are kept: the ``Archive`` protocol, the built-in archive (files + database
index), a PACS over DICOMweb, and the delivery outbox and forwarder that take photos there."""
