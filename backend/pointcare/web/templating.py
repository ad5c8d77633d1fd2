"""Jinja globals and filters every template may use."""

from __future__ import annotations

from datetime import date, datetime

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.contrib.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape

from pointcare import __version__
from pointcare.auth.csrf import token_for
from pointcare.domain.body_sites import (
    BODY_SITES,
    SITE_ASPECTS,
    Laterality,
    aspect_word,
    laterality_label,
    site_label,
    site_with_side,
)
from pointcare.domain.clock import at_offset
from pointcare.domain.findings import FindingKind
from pointcare.domain.patients import age_on
from pointcare.domain.views import View
from pointcare.settings import Settings
from pointcare.web.assets import STATIC_URL, ScriptSource, module_imports


def age(birth_date: date | None) -> str:
    """Age as the banner shows it: years, or months for children under two."""
    if birth_date is None:
        return ""
    today = date.today()
    years = age_on(birth_date, today)
    if years >= 2:
        return f"{years} y"
    months = (today.year - birth_date.year) * 12 + today.month - birth_date.month
    if today.day < birth_date.day:
        months -= 1
    return f"{max(months, 0)} mo"


def local_time(moment: datetime, offset_minutes: int = 0) -> str:
    return at_offset(moment, offset_minutes).strftime("%Y-%m-%d %H:%M")


@pass_context
def csrf_token(context: Context) -> str:
    """The request's CSRF token (``pointcare.auth.csrf``); empty outside a request."""
    request = context.get("request")
    if request is None:
        return ""
    return token_for(request, request.app.state.runtime.settings.secret_key)


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden form field carrying the request's CSRF token, for every state-changing form."""
    token = csrf_token(context)
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


def module_script(entry: str) -> Markup:
    """The page's module script (``entry``: its path under static/), with every module it
    imports preloaded, so that all of them are fetched at once."""
    links = Markup("").join(
        Markup('<link rel="modulepreload" href="{}">').format(STATIC_URL + module)
        for module in module_imports(entry)
    )
    return links + Markup('<script type="module" src="{}"></script>').format(STATIC_URL + entry)


def configure_templates(
    engine: JinjaTemplateEngine, settings: Settings, script: ScriptSource
) -> None:
    env = engine.engine
    env.globals.update(
        htmx=script,
        app_version=__version__,
        institution=settings.institution_name,
        body_sites=BODY_SITES,
        lateralities=list(Laterality),
        aspects=SITE_ASPECTS,
        site_with_side=site_with_side,
        site_aspect_words=lambda site: {a.value: site.aspect_word(a) for a in site.aspects},
        views=list(View),
        csrf_token=csrf_token,
        csrf_field=csrf_field,
        module_script=module_script,
    )
    env.filters.update(
        site_label=site_label,
        laterality_label=laterality_label,
        aspect_word=aspect_word,
        age=age,
        local_time=local_time,
        finding_kind=lambda kind: FindingKind(kind).label,
    )
