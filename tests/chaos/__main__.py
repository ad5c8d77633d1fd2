"""``python -m tests.chaos [EXPERIMENT ...]``: run the fault experiments and print the table."""

from __future__ import annotations

import sys

from tests.chaos.report import main

if __name__ == "__main__":
    sys.exit(main())
