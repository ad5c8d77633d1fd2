"""A finding's section of the documentation report: its trend chart and its measurements."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pointcare.db.models import Patient
from pointcare.domain.body_sites import site_with_side
from pointcare.domain.findings import FindingKind
from pointcare.export.report import FindingSection
from pointcare.findings.measuring import measurement_lines
from pointcare.findings.service import get_finding
from pointcare.findings.trend import TrendPoint, area_trend_svg


def finding_section(session: Session, patient: Patient, finding_id: int) -> FindingSection:
    finding = get_finding(session, patient, finding_id)
    lines = measurement_lines(session, finding)
    where = site_with_side(finding.body_site_code, finding.laterality, finding.aspect).lower()
    kind = FindingKind(finding.kind).label.lower()
    return FindingSection(
        title=f"{finding.label}: {kind}, {where}",
        opened=finding.opened_on.isoformat()
        + (f" (closed {finding.closed_on.isoformat()})" if finding.closed_on else ""),
        trend_svg=area_trend_svg(
            [TrendPoint(line.photo_taken, line.area_cm2) for line in lines], label=finding.label
        ),
        measurements=tuple(lines),
    )
