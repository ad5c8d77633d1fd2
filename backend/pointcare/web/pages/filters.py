"""Filters of a patient's timeline: body site, side, view, consent, who took the photo.

Read from the query string (a plain GET form: bookmarkable, works without JavaScript), checked
(an unknown value is a readable 422, never a silently empty page), and applied in SQL, except
consent, which is the consent in force after later changes and is applied to each page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from pointcare.consent.changes import ConsentInForce
from pointcare.corrections.visibility import images_in_force
from pointcare.db.models import Instance, Patient, User
from pointcare.domain.body_sites import Laterality, body_site, site_label
from pointcare.domain.views import View
from pointcare.errors import InvalidInput

CONSENT_CHOICES = {
    "teaching": "Teaching allowed",
    "no-teaching": "No teaching",
    "publication": "Publication allowed",
}


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    site: str = ""
    laterality: str = ""
    view: str = ""
    consent: str = ""
    operator: int | None = None

    @classmethod
    def parse(
        cls,
        *,
        site: str | None,
        laterality: str | None,
        view: str | None,
        consent: str | None,
        operator: str | None,
    ) -> TimelineFilter:
        errors: dict[str, str] = {}
        chosen = {
            "site": (site or "").strip(),
            "laterality": (laterality or "").strip(),
            "view": (view or "").strip(),
            "consent": (consent or "").strip(),
        }
        if chosen["site"]:
            try:
                body_site(chosen["site"])
            except ValueError:
                errors["site"] = "Choose a body site from the list."
        if chosen["laterality"] and chosen["laterality"] not in {s.value for s in Laterality}:
            errors["laterality"] = "Choose a side from the list."
        if chosen["view"] and chosen["view"] not in {v.value for v in View}:
            errors["view"] = "Choose a view from the list."
        if chosen["consent"] and chosen["consent"] not in CONSENT_CHOICES:
            errors["consent"] = "Choose a consent from the list."
        who: int | None = None
        if operator and operator.strip():
            try:
                who = int(operator)
            except ValueError:
                errors["operator"] = "Choose who took the photos from the list."
        if errors:
            raise InvalidInput("Those filters cannot be used.", errors=errors)
        return cls(operator=who, **chosen)

    @property
    def active(self) -> bool:
        return any((self.site, self.laterality, self.view, self.consent, self.operator))

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL part of the filter (all but consent)."""
        found: list[ColumnElement[bool]] = []
        if self.site:
            found.append(Instance.body_site_code == self.site)
        if self.laterality:
            found.append(Instance.laterality == self.laterality)
        if self.view:
            found.append(Instance.view == self.view)
        if self.operator is not None:
            found.append(Instance.operator_id == self.operator)
        return found

    def admits(self, consent: ConsentInForce) -> bool:
        """The consent part of the filter, on the consent in force."""
        if self.consent == "teaching":
            return consent.teaching
        if self.consent == "no-teaching":
            return not consent.teaching
        if self.consent == "publication":
            return consent.publication
        return True

    def query(self) -> str:
        """``&site=…&…`` for links that keep the filter (paging)."""
        values = {
            "site": self.site,
            "laterality": self.laterality,
            "view": self.view,
            "consent": self.consent,
            "operator": str(self.operator) if self.operator is not None else "",
        }
        kept = {key: value for key, value in values.items() if value}
        return f"&{urlencode(kept)}" if kept else ""


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter form offers: only what this patient's photos have."""

    sites: list[tuple[str, str]]
    operators: list[tuple[int, str]]
    lateralities: list[Laterality]
    views: list[View]
    consents: dict[str, str]


def filter_choices(session: Session, patient: Patient) -> FilterChoices:
    mine = (Instance.patient_id == patient.id, images_in_force())
    codes = session.scalars(select(Instance.body_site_code).where(*mine).distinct()).all()
    operators = session.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(Instance.operator_id).where(*mine)))
        .order_by(User.display_name)
    ).all()
    return FilterChoices(
        sites=sorted(
            ((code, site_label(code)) for code in codes if code), key=lambda item: item[1]
        ),
        operators=[(ident, name) for ident, name in operators],
        lateralities=list(Laterality),
        views=list(View),
        consents=CONSENT_CHOICES,
    )
