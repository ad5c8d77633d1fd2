"""The thumbnail a list shows for a sealed photo: blurred on the server, beyond recognition.

The browser never receives the sharp pixels (a CSS blur alone can be switched off). The image
is shrunk to a few pixels and enlarged again, then smoothed: colours and layout remain, so the
list still looks like photos; shapes, faces and skin detail do not.
"""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageFilter

CELLS = 8
"""The longest side, in pixels, the image is reduced to before it is enlarged again."""


def blurred_jpeg(jpeg: bytes) -> bytes:
    with Image.open(BytesIO(jpeg)) as image:
        width, height = image.size  # the answer keeps the thumbnail's size
        image.draft("RGB", (CELLS * 8, CELLS * 8))  # decode at 1/8 scale when large
        picture = image.convert("RGB")
    scale = CELLS / max(width, height, 1)
    tiny = picture.resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX
    )
    smooth = tiny.resize((width, height), Image.Resampling.BILINEAR)
    smooth = smooth.filter(ImageFilter.GaussianBlur(radius=max(width, height) / (CELLS * 2)))
    output = BytesIO()
    smooth.save(output, "JPEG", quality=70)
    return output.getvalue()
