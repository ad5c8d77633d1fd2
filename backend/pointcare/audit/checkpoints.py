"""A checkpoint of the audit trail, signed with the audit key: pure values, no I/O (the file
and syslog are ``pointcare.audit.anchor``'s)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_SIGNED_FIELDS = ("seq", "hash", "keyed_from", "written_at")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    """How many events the trail had (the last event's number)."""
    hash: str
    """The last event's hash."""
    keyed_from: int
    """The first event of the keyed chain."""
    written_at: datetime

    def _payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "keyed_from": self.keyed_from,
            "written_at": self.written_at.astimezone(UTC).isoformat(timespec="seconds"),
        }

    def signed_line(self, key: bytes) -> str:
        payload = self._payload()
        payload["mac"] = _mac(key, payload)
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, line: str, key: bytes) -> Checkpoint:
        """A signed line read back; ``ValueError`` when it is not one the audit key signed."""
        try:
            payload = json.loads(line)
            signed = {name: payload[name] for name in _SIGNED_FIELDS}
            mac = str(payload["mac"])
        except (ValueError, KeyError, TypeError):
            raise ValueError("not a checkpoint line") from None
        if not hmac.compare_digest(mac, _mac(key, signed)):
            raise ValueError("not signed with this Pointcare's audit key")
        return cls(
            seq=int(signed["seq"]),
            hash=str(signed["hash"]),
            keyed_from=int(signed["keyed_from"]),
            written_at=datetime.fromisoformat(str(signed["written_at"])),
        )

    def describe(self) -> str:
        return f"the checkpoint of {self.written_at.isoformat(timespec='seconds')}"


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, b"pointcare audit checkpoint\x00" + data, hashlib.sha256).hexdigest()
