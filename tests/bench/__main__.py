"""Entry point: ``python -m tests.bench [--quick] [--repeat N]``."""

from __future__ import annotations

import sys

from tests.bench.harness import main

if __name__ == "__main__":
    sys.exit(main())
