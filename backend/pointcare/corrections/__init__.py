"""Correcting what was filed wrongly, the IHE IOCM way: reject, and store a corrected copy.

Nothing is edited in place and nothing is deleted. A photo on the wrong patient, or with the
wrong site, side, view or description, is *rejected* by a rejection note (a Key Object
Selection Document, ``imaging.rejection_note``) and a corrected copy is stored under new UIDs
through the same ingest as any photo (``PhotoIngest``: durable, audited, queued for the PACS).
A poor or duplicate photo is only rejected. Rejected objects stay in the archive and the
index, hidden from every page and query but the admin's list; the note goes to the PACS too.
"""
