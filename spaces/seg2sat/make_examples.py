"""Our example sketches for Seg2Sat, drawn by code so that anyone can regenerate or change them,
and synthetic aerial images painted from some of them for the tab's « Comment ça marche ».

    python -m spaces.seg2sat.make_examples      # rewrites assets/seg2sat/examples/*.png, aerial/*.jpg

Each sketch is 512 × 512 (about 100 m × 100 m at FLAIR's 0.2 m/px) and holds FLAIR palette
colours only: Pillow's ImageDraw does not antialias, and every drawing is snapped anyway. The
random details (house positions, field shapes) come from a fixed seed, so the files are the same
on every run. The original Seg2Sat repository has no licence: these are our own drawings.

The aerial images are not photographs (none with a licence we could ship is at hand): each class
of a sketch is painted with a texture of its own (tree crowns, field rows, roofs, water), the way
the land looks from above, to show what noising does to an aerial view.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from spaces.seg2sat.palette import CLASS_BY_ENGLISH_NAME, FLAIR_CLASSES, snap_to_palette

EXAMPLES_FOLDER = Path(__file__).resolve().parents[2] / "assets" / "seg2sat" / "examples"
AERIAL_FOLDER = EXAMPLES_FOLDER.parent / "aerial"
SIZE = 512


def colour(english_name: str) -> tuple[int, int, int]:
    return CLASS_BY_ENGLISH_NAME[english_name].rgb


def wavy_line(
    start: tuple[float, float],
    end: tuple[float, float],
    amplitude: float,
    waves: float,
    phase: float = 0.0,
    points: int = 40,
) -> list[tuple[float, float]]:
    """Points from start to end, swinging sideways like a river or a mountain road."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    normal = (-(y1 - y0) / length, (x1 - x0) / length)
    line = []
    for index in range(points + 1):
        t = index / points
        offset = amplitude * math.sin(2 * math.pi * waves * t + phase)
        line.append((x0 + t * (x1 - x0) + offset * normal[0], y0 + t * (y1 - y0) + offset * normal[1]))
    return line


def blob(
    centre: tuple[float, float], radius: float, rng: random.Random, roughness: float = 0.25, corners: int = 14
) -> list[tuple[float, float]]:
    """An irregular round shape: a clearing, a wood, a pond."""
    x, y = centre
    return [
        (
            x + radius * (1 + rng.uniform(-roughness, roughness)) * math.cos(2 * math.pi * k / corners),
            y + radius * (1 + rng.uniform(-roughness, roughness)) * math.sin(2 * math.pi * k / corners),
        )
        for k in range(corners)
    ]


def village(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A village crossroads: houses with gardens and pools along two roads, fields and a wood around."""
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("herbaceous vegetation"))
    draw.polygon([(0, 0), (220, 0), (180, 170), (0, 200)], fill=colour("agricultural land"))
    draw.polygon([(330, 340), (512, 300), (512, 512), (360, 512)], fill=colour("plowed land"))
    draw.polygon(blob((430, 90), 80, rng), fill=colour("deciduous"))
    # Plots 110 px wide on both sides of the main road (x = 256): the house near the road, a pool
    # at the back of the garden more often than not.
    for plot_x, house_x, pool_x in ((124, 180, 134), (278, 286, 344)):
        for y in range(40, 512, 96):
            draw.rectangle((plot_x, y, plot_x + 110, y + 80), fill=colour("pervious surface"))
            draw.rectangle((house_x, y + 8, house_x + 46, y + 44), fill=colour("building"))
            if rng.random() < 0.6:
                draw.rectangle((pool_x, y + 52, pool_x + 32, y + 70), fill=colour("swimming pool"))
    draw.line([(256, 0), (256, 512)], fill=colour("impervious surface"), width=26)
    draw.line([(0, 300), (512, 260)], fill=colour("impervious surface"), width=20)


def clearing(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A clearing in a mixed forest, crossed by a forest track."""
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("deciduous"))
    for centre, radius in (((80, 90), 90), ((420, 430), 110), ((460, 60), 70)):
        draw.polygon(blob(centre, radius, rng), fill=colour("coniferous"))
    draw.polygon(blob((260, 250), 130, rng, roughness=0.2), fill=colour("herbaceous vegetation"))
    draw.polygon(blob((300, 300), 40, rng), fill=colour("brushwood"))
    draw.line(wavy_line((0, 380), (512, 150), 30, 1.2), fill=colour("bare soil"), width=12, joint="curve")


def river(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A river winding through a patchwork of fields, lined with trees."""
    crops = ("agricultural land", "plowed land", "herbaceous vegetation", "agricultural land")
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("agricultural land"))
    for row in range(4):
        for column in range(4):
            x, y = column * 128 + rng.randint(-10, 10), row * 128 + rng.randint(-10, 10)
            draw.rectangle((x, y, x + 140, y + 140), fill=colour(rng.choice(crops)))
    course = wavy_line((120, 0), (380, 512), 70, 1.5, phase=0.5)
    draw.line(course, fill=colour("deciduous"), width=80, joint="curve")
    draw.line(course, fill=colour("water"), width=44, joint="curve")
    draw.line([(0, 470), (512, 440)], fill=colour("impervious surface"), width=14)
    draw.rectangle((40, 400, 90, 440), fill=colour("building"))


def vineyard(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """Vineyard parcels on a hillside, a farm, brushwood on the steep part."""
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("pervious surface"))
    for top in range(0, 420, 105):
        for left in range(0, 512, 130):
            kind = "vineyard" if rng.random() < 0.8 else "herbaceous vegetation"
            draw.rectangle((left + 6, top + 6, left + 124, top + 99), fill=colour(kind))
    draw.polygon([(0, 420), (512, 400), (512, 512), (0, 512)], fill=colour("brushwood"))
    draw.polygon(blob((90, 470), 50, rng), fill=colour("deciduous"))
    draw.line([(0, 412), (512, 395)], fill=colour("impervious surface"), width=14)
    draw.rectangle((300, 425, 360, 470), fill=colour("building"))
    draw.rectangle((366, 440, 396, 470), fill=colour("building"))


def coastline(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """The Atlantic coast: sea, beach, dune scrub, a pine forest, a road and a car park."""
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("coniferous"))
    shore = wavy_line((180, 0), (230, 512), 25, 1.0)
    draw.polygon([(0, 0)] + shore + [(0, 512)], fill=colour("water"))
    dunes = [(x + 80, y) for x, y in shore]
    scrub = [(x + 140, y) for x, y in shore]
    draw.polygon(shore + dunes[::-1], fill=colour("bare soil"))  # the beach
    draw.polygon(dunes + scrub[::-1], fill=colour("brushwood"))
    draw.line([(420, 0), (420, 512)], fill=colour("impervious surface"), width=16)
    draw.rectangle((340, 220, 412, 290), fill=colour("impervious surface"))
    draw.rectangle((430, 240, 470, 270), fill=colour("building"))


def mountain(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """A snowy summit above rock and scree, conifers lower down, a road in hairpins."""
    draw.rectangle((0, 0, SIZE, SIZE), fill=colour("coniferous"))
    draw.polygon(
        [(0, 0), (512, 0), (512, 260)] + wavy_line((512, 260), (0, 200), 30, 2.0)[1:], fill=colour("bare soil")
    )
    draw.polygon([(0, 0), (512, 0), (512, 160)] + wavy_line((512, 160), (0, 110), 25, 3.0)[1:], fill=colour("snow"))
    draw.polygon(blob((120, 330), 60, rng), fill=colour("herbaceous vegetation"))
    draw.polygon(blob((400, 300), 45, rng), fill=colour("brushwood"))
    hairpins = [(60, 512), (420, 460), (90, 400), (380, 350), (260, 300)]
    draw.line(hairpins, fill=colour("impervious surface"), width=12, joint="curve")
    draw.rectangle((240, 282, 280, 306), fill=colour("building"))


@dataclass(frozen=True)
class Example:
    name: str  # the file is <name>.png
    title: str  # its caption in the tab
    place: str  # what goes after "Aerial view of"
    draw: Callable[[ImageDraw.ImageDraw, random.Random], None]

    @property
    def path(self) -> Path:
        return EXAMPLES_FOLDER / f"{self.name}.png"


EXAMPLES = (
    Example("village", "Saint-Orens", "rue des Lilas, Saint-Orens-de-Gameville, Haute-Garonne, France", village),
    Example("clairiere", "Fontainebleau", "forêt de Fontainebleau, Seine-et-Marne, France", clearing),
    Example("riviere", "Saumur", "bords de Loire, Saumur, Maine-et-Loire, France", river),
    Example("vignoble", "Saint-Émilion", "Saint-Émilion, Gironde, France", vineyard),
    Example("littoral", "Biscarrosse", "plage de Biscarrosse, Landes, France", coastline),
    Example("montagne", "Chamonix", "Chamonix-Mont-Blanc, Haute-Savoie, France", mountain),
)


def draw_example(example: Example) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE))
    example.draw(ImageDraw.Draw(image), random.Random(example.name))
    return snap_to_palette(image)  # a no-op unless a drawing goes wrong: the files hold palette colours only


# --- Synthetic aerial images --------------------------------------------------------------------

# How each class looks from above: a base colour, how much its texture varies it, and the texture:
# "crowns" (trees: blobs of light and shade), "rows" (crops, vines: stripes), "fine" (asphalt,
# soil: grain), "smooth" (grass, water: slow variations).
LOOKS = {
    "building": ((168, 92, 70), 0.18, "roofs"),
    "pervious surface": ((120, 128, 84), 0.20, "smooth"),
    "impervious surface": ((92, 92, 96), 0.10, "fine"),
    "bare soil": ((176, 150, 112), 0.14, "fine"),
    "water": ((40, 66, 80), 0.08, "smooth"),
    "coniferous": ((34, 58, 36), 0.45, "crowns"),
    "deciduous": ((62, 96, 46), 0.40, "crowns"),
    "brushwood": ((104, 110, 62), 0.30, "crowns"),
    "vineyard": ((98, 112, 60), 0.30, "rows"),
    "herbaceous vegetation": ((118, 150, 74), 0.14, "smooth"),
    "agricultural land": ((196, 180, 110), 0.12, "rows"),
    "plowed land": ((140, 110, 80), 0.18, "rows"),
    "swimming pool": ((70, 190, 210), 0.05, "smooth"),
    "snow": ((236, 240, 246), 0.05, "smooth"),
    "clear cut": ((128, 120, 90), 0.25, "fine"),
    "mixed": ((50, 80, 44), 0.42, "crowns"),
    "ligneous": ((90, 110, 60), 0.30, "crowns"),
    "greenhouse": ((210, 214, 222), 0.06, "rows"),
    "other": ((80, 80, 80), 0.10, "fine"),
}


def smooth_noise(rng: np.random.Generator, cell: int) -> np.ndarray:
    """Values in about [-1, 1] that vary over `cell` pixels: a coarse random grid, upsampled."""
    coarse = rng.standard_normal((SIZE // cell + 2, SIZE // cell + 2)).astype(np.float32)
    grid = Image.fromarray(coarse, mode="F").resize(((SIZE // cell + 2) * cell,) * 2, Image.Resampling.BICUBIC)
    return np.asarray(grid)[:SIZE, :SIZE] / 1.5


def texture(kind: str, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    if kind == "crowns":  # round crowns of 3-5 m lit from the top left
        crowns = smooth_noise(rng, 7)
        return np.tanh(2.5 * crowns) + 0.4 * smooth_noise(rng, 40)
    if kind == "rows":  # stripes 1.2 m apart, a little wavy
        return 0.7 * np.sin((x * 0.8 + y * 0.6) / 1.9 + 2 * smooth_noise(rng, 60)) + 0.4 * smooth_noise(rng, 30)
    if kind == "roofs":  # two slopes per roof: light on one side of each 8 m cell, shade on the other
        return np.where((x % 40) < 20, 0.6, -0.6) + 0.3 * smooth_noise(rng, 3)
    if kind == "fine":
        return rng.standard_normal((SIZE, SIZE)).astype(np.float32) * 0.6 + 0.4 * smooth_noise(rng, 20)
    return smooth_noise(rng, 48)


def aerial_rendering(sketch: Image.Image, seed: int = 0) -> Image.Image:
    """A sketch painted as the land would look from above (see LOOKS)."""
    rng = np.random.default_rng(seed)
    classes = np.asarray(sketch.convert("RGB"), dtype=np.int32)
    painted = np.zeros((SIZE, SIZE, 3), dtype=np.float32)
    for land_cover in FLAIR_CLASSES:
        where = (classes == land_cover.rgb).all(axis=2)
        if not where.any():
            continue
        base, strength, kind = LOOKS[land_cover.english]
        shade = 1 + strength * texture(kind, rng)
        painted[where] = np.asarray(base, dtype=np.float32) * shade[where, None]
    painted *= 1 + 0.05 * smooth_noise(rng, 128)[..., None]  # uneven light over the whole view
    image = Image.fromarray(np.clip(painted, 0, 255).astype(np.uint8), "RGB")
    return image.filter(ImageFilter.GaussianBlur(0.7))  # a camera's softness at class edges


# The examples with an aerial image (one per kind of landscape), in the order the tab offers them.
AERIAL_EXAMPLES = tuple(example for example in EXAMPLES if example.name in ("village", "riviere", "vignoble"))


def aerial_path(example: Example) -> Path:
    return AERIAL_FOLDER / f"{example.name}.jpg"


def main() -> None:
    EXAMPLES_FOLDER.mkdir(parents=True, exist_ok=True)
    AERIAL_FOLDER.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        draw_example(example).save(example.path, optimize=True)
        print(f"{example.path.relative_to(EXAMPLES_FOLDER.parents[2])}: {example.path.stat().st_size / 1024:.1f} KiB")
    for example in AERIAL_EXAMPLES:
        path = aerial_path(example)
        aerial_rendering(draw_example(example)).save(path, quality=85, optimize=True)
        print(f"{path.relative_to(EXAMPLES_FOLDER.parents[2])}: {path.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
