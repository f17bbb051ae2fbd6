"""What a user chooses for one Seg2Sat generation: the prompt, the seeds, the settings' ranges.

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

# As published: 20 steps (its UI offered 10-30), guidance 7.5, conditioning scale 1.
STEPS = Range(1, 50, 20)
GUIDANCE_SCALE = Range(1.0, 20.0, 7.5)
CONDITIONING_SCALE = Range(0.0, 2.0, 1.0)
VARIATIONS = Range(1, 4, 1)
MAX_SEED = 2**32 - 1

# The published styles, plus watercolour. Prompts stay in English: the text encoder learnt English.
STYLES = (
    "High resolution satellite image, 4K, ultra detailed",
    "Colorful lego bricks",
    "Black and white paper pencil drawing",
    "Oil on canvas painting",
    "Watercolor painting",
)
DEFAULT_PLACE = "rue des Lilas, Toulouse, Haute-Garonne, France"  # the published example


def build_prompt(place: str, style: str) -> str:
    """ "Aerial view of <place>. <style>", as the training captions began; an empty place → the default."""
    place = " ".join((place or "").split()) or DEFAULT_PLACE
    style = " ".join((style or "").split())
    return f"Aerial view of {place}. {style}" if style else f"Aerial view of {place}"


def new_seed() -> int:
    return random.SystemRandom().randint(0, MAX_SEED)


def variation_seeds(seed: int, count: int) -> list[int]:
    """One seed per variation: the first is `seed`, so variation 1 reproduces a single image."""
    return [(seed + index) % (MAX_SEED + 1) for index in range(count)]
