"""The hub's gallery: FLAIR patches from a (fake) hub dataset, a local folder instead, and the
images added at run time (uploads, Seg2Sat's offers)."""

import numpy as np
import pytest
from clip_search_fixtures import (
    DEFAULT_REPO,
    FLAIR_REPO,
    aerial_like_image,
    save_fake_flair,
    seed_fake_flair,
    seed_tiny_encoder,
    write_images,
)
from test_clip_search_logic import forget_hub_repo, hub_with

from shared.gallery_handoff import offer_to_gallery
from spaces.clip_search import gallery as gallery_module
from spaces.clip_search.encoder import ClipEncoder, get_encoder
from spaces.clip_search.gallery import GalleryLoader, gallery_loader
from spaces.clip_search.images import load_image


@pytest.fixture(scope="module", autouse=True)
def tiny_encoder_and_flair():
    seed_tiny_encoder()
    seed_fake_flair(40)
    yield
    forget_hub_repo(DEFAULT_REPO)
    forget_hub_repo(FLAIR_REPO, "dataset")


@pytest.fixture
def encoded(monkeypatch):
    """How many images the encoder encoded."""
    counter = {"images": 0}
    original = ClipEncoder.encode_pixels

    def counting(self, batch):
        counter["images"] += len(batch)
        return original(self, batch)

    monkeypatch.setattr(ClipEncoder, "encode_pixels", counting)
    return counter


def test_the_flair_gallery_is_fetched_indexed_once_with_progress_and_reopened(tmp_path, encoded):
    hub = hub_with(tmp_path, clip_gallery_size="25")
    statuses = []
    gallery = GalleryLoader(hub).gallery(statuses.append, poll_seconds=0.01)
    assert len(gallery) == 25 and gallery.base_problem is None and encoded["images"] == 25
    item = gallery.base.items[3]
    assert item.caption == "Aerial view of rue 3, Toulouse. deciduous, building" and item.source == "flair"
    assert item.path == f"{FLAIR_REPO}/data/train-00000-of-00001.parquet#3"
    assert (gallery.base.folder / item.thumbnail).is_file()
    assert statuses and {stage for _, _, stage in statuses} <= {"encoder", "download", "index", "ready"}
    assert hub.models.status("flair_gallery:index").state == "loaded"

    again = hub_with(tmp_path, clip_gallery_size="25")  # a restart: same cache folder
    assert len(GalleryLoader(again).gallery()) == 25 and encoded["images"] == 25  # nothing re-encoded
    bigger = hub_with(tmp_path, clip_gallery_size="30")
    assert len(GalleryLoader(bigger).gallery()) == 30 and encoded["images"] == 30  # only the 5 new rows
    smaller = hub_with(tmp_path, clip_gallery_size="10")
    assert sorted(GalleryLoader(smaller).gallery().base.positions) == sorted(
        f"flair:train-00000-of-00001.parquet#{row}" for row in range(10)
    )


def test_a_patch_queried_by_itself_comes_back_first(tmp_path):
    hub = hub_with(tmp_path, clip_gallery_size="20")
    gallery = gallery_loader(hub).gallery()
    encoder = get_encoder(hub)
    for position in (0, 11):
        item = gallery.base.items[position]
        results = gallery.search(encoder.encode_images([load_image(gallery.base.folder / item.thumbnail)])[0], 3)
        assert results[0].item.key == item.key and results[0].score > 0.99
        stored_item, thumbnail, vector = gallery.find(item.key)
        assert stored_item == item and thumbnail.is_file()
        assert gallery.search(vector, 1)[0].score == pytest.approx(1.0, abs=1e-5)


def test_another_caption_column_is_used_when_prompt_is_missing(tmp_path):
    from conftest import seed_hub_cache

    seed_hub_cache(
        FLAIR_REPO,
        lambda folder: save_fake_flair(folder, 8, caption_column="clip_label"),
        revision_sha="2" * 40,
        repo_type="dataset",
    )
    try:
        gallery = GalleryLoader(hub_with(tmp_path, clip_gallery_size="8")).gallery()
        assert gallery.base.items[0].caption.startswith("Aerial view of rue 0")
    finally:
        seed_fake_flair(40)  # back to the module's dataset


def test_shards_are_read_until_the_gallery_is_full_and_offline_it_keeps_what_it_has(tmp_path, caplog):
    """The dataset's shards can hold fewer rows than the gallery wants: the next ones are fetched
    (here from the cache) only while rows are missing; a shard that cannot be had ends the gallery."""
    seed_fake_flair(30, revision="3" * 40, shards=3)  # 10 rows a shard
    try:
        gallery = GalleryLoader(hub_with(tmp_path / "a", clip_gallery_size="15")).gallery()
        assert len(gallery) == 15
        assert {item.path.rsplit("/", 1)[1].split("#")[0] for item in gallery.base.items} == {
            "train-00000-of-00003.parquet",
            "train-00001-of-00003.parquet",
        }
        seed_fake_flair(30, revision="4" * 40, shards=3, saved=2)  # the third shard is not here, offline
        with caplog.at_level("WARNING", logger="spaces.clip_search.gallery"):
            gallery = GalleryLoader(hub_with(tmp_path / "b", clip_gallery_size="30")).gallery()
        assert len(gallery) == 20 and "train-00002-of-00003.parquet" in caplog.text
    finally:
        seed_fake_flair(40)  # back to the module's dataset


def test_without_the_dataset_the_added_images_are_still_searched(tmp_path):
    hub = hub_with(tmp_path, model_flair_gallery="nobody/missing-dataset")
    gallery = GalleryLoader(hub).gallery()
    assert gallery.base is None and "nobody/missing-dataset" in gallery.base_problem and len(gallery) == 0
    image = aerial_like_image(7)
    gallery.add_images([(image, "my upload", "upload", "f" * 64)])
    results = gallery.search(get_encoder(hub).encode_images([image])[0], 5)
    assert [result.item.caption for result in results] == ["my upload"]
    assert results[0].score == pytest.approx(1.0, abs=1e-4) and results[0].thumbnail.is_file()
    reopened = GalleryLoader(hub_with(tmp_path, model_flair_gallery="nobody/missing-dataset")).gallery()
    assert [item.caption for item in reopened.added.items] == ["my upload"]  # saved


def test_seg2sat_offers_join_the_gallery_at_the_next_search(tmp_path):
    hub = hub_with(tmp_path, clip_gallery_size="5")
    gallery = GalleryLoader(hub).gallery()
    generated = aerial_like_image(321)
    offer_to_gallery(hub, generated, "Aerial view of rue des Lilas, Toulouse", source="seg2sat")
    assert gallery.sync_offers() == 1 and gallery.sync_offers() == 0
    results = gallery.search(
        get_encoder(hub).encode_images(
            [load_image(next((hub.settings.cache_dir / "gallery_inbox" / "seg2sat").glob("*.png")))]
        )[0],
        1,
    )
    assert results[0].item.source == "seg2sat" and results[0].item.caption == "Aerial view of rue des Lilas, Toulouse"
    assert results[0].score == pytest.approx(1.0, abs=1e-4)


def test_added_images_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(gallery_module, "MAX_ADDED", 3)
    gallery = GalleryLoader(hub_with(tmp_path, clip_gallery_size="5")).gallery()
    for number in range(5):
        gallery.add_images([(aerial_like_image(number), f"upload {number}", "upload", f"{number}" * 64)])
    assert [item.caption for item in gallery.added.items] == ["upload 2", "upload 3", "upload 4"]
    assert len(gallery) == 5 + 3


def test_a_local_folder_gallery_and_an_index_from_another_encoder(tmp_path):
    photos = tmp_path / "photos"
    write_images(photos, 6)
    gallery = GalleryLoader(hub_with(tmp_path, clip_gallery=str(photos))).gallery()
    assert len(gallery) == 6 and gallery.base.items[0].source == "folder"
    seed_tiny_encoder("test/other-clip", seed=1)
    try:
        other = GalleryLoader(hub_with(tmp_path, clip_gallery=str(photos), clip_model="hf-hub:test/other-clip"))
        refused = other.gallery()
        assert refused.base is None and "--rebuild" in refused.base_problem
    finally:
        forget_hub_repo("test/other-clip")


def test_a_missing_encoder_reaches_every_waiting_request(tmp_path):
    from shared.weights import WeightsUnavailable

    loader = GalleryLoader(hub_with(tmp_path, clip_model="hf-hub:nobody/missing-clip"))
    for _ in range(2):  # and the next request tries again
        with pytest.raises(WeightsUnavailable, match="nobody/missing-clip"):
            loader.gallery()


def test_vectors_are_unit_length_in_every_collection(tmp_path):
    gallery = GalleryLoader(hub_with(tmp_path, clip_gallery_size="10")).gallery()
    np.testing.assert_allclose(np.linalg.norm(np.asarray(gallery.base.vectors), axis=1), 1, atol=1e-5)
