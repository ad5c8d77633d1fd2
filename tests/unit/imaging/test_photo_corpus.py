"""Real photos from cameras and phones (shared corpus): accepted, upright, stripped."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from pointcare.imaging import jpeg_markers
from tests.support.dicom_checks import jpeg_frame, jpeg_has_metadata, jpeg_size
from tests.support.tools import corpus
from tests.unit.imaging.conftest import (
    ACCEPTED_FOLDERS,
    NormaliseCorpus,
    accepted_photos,
    corpus_names,
)
from tests.unit.imaging.images import decode, mean_difference

# Why each corpus photo does or does not keep its own compressed data:
# - gps/*: baseline 4:2:2, orientation 1, no ICC -> kept (only EXIF/GPS/XMP removed);
# - phone/*: baseline 4:2:0, orientation 1, no ICC -> kept;
# - orientation/*_1: baseline but 4:4:4, and VL images may not be YBR_FULL -> re-encoded;
# - orientation/*_2.._8: EXIF-rotated (and an Apple "Generic RGB" profile) -> re-encoded;
# - odd-exif/*: 4:4:4, or (corrupted.jpg) damaged scan data libjpeg only recovers -> re-encoded;
# - heic/*: not JPEG -> re-encoded.
KEPT_FOLDERS = {"gps", "phone"}


@pytest.mark.parametrize("folder", ACCEPTED_FOLDERS)
def test_corpus_is_present(folder: str) -> None:
    assert corpus("photos", folder).is_dir()
    assert corpus_names(folder)


@pytest.mark.parametrize(("folder", "name"), accepted_photos())
def test_every_corpus_photo_is_accepted_stripped_and_consistent(
    normalised: NormaliseCorpus, folder: str, name: str
) -> None:
    photo = normalised(folder, name)

    assert photo.reencoded is (folder not in KEPT_FOLDERS)
    assert not jpeg_has_metadata(photo.jpeg)
    assert not jpeg_has_metadata(photo.thumbnail)
    marker, precision, width, height = jpeg_frame(photo.jpeg)
    assert (marker, precision) == (0xC0, 8)  # baseline, as JPEG Baseline (1.2.840.10008.1.2.4.50)
    assert (photo.columns, photo.rows) == (width, height)
    assert photo.photometric == "YBR_FULL_422"
    assert jpeg_markers.parse(photo.jpeg).chroma_subsampling in {"4:2:0", "4:2:2"}
    thumb_width, thumb_height = jpeg_size(photo.thumbnail)
    assert max(thumb_width, thumb_height) <= 320
    # Same shape as the photo (so it is upright too), within rounding.
    assert abs(thumb_width / thumb_height - photo.columns / photo.rows) < 0.05


@pytest.mark.parametrize(
    ("folder", "name"), [(f, n) for f in sorted(KEPT_FOLDERS) for n in corpus_names(f)]
)
def test_kept_jpegs_have_the_original_entropy_coded_data(
    normalised: NormaliseCorpus, folder: str, name: str
) -> None:
    original = corpus("photos", folder, name).read_bytes()
    photo = normalised(folder, name)
    scan = photo.jpeg[photo.jpeg.index(b"\xff\xda") : -2]
    assert scan in original
    assert len(photo.jpeg) < len(original)


def _upright(normalised: NormaliseCorpus, kind: str, number: int) -> Image.Image:
    photo = normalised("orientation", f"{kind}_{number}.jpg")
    return decode(photo.jpeg).reduce(5)


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_the_eight_orientations_give_the_same_upright_picture(
    normalised: NormaliseCorpus, kind: str
) -> None:
    reference = _upright(normalised, kind, 1)
    assert (reference.width > reference.height) is (kind == "landscape")
    for number in range(2, 9):
        picture = _upright(normalised, kind, number)
        assert picture.size == reference.size, number
        # The rotated files also carry Apple's Generic RGB profile, hence a little colour change.
        assert mean_difference(picture, reference) < 8, number


def test_the_orientation_comparison_would_catch_a_wrong_rotation() -> None:
    upright = decode(corpus("photos", "orientation", "landscape_1.jpg").read_bytes()).reduce(5)
    stored_upside_down = decode(
        corpus("photos", "orientation", "landscape_3.jpg").read_bytes()
    ).reduce(5)
    assert mean_difference(upright, stored_upside_down) > 20


def test_iphone_heic_is_stored_upright(normalised: NormaliseCorpus) -> None:
    # The iPhone 13 file holds a landscape sensor image with a 90 degree HEIF rotation.
    photo = normalised("heic", "iphone_13_pro_max.heic")
    assert (photo.columns, photo.rows) == (3024, 4032)


def test_display_p3_heic_comes_out_in_srgb(normalised: NormaliseCorpus) -> None:
    data = corpus("photos", "heic", "iphone_IMG_5195.heic").read_bytes()
    with Image.open(io.BytesIO(data)) as source:
        p3 = ImageCms.ImageCmsProfile(io.BytesIO(source.info["icc_profile"]))
        as_if_srgb = source.convert("RGB").reduce(8)
    expected = ImageCms.profileToProfile(
        as_if_srgb, p3, ImageCms.createProfile("sRGB"), outputMode="RGB"
    )
    assert expected is not None

    stored = decode(normalised("heic", "iphone_IMG_5195.heic").jpeg).reduce(8)

    assert b"ICC_PROFILE" not in normalised("heic", "iphone_IMG_5195.heic").jpeg
    assert mean_difference(stored, expected) < 1.5
    assert mean_difference(stored, as_if_srgb) > 1.5  # the conversion did change the pixels
