"""IGN's FLAIR land-cover classes: their names in both languages and their label colours.

Seg2Sat draws with them (its ControlNet was trained on FLAIR's label maps, colour for colour:
spaces/seg2sat/palette.py), and the image search shows FLAIR's captions, which name them in
English, in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LandCoverClass:
    number: int
    english: str
    french: str
    hex: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.hex[i : i + 2], 16) for i in (1, 3, 5))


# FLAIR's 19 classes with the colours the ControlNet was trained on (docs/models.md); must match exactly.
FLAIR_CLASSES = (
    LandCoverClass(1, "building", "bâtiment", "#db0e9a"),
    LandCoverClass(2, "pervious surface", "zone perméable", "#938e7b"),
    LandCoverClass(3, "impervious surface", "zone imperméable", "#f80c00"),
    LandCoverClass(4, "bare soil", "sol nu", "#a97101"),
    LandCoverClass(5, "water", "eau", "#1553ae"),
    LandCoverClass(6, "coniferous", "conifère", "#194a26"),
    LandCoverClass(7, "deciduous", "feuillu", "#46e483"),
    LandCoverClass(8, "brushwood", "broussaille", "#f3a60d"),
    LandCoverClass(9, "vineyard", "vigne", "#660082"),
    LandCoverClass(10, "herbaceous vegetation", "surface herbacée", "#55ff00"),
    LandCoverClass(11, "agricultural land", "culture", "#fff30d"),
    LandCoverClass(12, "plowed land", "terre labourée", "#e4df7c"),
    LandCoverClass(13, "swimming pool", "piscine", "#3de6eb"),
    LandCoverClass(14, "snow", "neige", "#ffffff"),
    LandCoverClass(15, "clear cut", "coupe", "#8ab3a0"),
    LandCoverClass(16, "mixed", "mixte", "#6b714f"),
    LandCoverClass(17, "ligneous", "ligneux", "#c5dc42"),
    LandCoverClass(18, "greenhouse", "serre", "#9999ff"),
    LandCoverClass(19, "other", "indéterminé", "#000000"),
)
CLASS_BY_ENGLISH_NAME = {land_cover.english: land_cover for land_cover in FLAIR_CLASSES}
