"""The image search, Gradio-free: a text, an image or a gallery item → the nearest gallery images.

The tab (ui.py) turns these outcomes into components and texts; the parts below are the encoder
(encoder.py), the gallery (gallery.py) and its collections (collection.py, vector_index.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shared.flair import CLASS_BY_ENGLISH_NAME
from shared.model_cache import LOADED
from shared.weights import WeightsUnavailable
from spaces.clip_search.encoder import (
    ENCODER_KEY,
    MODEL_CACHE_KEY,
    TEXT_TOWER_KEY,
    ClipEncoder,
    EncoderSettingError,
    PreparedQuery,
    encoder_sources,
    parse_encoder_setting,
)
from spaces.clip_search.gallery import GALLERY_KEY, Gallery, Result, gallery_loader
from spaces.clip_search.images import file_sha256

GalleryProgress = Callable[[tuple[int, int, str]], None]  # (done, total, stage) while the gallery opens

# FLAIR's captions read "Aerial view of <OpenStreetMap place>. <its land-cover classes>", in English.
FLAIR_CAPTION = re.compile(r"Aerial view of (?P<place>.+?)\.\s+(?P<classes>[a-z ]+(?:, [a-z ]+)*)\.?")


@dataclass
class SearchOutcome:
    results: list[Result]
    gallery: Gallery
    total_s: float
    encode_s: float
    search_s: float
    query: PreparedQuery | None = None  # a text query as the encoder read it (cut to its context)
    added: bool = False  # the query image joined the gallery


def caption_in(language: str, caption: str) -> str:
    """A FLAIR caption as a page in `language` shows it: the place, then its classes by their
    names in that language (« rue des Lilas, Toulouse — feuillu, bâtiment »); other captions (an
    upload's file name, Seg2Sat's prompt) as they are."""
    match = FLAIR_CAPTION.fullmatch(caption.strip())
    names = match and [name.strip() for name in match["classes"].split(",")]
    if not names or not all(name in CLASS_BY_ENGLISH_NAME for name in names):
        return caption
    classes = names if language == "en" else [CLASS_BY_ENGLISH_NAME[name].french for name in names]
    return f"{match['place']} — {', '.join(classes)}"


def encoder_unavailable(hub) -> WeightsUnavailable | None:
    """Why the configured encoder cannot load on this server, found without loading anything;
    None when it can, or when only loading it can tell (an open_clip pretrained tag)."""
    loaded = hub.models.status(MODEL_CACHE_KEY)
    if loaded is not None and loaded.state == LOADED:
        return None
    try:
        choice = parse_encoder_setting(hub.settings.clip_model)
    except EncoderSettingError:
        return None  # said on use, with what the setting accepts
    if choice.architecture is not None:
        return None
    missing = encoder_sources(hub, choice).unavailable(ENCODER_KEY)
    if missing is not None or choice.hub_repo is not None:  # another repository's text tower is in its config
        return missing
    return hub.weights.unavailable(TEXT_TOWER_KEY)


def gallery_unavailable(hub) -> WeightsUnavailable | None:
    """Why the default aerial gallery cannot be had (None for a local folder gallery)."""
    return None if hub.settings.clip_gallery else hub.weights.unavailable(GALLERY_KEY)


def open_gallery(hub, show: GalleryProgress | None = None) -> Gallery:
    """The hub's gallery, with the images other demos offered meanwhile."""
    gallery = gallery_loader(hub).gallery(show)
    gallery.sync_offers()
    return gallery


def search_by_text(
    hub, text: str, top_k: int, encoder: ClipEncoder, show: GalleryProgress | None = None
) -> SearchOutcome:
    prepared = encoder.prepare_query(text)
    outcome = _search(hub, lambda gallery: encoder.encode_texts([prepared.text])[0], top_k, show)
    outcome.query = prepared
    return outcome


def search_by_image(
    hub, image, name: str, path: str, top_k: int, add: bool, encoder: ClipEncoder, show: GalleryProgress | None = None
) -> SearchOutcome:
    """Images like `image`; with `add`, it joins the gallery first, so that it comes back first:
    the proof that it is in."""

    def add_to_the_gallery(gallery: Gallery, vector: np.ndarray) -> None:
        gallery.add_images([(image, name, "upload", file_sha256(path))], vector.reshape(1, -1))

    outcome = _search(
        hub, lambda gallery: encoder.encode_images([image])[0], top_k, show, add_to_the_gallery if add else None
    )
    outcome.added = add
    return outcome


def search_like_item(hub, key: str, top_k: int, show: GalleryProgress | None = None):
    """(the item, its thumbnail, images like it), or None once the item has left the gallery."""
    found = open_gallery(hub, show).find(key)
    if found is None:
        return None
    item, thumbnail, vector = found
    return item, thumbnail, _search(hub, lambda gallery: vector, top_k, show)


def _search(hub, vector_of, top_k: int, show, before_search=None) -> SearchOutcome:
    started = time.perf_counter()
    gallery = open_gallery(hub, show)
    encode_started = time.perf_counter()
    vector = vector_of(gallery)
    encoded = time.perf_counter()
    if before_search is not None:
        before_search(gallery, vector)
    search_started = time.perf_counter()
    results = gallery.search(vector, top_k)
    finished = time.perf_counter()
    return SearchOutcome(results, gallery, finished - started, encoded - encode_started, finished - search_started)
