"""Seg2Sat's logic between the canvas and the model: Gradio-free, torch-free (numpy and Pillow).

* The drawing: the canvas sends a PNG as a data: URL; `sketch_with_notices` makes it the square of
  palette colours the ControlNet reads, and says what it changed (`Notice`s, worded by the tab).
* Time: `StepTimes` keeps what a denoising step and a decode cost on this machine, measured at
  warm-up and after each generation, so that a CPU tells how long an image will take before it
  starts (`StepTimes.estimate`).
* Live mode: `LiveSession` lets each canvas change supersede the generations before it: the
  latest one runs, an older one still running stops at its next step.
* Repainting a real place: `repaint_input` checks a photo and its map before and after the
  student's strokes and makes the inpainting mask (the area that changed, dilated and feathered);
  `pasted_back` keeps the photo, pixel for pixel, wherever the mask is 0.
* The diffusion principle: `noised` shows an image at step t of the forward process,
  x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, with ᾱ_t from Stable Diffusion 2.1's scheduler configuration.

The pipeline (spaces/seg2sat/pipeline.py) does the denoising; the tab (ui.py) wires both.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from spaces.seg2sat import palette
from spaces.seg2sat.options import DISTILLED_STEPS, IMAGE_SIZE, STEPS

# --- The drawing --------------------------------------------------------------------------------

# A 512 × 512 drawing of a few flat colours is 5-40 kB of PNG; this leaves room for any honest one.
MAX_DRAWING_CHARACTERS = 8 * 2**20


def drawing_from_data_url(value: str | None) -> Image.Image | None:
    """What the canvas holds (a "data:image/png;base64,…" URL) as an image; None when it is empty.
    Anything else raises palette.NotAnImage."""
    if not value:
        return None
    header, comma, payload = value.partition(",")
    if not comma or not header.startswith("data:image/") or not header.endswith(";base64"):
        raise palette.NotAnImage("expected a data:image/…;base64 URL")
    if len(payload) > MAX_DRAWING_CHARACTERS:
        raise palette.NotAnImage(f"{len(payload)} characters is too large for a drawing")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise palette.NotAnImage(f"not base64 ({error})") from None
    return palette.open_image(io.BytesIO(data))


def data_url(image: Image.Image) -> str:
    """A picture as the canvas takes it: PNG (lossless, so colours stay exact) in a data: URL."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(frozen=True)
class Notice:
    """Something the tab tells about a sketch: `key` names its text (texts.py); a value that is a
    palette.LandCoverClass is shown by its name in the page's language."""

    key: str
    values: dict = field(default_factory=dict)


# A map, drawn or exported, holds palette colours but along its strokes' smoothed edges; a photo
# holds almost none (FLAIR's example photos: 95-99 % of their pixels off the palette).
MAX_MAP_OFF_PALETTE_FRACTION = 0.5


class NotAMap(ValueError):
    """A picture that is no land-cover map (a photo); `notice` says so in words the tab translates."""

    def __init__(self, off_palette_fraction: float):
        super().__init__("not a land-cover map")
        self.notice = Notice("seg2sat_not_a_map", {"percent": round(100 * off_palette_fraction, 1)})


def sketch_with_notices(picture: Image.Image | None, size: int = IMAGE_SIZE) -> tuple[Image.Image, list[Notice]]:
    """The sketch to generate from (size × size, palette colours only), and what was done to the
    picture to get it; NotAMap for a photo, which snapping would turn into noise of classes."""
    if picture is None:
        return palette.blank_sketch(size), [Notice("seg2sat_empty_canvas")]
    prepared = palette.prepare_sketch(picture, size)
    if prepared.off_palette_fraction > MAX_MAP_OFF_PALETTE_FRACTION:
        raise NotAMap(prepared.off_palette_fraction)
    notices = []
    if prepared.cropped:
        width, height = prepared.original_size
        notices.append(Notice("seg2sat_cropped", {"width": width, "height": height}))
    if prepared.transparent:
        notices.append(Notice("seg2sat_transparent"))
    if prepared.off_palette_fraction >= 0.001:
        notices.append(Notice("seg2sat_snapped", {"percent": round(100 * prepared.off_palette_fraction, 1)}))
    shares = palette.class_shares(prepared.image)
    if len(shares) == 1:
        notices.append(Notice("seg2sat_one_class", {"name": shares[0][0]}))
    return prepared.image, notices


def steps_refusal(steps: float, distilled: bool) -> Notice | None:
    """Why `steps` cannot be run on the chosen path (a Notice the tab words), or None. The slider
    stops a finger at its range, not a number typed in its box (« 4,5 ») or sent to the API."""
    if steps != int(steps):
        return Notice("seg2sat_steps_whole", {"steps": steps})
    allowed = DISTILLED_STEPS if distilled else STEPS
    if not allowed.minimum <= steps <= allowed.maximum:
        path = "seg2sat_path_distilled" if distilled else "seg2sat_path_reference"
        return Notice(
            "seg2sat_steps_range", {"steps": int(steps), "low": allowed.minimum, "high": allowed.maximum, "path": path}
        )
    return None


# --- Repainting a real place -------------------------------------------------------------------

# The changed area grows by this many pixels (about 1.2 m at FLAIR's 0.2 m/px) before its edge is
# feathered: a new lake's shore is then redrawn too, not left as the field's old edge.
REPAINT_DILATION = 6
REPAINT_FEATHER = 4  # Gaussian radius of the mask's edge, pixels: the repaint fades into the photo
# A map more off the palette than this is not a land-cover map (a photo, a smoothed drawing):
# snapping would invent changes everywhere, and the whole place would be repainted.
MAX_OFF_PALETTE_FRACTION = 0.01


class RepaintRefused(ValueError):
    """Input that cannot be repainted; `notice` says why, in words the tab translates."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.notice = Notice(key, values)


@dataclass(frozen=True)
class RepaintInput:
    photo: Image.Image  # RGB
    control_map: Image.Image  # the edited map, palette colours only: what the ControlNet reads
    mask: Image.Image  # "L": 255 where the map changed, fading to 0 a few pixels beyond
    changed_fraction: float  # share of the pixels whose class changed


def repaint_input(
    photo: Image.Image | None, edited_map: Image.Image | None, original_map: Image.Image | None
) -> RepaintInput:
    """What to repaint, or RepaintRefused: no photo, sizes that differ, a map off the palette, no change."""
    if photo is None or original_map is None:
        raise RepaintRefused("seg2sat_repaint_no_photo")
    if edited_map is None:
        raise RepaintRefused("seg2sat_repaint_no_change")
    sizes = {photo.size, edited_map.size, original_map.size}
    width, height = photo.size
    if len(sizes) > 1 or width % 8 or height % 8:  # Stable Diffusion's latents are 1/8 of the pixels
        raise RepaintRefused(
            "seg2sat_repaint_sizes", photo=f"{width} × {height}", map="{} × {}".format(*edited_map.size)
        )
    maps = []
    for picture in (original_map, edited_map):
        rgb, _ = palette.flatten_alpha(picture)
        snapped = palette.snap_to_palette(rgb)
        shift = np.abs(np.asarray(rgb, dtype=np.int16) - np.asarray(snapped, dtype=np.int16)).max(axis=2)
        if (shift > palette.OFF_PALETTE_TOLERANCE).mean() >= MAX_OFF_PALETTE_FRACTION:
            raise RepaintRefused("seg2sat_repaint_not_palette")
        maps.append(snapped)
    changed = (np.asarray(maps[0]) != np.asarray(maps[1])).any(axis=2)
    if not changed.any():
        raise RepaintRefused("seg2sat_repaint_no_change")
    grown = Image.fromarray(changed.astype(np.uint8) * 255, "L").filter(ImageFilter.MaxFilter(2 * REPAINT_DILATION + 1))
    # Fully repainted up to the grown edge, fading out beyond it.
    feather = np.asarray(grown.filter(ImageFilter.GaussianBlur(REPAINT_FEATHER)))
    mask = Image.fromarray(np.maximum(np.asarray(grown), feather), "L")
    return RepaintInput(photo.convert("RGB"), maps[1], mask, float(changed.mean()))


def pasted_back(photo: Image.Image, repainted: Image.Image, mask: Image.Image) -> Image.Image:
    """The repainted image inside the mask, the photo outside: exactly its pixels where the mask is 0
    (the VAE's round trip blurs a photo slightly everywhere it passes), a blend along the feather."""
    weight = np.asarray(mask, dtype=np.float32)[..., None] / 255
    blend = np.asarray(repainted.convert("RGB"), dtype=np.float32) * weight + np.asarray(photo, dtype=np.float32) * (
        1 - weight
    )
    return Image.fromarray(np.rint(blend).astype(np.uint8), "RGB")


# --- Time ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """What one generation cost: seconds per denoising step, and for the VAE's decode at the end."""

    size: int  # image side, pixels
    images: int  # variations decoded together
    guided: bool  # guidance > 1: each step runs the UNet and the ControlNet with and without the prompt
    step_seconds: float
    decode_seconds: float
    decoder: str = (
        "vae"  # what made the final image: "vae" (Stable Diffusion's) or "taesd" (a distilled, ~30× cheaper one)
    )


def _work(size: int, images: int, guided: bool) -> float:
    """The work of one step relative to one guided image at IMAGE_SIZE: proportional to the pixels
    and to the batch. Convolutions scale so; attention grows faster, so a smaller image than the one
    measured costs a little less than this says: estimates err on the long side."""
    return (size / IMAGE_SIZE) ** 2 * images * (1.0 if guided else 0.5)


class StepTimes:
    """What generating costs on this machine, from measurements: the latest one of each shape
    (size, images, guidance), and the latest of all for shapes never run. A step costs the same on
    either path (the distilled UNet is the same network); the decode is the latest of its decoder's."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_shape: dict[tuple[int, int, bool], Timing] = {}
        self._latest: Timing | None = None
        self._by_decoder: dict[str, Timing] = {}

    def record(self, timing: Timing) -> None:
        with self._lock:
            self._by_shape[(timing.size, timing.images, timing.guided)] = timing
            self._latest = timing
            self._by_decoder[timing.decoder] = timing

    @property
    def measured(self) -> bool:
        return self._latest is not None

    def estimate(self, steps: int, size: int, images: int, guided: bool, decoder: str = "vae") -> float | None:
        """Seconds that `steps` steps and the decode will take; None before any measurement."""
        with self._lock:
            known = self._by_shape.get((size, images, guided)) or self._latest
            if known is None:
                return None
            # The decode of the measurement used for the steps if it had this decoder, else this decoder's latest.
            decoded = known if known.decoder == decoder else self._by_decoder.get(decoder, known)
        step_ratio = _work(size, images, guided) / _work(known.size, known.images, known.guided)
        decode_ratio = (size / decoded.size) ** 2 * images / decoded.images
        return steps * known.step_seconds * step_ratio + decoded.decode_seconds * decode_ratio


# One device per process (shared/device.py chooses it once): what it costs is a fact of the process.
# The pipeline records into it after its warm-up and after each generation; the tab reads it.
STEP_TIMES = StepTimes()


def rounded_duration(seconds: float) -> tuple[str, int]:
    """A duration as a person says it: ("seconds", 40) up to a minute, then ("minutes", 3)."""
    if seconds < 60:
        return "seconds", max(5, int(math.ceil(seconds / 5) * 5))
    return "minutes", int(math.ceil(seconds / 60))


# --- Live mode ----------------------------------------------------------------------------------


class LiveSession:
    """One user's live mode. Each canvas change is announced (`announce`, answered at once, outside
    the queue); a generation takes the latest ticket when it starts (`ticket`) and stops as soon as
    `superseded(ticket)`: a newer change came. So only the latest change's image is made, and a
    drawing hand never waits behind images of strokes it has already finished."""

    def __init__(self):
        self._lock = threading.Lock()
        self._latest = 0

    def __deepcopy__(self, memo) -> LiveSession:
        return LiveSession()  # gr.State deep-copies its first value for each new user: a fresh one

    def announce(self) -> int:
        with self._lock:
            self._latest += 1
            return self._latest

    def ticket(self) -> int:
        with self._lock:
            return self._latest

    def superseded(self, ticket: int) -> bool:
        with self._lock:
            return ticket != self._latest


# --- The diffusion principle --------------------------------------------------------------------

# Stable Diffusion 2.1 base's scheduler/scheduler_config.json, the part that sets the noise
# schedule (the same numbers as SD 1.x): used when the model's own file is not on this machine.
SD21_SCHEDULER_CONFIG = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
}


def alphas_cumprod(config: dict) -> np.ndarray:
    """ᾱ for diffusers' timesteps 0 … T−1, as its schedulers compute them (float32):
    ᾱ_k = Π_{s≤k} (1 − β_s), the β rising from beta_start to beta_end."""
    count = int(config["num_train_timesteps"])
    start, end = float(config["beta_start"]), float(config["beta_end"])
    schedule = config.get("beta_schedule", "linear")
    if schedule == "scaled_linear":  # linear in √β: Stable Diffusion's
        betas = np.linspace(start**0.5, end**0.5, count, dtype=np.float32) ** 2
    elif schedule == "linear":
        betas = np.linspace(start, end, count, dtype=np.float32)
    else:
        raise ValueError(f"beta_schedule {schedule!r}: only linear and scaled_linear are shown")
    return np.cumprod(1.0 - betas, dtype=np.float32)


def signal_share(config: dict, t: int) -> float:
    """ᾱ_t at step t of the forward process, 0 ≤ t ≤ T (t = 0: the image itself, ᾱ_0 = 1). Step t
    is diffusers' timestep t − 1: the first noising step already holds its β."""
    count = int(config["num_train_timesteps"])
    if not 0 <= t <= count:
        raise ValueError(f"t must be between 0 and {count}, got {t}")
    return 1.0 if t == 0 else float(alphas_cumprod(config)[t - 1])


@dataclass(frozen=True)
class NoisedImage:
    image: Image.Image
    t: int
    steps: int  # T
    signal: float  # ᾱ_t: the share of the image's variance left at t
    noise: float  # 1 − ᾱ_t: the share of the noise's


def square_image(picture: Image.Image, size: int = IMAGE_SIZE) -> Image.Image:
    """Any picture as an RGB square of `size` pixels (its centre, never stretched)."""
    rgb, _ = palette.flatten_alpha(picture)
    square = palette.centre_square(rgb)
    return square if square.size == (size, size) else square.resize((size, size), Image.Resampling.LANCZOS)


def noised(picture: Image.Image, t: int, config: dict = SD21_SCHEDULER_CONFIG, seed: int = 0) -> NoisedImage:
    """`picture` at step t of the forward process: x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, the pixels
    scaled to [−1, 1] as Stable Diffusion's VAE reads them. The same seed draws the same ε, so that
    moving t shows one noise growing over one image. (Stable Diffusion noises the VAE's latents,
    not the pixels: shown on pixels, the principle is visible.)"""
    alpha_bar = signal_share(config, t)
    x0 = np.asarray(square_image(picture), dtype=np.float32) / 127.5 - 1.0
    epsilon = np.random.default_rng(seed).standard_normal(x0.shape, dtype=np.float32)
    xt = math.sqrt(alpha_bar) * x0 + math.sqrt(1.0 - alpha_bar) * epsilon
    pixels = np.clip(np.rint((xt + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return NoisedImage(Image.fromarray(pixels, "RGB"), t, int(config["num_train_timesteps"]), alpha_bar, 1 - alpha_bar)
