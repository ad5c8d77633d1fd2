"""The Litestar application: routes, dependencies, templates, static files, error handling."""

from __future__ import annotations

import logging
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
from pointcare.auth.csrf import pre_session_cookie_middleware
from pointcare.identity.adt_feed import adt_lifespan
from pointcare.launch.logs import install_token_redaction
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from pointcare.web.api.catalogue import list_body_sites, list_views
from pointcare.web.api.patients import find_patients
from pointcare.web.api.photos import inspect_photo, upload_document, upload_photo
from pointcare.web.api.wristbands import WRISTBAND_ROUTES
from pointcare.web.assets import htmx_source, pwa_dir
from pointcare.web.deps import DEPENDENCIES
from pointcare.web.dicomweb import DICOMWEB_ROUTES
from pointcare.web.headers import security_headers
from pointcare.web.health import healthz
from pointcare.web.launch_binding import bound_patient_guard
from pointcare.web.openapi_problems import document_problems
from pointcare.web.pages import PAGE_ROUTES
from pointcare.web.problems import EXCEPTION_HANDLERS
from pointcare.web.security import (
    RejectControlCharacters,
    authentication_middleware,
    csrf_protection,
)
from pointcare.web.templating import configure_templates
from pointcare.web.uploads import keep_uploads_in_memory
from pointcare.web.viewer import VIEWER_ROUTES

log = logging.getLogger(__name__)

MULTIPART_HEADROOM = 1024 * 1024
"""Room for the form fields around the photo in a multipart body."""


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    forward_to_pacs: bool = True,
) -> Litestar:
    """The application. With a PACS as the archive and ``forward_to_pacs``, a forwarder thread
    delivers the outbox while the app runs (started on startup, stopped on shutdown)."""
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

    def on_startup() -> None:
        install_token_redaction()  # after the server set up logging: no launch token logged
        if background is not None:
            background.start()

    def on_shutdown() -> None:
        if background is not None:
            background.stop()
        runtime.close()

    app = Litestar(
        route_handlers=[
            healthz,
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
            create_static_files_router(
                path="/static",
                directories=[static_dir],
                cache_control=CacheControlHeader(max_age=3600),
                include_in_schema=False,
            ),
        ],
        dependencies=DEPENDENCIES,
        guards=[bound_patient_guard],  # launch-bound sessions: their patient, or one searched for
        middleware=[
            RejectControlCharacters,
            pre_session_cookie_middleware(secure=settings.secure_cookies),
            authentication_middleware(),
        ],
        before_request=csrf_protection,
        before_send=[security_headers(script, settings)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
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
        request_max_body_size=settings.max_upload_bytes + MULTIPART_HEADROOM,
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
