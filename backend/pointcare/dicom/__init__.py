"""DICOM: the IOD builders (photo, dermoscopy, video, PDF, rejection note), the modules they
share, the Part 10 encoder, UIDs, checked values and the DICOM JSON Model. Bytes and data sets in
and out, no I/O.
"""
