"""The relational model: accounts, patients, the DICOM hierarchy we produced, consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from pointcare.db.types import UTCDateTime, utcnow
from pointcare.domain.body_sites import site_with_side
from pointcare.domain.clock import at_offset
from pointcare.domain.objects import ObjectKind


class Base(DeclarativeBase):
    pass


# --- Accounts -------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ux_users_external_identity", "external_issuer", "external_subject", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    external_issuer: Mapped[str | None] = mapped_column(String(255))
    """EHR launch: the issuer that vouches for this user (no password); None for local users."""
    external_subject: Mapped[str | None] = mapped_column(String(255))
    """EHR launch: the user's id at that issuer (the tokens' ``sub``)."""
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """API tokens carry the generation they were minted in; "sign out everywhere" moves it on,
    and every token minted before stops working."""
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    """A password an admin gave out (a new account, a reset): until its user chooses their own,
    their session opens nothing but the change-password page."""
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the password an admin gave out stops working if still unchanged
    (``POINTCARE_TEMPORARY_PASSWORD_HOURS`` after it was given); None once the user chose their
    own."""


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
    launch_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    """Opened by an EHR launch: the patient the session is bound to (see pointcare.launch)."""
    launch_encounter: Mapped[str | None] = mapped_column(String(64))
    """Opened by an EHR launch: the encounter (visit number) the EHR named, if any."""
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The bedside idle lock: set when the screen locked, cleared by the user's password. While
    set, the session opens nothing but the unlock (and lets queued photos finish sending)."""

    user: Mapped[User] = relationship(lazy="joined")


# --- Patient directory ----------------------------------------------------------------------


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("issuer", "mrn", name="uq_patients_issuer_mrn"),
        Index("ix_patients_name_key_birth_date", "name_key", "birth_date"),
        # QIDO-RS PatientName=abc*: a LIKE with a fixed start, which PostgreSQL answers from an
        # index only with the pattern operator class (its default one follows the locale).
        Index(
            "ix_patients_name_key_pattern",
            "name_key",
            postgresql_ops={"name_key": "varchar_pattern_ops"},
        ),
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
    adt_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the last ADT message applied to this record happened (EVN-2, else MSH-7): an older
    message that arrives later (a resend, another interface thread) is not applied."""


Index("ix_patients_mrn_folded", func.upper(Patient.mrn))
"""MRNs are looked up whatever their case (``identity.directory.find_by_mrn``)."""


# --- What we archived -----------------------------------------------------------------------


class Study(Base):
    """One study per encounter (visit) or, without a visit, per capture session."""

    __tablename__ = "studies"
    __table_args__ = (
        # Study lists come newest first (by the study's own date, then its time), a page at a
        # time (QIDO-RS, StudyDate ranges): read from the end of this index, within the dates
        # asked for, they stop at the page's last row.
        Index("ix_studies_study_date", "study_date", "study_datetime", "id"),
        # One patient's studies, newest first.
        Index("ix_studies_patient_study_datetime", "patient_id", "study_datetime"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    study_key: Mapped[str] = mapped_column(String(128), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    visit_number: Mapped[str | None] = mapped_column(String(64))
    study_id: Mapped[str] = mapped_column(String(16))
    study_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    study_tz_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    study_date: Mapped[date] = mapped_column(Date)
    """StudyDate: the calendar date where the study took place (``study_datetime`` at its own
    offset), set with ``study_datetime``. Searched and sorted on as it is: a local date cannot be
    read off the UTC column by an index."""
    description: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()

    @validates("study_datetime")
    def _dated(self, _key: str, moment: datetime) -> datetime:
        """The study's date follows its moment, taken at the moment's own offset (the one
        ``study_tz_offset_minutes`` records)."""
        if moment.tzinfo is None:
            raise ValueError("a study's time must carry its offset from UTC")
        self.study_date = moment.date()
        return moment


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
    """Consent as the patient gave it, asked for a capture session: scopes (the clinical record
    may be declined), how it was given, and who recorded it, when. Photos refer to the record
    they were taken under; a bedside session refers to the record made at its consent step."""

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
    """A stored DICOM object of any kind (``ObjectKind``: a photo, a document, a rejection
    note...) and the index fields searched and shown. One table for every object, so that each
    is filed, delivered, searched and served the same way; the columns of one kind are empty
    (NULL) on the others."""

    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_patient_captured", "patient_id", "captured_at"),
        Index("ix_instances_patient_content", "patient_id", "content_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24), default=ObjectKind.PHOTO.value)
    """What it is (``ObjectKind``): decides which of the columns below it has."""
    capture_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    """The client's id for this store: a retry with it answers with this object."""
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    instance_number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(1024), default="")
    """A photo's comment (Image Comments), a document's title, a rejection note's reason."""
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When it was made: a photo taken, a document added, a note written (Content Date/Time)."""
    captured_tz_offset_minutes: Mapped[int] = mapped_column(Integer)
    captured_at_source: Mapped[str] = mapped_column(String(16), default="device")
    """Where ``captured_at`` came from (``domain.clock.TakenAtSource``)."""
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    """Who took the photo, added the document, wrote the note."""
    storage_path: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the stored Part-10 file."""
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the file as it was uploaded: the same picture sent again is found by it."""
    transfer_syntax_uid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when a rejection note (IHE IOCM) rejected this object: hidden everywhere but the
    admin's list of rejected objects. The file and the row stay, for audit."""
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    """The rejection note (a stored object itself) that rejected this one."""
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    """On a corrected copy: the object it replaces (rejected by the same correction)."""

    # --- Images (photos) ---
    body_site_code: Mapped[str | None] = mapped_column(String(20))
    laterality: Mapped[str | None] = mapped_column(String(1))
    aspect: Mapped[str | None] = mapped_column(String(16))
    """Which face of the site (``domain.body_sites.Aspect``); None: not stated."""
    view: Mapped[str | None] = mapped_column(String(16))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    recognizable: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    thumbnail_path: Mapped[str | None] = mapped_column(String(255))
    rows: Mapped[int | None] = mapped_column(Integer)
    columns: Mapped[int | None] = mapped_column(Integer)
    source_format: Mapped[str | None] = mapped_column(String(8))
    reencoded: Mapped[bool | None] = mapped_column(Boolean)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), index=True)
    """The wound or lesion this photo shows, when it was linked to one."""

    patient: Mapped[Patient] = relationship()
    study: Mapped[Study] = relationship()
    series: Mapped[Series] = relationship()
    consent: Mapped[ConsentRecord | None] = relationship()
    operator: Mapped[User] = relationship()
    finding: Mapped[Finding | None] = relationship()

    @property
    def finding_label(self) -> str:
        """ "Wound 1" for a photo filed under that finding; empty for none."""
        return self.finding.label if self.finding is not None else ""

    @property
    def taken_at(self) -> datetime:
        """When it was made, as the clock of the device that made it read."""
        return at_offset(self.captured_at, self.captured_tz_offset_minutes)

    @property
    def object_kind(self) -> ObjectKind:
        return ObjectKind(self.kind)

    @property
    def where(self) -> str:
        """Where on the body, as the pages say it ("Left forearm"); empty without a site."""
        if self.body_site_code is None:
            return ""
        return site_with_side(self.body_site_code, self.laterality or "U", self.aspect)

    @property
    def consent_record(self) -> ConsentRecord:
        """The consent an image was stored under (every image has one)."""
        if self.consent is None:
            raise ValueError(f"{self.kind} {self.sop_instance_uid} has no consent record")
        return self.consent

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels; (0, 0) for an object that is no image."""
        return self.columns or 0, self.rows or 0


# --- Delivery to a PACS ---------------------------------------------------------------------


class Delivery(Base):
    """The outbox: one row per stored object to send to the PACS, written in the transaction
    that stored it.

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
    """The stored object this delivery sends."""
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts started (counted when claimed, so that a send cut short by a crash counts)."""
    charged_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts that count toward parking: charged when claimed, given back when the PACS
    could not be reached (an outage parks nothing; a refusal or a crash does, in the end)."""
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


class DeliveryAttempt(Base):
    """One attempt to deliver: when, by which forwarder, and how it ended (for the admin page
    and the failure metrics). ``outcome`` stays NULL while the attempt is in flight."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery_number", "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    forwarder: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    """``delivered``, ``refused``, ``unreachable`` or ``interrupted`` (``archive.outbox``)."""
    cause: Mapped[str | None] = mapped_column(String(32))
    """``pointcare.archive.protocol.Cause``: why, as a code."""
    reason: Mapped[str | None] = mapped_column(String(1024))


# --- Bedside capture (pointcare.bedside) ----------------------------------------------------


class BedsideSession(Base):
    """User U confirmed patient P at the bedside at time T, and the consent recorded there.

    The id is a random UUID: it names the session in URLs and files the session's photos in one
    series (``session:<id>``). ``consent_id`` stays NULL until the consent step; a consent
    record that declines the clinical record blocks capture for the whole session.
    """

    __tablename__ = "bedside_sessions"
    __table_args__ = (Index("ix_bedside_sessions_user_started", "user_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    encounter: Mapped[str | None] = mapped_column(String(64))
    """The patient's visit number when the identity was confirmed (None: no current encounter)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the user confirmed the patient."""
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    """The consent recorded at the session's consent step; every photo of the session refers
    to it."""
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient] = relationship()
    user: Mapped[User] = relationship()
    consent: Mapped[ConsentRecord | None] = relationship()


# --- Audit trail ----------------------------------------------------------------------------


class AuditRecord(Base):
    """One audit event, a link in the hash chain (``pointcare.audit``).

    Append-only: the code never updates or deletes a row, and database triggers (migration
    0007) refuse it. No foreign keys: the trail outlives users and patients and must not lock
    their rows.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_recorded_at", "recorded_at"),
        Index("ix_audit_events_patient_mrn", "patient_mrn"),
        Index("ix_audit_events_username", "username"),
        Index("ix_audit_events_action", "action"),
        Index("ix_audit_events_user_patient", "user_id", "patient_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    """1, 2, 3... with no gaps: a missing number is a removed event."""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    patient_mrn: Mapped[str | None] = mapped_column(String(64))
    patient_issuer: Mapped[str | None] = mapped_column(String(64))
    objects: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(256))
    details: Mapped[dict[str, str | int | bool | None]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChain(Base):
    """How the chain is hashed: one row, written by the migration that keyed it and never
    changed (append-only, like the events)."""

    __tablename__ = "audit_chain"

    keyed_from_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    """The first event hashed with the audit key; earlier ones keep their plain SHA-256."""


# --- EHR launch (pointcare.launch) -------------------------------------------------------------


class LaunchTokenUsed(Base):
    """A launch token's id (``jti``) already used; kept until the token expires, then purged."""

    __tablename__ = "launch_tokens_used"
    __table_args__ = (UniqueConstraint("issuer", "jti", name="uq_launch_tokens_used_issuer_jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LaunchSessionPatient(Base):
    """Another patient a launch-bound session may open: one an explicit search found."""

    __tablename__ = "launch_session_patients"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Sign-in security and break the glass (pointcare.auth.throttle, pointcare.access) --------


class SignInThrottle(Base):
    """Failed attempts of one kind of key (a user name, a client address) in the current window,
    and until when that key is locked out. One row per key; rows of quiet keys are purged."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_sign_in_throttle_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BreakGlassGrant(Base):
    """A user gave a reason to open a patient's sensitive photos; valid until ``expires_at``."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        Index("ix_break_glass_grants_user_patient", "user_id", "patient_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Consent over time (pointcare.consent) -------------------------------------------------------


class ConsentChange(Base):
    """Teaching or publication consent given or withdrawn after the photos were taken.

    For one photo (``instance_id``) or, without one, for every photo of the patient stored up
    to ``recorded_at``. Rows are only added: the history is the record of who changed what.
    """

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_patient_recorded", "patient_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    """``teaching`` or ``publication``."""
    granted: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship()


# --- Corrections (pointcare.corrections, IHE IOCM) ----------------------------------------------


class RejectionNote(Base):
    """What a rejection note (a Key Object Selection Document, stored as an ``Instance`` of
    kind ``rejection_note``) says and who wrote it: the clinician's side of the correction."""

    __tablename__ = "rejection_notes"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(16))
    """The note's title: 113001 quality, 113037 patient safety, 113038 worklist entry."""
    kind: Mapped[str] = mapped_column(String(16))
    """What the clinician corrected: ``patient``, ``details`` or ``quality``."""
    reason_text: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instance: Mapped[Instance] = relationship()
    created_by: Mapped[User] = relationship()


# --- Findings and wound measurements (pointcare.findings) -----------------------------------------


class Finding(Base):
    """A wound or skin lesion of a patient, followed over time (``pointcare.domain.findings``)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("patient_id", "label", name="uq_findings_patient_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    tracking_uid: Mapped[str] = mapped_column(String(64), unique=True)
    """The Tracking UID of every measurement report of this finding (TID 1500)."""
    kind: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(String(64))
    body_site_code: Mapped[str] = mapped_column(String(20))
    laterality: Mapped[str] = mapped_column(String(1))
    aspect: Mapped[str | None] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()


class WoundMeasurement(Base):
    """A traced outline measured on a photo of a finding, in the marker's plane."""

    __tablename__ = "wound_measurements"
    __table_args__ = (Index("ix_wound_measurements_finding_measured", "finding_id", "measured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    photo_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    """The measurement report (DICOM SR) stored with it, in the same transaction."""
    area_cm2: Mapped[float] = mapped_column(Float)
    length_cm: Mapped[float] = mapped_column(Float)
    width_cm: Mapped[float] = mapped_column(Float)
    perimeter_cm: Mapped[float] = mapped_column(Float)
    tilt_deg: Mapped[float] = mapped_column(Float)
    marker_side_px: Mapped[float] = mapped_column(Float)
    outline: Mapped[list[list[float]]] = mapped_column(JSON)
    """The traced polygon, [[x, y], ...] in the stored photo's pixels."""
    measured_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    finding: Mapped[Finding] = relationship()
    photo: Mapped[Instance] = relationship(foreign_keys=[photo_id])
    report: Mapped[Instance] = relationship(foreign_keys=[report_id])
    measured_by: Mapped[User] = relationship()


__all__ = [
    "AuditRecord",
    "Base",
    "BedsideSession",
    "BreakGlassGrant",
    "ConsentChange",
    "ConsentRecord",
    "Delivery",
    "Finding",
    "Instance",
    "LaunchSessionPatient",
    "LaunchTokenUsed",
    "Patient",
    "RejectionNote",
    "Series",
    "SignInThrottle",
    "Study",
    "User",
    "UserSession",
    "WoundMeasurement",
]
