"""The patient directory and its feeds.

- ``names``: how names are folded for search (the rule behind ``Patient.name_key``).
- ``directory``: find by MRN, search by name and birth date, record patients.
- ``importer``: ``pointcare patients import FILE`` (CSV or FHIR Bundle, all or nothing), with
  the readers ``csv_feed`` and ``fhir_feed`` and their shared shapes in ``feed``.
- ``demo``: synthetic demo patients.
"""
