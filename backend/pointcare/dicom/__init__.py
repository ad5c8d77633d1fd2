"""DICOM: the IOD builders (photo, dermoscopy, video, PDF, rejection note), the modules they
share, the Part 10 encoder, UIDs, checked values and the DICOM JSON Model; reading frames
(``pixels``) and writing an object in Explicit VR Little Endian (``transcoding``). Bytes and data
sets in and out, no I/O.
"""
