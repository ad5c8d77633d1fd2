"""The hash chain: each event's hash covers its own fields and the previous event's hash.

Changing any stored field of an event changes its hash; removing an event leaves a gap in the
sequence and a ``prev_hash`` that no longer matches. The serialisation is canonical JSON (sorted
keys, no spaces, UTF-8, times as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), so that the same row read
back from SQLite or PostgreSQL hashes to the same value. Pure code: no database here.

The hash is keyed: an HMAC-SHA256 under the audit key (``POINTCARE_AUDIT_KEY``), which is not in
the database, so that whoever can write the database cannot compute the hashes of a rewritten
trail. Events recorded before the chain was keyed (``keyed_from``, fixed when the database was
upgraded) keep their plain SHA-256; the first keyed event's hash covers their last one. What a
chain cannot show by itself, its end being cut off, the checkpoints show (``pointcare.audit
.anchor``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""

HASHED_FIELDS = (
    "seq",
    "recorded_at",
    "user_id",
    "username",
    "role",
    "client_address",
    "user_agent",
    "action",
    "patient_id",
    "patient_mrn",
    "patient_issuer",
    "objects",
    "outcome",
    "reason",
    "details",
    "prev_hash",
)
"""Every stored column except ``hash`` itself."""


def canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(row: Mapping[str, Any]) -> bytes:
    """The bytes hashed for one event. ``row`` holds every name in ``HASHED_FIELDS``."""
    missing = [name for name in HASHED_FIELDS if name not in row]
    if missing:
        raise ValueError(f"audit row lacks {', '.join(missing)}")
    values = {name: row[name] for name in HASHED_FIELDS}
    values["recorded_at"] = canonical_time(row["recorded_at"])
    values["objects"] = list(row["objects"] or [])
    values["details"] = dict(row["details"] or {})
    return json.dumps(
        values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(row: Mapping[str, Any]) -> str:
    """The plain SHA-256 of events recorded before the chain was keyed."""
    return hashlib.sha256(canonical_bytes(row)).hexdigest()


def event_mac(key: bytes, row: Mapping[str, Any]) -> str:
    """The keyed hash (HMAC-SHA256) of every event since the chain was keyed."""
    if not key:
        raise ValueError("the audit chain needs its key")
    return hmac.new(key, canonical_bytes(row), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first event at which the chain does not hold, and what is wrong there."""

    seq: int
    problem: str


@dataclass(frozen=True, slots=True)
class ChainStatus:
    verified: int
    """How many events, from the first, hold together."""
    last_seq: int
    """Sequence number of the last verified event (0 when none)."""
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class ChainWalker:
    """Checks events one at a time, in sequence order (so a long trail streams), from the
    first event or from a known link (``after_seq``, ``after_hash``: a checkpoint)."""

    def __init__(
        self,
        key: bytes,
        keyed_from: int = 1,
        *,
        after_seq: int = 0,
        after_hash: str = GENESIS_HASH,
    ) -> None:
        self.key = key
        self.keyed_from = keyed_from
        self.verified = 0
        self.last_seq = after_seq
        self.last_hash = after_hash
        self.problem: ChainProblem | None = None

    def expected_hash(self, row: Mapping[str, Any]) -> str:
        keyed = int(row["seq"]) >= self.keyed_from
        return event_mac(self.key, row) if keyed else event_hash(row)

    def check(self, row: Mapping[str, Any]) -> bool:
        """Check the next row; False (and ``problem`` set) at the first one that breaks."""
        if self.problem is not None:
            return False
        seq = int(row["seq"])
        expected = self.last_seq + 1
        if seq != expected:
            what = f"event {expected}" if seq == expected + 1 else f"events {expected} to {seq - 1}"
            return self._fail(expected, f"{what} missing: the sequence jumps to {seq}")
        if row["prev_hash"] != self.last_hash:
            return self._fail(seq, "its previous-hash link does not match the event before it")
        if not hmac.compare_digest(self.expected_hash(row), str(row["hash"])):
            return self._fail(seq, "its content does not match its hash (altered)")
        self.verified += 1
        self.last_seq = seq
        self.last_hash = row["hash"]
        return True

    def _fail(self, seq: int, problem: str) -> bool:
        self.problem = ChainProblem(seq, problem)
        return False

    def status(self) -> ChainStatus:
        return ChainStatus(self.verified, self.last_seq, self.problem)


def walk(rows: Sequence[Mapping[str, Any]], key: bytes, keyed_from: int = 1) -> ChainStatus:
    """Check a whole chain held in memory (tests, small trails)."""
    walker = ChainWalker(key, keyed_from)
    for row in rows:
        if not walker.check(row):
            break
    return walker.status()
