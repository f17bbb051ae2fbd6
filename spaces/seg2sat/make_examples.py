"""The tab's examples, copied from the reference repository so that anyone can make them again.

    python -m spaces.seg2sat.make_examples PATH/TO/Seg2Sat.git   # a clone of GitHub RubenGres/Seg2Sat

Reads the five validation pairs of finetuning/controlnet_training/validation from the clone's git
objects (HEAD) and writes into assets/seg2sat/examples/: each mask as it is (MSK_<n>.png, FLAIR
palette colours only), each 512 × 512 photo as WebP at quality 85 (IMG_<n>.webp, ~45 KB where the
PNG is ~450 KB: a phone loads all five in the time of one), and examples.json, the town, address
and date of each from its OpenStreetMap metadata (validation/json/MSK_<n>.json).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from spaces.seg2sat.examples import CATALOGUE, EXAMPLES_FOLDER

VALIDATION = "finetuning/controlnet_training/validation"
PATCHES = ("066278", "067998", "073879", "074756", "076201")
PHOTO_QUALITY = 85


def read_blob(repository: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repository), "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout


def town(address: dict) -> str:
    """The address's town as OpenStreetMap names it: a city, a town or a village."""
    return next(address[key] for key in ("city", "town", "village") if key in address)


def main(repository: Path) -> None:
    EXAMPLES_FOLDER.mkdir(parents=True, exist_ok=True)
    catalogue = []
    for patch in PATCHES:
        mask = EXAMPLES_FOLDER / f"MSK_{patch}.png"
        mask.write_bytes(read_blob(repository, f"{VALIDATION}/mask/MSK_{patch}.png"))
        photo = Image.open(io.BytesIO(read_blob(repository, f"{VALIDATION}/image/IMG_{patch}.png")))
        photo.convert("RGB").save(EXAMPLES_FOLDER / f"IMG_{patch}.webp", quality=PHOTO_QUALITY, method=6)
        metadata = json.loads(read_blob(repository, f"{VALIDATION}/json/MSK_{patch}.json"))
        catalogue.append(
            {
                "name": patch,
                "town": town(metadata["address"]),
                "place": metadata["display_name"],
                "date": metadata["date"],
            }
        )
    CATALOGUE.write_text(json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for path in sorted(EXAMPLES_FOLDER.iterdir()):
        print(f"{path.relative_to(EXAMPLES_FOLDER.parents[2])}: {path.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
