"""Synthetic photos of a wound beside a calibration marker, with the truth known exactly.

A scene is a flat patch of skin (plane z = 0, millimetres) holding a printed marker sticker and
a wound whose outline is a known polygon. A pinhole camera looks at it from a chosen tilt,
rotation and distance; the photo is rendered by warping the patch drawn in plane coordinates
(cv2.warpPerspective), then blurred, given sensor noise and JPEG-compressed as a phone would.
The scene also gives the homography plane -> photo, so the outline's true position in the photo
(a perfect tracing) and its true area are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pointcare.measurement.marker import MARKER_SIDE_MM, MODULES, modules

Points = NDArray[np.float64]

STICKER_MM = 30.0
"""The sticker's white square around the marker (the quiet zone)."""


@dataclass(frozen=True)
class Camera:
    width: int
    height: int
    focal: float
    """In pixels."""
    tilt_deg: float
    """Angle between the plane's normal and the optical axis at the point looked at."""
    azimuth_deg: float
    """Direction in the plane towards which the camera leans."""
    roll_deg: float
    """Rotation of the camera about its optical axis (the photo's rotation)."""
    distance_mm: float
    look_at: tuple[float, float]

    def projection(self) -> NDArray[np.float64]:
        """3 x 4: world millimetres (the skin is the plane z = 0) to photo pixels."""
        theta, alpha = math.radians(self.tilt_deg), math.radians(self.azimuth_deg)
        towards = np.array(
            [math.sin(theta) * math.cos(alpha), math.sin(theta) * math.sin(alpha), -math.cos(theta)]
        )
        # The camera stands on the plane's negative side: looking along +z with the photo's x
        # and y along the plane's, a print (rows downwards) is seen unmirrored.
        target = np.array([*self.look_at, 0.0])
        centre = target + self.distance_mm * towards
        z = -towards
        helper = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
        x = np.cross(helper, z)
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        roll = math.radians(self.roll_deg)
        x, y = math.cos(roll) * x + math.sin(roll) * y, -math.sin(roll) * x + math.cos(roll) * y
        rotation = np.vstack([x, y, z])
        k = np.array(
            [[self.focal, 0, self.width / 2], [0, self.focal, self.height / 2], [0, 0, 1.0]]
        )
        return np.asarray(k @ np.column_stack([rotation, -rotation @ centre]))

    def plane_to_image(self) -> NDArray[np.float64]:
        """3 x 3: the skin's plane (millimetres) to photo pixels."""
        matrix = self.projection()[:, [0, 1, 3]]
        return np.asarray(matrix / matrix[2, 2])


def hinged_plane_to_image(
    camera: Camera, centre: tuple[float, float], hinge_deg: float, angle_deg: float
) -> NDArray[np.float64]:
    """3 x 3: a plane through ``centre`` turned ``angle_deg`` off the skin's about an axis in it
    at ``hinge_deg`` (a sticker on curved skin) to photo pixels, in the skin's coordinates."""
    hinge = math.radians(hinge_deg)
    axis = np.array([math.cos(hinge), math.sin(hinge), 0.0])
    turn = math.radians(angle_deg)
    # Rodrigues: the skin's axes turned about `axis`.
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + math.sin(turn) * cross + (1 - math.cos(turn)) * cross @ cross
    e1, e2 = rotation[:, 0], rotation[:, 1]
    origin = np.array([*centre, 0.0]) - centre[0] * e1 - centre[1] * e2
    embed = np.column_stack([np.append(e1, 0), np.append(e2, 0), np.append(origin, 1)])
    matrix = camera.projection() @ embed
    return np.asarray(matrix / matrix[2, 2])


def viewing_angle(
    plane_to_image: NDArray[np.float64],
    focal: float,
    width: int,
    height: int,
    point: tuple[float, float],
) -> float:
    """Degrees between the plane's normal and the line of sight to ``point`` of the plane."""
    k_inv = np.linalg.inv(np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]]))
    m = k_inv @ plane_to_image
    normal = np.cross(m[:, 0], m[:, 1])
    sight = m @ np.array([point[0], point[1], 1.0])
    cosine = abs(normal @ sight) / (np.linalg.norm(normal) * np.linalg.norm(sight))
    return math.degrees(math.acos(min(1.0, cosine)))


def ellipse(
    a_mm: float, b_mm: float, centre: tuple[float, float], angle_deg: float = 0.0, points: int = 720
) -> Points:
    t = np.linspace(0, 2 * math.pi, points, endpoint=False)
    local = np.column_stack([a_mm * np.cos(t), b_mm * np.sin(t)])
    return _place(local, centre, angle_deg)


def irregular(
    area_mm2: float,
    centre: tuple[float, float],
    rng: np.random.Generator,
    angle_deg: float = 0.0,
    points: int = 720,
) -> Points:
    """A star-shaped lobed outline scaled to enclose ``area_mm2`` exactly (as a polygon)."""
    t = np.linspace(0, 2 * math.pi, points, endpoint=False)
    radius = np.ones_like(t)
    for k in range(2, 7):
        radius += rng.uniform(0.02, 0.22 / k**0.5) * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    local = np.column_stack([radius * np.cos(t), radius * np.sin(t) * rng.uniform(0.55, 1.0)])
    local *= math.sqrt(area_mm2 / polygon_area(local))
    return _place(local, centre, angle_deg)


def _place(local: Points, centre: tuple[float, float], angle_deg: float) -> Points:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return np.asarray(local @ np.array([[c, s], [-s, c]]) + np.asarray(centre))


def polygon_area(points: Points) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def project(matrix: NDArray[np.float64], points: Points) -> Points:
    h = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    return np.asarray(h[:, :2] / h[:, 2:3])


@dataclass(frozen=True)
class Scene:
    image: NDArray[np.uint8]
    """The photo, BGR."""
    plane_to_image: NDArray[np.float64]
    outline_mm: Points
    marker_id: int

    @property
    def outline_px(self) -> Points:
        return project(self.plane_to_image, self.outline_mm)

    @property
    def area_cm2(self) -> float:
        return polygon_area(self.outline_mm) / 100


def render(
    camera: Camera,
    outline_mm: Points,
    rng: np.random.Generator,
    *,
    marker_id: int = 7,
    marker_centre: tuple[float, float] = (0.0, 0.0),
    marker_off_plane_deg: float = 0.0,
    marker_hinge_deg: float = 0.0,
    blur_px: float = 0.0,
    noise: float = 0.0,
    jpeg_quality: int | None = None,
) -> Scene:
    """The photo ``camera`` takes of skin holding the marker sticker and the wound.

    The skin is drawn at the photo's resolution; the wound and the sticker are each drawn in
    plane coordinates, on a patch at about twice the photo's finest resolution there, and warped
    into the photo (bilinear resampling then places every edge where the geometry puts it).
    """
    to_image = camera.plane_to_image()
    marker_to_image = hinged_plane_to_image(
        camera, marker_centre, marker_hinge_deg, marker_off_plane_deg
    )
    image = _skin(camera.width, camera.height, rng)
    half = STICKER_MM / 2 + 1
    cx, cy = marker_centre
    for box, draw, mapping in (
        (_box(outline_mm), lambda p, s: _wound(p, outline_mm, s, rng), to_image),
        (
            (cx - half, cy - half, cx + half, cy + half),
            lambda p, s: _marker(p, marker_id, marker_centre, s),
            marker_to_image,
        ),
    ):
        finest = _finest_px_per_mm(mapping, box)
        mm_per_px = max(1 / (2 * finest), max(box[2] - box[0], box[3] - box[1]) / 4000)
        size = (
            int(np.ceil((box[2] - box[0]) / mm_per_px)),
            int(np.ceil((box[3] - box[1]) / mm_per_px)),
        )
        patch_to_plane = np.array(
            [
                [mm_per_px, 0, box[0] + mm_per_px / 2],
                [0, mm_per_px, box[1] + mm_per_px / 2],
                [0, 0, 1.0],
            ]
        )
        colour, alpha = draw(np.linalg.inv(patch_to_plane), size)
        _composite(image, colour, alpha, mapping @ patch_to_plane)
    if blur_px > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur_px)
    if noise > 0:
        image += noise * rng.standard_normal(image.shape, dtype=np.float32)
    photo = np.clip(np.round(image), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        ok, encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        assert ok
        photo = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return Scene(np.asarray(photo, dtype=np.uint8), to_image, outline_mm, marker_id)


def _box(points: Points, margin: float = 2.0) -> tuple[float, float, float, float]:
    lo, hi = points.min(axis=0) - margin, points.max(axis=0) + margin
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _composite(
    image: NDArray[np.float32],
    colour: NDArray[np.float32],
    alpha: NDArray[np.float32],
    patch_to_image: NDArray[np.float64],
) -> None:
    """Lay a patch (colour and coverage) into the photo through ``patch_to_image``."""
    height, width = alpha.shape
    corners = project(
        patch_to_image, np.array([[-1, -1], [width, -1], [width, height], [-1, height]], float)
    )
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1 = min(image.shape[1], int(np.ceil(corners[:, 0].max())) + 1)
    y1 = min(image.shape[0], int(np.ceil(corners[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1.0]]) @ patch_to_image
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(colour, shift, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(alpha, shift, size, flags=cv2.INTER_LINEAR)[..., None]
    region = image[y0:y1, x0:x1]
    region[:] = region * (1 - cover) + warped * cover


def _finest_px_per_mm(
    to_image: NDArray[np.float64], box: tuple[float, float, float, float]
) -> float:
    """The most photo pixels one millimetre spans over ``box`` (plane mm)."""
    xs, ys = np.linspace(box[0], box[2], 5), np.linspace(box[1], box[3], 5)
    finest = 0.0
    for x in xs:
        for y in ys:
            here, right, down = project(to_image, np.array([[x, y], [x + 1, y], [x, y + 1]]))
            finest = max(
                finest, float(np.linalg.norm(right - here)), float(np.linalg.norm(down - here))
            )
    return finest


def _noise_field(
    width: int, height: int, feature_px: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Smooth noise with features about ``feature_px`` across, scaled to -1..1."""
    small = (max(2, int(width / feature_px) + 2), max(2, int(height / feature_px) + 2))
    coarse = rng.uniform(-1, 1, (small[1], small[0])).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC))


def _skin(width: int, height: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """Skin at the photo's resolution: a tone from dark to light, shading, mottling, pores."""
    # BGR: red above green above blue.
    lightness = rng.uniform(90, 235)
    tone = lightness * np.array([rng.uniform(0.55, 0.7), rng.uniform(0.72, 0.84), 1.0], np.float32)
    factor = 1 + 0.12 * _noise_field(width, height, 500, rng)
    factor += 0.05 * _noise_field(width, height, 40, rng)
    factor += 0.025 * rng.standard_normal((height, width), dtype=np.float32)
    return np.asarray(factor[..., None] * tone[None, None, :], dtype=np.float32)


def _wound(
    plane_to_patch: NDArray[np.float64],
    outline_mm: Points,
    size: tuple[int, int],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Granulation with patches of slough inside the outline."""
    width, height = size
    mm_per_px = 1 / plane_to_patch[0, 0]
    mask = np.zeros((height, width), np.uint8)
    # Without anti-aliasing a pixel is in when its centre is: unbiased in area on average.
    outline = project(plane_to_patch, outline_mm)
    cv2.fillPoly(mask, [np.round(outline * 16).astype(np.int32)], 255, cv2.LINE_8, shift=4)
    bed = np.array([rng.uniform(40, 90), rng.uniform(40, 90), rng.uniform(150, 210)], np.float32)
    slough_colour = np.array([90, 180, 200], np.float32)
    texture = 1 + 0.25 * _noise_field(width, height, 1.5 / mm_per_px, rng)
    slough = (_noise_field(width, height, 6 / mm_per_px, rng) > 0.5)[..., None]
    colour = np.where(slough, slough_colour, bed) * texture[..., None]
    return colour.astype(np.float32), (mask.astype(np.float32) / 255)


def _marker(
    plane_to_patch: NDArray[np.float64],
    marker_id: int,
    centre: tuple[float, float],
    size: tuple[int, int],
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The sticker and the marker's cells, each pixel shaded by the exact share of it they cover
    (the patch's axes are the plane's, so every cell is an axis-aligned rectangle)."""
    width, height = size
    cx, cy = centre
    half = STICKER_MM / 2
    sticker = np.zeros((height, width), np.float32)
    _add_coverage(sticker, plane_to_patch, (cx - half, cy - half, cx + half, cy + half))
    ink = np.zeros((height, width), np.float32)
    cell = MARKER_SIDE_MM / MODULES
    left, top = cx - MARKER_SIDE_MM / 2, cy - MARKER_SIDE_MM / 2
    for row, column in zip(*np.nonzero(modules(marker_id)), strict=True):
        x0, y0 = left + column * cell, top + row * cell
        _add_coverage(ink, plane_to_patch, (x0, y0, x0 + cell, y0 + cell))
    paper, black = np.array([238, 240, 242], np.float32), np.array([25, 25, 25], np.float32)
    ink = np.clip(ink, 0, 1)[..., None]
    return paper * (1 - ink) + black * ink, sticker


def _add_coverage(
    coverage: NDArray[np.float32],
    plane_to_patch: NDArray[np.float64],
    box: tuple[float, float, float, float],
) -> None:
    """Add the share of each pixel (centred on integer coordinates) inside ``box`` (plane mm)."""
    (u0, v0), (u1, v1) = project(plane_to_patch, np.array([box[:2], box[2:]]))
    height, width = coverage.shape
    i0, i1 = max(0, int(np.floor(u0 - 0.5))), min(width, int(np.ceil(u1 + 0.5)) + 1)
    j0, j1 = max(0, int(np.floor(v0 - 0.5))), min(height, int(np.ceil(v1 + 0.5)) + 1)
    across = np.arange(i0, i1, dtype=np.float64)
    down = np.arange(j0, j1, dtype=np.float64)
    cover_x = np.clip(np.minimum(across + 0.5, u1) - np.maximum(across - 0.5, u0), 0, 1)
    cover_y = np.clip(np.minimum(down + 0.5, v1) - np.maximum(down - 0.5, v0), 0, 1)
    coverage[j0:j1, i0:i1] += np.outer(cover_y, cover_x).astype(np.float32)


def marked_scene(seed: int = 7) -> Scene:
    """A 1600 x 1200 photo of a 2.8 x 1.6 cm elliptical wound beside its marker, seen 18° off
    square: what the API and page tests measure."""
    camera = Camera(1600, 1200, 1200.0, 18.0, 40.0, 10.0, 170.0, (20.0, 0.0))
    outline = ellipse(14.0, 8.0, (40.0, 4.0), 25.0)
    return render(camera, outline, np.random.default_rng(seed), blur_px=0.6, noise=1.0)


def scene_jpeg(scene: Scene, quality: int = 93) -> bytes:
    """The scene as a phone's JPEG."""
    ok, data = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the scene could not be encoded as JPEG")
    return bytes(data.tobytes())
