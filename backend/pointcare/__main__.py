"""``python -m pointcare``: the same as the ``pointcare`` command."""

import sys

from pointcare.cli import main

sys.exit(main())
