"""The capture form every way in posts: a file and the fields of ``capture.fields``.

The API, the capture page and the bedside take the same form (each page sends the fields it
shows); each turns it into a capture command its own way and calls ``capture`` here, which
reads the file and carries the command out off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import anyio
from litestar.datastructures import UploadFile

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.command import CaptureCommand, ConfirmedPatient, Source
from pointcare.capture.fields import CaptureFields, read_command
from pointcare.capture.pipeline import Stored
from pointcare.domain.consent import ConsentAnswers
from pointcare.domain.objects import ObjectKind
from pointcare.errors import InvalidInput, PayloadTooLarge
from pointcare.runtime import Runtime

NO_FILE = {
    ObjectKind.PHOTO: "Take or choose a photo.",
    ObjectKind.VIDEO: "Record or choose a video clip.",
    ObjectKind.DOCUMENT: "Choose a PDF to send.",
}


@dataclass(kw_only=True)
class CaptureForm(CaptureFields):
    """Multipart form fields. Booleans are yes/no or true/false; dates ISO 8601 with an
    offset."""

    file: UploadFile | None = None

    def chosen(self) -> UploadFile | None:
        """The file, when one was chosen (a browser sends an empty part for none)."""
        if isinstance(self.file, UploadFile) and self.file.filename:
            return self.file
        return None


def now() -> datetime:
    return datetime.now().astimezone()


def command_of(
    form: CaptureForm,
    *,
    kind: ObjectKind,
    source: Source,
    patient: ConfirmedPatient | None = None,
    consent_record: tuple[int, ConsentAnswers] | None = None,
    session_id: str | None = None,
) -> CaptureCommand:
    """The capture command of ``form`` (``capture.fields.read_command``); ``InvalidInput``
    names every problem, a missing file among them."""
    missing = {} if form.chosen() is not None else {"file": NO_FILE[kind]}
    try:
        command = read_command(
            form,
            kind=kind,
            source=source,
            now=now(),
            patient=patient,
            consent_record=consent_record,
            session_id=session_id,
        )
    except InvalidInput as exc:
        exc.errors = {**missing, **exc.errors}
        raise
    if missing:
        raise InvalidInput(missing["file"], errors=missing)
    return command


async def capture(
    runtime: Runtime,
    principal: Principal,
    form: CaptureForm,
    command: CaptureCommand,
    *,
    actor: audit.Actor,
) -> Stored:
    """Read the form's file and store it as ``command`` says, off the event loop.

    Not under ``runtime.image_limiter``: the capture service bounds its decoding itself
    (``image_slots``), so that a photo waiting for the database or an fsync holds no core."""
    chosen = form.chosen()
    if chosen is None:
        message = NO_FILE[command.kind]
        raise InvalidInput(message, errors={"file": message})
    content = await chosen.read()
    limit = (
        runtime.settings.video_max_bytes
        if command.kind is ObjectKind.VIDEO
        else runtime.settings.max_upload_bytes
    )
    if len(content) > limit:
        raise PayloadTooLarge(f"The {command.kind.label} is larger than this server accepts.")
    store: Callable[[], Stored] = partial(
        runtime.capture.capture, principal, command, content, actor=actor
    )
    return await anyio.to_thread.run_sync(store)
