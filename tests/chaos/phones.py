"""Phones as the bedside page sends photos, and the checks of what became of them.

A phone sends each photo with its own ``capture_id``; a network error or a 5xx is sent again,
same ``capture_id``, after a growing pause (as ``static/js`` does), for up to ``patience``
seconds; a 4xx is not. What matters afterwards: was it acknowledged, can it be read back.
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from PIL import Image, ImageDraw

from tests.integration.faults.conftest import FOREARM, PATIENT, WADO_ACCEPT, wado_path
from tests.support.consent import CLINICAL_ONLY


@dataclass
class Shot:
    photo: bytes
    capture_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    answer: dict[str, str] | None = None
    statuses: list[int] = field(default_factory=list)
    """Every answer's status; 0 for a network error."""


def photo(number: int, *, size: tuple[int, int] = (640, 480), noise: bool = False) -> bytes:
    """A JPEG that differs from every other number; ``noise`` makes it large (about 1 MB at
    1600x1200), to fill a disk."""
    if noise:
        image = Image.effect_noise(size, 60).convert("RGB")
    else:
        image = Image.new("RGB", size, ((number * 37) % 256, (number * 91) % 256, 160))
    ImageDraw.Draw(image).text((40, 40), f"chaos {number}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Phones:
    def __init__(
        self,
        base_url: Callable[[], str],
        headers: dict[str, str],
        *,
        count: int = 3,
        patience: float = 180.0,
    ) -> None:
        self.base_url = base_url
        self.headers = headers
        self.count = count
        self.patience = patience
        self.shots: list[Shot] = []
        """The photos of the current ``send``, for other threads to watch."""

    def send(self, photos: Sequence[bytes], *, pause: float = 0.0) -> list[Shot]:
        """Send every photo (``pause`` seconds apart on each phone); what each was told."""
        shots = [Shot(data) for data in photos]
        self.shots = shots
        session_id = str(uuid.uuid4())

        def phone(number: int) -> None:
            with httpx.Client(timeout=60) as client:
                for shot in shots[number :: self.count]:
                    self._send_one(client, shot, session_id)
                    time.sleep(pause)

        with ThreadPoolExecutor(self.count) as pool:
            list(pool.map(phone, range(self.count)))
        return shots

    def _send_one(self, client: httpx.Client, shot: Shot, session_id: str) -> None:
        deadline = time.monotonic() + self.patience
        wait = 0.2
        while time.monotonic() < deadline:
            try:
                response = client.post(
                    self.base_url() + "/api/v1/photos",
                    data={
                        "patient_id": PATIENT,
                        "body_site": FOREARM,
                        "laterality": "L",
                        "capture_id": shot.capture_id,
                        "session_id": session_id,
                        "captured_at": "2026-05-04T10:15:00+02:00",
                        **CLINICAL_ONLY,
                    },
                    files={"file": ("photo.jpg", shot.photo, "image/jpeg")},
                    headers=self.headers,
                )
            except httpx.HTTPError:
                shot.statuses.append(0)
            else:
                shot.statuses.append(response.status_code)
                if response.status_code in (200, 201):
                    shot.answer = response.json()
                    return
                if response.status_code < 500:
                    return  # refused: changing the request is the user's call
            time.sleep(wait * random.uniform(0.5, 1.0))  # jitter, not security
            wait = min(wait * 2, 3.0)


def readable(base_url: str, headers: dict[str, str], shots: Sequence[Shot]) -> int:
    """How many acknowledged photos WADO-RS gives back (through Pointcare)."""
    found = 0
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for shot in shots:
            if shot.answer is None:
                continue
            response = client.get(wado_path(shot.answer), headers={**headers, **WADO_ACCEPT})
            found += (
                response.status_code == 200
                and shot.answer["sop_instance_uid"].encode() in response.content
            )
    return found


def acknowledged(shots: Sequence[Shot]) -> int:
    return sum(shot.answer is not None for shot in shots)


def status_counts(shots: Sequence[Shot]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for shot in shots:
        for status in shot.statuses:
            counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))
