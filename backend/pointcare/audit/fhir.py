"""The trail as FHIR R4 AuditEvent resources (one JSON object per line: NDJSON).

Event types and subtypes come from the DICOM audit vocabulary (PS3.16, scheme DCM), as IHE ATNA
uses them; agent and entity codes from the FHIR R4 code systems. The chain's hash travels in
``meta.tag`` so that an exported event can be matched to the stored one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from pointcare.audit.chain import canonical_time
from pointcare.audit.events import AuditAction, Outcome, SystemRole
from pointcare.db.models import AuditRecord

DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTION_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CHAIN_TAG = "urn:pointcare:audit:hash"
DICOM_UID = "urn:dicom:uid"
SOURCE_OBSERVER = "Pointcare"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    display: str

    def coding(self, system: str = DCM) -> dict[str, str]:
        return {"system": system, "code": self.code, "display": self.display}


# DICOM PS3.16 CID 400 (Audit Event ID) and CID 401 (Audit Event Type Code).
PATIENT_RECORD = Code("110110", "Patient Record")
INSTANCES_ACCESSED = Code("110103", "DICOM Instances Accessed")
INSTANCES_TRANSFERRED = Code("110104", "DICOM Instances Transferred")
EXPORT = Code("110106", "Export")
IMPORT = Code("110107", "Import")
QUERY = Code("110112", "Query")
SECURITY_ALERT = Code("110113", "Security Alert")
USER_AUTHENTICATION = Code("110114", "User Authentication")
AUDIT_LOG_USED = Code("110101", "Audit Log Used")
LOGIN = Code("110122", "Login")
LOGOUT = Code("110123", "Logout")
EMERGENCY_OVERRIDE = Code("110127", "Emergency Override Started")
SOFTWARE_CONFIGURATION = Code("110131", "Software Configuration")
USER_SECURITY_ATTRIBUTES = Code("110137", "User Security Attributes Changed")
OBJECT_SECURITY_ATTRIBUTES = Code("110135", "Object Security Attributes Changed")
RESTRICTED_FUNCTION = Code("110132", "Use of Restricted Function")


@dataclass(frozen=True, slots=True)
class Mapping:
    type: Code
    action: str
    """FHIR AuditEvent.action: C create, R read, U update, D delete, E execute."""
    subtype: Code | None = None


MAPPINGS: dict[AuditAction, Mapping] = {
    AuditAction.LOGIN: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.LOGIN_FAILED: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.LOGIN_LOCKED: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.LOGOUT: Mapping(USER_AUTHENTICATION, "E", LOGOUT),
    AuditAction.TOKEN_ISSUED: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.LAUNCH: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.LAUNCH_REFUSED: Mapping(USER_AUTHENTICATION, "E", LOGIN),
    AuditAction.BREAK_GLASS: Mapping(SECURITY_ALERT, "E", EMERGENCY_OVERRIDE),
    AuditAction.PATIENT_SEARCH: Mapping(QUERY, "E"),
    AuditAction.PATIENT_OPEN: Mapping(PATIENT_RECORD, "R"),
    AuditAction.PHOTO_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.DOCUMENT_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.REJECTION_NOTE_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.DERMOSCOPY_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.VIDEO_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.IMAGE_VIEWED: Mapping(INSTANCES_ACCESSED, "R"),
    AuditAction.IMAGE_LIST_VIEWED: Mapping(INSTANCES_ACCESSED, "R"),
    AuditAction.DELIVERY_PARKED: Mapping(INSTANCES_TRANSFERRED, "E"),
    AuditAction.DELIVERY_RETRIED: Mapping(INSTANCES_TRANSFERRED, "E"),
    AuditAction.USER_ADDED: Mapping(SECURITY_ALERT, "C", USER_SECURITY_ATTRIBUTES),
    AuditAction.USER_CHANGED: Mapping(SECURITY_ALERT, "U", USER_SECURITY_ATTRIBUTES),
    AuditAction.PASSWORD_RESET: Mapping(SECURITY_ALERT, "U", USER_SECURITY_ATTRIBUTES),
    AuditAction.PASSWORD_CHANGED: Mapping(SECURITY_ALERT, "U", USER_SECURITY_ATTRIBUTES),
    AuditAction.PATIENTS_IMPORTED: Mapping(IMPORT, "C"),
    AuditAction.SETTINGS_CHANGED: Mapping(SECURITY_ALERT, "U", SOFTWARE_CONFIGURATION),
    AuditAction.CONSENT_CHANGED: Mapping(PATIENT_RECORD, "U", OBJECT_SECURITY_ATTRIBUTES),
    AuditAction.CORRECTION: Mapping(INSTANCES_ACCESSED, "U"),
    AuditAction.EXPORT: Mapping(EXPORT, "R"),
    AuditAction.FINDING_CHANGED: Mapping(PATIENT_RECORD, "U"),
    AuditAction.MEASUREMENT_REPORT_STORED: Mapping(INSTANCES_ACCESSED, "C"),
    AuditAction.AUDIT_SEARCHED: Mapping(AUDIT_LOG_USED, "R"),
    AuditAction.ACCESS_REFUSED: Mapping(SECURITY_ALERT, "E", RESTRICTED_FUNCTION),
}

OUTCOMES = {Outcome.SUCCESS: "0", Outcome.REFUSED: "4", Outcome.FAILURE: "8"}
"""FHIR AuditEvent.outcome: 0 success, 4 minor failure (refused), 8 serious failure."""


def audit_event(record: AuditRecord) -> dict[str, Any]:
    """One stored event as a FHIR R4 AuditEvent resource."""
    action = AuditAction(record.action)
    mapping = MAPPINGS[action]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(record.seq),
        "meta": {"tag": [{"system": CHAIN_TAG, "code": record.hash}]},
        "type": mapping.type.coding(),
        "action": mapping.action,
        "recorded": canonical_time(record.recorded_at),
        "outcome": OUTCOMES[Outcome(record.outcome)],
        "agent": [_agent(record)],
        "source": {
            "observer": {"display": SOURCE_OBSERVER},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
    }
    subtypes = [mapping.subtype.coding()] if mapping.subtype else []
    subtypes.append({"system": "urn:pointcare:audit:action", "code": action.value})
    resource["subtype"] = subtypes
    if record.reason:
        resource["outcomeDesc"] = record.reason
    entities = _entities(record)
    if entities:
        resource["entity"] = entities
    return resource


def _agent(record: AuditRecord) -> dict[str, Any]:
    human = record.role not in {SystemRole.SYSTEM.value}
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}
                if human
                else {"system": PARTICIPATION, "code": "AUT", "display": "author (originator)"}
            ]
        },
        "who": {"display": record.username or "(unknown)"},
        "requestor": human,
        "role": [{"text": record.role}],
    }
    if record.user_id is not None:
        agent["who"]["identifier"] = {"system": "urn:pointcare:user", "value": str(record.user_id)}
    if record.client_address:
        agent["network"] = {"address": record.client_address, "type": "2"}  # 2: IP address
    if record.user_agent:
        agent["name"] = record.user_agent
    return agent


def _entities(record: AuditRecord) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if record.patient_mrn:
        patient: dict[str, Any] = {"value": record.patient_mrn}
        if record.patient_issuer:
            patient["system"] = f"urn:pointcare:issuer:{record.patient_issuer}"
        entities.append(
            {
                "what": {"identifier": patient},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    for uid in record.objects or []:
        entities.append(
            {
                "what": {"identifier": {"system": DICOM_UID, "value": f"urn:oid:{uid}"}},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "3", "display": "Report"},
            }
            if _is_uid(uid)
            else {
                "what": {"display": uid},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            }
        )
    if record.details:
        detail = [
            {"type": key, "valueString": "" if value is None else str(value).lower()}
            if isinstance(value, bool)
            else {"type": key, "valueString": "" if value is None else str(value)}
            for key, value in sorted(record.details.items())
        ]
        if entities:
            entities[0]["detail"] = detail
        else:
            entities.append(
                {
                    "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                    "name": action_name(record),
                    "detail": detail,
                }
            )
    return entities


def action_name(record: AuditRecord) -> str:
    return AuditAction(record.action).value


def _is_uid(value: str) -> bool:
    return bool(value) and len(value) <= 64 and all(part.isdigit() for part in value.split("."))


def write_ndjson(records: Iterable[AuditRecord], out: TextIO) -> int:
    """Write one AuditEvent per line; returns how many."""
    count = 0
    for line in ndjson_lines(records):
        out.write(line)
        count += 1
    return count


def ndjson_lines(records: Iterable[AuditRecord]) -> Iterator[str]:
    for record in records:
        yield json.dumps(audit_event(record), ensure_ascii=False, separators=(",", ":")) + "\n"
