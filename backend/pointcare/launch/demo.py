"""The demo issuer that ``pointcare serve --demo`` trusts, so that ``make run`` users can try a
launch with ``pointcare launch-url``. Its HS256 secret is made once and kept in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEMO_ISSUER = "pointcare-demo"
DEMO_ISSUERS_FILE = "launch-issuers.demo.toml"
_SECRET_FILE = "launch-demo.secret"  # noqa: S105 (a file name)


def demo_issuers_file(data_dir: Path) -> Path:
    """The demo issuer's configuration, written on first use (the secret file mode 600)."""
    config = data_dir / DEMO_ISSUERS_FILE
    secret = data_dir / _SECRET_FILE
    if not secret.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    if not config.exists():
        config.write_text(
            "# Written by `pointcare serve --demo`: a demo EHR for trying the EHR launch.\n"
            "[[issuer]]\n"
            f'id = "{DEMO_ISSUER}"\n'
            'algorithms = ["HS256"]\n'
            f'secret_file = "{_SECRET_FILE}"\n'
        )
    return config
