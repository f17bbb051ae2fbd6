"""The tab's examples: five real FLAIR pairs, each a land-cover map and the aerial photo it labels.

They are the validation pairs of the reference repository (GitHub RubenGres/Seg2Sat,
finetuning/controlnet_training/validation), copied by make_examples.py: the masks as they are, the
photos re-encoded as WebP. IGN FLAIR data, Licence Ouverte / Etalab 2.0 (credit « IGN – FLAIR »);
the places are OpenStreetMap addresses (ODbL), the ones the ControlNet's training captions began with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EXAMPLES_FOLDER = Path(__file__).resolve().parents[2] / "assets" / "seg2sat" / "examples"
CATALOGUE = EXAMPLES_FOLDER / "examples.json"
CREDIT = "IGN – FLAIR"


@dataclass(frozen=True)
class Example:
    name: str  # the FLAIR patch number: MSK_<name>.png, IMG_<name>.webp
    town: str  # its caption in the tab
    place: str  # the OpenStreetMap address: what goes after "Aerial view of"
    date: str  # when the photo was taken, YYYY-MM-DD

    @property
    def path(self) -> Path:
        """The land-cover map, FLAIR palette colours only."""
        return EXAMPLES_FOLDER / f"MSK_{self.name}.png"

    @property
    def photo_path(self) -> Path:
        return EXAMPLES_FOLDER / f"IMG_{self.name}.webp"

    @property
    def year(self) -> str:
        return self.date[:4]


def load_examples(catalogue: Path = CATALOGUE) -> tuple[Example, ...]:
    return tuple(Example(**entry) for entry in json.loads(catalogue.read_text(encoding="utf-8")))


EXAMPLES = load_examples()
