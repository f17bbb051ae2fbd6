"""The image search tab through its named endpoints, with gradio_client, against the hub built
in-process with the tiny encoder and a fake FLAIR dataset in the hub cache."""

import html
import re

import numpy as np
import pytest
from clip_search_fixtures import DEFAULT_REPO, FLAIR_REPO, aerial_like_image, seed_fake_flair, seed_tiny_encoder
from hub_server import hub_in_process
from PIL import Image
from test_clip_search_logic import forget_hub_repo, png_header_only

from shared.hub import Hub
from shared.i18n import format_number
from shared.settings import load_settings
from spaces.clip_search import logic

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

GALLERY_SIZE = 24
CLIP_SEARCH_ONLY = {"clip_search": "spaces.clip_search.ui"}


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory):
    seed_tiny_encoder()
    seed_fake_flair(40)
    cache = tmp_path_factory.mktemp("clip-ui")
    settings = load_settings(
        [], {"IAGEN_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "IAGEN_CLIP_GALLERY_SIZE": str(GALLERY_SIZE)}
    )
    with hub_in_process(Hub(settings), CLIP_SEARCH_ONLY) as url:
        yield url
    forget_hub_repo(DEFAULT_REPO)
    forget_hub_repo(FLAIR_REPO, "dataset")


@pytest.fixture(scope="module")
def client(hub_url):
    return Client(hub_url, verbose=False)


def captions(gallery) -> list[str]:
    return [entry["caption"] for entry in gallery]


def paragraphs(status: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", text)) for text in re.findall(r"<p[^>]*>(.*?)</p>", status)]


def test_endpoints_are_listed(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/clip_search_text"]["parameters"]] == ["query_text", "top_k_value"]
    assert [p["parameter_name"] for p in endpoints["/clip_search_image"]["parameters"]] == [
        "path",
        "top_k_value",
        "add",
    ]


def test_a_text_query_returns_the_top_k_with_scores_and_captions(client):
    gallery, status, query_image = client.predict("Clairière entourée de forêt", 5, api_name="/clip_search_text")
    assert len(gallery) == 5 and all(entry["image"].endswith(".jpg") for entry in gallery)
    scores = [entry["score"] for entry in gallery]
    assert scores == sorted(scores, reverse=True) and all(-1 <= score <= 1 for score in scores)
    for entry in gallery:  # the caption as the tab shows it: the score in French, then the dataset's caption
        score, caption = entry["caption"].split(" · ", 1)
        assert score == format_number(entry["score"], "fr", 2) and caption.endswith(", Toulouse — feuillu, bâtiment")
    heading, summary = paragraphs(status)[:2]
    assert heading == "Pour « Clairière entourée de forêt » :"
    assert summary.startswith(f"5 images les plus proches parmi {GALLERY_SIZE}, en ")
    assert query_image["visible"] is False


def test_an_image_query_finds_itself_first(client, tmp_path):
    path = tmp_path / "patch.png"
    aerial_like_image(1003, size=128).save(path)  # row 3 of the fake dataset
    gallery, status, query_image = client.predict(handle_file(str(path)), 4, False, api_name="/clip_search_image")
    assert captions(gallery)[0] == "1,00 · rue 3, Toulouse — feuillu, bâtiment"  # FLAIR's caption, in French
    assert paragraphs(status)[0] == "Pour l'image « patch.png » :"
    assert query_image["visible"] is True


@pytest.mark.parametrize(("mode", "suffix"), [("L", ".png"), ("RGBA", ".png"), ("CMYK", ".tif"), ("I;16", ".tif")])
def test_other_image_modes_are_searched(client, tmp_path, mode, suffix):
    path = tmp_path / f"image{suffix}"
    image = aerial_like_image(1005, size=128)
    if mode == "I;16":  # a 16-bit raster, as GIS tools write them
        Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 256).save(path)
    else:
        image.convert(mode).save(path)
    gallery, status, _ = client.predict(handle_file(str(path)), 3, False, api_name="/clip_search_image")
    assert len(gallery) == 3, status


def test_an_uploaded_image_can_join_the_gallery(client, tmp_path):
    path = tmp_path / "mine.png"
    aerial_like_image(4242).save(path)
    gallery, status, _ = client.predict(handle_file(str(path)), 3, True, api_name="/clip_search_image")
    assert captions(gallery)[0] == "1,00 · mine.png"
    assert "Votre image a rejoint la galerie." in paragraphs(status)
    _, status, _ = client.predict("forêt", 3, api_name="/clip_search_text")
    assert f"parmi {GALLERY_SIZE + 1}," in paragraphs(status)[1]


@pytest.mark.parametrize("query", ["", "   ", None])
def test_an_empty_query_asks_for_one(client, query):
    gallery, status, _ = client.predict(query, 5, api_name="/clip_search_text")
    assert gallery == [] and paragraphs(status) == [
        "Tapez une description, par exemple « Clairière entourée de forêt »."
    ]


def test_a_10000_character_query_is_truncated_with_a_notice(client):
    gallery, status, _ = client.predict("Une rivière qui traverse des champs. " * 270, 5, api_name="/clip_search_text")
    assert len(gallery) == 5
    notice = paragraphs(status)[-1]
    assert notice.startswith("Texte long : le modèle n'en lit que les 77 premiers tokens, c'est-à-dire « une rivière")


def test_markup_in_a_query_comes_back_escaped(client):
    _, status, _ = client.predict('<img src=x onerror=alert(1)> "champs"', 3, api_name="/clip_search_text")
    assert "<img" not in status and "&lt;img" in status


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello, I am text", "Ce fichier n'est pas une image."),
        (png_header_only(10_000, 10_000), "Image trop grande : 100 mégapixels, au-delà des 60 que ce serveur décode"),
    ],
)
def test_unreadable_uploads_are_explained(client, tmp_path, content, expected):
    path = tmp_path / "upload.png"
    path.write_bytes(content)
    gallery, status, _ = client.predict(handle_file(str(path)), 5, False, api_name="/clip_search_image")
    assert gallery == [] and paragraphs(status)[0].startswith(expected)
    assert 'class="clip-search-error"' in status


def test_no_image_asks_for_one(client):
    gallery, status, _ = client.predict(None, 5, False, api_name="/clip_search_image")
    assert gallery == [] and paragraphs(status) == ["Choisissez une image."]


def test_english_callers_get_english(hub_url):
    english = Client(hub_url, verbose=False, headers={"Accept-Language": "en-US,en;q=0.9"})
    gallery, status, _ = english.predict("A clearing surrounded by forest", 3, api_name="/clip_search_text")
    assert all(entry["caption"].startswith(format_number(entry["score"], "en", 2) + " · ") for entry in gallery)
    assert paragraphs(status)[0] == "For “A clearing surrounded by forest”:"
    assert paragraphs(status)[1].startswith("3 nearest images out of ")


def test_missing_weights_are_said_in_one_sentence_and_the_remedy_goes_to_the_log(tmp_path, caplog):
    settings = load_settings(
        [], {"IAGEN_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "IAGEN_CLIP_MODEL": "hf-hub:nobody/missing-clip"}
    )
    hub = Hub(settings)
    assert logic.encoder_unavailable(hub) is not None  # what the tab says at page load
    with caplog.at_level("WARNING"), hub_in_process(hub, CLIP_SEARCH_ONLY) as url:
        client = Client(url, verbose=False)
        for arguments, api_name in (
            (("forêt", 5), "/clip_search_text"),
            ((handle_file(str(_an_image(tmp_path))), 5, False), "/clip_search_image"),
        ):
            gallery, status, _ = client.predict(*arguments, api_name=api_name)
            assert gallery == [] and paragraphs(status) == [
                "Le modèle de recherche n'est pas installé sur ce serveur : la recherche d'images est indisponible."
            ]
        assert "Modèle" in client.predict(api_name="/model_status")  # the rest of the hub answers
    assert "python -m shared.prefetch clip_encoder" in caplog.text and "IAGEN_MODEL_CLIP_ENCODER" in caplog.text


def _an_image(folder):
    path = folder / "query.jpg"
    Image.new("RGB", (40, 40), (30, 120, 40)).save(path)
    return path
