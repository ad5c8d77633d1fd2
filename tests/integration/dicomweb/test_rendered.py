"""Rendered images at every level (PS3.18 10.4.1.1.3): JPEG and PNG, viewport and quality."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import wado
from tests.integration.dicomweb.conftest import Archive, multipart_parts

Client = TestClient[Litestar]
Indexed = Callable[[str], Instance]
JPEG_PARTS = 'multipart/related; type="image/jpeg"'
PNG_PARTS = 'multipart/related; type="image/png"'


def image_of(data: bytes, kind: str) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        assert image.format == kind
        return image.size


def stored_frame(client: Client, reviewer: dict[str, str], path: str) -> bytes:
    response = client.get(path + "/frames/1", headers={**reviewer, "Accept": "image/jpeg"})
    assert response.status_code == 200
    return response.content


def test_an_instance_rendered_without_options_is_the_stored_jpeg(
    client: Client, reviewer: dict[str, str], archive: Archive, indexed: Indexed
) -> None:
    for accept in (None, "image/jpeg", "image/*", "*/*"):
        headers = reviewer if accept is None else {**reviewer, "Accept": accept}
        response = client.get(archive.second.path + "/rendered", headers=headers)
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content == stored_frame(client, reviewer, archive.second.path)
    row = indexed(archive.second.sop)
    assert image_of(response.content, "JPEG") == (row.columns, row.rows)


def test_an_instance_rendered_as_png(
    client: Client, reviewer: dict[str, str], archive: Archive, indexed: Indexed
) -> None:
    response = client.get(
        archive.first.path + "/rendered", headers={**reviewer, "Accept": "image/png"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    row = indexed(archive.first.sop)
    assert image_of(response.content, "PNG") == (row.columns, row.rows)


@pytest.mark.parametrize(("accept", "kind"), [("image/jpeg", "JPEG"), ("image/png", "PNG")])
def test_the_viewport_is_fitted_keeping_the_aspect_ratio(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    indexed: Indexed,
    accept: str,
    kind: str,
) -> None:
    row = indexed(archive.first.sop)  # 640 x 480
    for path in (archive.first.path + "/rendered", archive.first.path + "/frames/1/rendered"):
        response = client.get(
            path, params={"viewport": "200,200"}, headers={**reviewer, "Accept": accept}
        )
        assert response.status_code == 200, path
        width, height = image_of(response.content, kind)
        assert max(width, height) == 200
        assert abs(width / height - row.columns / row.rows) < 0.02


def test_quality_changes_the_jpeg(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    sizes = [
        len(
            client.get(
                archive.first.path + "/rendered", params={"quality": q}, headers=reviewer
            ).content
        )
        for q in ("10", "95")
    ]
    assert sizes[0] < sizes[1] / 2


@pytest.mark.parametrize(
    ("accept", "kind"), [(JPEG_PARTS, "JPEG"), (PNG_PARTS, "PNG"), ("*/*", "JPEG")]
)
def test_a_study_and_a_series_are_rendered_one_part_per_photo(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    indexed: Indexed,
    accept: str,
    kind: str,
) -> None:
    study = f"/dicomweb/studies/{archive.first.study}"
    for path in (study, f"{study}/series/{archive.first.series}"):
        response = client.get(
            path + "/rendered",
            params={"viewport": "100,100"},
            headers={**reviewer, "Accept": accept},
        )
        assert response.status_code == 200, response.text
        parts = multipart_parts(response.headers["content-type"], response.content)
        assert [part_type for part_type, _ in parts] == [f"image/{kind.lower()}"] * 2
        expected = []
        for photo in (archive.first, archive.second):
            row = indexed(photo.sop)
            scale = 100 / max(row.rows, row.columns)
            expected.append((round(row.columns * scale), round(row.rows * scale)))
        sizes = [image_of(data, kind) for _, data in parts]
        for size, wanted in zip(sizes, expected, strict=True):
            assert abs(size[0] - wanted[0]) <= 1 and abs(size[1] - wanted[1]) <= 1


def test_a_study_is_never_rendered_as_a_single_part(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    """PS3.18 10.4.4: single-part media types name single items; a study is not one."""
    response = client.get(
        f"/dicomweb/studies/{archive.other_patient.study}/rendered",
        headers={**reviewer, "Accept": "image/jpeg"},
    )
    assert response.status_code == 406
    assert JPEG_PARTS in response.json()["detail"]


def test_several_frames_rendered_are_several_parts_and_missing_frames_are_not_found(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    assert (
        client.get(archive.first.path + "/frames/2/rendered", headers=reviewer).status_code == 404
    )
    response = client.get(
        archive.first.path + "/frames/1,1/rendered", headers={**reviewer, "Accept": JPEG_PARTS}
    )
    assert response.status_code == 200
    assert len(multipart_parts(response.headers["content-type"], response.content)) == 2


@pytest.mark.parametrize(
    "params",
    [{"viewport": "200"}, {"viewport": "0,10"}, {"viewport": "1,2,3,4,5,6"}, {"quality": "0"}],
)
def test_bad_rendering_options_are_refused(
    client: Client, reviewer: dict[str, str], archive: Archive, params: dict[str, str]
) -> None:
    for path in (
        archive.first.path + "/rendered",
        f"/dicomweb/studies/{archive.first.study}/rendered",
    ):
        response = client.get(path, params=params, headers=reviewer)
        assert response.status_code == 400
        assert response.json()["detail"]


def test_other_rendered_types_are_not_acceptable(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get(
        archive.first.path + "/rendered", headers={**reviewer, "Accept": "image/gif"}
    )
    assert response.status_code == 406
    assert "image/jpeg or image/png" in response.json()["detail"]


def test_every_rendering_is_made_within_the_limit_on_concurrent_transcodes(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One image or one part of many: each decode holds a slot of the limit while it is made,
    so a burst of viewer requests cannot hold more decoded photos than the setting allows."""
    slots_taken: list[float] = []
    render = wado.rendered

    def counted(*args: Any, **kwargs: Any) -> bytes:
        slots_taken.append(runtime.transcode_limiter.borrowed_tokens)
        return render(*args, **kwargs)

    monkeypatch.setattr(wado, "rendered", counted)
    paths = [
        (archive.first.path + "/rendered", "image/jpeg"),
        (archive.first.path + "/frames/1/rendered", "image/png"),
        (archive.first.path.rsplit("/instances/", 1)[0] + "/rendered", JPEG_PARTS),
    ]
    for path, accept in paths:
        slots_taken.clear()
        response = client.get(path, headers={**reviewer, "Accept": accept})
        assert response.status_code == 200, path
        assert slots_taken, path
        assert all(taken == 1 for taken in slots_taken), (path, slots_taken)
