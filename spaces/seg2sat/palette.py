"""The FLAIR land-cover palette, and turning any picture into a sketch the ControlNet can read.

Seg2Sat's ControlNet was trained on IGN's FLAIR label maps, where each class has one exact colour
(shared/flair.py). It reads colours, not class numbers, so a sketch must hold those colours and no
others: hand-drawn strokes carry hundreds of smoothed in-between colours at their edges, and an
uploaded mask may be any size, transparent or grey. `prepare_sketch` makes any such picture a
square `size` × `size` RGB image of palette colours only; `snap_to_palette` does the colour part.

Gradio-free: numpy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from shared.flair import CLASS_BY_ENGLISH_NAME, FLAIR_CLASSES, LandCoverClass

# The published drawing tool offers classes 1-16: 17-19 are too rare in FLAIR to render well.
DRAWING_CLASSES = FLAIR_CLASSES[:16]
# A fresh canvas is all deciduous forest, as in the original; transparent pixels become it too.
BACKGROUND_CLASS = CLASS_BY_ENGLISH_NAME["deciduous"]

# Snapping targets all 19 colours: an uploaded FLAIR mask keeps its classes 17-19 exactly.
PALETTE_RGB = np.array([land_cover.rgb for land_cover in FLAIR_CLASSES], dtype=np.int32)

# Browsers draw the canvas a level or two off the exact colours; farther than this from its class
# colour, a pixel was really off the palette (a smoothed stroke edge, a photograph).
OFF_PALETTE_TOLERANCE = 8

# Beyond this many pixels an upload is refused before decoding (a 20 MB PNG can hold billions of
# flat pixels); 8 192 × 8 192 is far more than any real mask needs.
MAX_INPUT_PIXELS = 8192 * 8192


class NotAnImage(ValueError):
    """The file cannot be read as an image, or is far too big to be one worth reading."""


@dataclass(frozen=True)
class PreparedSketch:
    image: Image.Image  # RGB, size × size, palette colours only
    original_size: tuple[int, int]  # width, height as received
    cropped: bool  # the picture was not square: its centre square was kept
    transparent: bool  # some pixels were (partly) transparent and now show the background class
    off_palette_fraction: float  # share of pixels more than OFF_PALETTE_TOLERANCE from any palette colour


def blank_sketch(size: int = 512) -> Image.Image:
    """A fresh canvas: all deciduous forest."""
    return Image.new("RGB", (size, size), BACKGROUND_CLASS.rgb)


def snap_to_palette(image: Image.Image) -> Image.Image:
    """The same picture with every pixel replaced by the nearest FLAIR colour (Euclidean in RGB).

    Exact palette colours are kept unchanged. Works on the distinct colours rather than on every
    pixel: a drawing has a few hundred colours but hundreds of thousands of pixels."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    colours, inverse = np.unique(pixels.reshape(-1, 3), axis=0, return_inverse=True)
    distances = ((colours[:, None, :] - PALETTE_RGB[None, :, :]) ** 2).sum(axis=2)
    nearest = PALETTE_RGB[distances.argmin(axis=1)].astype(np.uint8)
    return Image.fromarray(nearest[inverse.reshape(-1)].reshape(pixels.shape), "RGB")


def flatten_alpha(image: Image.Image) -> tuple[Image.Image, bool]:
    """An RGB image, transparency composited over the background class; and whether there was any.

    Transparent means "nothing drawn here", which on our canvas is the forest it starts with:
    black (the colour hidden under transparent pixels) would read as class 19, "other"."""
    if image.mode in ("RGB", "L") and "transparency" not in image.info:
        return image.convert("RGB"), False
    rgba = image.convert("RGBA")
    if rgba.getchannel("A").getextrema()[0] == 255:
        return rgba.convert("RGB"), False
    background = Image.new("RGBA", rgba.size, BACKGROUND_CLASS.rgb + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB"), True


def centre_square(image: Image.Image) -> Image.Image:
    """The largest centred square: a map is never stretched, since its scale means metres."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def prepare_sketch(image: Image.Image, size: int = 512) -> PreparedSketch:
    """Any picture → a `size` × `size` RGB sketch of palette colours only.

    Alpha is flattened onto the background class, a non-square picture keeps its centre square,
    the resize is nearest-neighbour (interpolating would invent in-between colours), and every
    pixel is snapped to the nearest palette colour."""
    original_size = image.size
    rgb, transparent = flatten_alpha(image)
    square = centre_square(rgb)
    resized = square if square.size == (size, size) else square.resize((size, size), Image.Resampling.NEAREST)
    snapped = snap_to_palette(resized)
    shift = np.abs(np.asarray(resized, dtype=np.int16) - np.asarray(snapped, dtype=np.int16)).max(axis=2)
    return PreparedSketch(
        snapped,
        original_size,
        cropped=square.size != rgb.size,
        transparent=transparent,
        off_palette_fraction=float((shift > OFF_PALETTE_TOLERANCE).mean()),
    )


def open_image(path: str | BinaryIO) -> Image.Image:
    """An uploaded file as a Pillow image, EXIF rotation applied; NotAnImage if it is not one."""
    unreadable = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    try:
        image = Image.open(path)  # reads the header only
    except unreadable as error:
        raise NotAnImage(str(error)) from error
    if image.width * image.height > MAX_INPUT_PIXELS:
        raise NotAnImage(f"{image.width} × {image.height} pixels is too large")
    try:
        image.load()
    except unreadable as error:  # a truncated or corrupt file
        raise NotAnImage(str(error)) from error
    return ImageOps.exif_transpose(image)


def class_shares(sketch: Image.Image) -> list[tuple[LandCoverClass, float]]:
    """The classes of a snapped sketch with the share of the picture each covers, largest first."""
    pixels = np.asarray(sketch.convert("RGB"), dtype=np.int32).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    by_colour = {land_cover.rgb: land_cover for land_cover in FLAIR_CLASSES}
    shares = [
        (by_colour[tuple(int(c) for c in colour)], count / len(pixels))
        for colour, count in zip(colours, counts, strict=True)
        if tuple(int(c) for c in colour) in by_colour
    ]
    return sorted(shares, key=lambda pair: -pair[1])
