"""Uploads that must be refused, with a plain message, quickly, and never with a crash."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointcare.imaging.photo import (
    ImageTooLarge,
    PhotoRejected,
    UnreadableImage,
    UnsupportedImage,
    normalise_photo,
)
from tests.support.tools import corpus
from tests.unit.imaging.conftest import corpus_names
from tests.unit.imaging.images import (
    heic_bytes,
    jpeg_bytes,
    patched_jpeg_size,
    patched_png_size,
    png_bytes,
    scene,
)

MAX_PIXELS = 10_000_000
_TECHNICAL_WORDS = ("PIL", "Error", "errno", "struct", "Traceback", "0x", "libheif")


def _refusal(data: bytes, *, max_pixels: int = MAX_PIXELS) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        normalise_photo(data, max_pixels=max_pixels)
    message = str(caught.value)
    assert message.endswith(".")
    assert not any(word in message for word in _TECHNICAL_WORDS), message
    return caught.value


@pytest.mark.parametrize("name", corpus_names("invalid"))
def test_every_invalid_corpus_file_is_refused(name: str) -> None:
    data = corpus("photos", "invalid", name).read_bytes()
    refusal = _refusal(data)
    expected = UnsupportedImage if not data else UnreadableImage
    assert isinstance(refusal, expected)


def test_heic_whose_secondary_image_is_cut_off_is_refused() -> None:
    """Its primary image decodes alone; the file is whole only if every image decodes."""
    refusal = _refusal(corpus("photos", "invalid", "truncated.heic").read_bytes())
    assert isinstance(refusal, UnreadableImage)


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated_phone_jpeg_is_refused(cut: float) -> None:
    data = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    assert isinstance(_refusal(data[: int(len(data) * cut)]), UnreadableImage)


@pytest.mark.parametrize(
    "data",
    [
        jpeg_bytes(scene((320, 240)), subsampling=2)[:-2],  # only EOI missing (kept path)
        jpeg_bytes(scene((320, 240)), progressive=True)[:-300],  # re-encode path
        png_bytes(scene((320, 240)))[:-40],
        heic_bytes(scene((320, 240)))[:-60],
    ],
    ids=["baseline-without-eoi", "progressive", "png", "heic"],
)
def test_truncated_files_of_every_kind_are_refused(data: bytes) -> None:
    assert isinstance(_refusal(data), UnreadableImage)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00;",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF",
        bytes(range(256)) * 4,
    ],
    ids=["empty", "gif", "pdf", "random"],
)
def test_other_files_are_unsupported(data: bytes) -> None:
    assert isinstance(_refusal(data), UnsupportedImage)


def test_huge_png_is_refused_from_its_header_without_decoding() -> None:
    bomb = patched_png_size(png_bytes(scene((8, 8))), 20_000, 20_000)
    started = time.perf_counter()
    refusal = _refusal(bomb)
    assert time.perf_counter() - started < 0.5
    assert isinstance(refusal, ImageTooLarge)
    assert "20000 x 20000" in str(refusal)


def test_huge_jpeg_is_refused_from_its_frame_header() -> None:
    bomb = patched_jpeg_size(jpeg_bytes(scene((8, 8))), 30_000, 30_000)
    assert isinstance(_refusal(bomb), ImageTooLarge)


def test_pillows_own_bomb_guard_is_reported_as_too_large() -> None:
    """Above Pillow's limit (2 x 89.5 Mpx) Image.open refuses even when max_pixels allows it."""
    bomb = patched_png_size(png_bytes(scene((8, 8))), 20_000, 20_000)
    assert isinstance(_refusal(bomb, max_pixels=10**9), ImageTooLarge)


def test_photo_just_within_the_limit_is_accepted() -> None:
    data = jpeg_bytes(scene((100, 50)), subsampling=2)
    assert normalise_photo(data, max_pixels=5000).rows == 50
    assert isinstance(_refusal(data, max_pixels=4999), ImageTooLarge)


_SMALL_JPEG = jpeg_bytes(scene((96, 64)), subsampling=2)
_SAMPLES = {
    "jpeg": _SMALL_JPEG,
    "progressive": jpeg_bytes(scene((96, 64)), progressive=True),
    "png": png_bytes(scene((96, 64))),
    "heic": heic_bytes(scene((96, 64))),
}
_MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", b""]


def _only_refusals(data: bytes) -> None:
    try:
        photo = normalise_photo(data, max_pixels=MAX_PIXELS)
    except PhotoRejected:
        return
    assert photo.jpeg.startswith(b"\xff\xd8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(magic=st.sampled_from(_MAGIC), body=st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_a_refusal(magic: bytes, body: bytes) -> None:
    _only_refusals(magic + body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(_SAMPLES)),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4),
)
def test_damaged_real_files_never_raise_anything_but_a_refusal(
    kind: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(_SAMPLES[kind][: max(1, int(len(_SAMPLES[kind]) * cut))])
    for where, value in flips:
        data[min(len(data) - 1, int(where * len(data)))] = value
    _only_refusals(bytes(data))
