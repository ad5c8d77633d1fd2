"""``make bench``: ingest and review benchmarks, side by side with Orthanc (issue 6).

Run with ``python -m tests.bench [--quick] [--repeat N]``; results go to ``var/bench/``.
Not part of ``make test``: pytest does not collect this folder.
"""
