"""Consent over time: what a photo may be used for now, after changes since it was taken.

The consent given at capture is kept as it was (``ConsentRecord``, and in the DICOM object).
Teaching and publication consent can later be given or withdrawn, for one photo or for every
photo of the patient (``ConsentChange``). What a photo may be used for is the capture's
consent with every later change applied in the order recorded: the index is the source of
truth for exports and views, and a withdrawal takes effect at the next request.
"""
