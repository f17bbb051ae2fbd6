"""A hand-off from demos that make images (Seg2Sat) to the image search gallery, without either
importing the other.

The giver calls one function:

    from shared.gallery_handoff import offer_to_gallery
    offer_to_gallery(hub, image, "Aerial view of rue des Lilas, Toulouse", source="seg2sat")

and the image search picks the offer up at its next query (`list_offers`). An offer is two files
in a folder of the cache directory, `gallery_inbox/<source>/<hash>.png` and `<hash>.json`
(caption, source, time). Each is written under a temporary name and renamed into place, the PNG
last, so a reader never sees half an offer, and threads or processes may offer at the same time.
Offers are named by the sha256 of their PNG (its first 32 hex digits): offering the same image
twice keeps one. Each source keeps its MAX_OFFERS most recent offers; older ones are deleted.

Gradio-free; needs only Pillow.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from shared.atomic_write import atomic_write

INBOX_FOLDER = "gallery_inbox"
MAX_OFFERS = 200  # per source: a lecture's worth of generated images, a few tens of MB
MAX_CAPTION_CHARS = 500


@dataclass(frozen=True)
class Offer:
    path: Path  # the PNG
    caption: str
    source: str
    digest: str  # the PNG's name: the first 32 hex digits of its sha256
    offered_at: float  # seconds since the epoch


def inbox_folder(cache_dir: Path) -> Path:
    return Path(cache_dir) / INBOX_FOLDER


def offer_to_gallery(hub, image, caption: str, source: str = "seg2sat") -> Path:
    """Put `image` (a PIL image or an H × W × 3 uint8 array) in the gallery inbox with its caption;
    returns the PNG's path. Cheap (one PNG encode): call it right after generating."""
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", source):
        raise ValueError(f"source must be a short lowercase name, got {source!r}")
    folder = inbox_folder(hub.settings.cache_dir) / source
    folder.mkdir(parents=True, exist_ok=True)
    png = _png_bytes(image)
    name = hashlib.sha256(png).hexdigest()[:32]
    metadata = {"caption": str(caption)[:MAX_CAPTION_CHARS], "source": source, "offered_at": time.time()}
    with atomic_write(folder / f"{name}.json") as file:
        file.write(json.dumps(metadata, ensure_ascii=False).encode())
    with atomic_write(folder / f"{name}.png") as file:  # last: its presence completes the offer
        file.write(png)
    _forget_oldest(folder)
    return folder / f"{name}.png"


def list_offers(cache_dir: Path) -> list[Offer]:
    """Every complete offer in the inbox, oldest first."""
    offers = []
    for png in inbox_folder(cache_dir).glob("*/*.png"):
        try:
            metadata = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):  # deleted meanwhile, or written by hand: not an offer
            continue
        offers.append(
            Offer(
                png, str(metadata.get("caption", "")), png.parent.name, png.stem, float(metadata.get("offered_at", 0.0))
            )
        )
    return sorted(offers, key=lambda offer: offer.offered_at)


def inbox_stamp(cache_dir: Path) -> tuple[int, ...]:
    """Changes whenever an offer is added or removed: a reader lists offers only when it changed."""
    folder = inbox_folder(cache_dir)
    try:
        return tuple(entry.stat().st_mtime_ns for entry in sorted(folder.iterdir()) if entry.is_dir())
    except OSError:
        return ()


def _png_bytes(image) -> bytes:
    import io

    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _forget_oldest(folder: Path) -> None:
    pngs = sorted(folder.glob("*.png"), key=_modified_ns)
    for png in pngs[:-MAX_OFFERS]:
        png.unlink(missing_ok=True)  # the PNG first: the offer is gone before its caption
        png.with_suffix(".json").unlink(missing_ok=True)


def _modified_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # removed by another thread since it was listed
        return 0
