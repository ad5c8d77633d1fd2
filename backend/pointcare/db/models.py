"""The relational model: accounts, patients, the DICOM hierarchy we produced, consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pointcare.db.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


# --- Accounts -------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


# --- Patient directory ----------------------------------------------------------------------


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("issuer", "mrn", name="uq_patients_issuer_mrn"),
        Index("ix_patients_name_key_birth_date", "name_key", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(64), index=True)
    issuer: Mapped[str] = mapped_column(String(64))
    family_name: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(64), default="")
    name_key: Mapped[str] = mapped_column(String(160))
    """Family and given names folded for search: lower case, accents removed."""
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    visit_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    """Set when an ADT A40 merged this record into another: the surviving patient, which now
    holds its studies, photos and consent. The row stays so that the old MRN still resolves."""
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- What we archived -----------------------------------------------------------------------


class Study(Base):
    """One study per encounter (visit) or, without a visit, per capture session."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    study_key: Mapped[str] = mapped_column(String(128), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    visit_number: Mapped[str | None] = mapped_column(String(64))
    study_id: Mapped[str] = mapped_column(String(16))
    study_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    study_tz_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()


class Series(Base):
    """One series per capture session."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    series_key: Mapped[str] = mapped_column(String(128), unique=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    series_number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(64), default="")
    instance_count: Mapped[int] = mapped_column(Integer, default=0)
    """Highest instance number handed out; incremented atomically at each store."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    study: Mapped[Study] = relationship()


class ConsentRecord(Base):
    """Consent as given for a capture: scopes, how, and who recorded it, when."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    clinical_record: Mapped[bool] = mapped_column(Boolean)
    teaching: Mapped[bool] = mapped_column(Boolean)
    publication: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(16))
    session_key: Mapped[str] = mapped_column(String(128), index=True)
    """The capture session (series key) this consent was given for."""
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship()


class Instance(Base):
    """A stored DICOM object (a photo) and the index fields searched and shown."""

    __tablename__ = "instances"
    __table_args__ = (Index("ix_instances_patient_captured", "patient_id", "captured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[str] = mapped_column(String(36), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    instance_number: Mapped[int] = mapped_column(Integer)
    body_site_code: Mapped[str] = mapped_column(String(20))
    laterality: Mapped[str] = mapped_column(String(1))
    view: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1024), default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    recognizable: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent_records.id"))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    captured_tz_offset_minutes: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_path: Mapped[str] = mapped_column(String(255))
    thumbnail_path: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    transfer_syntax_uid: Mapped[str] = mapped_column(String(64))
    source_format: Mapped[str] = mapped_column(String(8))
    reencoded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    study: Mapped[Study] = relationship()
    series: Mapped[Series] = relationship()
    consent: Mapped[ConsentRecord] = relationship()
    operator: Mapped[User] = relationship()


# --- Delivery to a PACS ---------------------------------------------------------------------


class Delivery(Base):
    """The outbox: one row per instance to send to the PACS, written in the ingest transaction.

    ``state`` is pending, delivered or parked (``pointcare.archive.outbox.DeliveryState``). A
    forwarder claims due pending rows by setting ``lease_owner`` and ``lease_expires_at``; a
    lease that expired belongs to a forwarder that died, and its rows may be claimed again.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
        Index("ix_deliveries_state_spool_removed", "state", "spool_removed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1024))
    """Why the last attempt failed (or the PACS's warning for a delivered instance)."""
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    spool_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the spool copy (the Part-10 file) was deleted after delivery; the thumbnail stays."""

    instance: Mapped[Instance] = relationship()


__all__ = [
    "Base",
    "ConsentRecord",
    "Delivery",
    "Instance",
    "Patient",
    "Series",
    "Study",
    "User",
    "UserSession",
]
