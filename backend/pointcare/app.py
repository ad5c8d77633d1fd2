"""The Litestar application: routes, dependencies, templates, static files, error handling."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from pathlib import Path

from litestar import Litestar, Router
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader, State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from pointcare import __version__
from pointcare.archive.forwarder import ForwarderThread
from pointcare.archive.reconcile import Reconciler
from pointcare.audit.anchor import CheckpointThread, checkpoint_now
from pointcare.auth.csrf import pre_session_cookie_middleware
from pointcare.identity.adt_feed import adt_lifespan
from pointcare.launch.logs import install_token_redaction
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings, proxy_networks
from pointcare.web.api.catalogue import list_body_sites, list_views
from pointcare.web.api.findings import FINDINGS_ROUTES
from pointcare.web.api.measurements import MEASUREMENT_ROUTES
from pointcare.web.api.patients import find_patients
from pointcare.web.api.photos import inspect_photo, upload_document, upload_photo, upload_video
from pointcare.web.api.wristbands import WRISTBAND_ROUTES
from pointcare.web.assets import STATIC_COMPRESSION, htmx_source, pwa_dir
from pointcare.web.deps import DEPENDENCIES
from pointcare.web.dicomweb import DICOMWEB_ROUTES
from pointcare.web.forwarded import forwarded_headers
from pointcare.web.headers import security_headers
from pointcare.web.health import healthz, ready
from pointcare.web.launch_binding import bound_patient_guard
from pointcare.web.limits import MAX_MULTIPART_PARTS, MULTIPART_HEADROOM, request_limits
from pointcare.web.metrics import metrics
from pointcare.web.openapi_problems import document_problems
from pointcare.web.pages import PAGE_ROUTES
from pointcare.web.pages.bedside import CLIP_ROUTES
from pointcare.web.problems import EXCEPTION_HANDLERS
from pointcare.web.refusals import audit_refusal
from pointcare.web.security import (
    RejectControlCharacters,
    authentication_middleware,
    csrf_protection,
    password_change_guard,
    session_lock_guard,
)
from pointcare.web.templating import configure_templates
from pointcare.web.uploads import keep_uploads_in_memory
from pointcare.web.viewer import VIEWER_ROUTES

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    forward_to_pacs: bool = True,
    reconcile_archive: bool = False,
    anchor_audit: bool = False,
) -> Litestar:
    """The application. With a PACS as the archive and ``forward_to_pacs``, a forwarder thread
    delivers the outbox while the app runs (started on startup, stopped on shutdown). With
    ``reconcile_archive`` (``pointcare serve``), a thread compares the archive's files with the
    index at start and every ``POINTCARE_RECONCILE_INTERVAL_MINUTES``; with ``anchor_audit``
    (``pointcare serve`` too), a thread writes the audit trail's checkpoints."""
    settings = settings or Settings.from_env()
    runtime = runtime or build_runtime(settings)
    keep_uploads_in_memory()
    static_dir: Path = pwa_dir() / "static"
    script = htmx_source(settings.htmx_src)
    forwarder = runtime.new_forwarder() if forward_to_pacs else None
    background = (
        ForwarderThread(forwarder, join_timeout=settings.dicomweb_timeout_seconds + 5)
        if forwarder is not None
        else None
    )

    reconciler = (
        Reconciler(
            runtime.db,
            runtime.files,
            grace=timedelta(minutes=settings.reconcile_grace_minutes),
            interval=timedelta(minutes=settings.reconcile_interval_minutes),
        )
        if reconcile_archive
        else None
    )

    checkpoints = (
        CheckpointThread(
            partial(
                checkpoint_now,
                runtime.db,
                settings.effective_audit_checkpoint_file,
                settings.effective_audit_key,
                syslog=settings.audit_syslog,
            ),
            settings.audit_checkpoint_seconds,
        )
        if anchor_audit
        else None
    )

    def on_startup() -> None:
        install_token_redaction()  # after the server set up logging: no launch token logged
        for thread in (background, reconciler, checkpoints):
            if thread is not None:
                thread.start()

    def on_shutdown() -> None:
        for thread in (background, reconciler, checkpoints):
            if thread is not None:
                thread.stop()
        runtime.close()

    app = Litestar(
        route_handlers=[
            healthz,
            ready,
            metrics,
            upload_photo,
            upload_document,
            inspect_photo,
            find_patients,
            list_body_sites,
            list_views,
            *WRISTBAND_ROUTES,
            *DICOMWEB_ROUTES,
            *VIEWER_ROUTES,
            # One Router, registered once: Litestar 2.25 registers a handler again each time
            # another handler joins its path, and a sync GET beside a sync POST on one path
            # would be wrapped for the worker thread twice (its answer: a coroutine).
            Router(path="/", route_handlers=PAGE_ROUTES),
            Router(path="/", route_handlers=[*FINDINGS_ROUTES, *MEASUREMENT_ROUTES]),
            # Clips are larger than photos: their routes take bodies up to the clip limit.
            Router(
                path="/",
                route_handlers=[upload_video, *CLIP_ROUTES],
                request_max_body_size=settings.video_max_bytes + MULTIPART_HEADROOM,
            ),
            create_static_files_router(
                path="/static",
                directories=[static_dir],
                cache_control=CacheControlHeader(max_age=3600),
                include_in_schema=False,
                middleware=[STATIC_COMPRESSION],
            ),
        ],
        dependencies=DEPENDENCIES,
        # A locked session opens nothing; a launch-bound one its patient, or one searched for;
        # a password an admin gave out opens nothing until changed.
        guards=[session_lock_guard, password_change_guard, bound_patient_guard],
        middleware=[
            forwarded_headers(proxy_networks(settings.trusted_proxies)),  # first: the real caller
            RejectControlCharacters,
            pre_session_cookie_middleware(secure=settings.secure_cookies),
            authentication_middleware(),
            request_limits(
                settings.max_upload_bytes, settings.video_max_bytes
            ),  # per route, before a body is read
        ],
        before_request=csrf_protection,
        before_send=[security_headers(script, settings)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        after_exception=[audit_refusal],  # every refusal (403) of a signed-in user, audited
        template_config=TemplateConfig(
            directory=pwa_dir() / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: configure_templates(engine, settings, script),
        ),
        openapi_config=OpenAPIConfig(
            title="Pointcare",
            version=__version__,
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        state=State({"runtime": runtime}),
        # The largest any route takes; web/limits.py holds each route to its own, smaller one.
        request_max_body_size=settings.max_upload_bytes + MULTIPART_HEADROOM,
        multipart_form_part_limit=MAX_MULTIPART_PARTS,
        on_startup=[on_startup],
        # Logging is the process's (``pointcare serve`` configures it; unhandled errors are
        # logged by web/problems.py). Litestar's default would start a queue-listener thread per
        # app, never stopped before exit: one more thread for every app a process builds.
        logging_config=None,
        on_shutdown=[on_shutdown],
        # The HL7 ADT listener (POINTCARE_ADT_PORT, `serve --adt-port`); stops before the db closes.
        lifespan=[adt_lifespan(runtime.db, settings)] if settings.adt_port else [],
    )
    document_problems(app)  # the OpenAPI document lists the problem JSON errors of each route
    return app
