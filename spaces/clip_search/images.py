"""Reading any image file into a small RGB picture, in bounded memory, and keeping thumbnails.

CLIP sees 224 px; a phone shows a few hundred. So nothing here ever holds a full-size photo:
JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (`draft`), other formats are refused
above MAX_DECODED_PIXELS before a single pixel is decoded, and what is kept is at most
WORKING_SIDE pixels wide. Every mode becomes 8-bit RGB: grayscale, palette, CMYK, 16-bit and
float TIFFs (stretched to their own range), transparency (flattened on white).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from shared.atomic_write import atomic_write

WORKING_SIDE = 768  # enough for any CLIP input size, small enough to hold a batch of them
THUMBNAIL_SIDE = 320  # a third of a phone screen at 3 device pixels per CSS pixel
MAX_DECODED_PIXELS = 60_000_000  # ~240 MB while decoding, the worst case a request may cost
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")


class UnreadableImage(ValueError):
    """The file is not an image we can read. `kind` ("not_an_image", "too_large", "damaged") and
    `values` let a user interface say it in its own words; the message says it in English."""

    def __init__(self, kind: str, message: str, **values):
        self.kind, self.values = kind, values
        super().__init__(message)


def too_large(pixels: int) -> UnreadableImage:
    megapixels, limit = round(pixels / 1e6), MAX_DECODED_PIXELS // 1_000_000
    return UnreadableImage(
        "too_large",
        f"{megapixels} megapixels is more than the {limit} this server decodes (JPEGs of any size are fine)",
        megapixels=megapixels,
        limit=limit,
    )


def load_image(source: str | Path, side: int = WORKING_SIDE) -> Image.Image:
    """The picture in `source`, as RGB with its longest side at most `side` pixels."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 Mpx and refuses above ~179 Mpx; our own limit below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
    except Image.DecompressionBombError as error:  # "Image size (N pixels) exceeds limit of..."
        raise too_large(int(re.search(r"\d+", str(error)).group())) from None
    except UnidentifiedImageError:
        raise UnreadableImage("not_an_image", "not an image file") from None
    except OSError as error:
        raise UnreadableImage("damaged", f"cannot read it ({error})", detail=str(error)) from None
    with image:
        try:
            image.draft("RGB", (side, side))  # JPEG only: libjpeg decodes at a reduced scale
            if image.width * image.height > MAX_DECODED_PIXELS:
                raise too_large(image.width * image.height)
            image.load()
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation apart
            image = to_rgb(image)
        except (OSError, ValueError, SyntaxError) as error:
            if isinstance(error, UnreadableImage):
                raise
            raise UnreadableImage("damaged", f"damaged image ({error})", detail=str(error)) from None
    image.thumbnail((side, side), Image.Resampling.BICUBIC)
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16-bit and float rasters (elevation, infrared, raw sensors): stretch their own range.
        values = np.asarray(image, dtype=np.float32)
        low, high = np.percentile(values, (0.5, 99.5)) if values.size else (0.0, 1.0)
        scaled = np.clip((values - low) / max(float(high - low), 1e-6) * 255.0, 0, 255)
        image = Image.fromarray(scaled.astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
        flattened = Image.new("RGB", image.size, (255, 255, 255))
        flattened.paste(image, mask=image.getchannel("A"))
        return flattened
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV, RGB


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_thumbnail(image: Image.Image, folder: Path, name: str) -> Path:
    """A small JPEG of `image` at folder/<name[:2]>/<name>.jpg, written once (names are hashes)."""
    path = folder / name[:2] / f"{name}.jpg"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BICUBIC)
    with atomic_write(path) as file:
        thumbnail.save(file, format="JPEG", quality=85)
    return path
