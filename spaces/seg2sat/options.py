"""What a user chooses for one Seg2Sat generation: the prompt, the seeds, the settings' ranges, and
the presets (the styles, the reference and distilled paths, the CPU's fast settings, the live mode's steps).

Kept apart from pipeline.py so that the tab can show these choices without importing torch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    minimum: float
    maximum: float
    default: float

    def check(self, name: str, value: float) -> None:
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{name} must be between {self.minimum:g} and {self.maximum:g}, got {value:g}")


IMAGE_SIZE = 512  # what the ControlNet was trained on: 512 px of FLAIR at 0.2 m/px, about 100 m
# The canvas is always IMAGE_SIZE; an image may be made smaller (a CPU's fast preset): the same
# 100 m, fewer pixels. Below 384 px Stable Diffusion 2.1 base (trained at 512) loses its shapes.
IMAGE_SIZES = (512, 384)

# As published: 20 steps (its UI offered 10-30), guidance 7.5, conditioning scale 1.
STEPS = Range(1, 50, 20)
GUIDANCE_SCALE = Range(1.0, 20.0, 7.5)
CONDITIONING_SCALE = Range(0.0, 2.0, 1.0)
VARIATIONS = Range(1, 4, 1)
# The distilled path (Trajectory Consistency Distillation LoRA): its authors' 4 steps by default; 2
# still makes an image, past 8 a step adds little. eta is TCDScheduler's share of fresh noise at
# each step (0: deterministic); 0.3 is what the TCD authors recommend for 4 steps.
DISTILLED_STEPS = Range(2, 8, 4)
DISTILLED_ETA = 0.3
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class StylePreset:
    key: str  # what the API takes; the tab shows the name `seg2sat_style_<key>` in the page's language
    prompt: str  # what the text encoder reads: English, the language it learnt


# The published styles, plus watercolour.
STYLE_PRESETS = (
    StylePreset("satellite", "High resolution satellite image, 4K, ultra detailed"),
    StylePreset("lego", "Colorful lego bricks"),
    StylePreset("pencil", "Black and white paper pencil drawing"),
    StylePreset("oil", "Oil on canvas painting"),
    StylePreset("watercolour", "Watercolor painting"),
)
STYLE_PROMPTS = {preset.key: preset.prompt for preset in STYLE_PRESETS}
STYLES = tuple(STYLE_PROMPTS.values())  # the English prompts, which a French page must never show
DEFAULT_STYLE = STYLE_PRESETS[0].key
DEFAULT_PLACE = "rue des Lilas, Toulouse, Haute-Garonne, France"  # the published example


@dataclass(frozen=True)
class Preset:
    steps: int
    size: int
    guidance_scale: float
    variations: int


# Without a GPU, measured on a 2-core server (docs/performance-history.md): one guided step at 512 px
# takes ~33 s and the VAE's decode ~33 s, so the published 20 steps are ~11 min. At 384 px a
# step is ~14 s and the decode ~12 s; UniPC still makes a clean image in 10 steps: ~2.5 min.
# Guidance stays: without it (guidance 1, half the work) Stable Diffusion's images wash out.
CPU_PRESET = Preset(steps=10, size=384, guidance_scale=GUIDANCE_SCALE.default, variations=1)

# The two paths the tab offers, with the settings each one takes when chosen. The reference is the
# model as published. The distilled path's guidance is not used (it runs without): the slider keeps
# the reference's value. At 384 px it makes an image in about half a minute on a 2-core CPU.
REFERENCE_PRESET = Preset(
    steps=int(STEPS.default), size=IMAGE_SIZE, guidance_scale=GUIDANCE_SCALE.default, variations=1
)
DISTILLED_PRESET = Preset(
    steps=int(DISTILLED_STEPS.default), size=384, guidance_scale=GUIDANCE_SCALE.default, variations=1
)
PATHS = ("distilled", "reference")  # what /seg2sat_generate's `path` takes
PRESETS = {"distilled": DISTILLED_PRESET, "reference": REFERENCE_PRESET}

# Live mode: the image follows the pen, so a few steps only. UniPC at 8 steps keeps the sketch's
# shapes and textures; on an H100 that is ~0.35 s eager, ~0.2 s compiled (20 steps: 0.93 / 0.39 s).
LIVE_STEPS = 8


def build_prompt(place: str, style: str, classes: tuple[str, ...] = ()) -> str:
    """ "Aerial view of <place>. <style>", as the training captions began; an empty place → the default.

    With `classes` (English names, largest first), the training captions' whole form before the
    style: "Aerial view of <place>. <class>, <class>. <style>"."""
    place = " ".join((place or "").split()) or DEFAULT_PLACE
    style = " ".join((style or "").split())
    sentences = [f"Aerial view of {place}"]
    if classes:
        sentences.append(", ".join(classes))
    if style:
        sentences.append(style)
    prompt = ". ".join(sentences)
    return prompt + "." if classes and not style else prompt


def style_prompt(style_key: str, free_style: str = "") -> str:
    """The free style when one is typed, else the preset's English prompt."""
    free_style = " ".join((free_style or "").split())
    if free_style:
        return free_style
    if style_key not in STYLE_PROMPTS:
        raise ValueError(f"style {style_key!r}: expected one of {', '.join(STYLE_PROMPTS)}")
    return STYLE_PROMPTS[style_key]


def new_seed() -> int:
    return random.SystemRandom().randint(0, MAX_SEED)


def seed_to_use(seed_value: float | None, seed_is_random: bool) -> int:
    """The seed a generation uses: a new one when the user asks for it (or gave none), else theirs."""
    return new_seed() if seed_is_random or seed_value is None else int(seed_value)


def variation_seeds(seed: int, count: int) -> list[int]:
    """One seed per variation: the first is `seed`, so variation 1 reproduces a single image."""
    return [(seed + index) % (MAX_SEED + 1) for index in range(count)]
