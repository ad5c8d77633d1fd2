"""The demo's photo histories: stored through the capture command and the one pipeline, with
what review, compare, export and the viewer need (weeks of one wound, front and back, a
sensitive photo, a PDF, a correction), and only once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from pointcare.audit.events import AuditAction
from pointcare.db.models import AuditRecord, Instance, Patient
from pointcare.demo.histories import HISTORIES, seed_histories
from pointcare.domain.objects import ObjectKind
from pointcare.runtime import Runtime
from tests.conftest import Account


def test_the_histories_are_stored_once_through_the_pipeline(
    runtime: Runtime, accounts: dict[str, Account], demo_patients: int
) -> None:
    now = datetime.now().astimezone()
    stored = seed_histories(runtime, now)
    assert seed_histories(runtime, now) == 0  # a second start draws and stores nothing

    with runtime.db.session() as session:
        rows = session.scalars(
            select(Instance).join(Patient).where(Patient.mrn.in_([h.mrn for h in HISTORIES]))
        ).all()
        assert len(rows) == stored
        by_kind = {kind: [r for r in rows if r.kind == kind.value] for kind in ObjectKind}
        photos = [r for r in by_kind[ObjectKind.PHOTO] if r.rejected_at is None]

        # A wound followed over weeks: one site, five visits a week apart, each its own study.
        sacrum = sorted(
            (r for r in photos if r.patient.mrn == "PC100021"), key=lambda r: r.captured_at
        )
        assert len(sacrum) == 5 and {r.body_site_code for r in sacrum} == {"54735007"}
        assert sacrum[-1].captured_at - sacrum[0].captured_at == timedelta(weeks=4)
        assert len({r.study_id for r in sacrum}) == 5

        # The referral letter is filed with the first visit's photos.
        (letter,) = by_kind[ObjectKind.DOCUMENT]
        assert letter.description == "Referral letter" and letter.patient.mrn == "PC100022"

        # An intimate site: sensitive.
        assert [r.body_site_code for r in photos if r.sensitive] == ["38864007"]

        # The photo filed as the left forearm is rejected and replaced by a right-forearm copy.
        (rejected,) = [r for r in by_kind[ObjectKind.PHOTO] if r.rejected_at is not None]
        (copy,) = [r for r in photos if r.replaces_id == rejected.id]
        assert (rejected.laterality, copy.laterality) == ("L", "R")
        assert len(by_kind[ObjectKind.REJECTION_NOTE]) == 1

        # Every object was stored by the pipeline, which audits it; the photos say they are
        # the demo's.
        actions = session.scalars(select(AuditRecord.action)).all()
        assert actions.count(AuditAction.PHOTO_STORED.value) == len(by_kind[ObjectKind.PHOTO])
        assert actions.count(AuditAction.DOCUMENT_STORED.value) == 1
        sources = [
            details.get("source")
            for details in session.scalars(
                select(AuditRecord.details).where(
                    AuditRecord.action == AuditAction.PHOTO_STORED.value
                )
            )
        ]
        assert sorted(set(sources)) == ["correction", "demo"]
        assert sources.count("correction") == 1
