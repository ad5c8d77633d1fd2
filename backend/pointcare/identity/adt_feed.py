"""The ADT feed: each HL7 message applied to the patient directory, answered with an ACK.

One message is one transaction (``Database.write()``): it is applied whole or not at all, and
the ACK says which. AA: applied. AE: its content is wrong (a missing PID or MSH-9, bad encoding
characters, a bad date, a merge into a patient that was itself merged): sending it again will
not help. AR: a message type or event we do not take, or a failure on our side (the database
down): the interface engine may send it again later.

Order: a patient record remembers when the last message applied to it happened (EVN-2, else
MSH-7). A message about that patient that happened earlier (an A01 resent after the A08 that
followed it, or one that overtook another on a second connection) is acknowledged (AA: nothing
to send again) but not applied, so that an old name never comes back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.models import Patient
from pointcare.errors import PointcareError
from pointcare.identity.adt import (
    AckCode,
    AdtError,
    AdtMessage,
    ErrorCode,
    MergePatients,
    RecordPatient,
    acknowledgement,
    parse_adt,
    read_header,
)
from pointcare.identity.directory import normalised, upsert_patient
from pointcare.identity.merge import merge_patients
from pointcare.identity.mllp import MllpServer
from pointcare.metrics import ADT_MESSAGES
from pointcare.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class AdtFeed:
    """``feed(message_bytes) -> ack_bytes``; safe to call from several threads at once."""

    def __init__(
        self,
        db: Database,
        *,
        default_issuer: str,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.default_issuer = default_issuer
        self.clock = clock

    def __call__(self, data: bytes) -> bytes:
        try:
            message = parse_adt(data, default_issuer=self.default_issuer)
        except AdtError as exc:
            return self._refuse(exc)
        try:
            summary = self._apply(message)
        except PointcareError as exc:  # the directory's own refusals (a merged MRN...)
            return self._refuse(
                AdtError(exc.detail, error=ErrorCode.UNKNOWN_KEY, header=message.header)
            )
        except Exception:
            log.exception("ADT %s: not applied", message.header.control_id)
            return self._refuse(
                AdtError(
                    "internal error while applying the message; send it again later",
                    error=ErrorCode.INTERNAL_ERROR,
                    ack=AckCode.REJECT,
                    header=message.header,
                )
            )
        log.info("ADT %s %s: %s", message.header.control_id, message.event.value, summary)
        ADT_MESSAGES.labels(ack=AckCode.ACCEPT.value).inc()
        text = acknowledgement(message.header, AckCode.ACCEPT, now=self.clock())
        return text.encode("utf-8")

    def refuse_oversize(self, head: bytes, limit: int) -> bytes:
        """The ACK for a message larger than ``limit`` bytes, of which ``head`` was kept."""
        return self._refuse(
            AdtError(
                f"message larger than {limit} bytes; not read",
                error=ErrorCode.SEGMENT_SEQUENCE,
                ack=AckCode.REJECT,
                header=read_header(head),
            )
        )

    def _apply(self, message: AdtMessage) -> str:
        """Apply every command in one transaction; a short summary for the log (IDs only)."""
        done: list[str] = []
        with self.db.write() as session:
            for command in message.commands:
                if isinstance(command, RecordPatient):
                    done.append(_record(session, command, message.happened_at))
                elif isinstance(command, MergePatients):
                    report = merge_patients(
                        session,
                        command.survivor,
                        prior_mrn=command.prior_mrn,
                        prior_issuer=command.prior_issuer,
                    )
                    done.append(
                        f"merge into patient {report.survivor.id}: {report.outcome.value}, "
                        f"{report.moved} photo(s) moved"
                    )
        return "; ".join(done)

    def _refuse(self, error: AdtError) -> bytes:
        ADT_MESSAGES.labels(ack=error.ack.value).inc()
        header = error.header
        log.warning(
            "ADT %s: %s %d at %s",
            header.control_id if header else "(unreadable)",
            error.ack.value,
            error.error.value,
            error.location or "-",
        )
        text = acknowledgement(
            header,
            error.ack,
            reason=error.reason,
            error=error.error,
            location=error.location,
            now=self.clock(),
        )
        return text.encode("utf-8")


def _record(session: Session, command: RecordPatient, happened_at: datetime | None) -> str:
    """Apply one patient's demographics unless the record already reflects a later message."""
    identity = normalised(command.identity)
    existing = session.scalar(
        select(Patient)
        .where(Patient.issuer == identity.issuer, Patient.mrn == identity.mrn)
        .with_for_update()  # two connections with messages for one patient: one at a time
    )
    last = existing.adt_event_at if existing is not None else None
    if existing is not None and happened_at is not None and last is not None and happened_at < last:
        return (
            f"patient {existing.id} not changed: the message happened at "
            f"{happened_at.isoformat()}, before the last one applied ({last.isoformat()})"
        )
    patient, created = upsert_patient(
        session, command.identity, keep_visit_number=command.keep_visit_number
    )
    if happened_at is not None and (last is None or happened_at > last):
        patient.adt_event_at = happened_at
    return f"patient {patient.id} {'created' if created else 'recorded'}"


def adt_server(
    db: Database, settings: Settings, *, host: str | None = None, port: int | None = None
) -> MllpServer:
    """The MLLP listener that applies the ADT feed (address from settings unless given)."""
    feed = AdtFeed(db, default_issuer=settings.issuer_of_patient_id)
    return MllpServer(
        feed,
        on_oversize=feed.refuse_oversize,
        host=settings.adt_host if host is None else host,
        port=settings.adt_port if port is None else port,
        max_message_bytes=settings.adt_max_message_bytes,
        idle_timeout=settings.adt_idle_timeout_seconds,
        max_connections=settings.adt_max_connections,
    )


def adt_lifespan(
    db: Database, settings: Settings
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan manager: the listener runs while the app does (``serve --adt-port``)."""

    @contextlib.asynccontextmanager
    async def listening(_app: Any) -> AsyncIterator[None]:
        server = adt_server(db, settings)
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    return listening


__all__ = ["AdtFeed", "adt_lifespan", "adt_server"]
