"""Finding the C libraries extensions have loaded, and declaring their functions."""

from __future__ import annotations

import ctypes
import re

import pytest

from pointcare.imaging import native


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
