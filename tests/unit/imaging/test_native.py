"""Finding the C libraries extensions have loaded, and declaring their functions."""

from __future__ import annotations

import ctypes
import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops, ImageStat

from pointcare.imaging import native, turbojpeg
from pointcare.imaging.photo import normalise_photo
from tests.support.tools import corpus


def test_a_loaded_library_is_found_by_its_file_name() -> None:
    path = native.loaded_library(re.compile(r"libc\.so"))
    assert path is not None and path.startswith("/") and "libc.so" in path


def test_a_library_not_loaded_is_not_found() -> None:
    assert native.loaded_library(re.compile(r"libnothing-such\.so")) is None


def test_declared_functions_get_their_types() -> None:
    libc = native.declared("libc.so.6", {"strlen": (ctypes.c_size_t, [ctypes.c_char_p])})
    assert libc.strlen(b"wound") == 5


def test_a_missing_function_is_an_error() -> None:
    with pytest.raises(AttributeError):
        native.declared("libc.so.6", {"no_such_function_here": (None, [])})


@pytest.fixture
def native_code_off() -> Iterator[None]:
    native.use_native_code(False)
    try:
        yield
    finally:
        native.use_native_code(True)


@pytest.mark.usefixtures("native_code_off")
@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("heic", "iphone_13_pro_max.heic"),
        ("heic", "iphone_IMG_5195.heic"),
        ("orientation", "portrait_6.jpg"),
    ],
)
def test_with_native_code_off_pillow_alone_gives_the_same_picture(folder: str, name: str) -> None:
    assert turbojpeg.library() is None
    data = corpus("photos", folder, name).read_bytes()
    alone = normalise_photo(data, max_pixels=50_000_000)
    native.use_native_code(True)
    with_native = normalise_photo(data, max_pixels=50_000_000)
    assert (alone.rows, alone.columns) == (with_native.rows, with_native.columns)
    with Image.open(io.BytesIO(alone.jpeg)) as a, Image.open(io.BytesIO(with_native.jpeg)) as b:
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        mean = sum(ImageStat.Stat(difference).mean) / 3
    assert mean < 2.0, mean  # the same picture, but for one JPEG generation
