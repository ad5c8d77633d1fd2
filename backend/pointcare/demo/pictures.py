"""Pictures for the demo, drawn here: skin, a wound or burn of a given size, a paper ruler.

Nothing is downloaded and no real patient is shown. Each picture is made from a seed, so the
same demo looks the same on every machine; a wound photographed over weeks is the same wound,
smaller each time. Drawn at a modest size: the demo is made at start and must be quick.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

from PIL import Image, ImageDraw, ImageFilter, ImageFont

WIDTH, HEIGHT = 1200, 900
PIXELS_PER_CM = 60
"""The ruler's scale: a wound of 4 cm is 240 pixels across."""


class Lesion(StrEnum):
    ULCER = "ulcer"
    """Red granulation with yellow slough, a darker rim."""
    PRESSURE = "pressure"
    """A deeper, darker centre (a pressure injury over bone)."""
    BURN = "burn"
    """Pink and red, blistered, irregular."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scene:
    seed: int
    """The same seed draws the same skin and the same wound outline."""
    lesion: Lesion
    size_cm: float
    """Across the longest side; shrinks visit by visit as it heals."""
    skin: tuple[int, int, int] = (224, 178, 150)
    shift: tuple[int, int] = (0, 0)
    """Where the camera stood this visit: the wound is never at quite the same place."""


def draw(scene: Scene) -> bytes:
    """The scene as a JPEG (sRGB, no metadata), as a phone would send it."""
    rng = random.Random(scene.seed)  # noqa: S311 (a drawing, not a secret)
    image = _skin(scene.skin, scene.seed).copy()
    _lesion(image, scene, rng)
    _ruler(image)
    out = BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def _skin(tone: tuple[int, int, int], seed: int) -> Image.Image:
    """Skin under a lamp: the tone, lit from one side, with pores and a little mottling. The
    same for every visit of a wound (cached: it is half the drawing)."""
    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    light = Image.radial_gradient("L").resize((WIDTH * 2, HEIGHT * 2))
    left, top = rng.randrange(WIDTH // 2), rng.randrange(HEIGHT // 2)
    light = light.crop((left, top, left + WIDTH, top + HEIGHT))
    shade = Image.new("RGB", (WIDTH, HEIGHT), tuple(int(c * 0.72) for c in tone))
    image = Image.composite(shade, Image.new("RGB", (WIDTH, HEIGHT), tone), light)
    pores = Image.effect_noise((WIDTH // 3, HEIGHT // 3), 28).resize((WIDTH, HEIGHT))
    mottled = Image.merge("RGB", (pores, pores, pores))
    return Image.blend(image, Image.composite(image, mottled, Image.new("L", image.size, 215)), 0.5)


def _outline(rng: random.Random, cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """An irregular closed edge: a circle whose radius wanders, the same for one seed."""
    phases = [rng.uniform(0, math.tau) for _ in range(4)]
    weights = [rng.uniform(0.05, 0.16) for _ in range(4)]
    stretch = rng.uniform(1.15, 1.5)
    points = []
    for step in range(96):
        t = math.tau * step / 96
        wobble = 1 + sum(
            w * math.sin((k + 2) * t + p)
            for k, (w, p) in enumerate(zip(weights, phases, strict=True))
        )
        points.append(
            (cx + radius * stretch * wobble * math.cos(t), cy + radius * wobble * math.sin(t))
        )
    return points


_BED = {Lesion.ULCER: (170, 38, 44), Lesion.PRESSURE: (120, 30, 34), Lesion.BURN: (226, 110, 112)}
_SPOTS = {
    Lesion.ULCER: (231, 205, 120),
    Lesion.PRESSURE: (60, 30, 28),
    Lesion.BURN: (246, 226, 210),
}


def _lesion(image: Image.Image, scene: Scene, rng: random.Random) -> None:
    radius = scene.size_cm * PIXELS_PER_CM / 2 / 1.3
    # Drawn in a box around the lesion only: blurring the whole frame is what takes time.
    half = int(radius * 2.6) + 24
    cx, cy = WIDTH * 0.47 + scene.shift[0], HEIGHT * 0.42 + scene.shift[1]
    box = (int(cx) - half, int(cy) - half, int(cx) + half, int(cy) + half)
    patch = image.crop(box)
    size, centre = patch.size, (half, half)
    edge = _outline(rng, *centre, radius)
    halo = Image.new("L", size, 0)
    ImageDraw.Draw(halo).polygon(_outline(rng, *centre, radius * 1.45), fill=120)
    halo = halo.filter(ImageFilter.GaussianBlur(radius * 0.18 + 4))
    patch.paste(Image.new("RGB", size, (196, 92, 86)), mask=halo)
    wound = Image.new("L", size, 0)
    ImageDraw.Draw(wound).polygon(edge, fill=255)
    wound = wound.filter(ImageFilter.GaussianBlur(2))
    grain = Image.effect_noise((size[0] // 3, size[1] // 3), 40).resize(size)
    bed = Image.composite(
        Image.new("RGB", size, _BED[scene.lesion]),
        Image.new("RGB", size, (205, 70, 70)),
        grain.point(lambda v: 255 if v > 118 else 90),
    )
    patch.paste(bed, mask=wound)
    draw = ImageDraw.Draw(patch)
    for _ in range(int(3 + scene.size_cm * 2)):
        angle, reach = rng.uniform(0, math.tau), rng.uniform(0, 0.65) * radius
        x, y = half + reach * 1.2 * math.cos(angle), half + reach * math.sin(angle)
        r = rng.uniform(0.08, 0.2) * radius
        draw.ellipse((x - r * 1.3, y - r, x + r * 1.3, y + r), fill=_SPOTS[scene.lesion])
    image.paste(patch, box)


def _ruler(image: Image.Image) -> None:
    """A paper wound ruler below the wound, in centimetres, as nurses lay one beside it."""
    left, top, length = 140, HEIGHT - 170, 11
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (left - 20, top, left + length * PIXELS_PER_CM + 20, top + 86),
        fill=(246, 246, 240),
        outline=(120, 120, 120),
        width=2,
    )
    font = ImageFont.load_default(size=22)
    for mm in range(length * 10 + 1):
        x = left + mm * PIXELS_PER_CM / 10
        tall = 34 if mm % 10 == 0 else (22 if mm % 5 == 0 else 12)
        draw.line([(x, top), (x, top + tall)], fill=(30, 30, 30), width=2 if mm % 10 == 0 else 1)
        if mm % 10 == 0:
            draw.text((x, top + 40), str(mm // 10), fill=(30, 30, 30), font=font, anchor="mt")
    draw.text(
        (left + length * PIXELS_PER_CM + 14, top + 40),
        "cm",
        fill=(30, 30, 30),
        font=font,
        anchor="lt",
    )
