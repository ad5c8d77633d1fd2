"""``pointcare audit verify`` and ``audit export`` as real processes, and the CLI's own events."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from pointcare import audit
from pointcare.audit.fhir import MAPPINGS
from pointcare.runtime import Runtime
from tests.integration.audit.support import events
from tests.integration.test_cli import Pointcare, pointcare

__all__ = ["pointcare"]

DOCTOR = audit.Actor(user_id=2, username="doctor", role="clinician", client_address="10.0.0.9")


def seed(runtime: Runtime, count: int) -> None:
    for n in range(count):
        mrn = "PC100001" if n % 2 == 0 else "PC100002"
        audit.record_now(
            runtime.db,
            audit.AuditEvent(
                action=audit.AuditAction.IMAGE_VIEWED,
                actor=DOCTOR,
                patient=audit.PatientRef(mrn=mrn, issuer="PCDEMO", patient_id=n % 2 + 1),
                objects=(f"1.2.826.0.1.3680043.10.1.{n}",),
                details={"via": "photo page"},
            ),
        )


def tamper(runtime: Runtime, backend: str, statement: str, table: str = "audit_events") -> None:
    """Change the trail as someone with the database owner's rights could: with the
    append-only triggers out of the way."""
    with runtime.db.write() as session:
        if backend == "postgresql":
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            session.execute(text(statement))
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            session.execute(text(statement))


def test_verify_passes_on_an_intact_trail(pointcare: Pointcare, runtime: Runtime) -> None:
    seed(runtime, 5)
    assert pointcare("audit", "checkpoint").returncode == 0
    seed(runtime, 2)  # events after the latest checkpoint verify too
    result = pointcare("audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "verified: 7 events, up to the checkpoint of" in result.stdout


def test_verify_names_an_altered_event(
    pointcare: Pointcare, runtime: Runtime, database_backend: str
) -> None:
    seed(runtime, 5)
    tamper(runtime, database_backend, "UPDATE audit_events SET patient_mrn = 'X9' WHERE seq = 3")
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "broken at event 3" in result.stderr and "altered" in result.stderr


def test_verify_names_a_removed_event(
    pointcare: Pointcare, runtime: Runtime, database_backend: str
) -> None:
    seed(runtime, 5)
    tamper(runtime, database_backend, "DELETE FROM audit_events WHERE seq = 2")
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "broken at event 2" in result.stderr and "missing" in result.stderr


def test_export_writes_fhir_audit_events(
    pointcare: Pointcare, runtime: Runtime, tmp_path: Path
) -> None:
    seed(runtime, 4)
    out = tmp_path / "audit.ndjson"
    result = pointcare("audit", "export", "--patient", "PC100001", "--output", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    for line in lines:
        resource = json.loads(line)
        assert resource["resourceType"] == "AuditEvent"
        assert resource["type"]["system"] == "http://dicom.nema.org/resources/ontology/DCM"
        assert resource["type"]["code"] == "110103"
        assert resource["action"] == "R" and resource["outcome"] == "0"
        assert resource["recorded"].endswith("Z")
        [agent] = resource["agent"]
        assert agent["requestor"] is True and agent["who"]["display"] == "doctor"
        assert agent["network"] == {"address": "10.0.0.9", "type": "2"}
        assert resource["source"]["observer"]["display"] == "Pointcare"
        patient, instance = resource["entity"]
        assert patient["what"]["identifier"]["value"] == "PC100001"
        assert patient["role"]["code"] == "1"
        assert instance["what"]["identifier"]["value"].startswith("urn:oid:1.2.826.")
    later = pointcare("audit", "export", "--since", "2999-01-01")
    assert later.returncode == 0 and later.stdout == ""
    bad = pointcare("audit", "export", "--since", "yesterday")
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr
    exports = events(runtime, audit.AuditAction.EXPORT)  # reading the trail out is audited
    assert [(e.role, e.details["events"], e.details["patient"]) for e in exports] == [
        ("operator", 2, "PC100001"),
        ("operator", 0, None),
    ]


def test_every_action_has_a_fhir_mapping() -> None:
    assert set(MAPPINGS) == set(audit.AuditAction)


def test_command_line_admin_actions_are_audited(
    pointcare: Pointcare, runtime: Runtime, tmp_path: Path
) -> None:
    added = pointcare("users", "add", "nora", "--role", "photographer", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert pointcare("token", "--user", "nora", "--ttl", "60").returncode == 0
    csv = tmp_path / "patients.csv"
    csv.write_text(
        "mrn,issuer,family_name,given_name,birth_date,sex\nX100,HOSP,Doe,Jane,1970-01-02,F\n"
    )
    imported = pointcare("patients", "import", str(csv))
    assert imported.returncode == 0, imported.stderr
    trail = events(runtime)
    assert [(e.action, e.role, e.client_address) for e in trail] == [
        ("admin.user_add", "operator", "local"),
        ("token.issued", "operator", "local"),
        ("admin.patient_import", "operator", "local"),
    ]
    assert trail[0].details == {"username": "nora", "role": "photographer"}
    assert trail[2].details["created"] == 1
    assert "Doe" not in repr([(e.details, e.objects) for e in trail])
