"""Who may see which photos, beyond the role guards of the web layer.

- Sensitive photos (intimate or distressing) are sealed: lists show a thumbnail blurred on the
  server (``blur``), and the photo itself (photo page, WADO-RS instance, frames, rendered) opens
  only under a "break the glass" grant (``glass``): a reason given by one user for one patient,
  valid for ``POINTCARE_BREAK_GLASS_MINUTES``, audited.
- Photographers review nothing: no review page, no photo page, no DICOMweb (the ``REVIEW``
  guard). Not even their own photos: a photographer checks a photo on the camera before
  sending it, and the capture page confirms what was stored; anything more is a clinician's
  look at the record.
"""
