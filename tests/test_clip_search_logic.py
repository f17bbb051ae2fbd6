"""Image search, Gradio-free: reading images, the encoder and its weights, faiss indexes, saved
collections, folder indexing and the hand-off from other demos. A tiny random open_clip model of
the real architecture stands in for the real ones, loaded through the production path from a fake
hub cache."""

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from clip_search_fixtures import (
    DEFAULT_REPO,
    TINY_MODEL_CFG,
    aerial_like_image,
    save_tiny_open_clip,
    seed_tiny_encoder,
    write_images,
)
from PIL import Image

from shared.hub import Hub
from shared.settings import load_settings
from shared.weights import WeightsUnavailable
from spaces.clip_search import index as index_command
from spaces.clip_search import indexing, vector_index
from spaces.clip_search.collection import Collection, EncoderMismatch, Item
from spaces.clip_search.encoder import (
    EncoderIdentity,
    EncoderSettingError,
    get_encoder,
    load_encoder,
    parse_encoder_setting,
)
from spaces.clip_search.images import MAX_DECODED_PIXELS, UnreadableImage, load_image

REPO = Path(__file__).resolve().parent.parent


def forget_hub_repo(repo_id: str, repo_type: str = "model") -> None:
    """Remove a seeded repository, so later tests (the end-to-end hub) find the cache as it was."""
    shutil.rmtree(
        Path(os.environ["HF_HOME"]) / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}", ignore_errors=True
    )


@pytest.fixture(scope="module")
def default_encoder_in_cache():
    seed_tiny_encoder()
    yield DEFAULT_REPO
    forget_hub_repo(DEFAULT_REPO)


def hub_with(tmp_path, **environment) -> Hub:
    values = {"IAGEN_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    values.update({f"IAGEN_{name.upper()}": value for name, value in environment.items()})
    return Hub(load_settings([], values))


@pytest.fixture
def encoder(default_encoder_in_cache, tmp_path):
    return get_encoder(hub_with(tmp_path))


class CountingEncoder:
    """The encoder, counting the images it encodes (to check what is re-embedded)."""

    def __init__(self, encoder, fail_after_batches: int | None = None):
        self.encoder, self.encoded, self.batches, self.fail_after = encoder, 0, 0, fail_after_batches
        self.identity = encoder.identity

    def preprocess_images(self, images):
        return self.encoder.preprocess_images(images)

    def encode_pixels(self, batch):
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise KeyboardInterrupt("interrupted")
        self.batches += 1
        self.encoded += len(batch)
        return self.encoder.encode_pixels(batch)


# --- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("L", ".png"),
        ("RGBA", ".png"),
        ("LA", ".png"),
        ("P", ".png"),
        ("1", ".png"),
        ("CMYK", ".tif"),
        ("CMYK", ".jpg"),
        ("RGB", ".webp"),
    ],
)
def test_every_mode_becomes_rgb(tmp_path, mode, suffix):
    path = tmp_path / f"image{suffix}"
    aerial_like_image(3, size=200).convert(mode).save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (200, 200)


def test_sixteen_bit_tiff_is_stretched_to_its_range(tmp_path):
    ramp = np.tile(np.linspace(1000, 5000, 256, dtype=np.uint16), (64, 1))  # a dark 16-bit raster
    Image.fromarray(ramp).save(tmp_path / "dem.tif")
    pixels = np.asarray(load_image(tmp_path / "dem.tif"))
    assert pixels.shape == (64, 256, 3)
    assert pixels.min() <= 5 and pixels.max() >= 250  # not a black picture clipped at 255/65535


def test_transparency_is_flattened_on_white(tmp_path):
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png").getpixel((5, 5)) == (255, 255, 255)


def test_files_that_are_not_images_are_named_as_such(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(UnreadableImage) as raised:
        load_image(tmp_path / "notes.png")
    assert raised.value.kind == "not_an_image"
    aerial_like_image(1).save(tmp_path / "whole.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "whole.png").read_bytes()[:300])
    with pytest.raises(UnreadableImage) as raised:
        load_image(tmp_path / "cut.png")
    assert raised.value.kind == "damaged"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds no pixels: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [10_000, 20_000])  # above our limit; above Pillow's own
def test_huge_images_are_refused_before_decoding(tmp_path, side):
    (tmp_path / "huge.png").write_bytes(png_header_only(side, side))
    with pytest.raises(UnreadableImage) as raised:
        load_image(tmp_path / "huge.png")
    assert raised.value.kind == "too_large"
    assert raised.value.values["megapixels"] == side * side // 1_000_000
    assert side * side > MAX_DECODED_PIXELS


def test_a_10000_pixel_jpeg_is_decoded_small_in_bounded_memory(tmp_path):
    """libjpeg decodes it at 1/8 scale: the process grows by a few MB, not the ~100 MB of the pixels."""
    path = tmp_path / "huge.jpg"
    make = f"from PIL import Image; Image.linear_gradient('L').resize((10000, 10000)).save({str(path)!r}, quality=50)"
    subprocess.run([sys.executable, "-c", make], check=True, timeout=120)
    measure = (
        f"import resource; from spaces.clip_search.images import load_image; "
        f"before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; image = load_image({str(path)!r}); "
        f"print(image.size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
    )
    done = subprocess.run([sys.executable, "-c", measure], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    size, grown_kib = done.stdout.rsplit(")", 1)
    assert size.strip() == "(768, 768"
    assert int(grown_kib) < 40_000, f"decoding grew the process by {int(grown_kib) // 1024} MiB"


# --- the encoder and its weights ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", (None, None, None)),
        ("hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K", ("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", None, None)),
        ("ViT-B-32:laion2b_s34b_b79k", (None, "ViT-B-32", "laion2b_s34b_b79k")),
        ("ViT-B-32:/models/RemoteCLIP-ViT-B-32.pt", (None, "ViT-B-32", "/models/RemoteCLIP-ViT-B-32.pt")),
    ],
)
def test_encoder_settings(value, expected):
    choice = parse_encoder_setting(value)
    assert (choice.hub_repo, choice.architecture, choice.pretrained) == expected


@pytest.mark.parametrize("value", ["ViT-B-32", "hf-hub:", "hf-hub:no-organisation", ":tag"])
def test_bad_encoder_settings_say_what_is_accepted(value):
    with pytest.raises(EncoderSettingError, match="ARCHITECTURE:TAG|ORGANISATION/NAME"):
        parse_encoder_setting(value)


def test_the_default_encoder_loads_from_the_hub_cache(default_encoder_in_cache, tmp_path):
    hub = hub_with(tmp_path)
    encoder = get_encoder(hub)
    assert encoder.identity.model == "hf-hub:joaodaniel/RS-M-CLIP" and encoder.identity.dim == 32
    assert get_encoder(hub) is encoder  # once per hub, through the shared model cache
    assert hub.models.status("clip_encoder:model").state == "loaded"
    texts = encoder.encode_texts(["Clairière entourée de forêt", "A clearing surrounded by forest"])
    images = encoder.encode_images([aerial_like_image(1), aerial_like_image(2)])
    for vectors in (texts, images):
        assert vectors.shape == (2, 32) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_missing_weights_say_how_to_get_them(tmp_path):
    hub = hub_with(tmp_path, clip_model="hf-hub:nobody/missing-clip")
    with pytest.raises(WeightsUnavailable) as raised:
        load_encoder(hub)
    message = str(raised.value)
    assert "nobody/missing-clip" in message and "python -m shared.prefetch clip_encoder" in message
    assert "IAGEN_MODEL_CLIP_ENCODER" in message


def test_a_local_copy_replaces_the_hub_repository(tmp_path):
    save_tiny_open_clip(tmp_path / "rs-m-clip", seed=3)
    encoder = load_encoder(hub_with(tmp_path, model_clip_encoder=str(tmp_path / "rs-m-clip")))
    assert encoder.identity.model == str(tmp_path / "rs-m-clip")
    assert encoder.encode_images([aerial_like_image(1)]).shape == (1, 32)


def test_an_architecture_with_a_local_weights_file(tmp_path):
    import open_clip

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny-clip-test.json").write_text(json.dumps(TINY_MODEL_CFG))
    open_clip.add_model_config(tmp_path / "configs")
    save_tiny_open_clip(tmp_path / "weights", seed=5)
    weights = tmp_path / "weights" / "open_clip_model.safetensors"
    encoder = load_encoder(hub_with(tmp_path, clip_model=f"tiny-clip-test:{weights}"))
    assert encoder.identity.model == f"tiny-clip-test:{weights}"
    assert encoder.encode_texts(["forêt"]).shape == (1, 32)


def test_an_unknown_tag_lists_the_known_ones(tmp_path):
    with pytest.raises(EncoderSettingError, match="laion2b_s34b_b79k"):
        load_encoder(hub_with(tmp_path, clip_model="ViT-B-32:no_such_tag"))


def test_a_known_tag_comes_from_its_hub_repository(tmp_path):
    with pytest.raises(WeightsUnavailable, match="laion/CLIP-ViT-B-32-laion2B-s34B-b79K"):
        load_encoder(hub_with(tmp_path, clip_model="ViT-B-32:laion2b_s34b_b79k"))


def test_a_10000_character_query_is_cut_to_the_text_context(encoder):
    query = encoder.prepare_query("Clairière entourée de forêt " * 400)
    assert query.truncated and len(query.text) <= 1000
    assert query.kept.startswith("clairière entourée de forêt") and len(query.kept) < len(query.text)
    assert encoder.encode_texts([query.text]).shape == (1, 32)
    assert not encoder.prepare_query("Clairière entourée de forêt").truncated


def test_an_xlm_roberta_text_tower_comes_from_its_own_weight_source(tmp_path):
    """RS-M-CLIP's architecture: open_clip's HF text tower, whose config and tokenizer we fetch
    (clip_text_tower) and point open_clip at, since open_clip would ask the hub for them."""
    from conftest import seed_hub_cache
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig

    words = ["<s>", "<pad>", "</s>", "<unk>", "clairière", "forêt", "champ", "rivière", "piscine"]

    def save_tower(folder: Path) -> None:
        tokenizer = Tokenizer(models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
        ).save_pretrained(folder)
        XLMRobertaConfig(
            vocab_size=len(words),
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=80,
            pad_token_id=1,
        ).save_pretrained(folder)

    tower = seed_hub_cache("FacebookAI/xlm-roberta-base", save_tower)
    model_cfg = {
        "embed_dim": 16,
        "vision_cfg": TINY_MODEL_CFG["vision_cfg"],
        "text_cfg": {"hf_model_name": str(tower), "hf_tokenizer_name": str(tower), "hf_pooler_type": "mean_pooler"},
    }
    hub_cfg = {
        **model_cfg,
        "text_cfg": {
            **model_cfg["text_cfg"],
            "hf_model_name": "xlm-roberta-base",
            "hf_tokenizer_name": "xlm-roberta-base",
        },
    }

    def save_clip(folder: Path) -> None:
        save_tiny_open_clip(folder, model_cfg=model_cfg)
        (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": hub_cfg}))

    seed_hub_cache("test/tiny-multilingual-clip", save_clip)
    try:
        encoder = load_encoder(hub_with(tmp_path, clip_model="hf-hub:test/tiny-multilingual-clip"))
        assert encoder.encode_texts(["clairière forêt"]).shape == (1, 16)
        assert not encoder.prepare_query("clairière forêt").truncated
    finally:
        forget_hub_repo("FacebookAI/xlm-roberta-base")
        forget_hub_repo("test/tiny-multilingual-clip")


# --- faiss indexes ------------------------------------------------------------------------------


def clustered_unit_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """Like image embeddings: groups of similar images, not uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(8, count // 50), dim))
    vectors = centres[rng.integers(0, len(centres), count)] + 0.5 * rng.standard_normal((count, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_small_collections_are_searched_exactly():
    vectors = clustered_unit_vectors(500, 32)
    index, info = vector_index.build_index(vectors)
    assert info.kind == "flat"
    scores, positions = vector_index.search(index, vectors[:5], 1)
    assert positions[:, 0].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(scores[:, 0], 1, atol=1e-5)


def test_large_collections_get_an_approximate_index_with_measured_recall():
    vectors = clustered_unit_vectors(20_000, 32)
    index, info = vector_index.build_index(vectors, exact_limit=5_000)
    assert info.kind == "ivf" and info.nlist == vector_index.ivf_list_count(20_000)
    assert info.recall_at_10 >= vector_index.TARGET_RECALL and info.nprobe in vector_index.NPROBE_CHOICES
    queries = vector_index.sample_queries(vectors, 100, np.random.default_rng(99))  # not the calibration ones
    recall = vector_index.recall_at_k(
        vector_index.search(index, queries, 10)[1], vector_index.exact_neighbours(vectors, queries, 10)
    )
    assert recall >= 0.9


def test_recall_at_k():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert vector_index.recall_at_k(np.array([[4, 3, 2, 1], [5, 6, 0, 0]]), exact) == 0.75


# --- saved collections --------------------------------------------------------------------------

IDENTITY = EncoderIdentity("tiny", "a" * 64, 32)


def items_for(count: int, prefix: str = "image") -> list[Item]:
    return [
        Item(
            f"{prefix}{i}.png", f"/photos/{prefix}{i}.png", f"caption {i}", "folder", f"{i:064x}", f"thumbnails/{i}.jpg"
        )
        for i in range(count)
    ]


def test_save_and_load_round_trip(tmp_path):
    vectors = clustered_unit_vectors(300, 32)
    saved = Collection(IDENTITY, items_for(300), vectors)
    saved.save(tmp_path / "index")
    loaded = Collection.load(tmp_path / "index", IDENTITY)
    assert loaded.items == saved.items and loaded.info == saved.info
    assert isinstance(loaded.vectors, np.memmap)  # memory-mapped, like the faiss index
    np.testing.assert_array_equal(loaded.vectors, vectors)
    query = vectors[42]
    assert [hit.item.key for hit in loaded.search(query, 5)] == [hit.item.key for hit in saved.search(query, 5)]
    assert loaded.search(query, 1)[0].item.key == "image42.png"
    # A memory-mapped index is read-only: updating builds a new one (faiss would abort on add).
    grown = loaded.updated(new_items=items_for(1, "new"), new_vectors=vectors[:1])
    grown.save(tmp_path / "index")
    assert len(Collection.load(tmp_path / "index", IDENTITY)) == 301
    assert sorted(path.name for path in (tmp_path / "index").glob("v*")) == ["v000001", "v000002"]


def test_an_index_built_by_another_encoder_is_refused(tmp_path):
    Collection(IDENTITY, items_for(3), clustered_unit_vectors(3, 32)).save(tmp_path / "index")
    other = EncoderIdentity("ViT-B-32:laion2b_s34b_b79k", "b" * 64, 32)
    with pytest.raises(EncoderMismatch) as raised:
        Collection.load(tmp_path / "index", other)
    message = str(raised.value)
    assert "tiny" in message and "ViT-B-32:laion2b_s34b_b79k" in message and "--rebuild" in message


def test_an_empty_collection_saves_and_loads(tmp_path):
    Collection.empty(IDENTITY).save(tmp_path / "index")
    loaded = Collection.load(tmp_path / "index", IDENTITY)
    assert len(loaded) == 0 and loaded.search(np.ones(32, np.float32), 5) == []


# --- indexing a folder --------------------------------------------------------------------------


def test_an_image_queried_by_itself_comes_back_first(encoder, tmp_path):
    files = write_images(tmp_path / "photos", 12)
    collection = indexing.index_folder(tmp_path / "photos", encoder).collection
    for path in (files[0], files[7]):
        hits = collection.search(encoder.encode_images([load_image(path)])[0], 3)
        assert hits[0].item.key == path.name
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert (collection.folder / hits[0].item.thumbnail).is_file()


def test_a_second_run_embeds_only_what_changed(encoder, tmp_path):
    photos = tmp_path / "photos"
    files = write_images(photos, 6)
    indexing.index_folder(photos, encoder)
    aerial_like_image(500).save(files[0])  # new content
    files[1].write_bytes(files[1].read_bytes())  # same content, new modification time
    files[2].unlink()
    write_images(photos / "new", 2, start=100)
    counting = CountingEncoder(encoder)
    report = indexing.index_folder(photos, counting)
    assert (report.new, report.changed, report.unchanged, report.removed) == (2, 1, 4, 1)
    assert counting.encoded == 3
    assert sorted(report.collection.positions) == sorted(
        [
            "patch_0000.png",
            "patch_0001.png",
            "patch_0003.png",
            "patch_0004.png",
            "patch_0005.png",
            "new/patch_0100.png",
            "new/patch_0101.png",
        ]
    )
    hits = report.collection.search(encoder.encode_images([load_image(files[0])])[0], 1)
    assert hits[0].item.key == "patch_0000.png" and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_corrupt_files_are_skipped_and_reported(encoder, tmp_path):
    photos = tmp_path / "photos"
    write_images(photos, 4)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    (photos / "notes.png").write_text("hello")
    (photos / "huge.png").write_bytes(png_header_only(10_000, 10_000))
    report = indexing.index_folder(photos, encoder)
    assert len(report.collection) == 4 and report.new == 4
    assert sorted(name for name, _ in report.unreadable) == ["broken.jpg", "huge.png", "notes.png"]


def test_an_interrupted_run_resumes(encoder, tmp_path, monkeypatch):
    monkeypatch.setattr(indexing, "CHECKPOINT_SECONDS", 0)  # save after every batch
    photos = tmp_path / "photos"
    write_images(photos, 7)
    with pytest.raises(KeyboardInterrupt):
        indexing.index_folder(photos, CountingEncoder(encoder, fail_after_batches=2), batch_size=2)
    counting = CountingEncoder(encoder)
    report = indexing.index_folder(photos, counting, batch_size=2)
    assert counting.encoded == 3 and report.unchanged == 4 and len(report.collection) == 7


def test_the_command_line_indexes_searches_and_refuses_another_encoder(
    default_encoder_in_cache, tmp_path, monkeypatch, capsys
):
    seed_tiny_encoder("test/other-clip", seed=1)
    monkeypatch.setenv("IAGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IAGEN_CLIP_MODEL", raising=False)
    photos = tmp_path / "photos"
    write_images(photos, 5)
    (photos / "broken.png").write_text("not an image")
    assert index_command.main([str(photos), "--query", "forêt", "--top-k", "3"]) == 0
    output = capsys.readouterr().out
    assert "5 images indexed: 5 new" in output and "skipped broken.png" in output
    assert output.count("patch_") == 3
    monkeypatch.setenv("IAGEN_CLIP_MODEL", "hf-hub:test/other-clip")
    try:
        assert index_command.main([str(photos)]) == 1
        assert "--rebuild" in capsys.readouterr().err
        assert index_command.main([str(photos), "--rebuild"]) == 0
        assert "5 images indexed: 5 new" in capsys.readouterr().out
    finally:
        forget_hub_repo("test/other-clip")


# --- the hand-off from other demos --------------------------------------------------------------


def test_offered_images_reach_the_inbox_once_and_in_order(tmp_path):
    from shared.gallery_handoff import inbox_stamp, list_offers, offer_to_gallery

    hub = hub_with(tmp_path)
    before = inbox_stamp(hub.settings.cache_dir)
    first = offer_to_gallery(hub, aerial_like_image(1), "Aerial view of rue des Lilas", source="seg2sat")
    offer_to_gallery(hub, aerial_like_image(2), "Second", source="seg2sat")
    assert offer_to_gallery(hub, aerial_like_image(1), "Same pixels again", source="seg2sat") == first
    offers = list_offers(hub.settings.cache_dir)
    assert [offer.caption for offer in offers] == ["Second", "Same pixels again"]
    assert {offer.source for offer in offers} == {"seg2sat"}
    assert inbox_stamp(hub.settings.cache_dir) != before
    with pytest.raises(ValueError):
        offer_to_gallery(hub, aerial_like_image(3), "x", source="../escape")


def test_offers_from_many_threads_are_all_complete_and_bounded(tmp_path, monkeypatch):
    from shared import gallery_handoff

    monkeypatch.setattr(gallery_handoff, "MAX_OFFERS", 5)
    hub = hub_with(tmp_path)
    threads = [
        threading.Thread(target=gallery_handoff.offer_to_gallery, args=(hub, aerial_like_image(i), f"n{i}"))
        for i in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offers = gallery_handoff.list_offers(hub.settings.cache_dir)
    assert len(offers) == 5
    assert all(load_image(offer.path).size == (96, 96) for offer in offers)
    folder = gallery_handoff.inbox_folder(hub.settings.cache_dir) / "seg2sat"
    assert not list(folder.glob(".offer-*")) and len(list(folder.glob("*.json"))) == 5


def test_flair_captions_are_shown_in_the_pages_language():
    from spaces.clip_search.logic import caption_in

    caption = "Aerial view of Av. Foch, Paris. deciduous, building, herbaceous vegetation"
    assert caption_in("fr", caption) == "Av. Foch, Paris — feuillu, bâtiment, surface herbacée"
    assert caption_in("en", caption) == "Av. Foch, Paris — deciduous, building, herbaceous vegetation"
    for other in ("IMG_0042.jpg", "Aerial view of rue X. a class we do not know", "Aerial view of Lyon"):
        assert caption_in("fr", other) == other  # not a FLAIR caption: as it is
