"""Fault experiments on real parts (``make chaos``; not part of ``make test``).

Each experiment runs Pointcare as it runs in a hospital (``pointcare serve``, ``pointcare
worker``, ``pointcare adt-listen`` as processes, PostgreSQL, Orthanc as the PACS), breaks one
thing the way it breaks on a ward, and counts what the senders were told against what
Pointcare holds afterwards: sent, acknowledged, readable, delivered, duplicates.
"""
