"""The image search tab on a phone (390 × 844, touch), in French and English, in a real browser.

The hub runs with a tiny random CLIP encoder and a fake FLAIR dataset in its hub cache (the real
loading and indexing code, on this CPU); one row's caption is markup, as a dataset or a user may
write one. The encoder is named as a hub repository (IAGEN_CLIP_MODEL=hf-hub:…): the default
one would also want RS-M-CLIP's XLM-RoBERTa text tower, which the tiny encoder has no use for. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from browser_fixtures import LOGS, PHONE, SCREENSHOTS, expect, other_language_on_page, settle
from clip_search_fixtures import FLAIR_REPO, aerial_like_image, seed_fake_flair, seed_tiny_encoder
from hub_server import running_hub
from test_clip_search_logic import forget_hub_repo

ENCODER_REPO = "test/tiny-clip"
GALLERY_SIZE = 24
MARKUP_ROW = 3
MARKUP_CAPTION = "Aerial view of <b>rue 3</b> <img src=x onerror=alert(1)> ${1+1} `x` \\u0041, Toulouse"
RESULTS = "#clip-search-results .clip-search-result"
EXAMPLES = {"fr": "Clairière entourée de forêt", "en": "A clearing surrounded by forest"}


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):
    seed_tiny_encoder(ENCODER_REPO)
    seed_fake_flair(40, captions={MARKUP_ROW: MARKUP_CAPTION})
    LOGS.mkdir(parents=True, exist_ok=True)
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "IAGEN_CLIP_MODEL": f"hf-hub:{ENCODER_REPO}",
        "IAGEN_CLIP_GALLERY_SIZE": str(GALLERY_SIZE),
        "IAGEN_TORCH_THREADS": "1",
    }
    try:
        with running_hub(
            "--demos", "clip_search", environ=environ, log_path=LOGS / "hub-browser-clip-search.log"
        ) as url:
            yield url
    finally:  # other modules' hubs must see no CLIP weights
        forget_hub_repo(ENCODER_REPO)
        forget_hub_repo(FLAIR_REPO, "dataset")


def open_tab(pages, locale="fr-FR"):
    page = pages.open("?tab=clip_search", locale=locale)
    expect(page.locator("#clip-search-button")).to_be_enabled()
    settle(page)
    return page


def search_the_example(page, language: str) -> None:
    page.locator("#tab-clip_search").get_by_role("button", name=EXAMPLES[language], exact=True).tap()
    expect(page.locator(RESULTS)).to_have_count(12, timeout=60_000)  # the gallery is indexed on first use


def captions(page) -> list[str]:
    return page.locator(f"{RESULTS} span").all_inner_texts()


def scores(page, language: str) -> list[float]:
    decimal = "," if language == "fr" else "."
    shown = [re.fullmatch(rf"(−?\d{re.escape(decimal)}\d\d) · .+", caption, re.S) for caption in captions(page)]
    assert all(shown), captions(page)
    return [float(match.group(1).replace(",", ".").replace("−", "-")) for match in shown]


def all_thumbnails_loaded(page) -> None:
    page.locator(RESULTS).last.scroll_into_view_if_needed()  # they load lazily, as they come into view
    page.wait_for_function(
        """selector => [...document.querySelectorAll(selector + ' img')]
            .every(image => image.complete && image.naturalWidth > 0)""",
        arg=RESULTS,
    )


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_results_are_a_grid_of_thumbnails_to_tap_best_first_with_their_scores(pages, locale):
    language = locale[:2]
    page = open_tab(pages, locale)
    search_the_example(page, language)
    found = scores(page, language)
    assert found == sorted(found, reverse=True), found
    all_thumbnails_loaded(page)
    boxes = [tile.bounding_box() for tile in page.locator(RESULTS).all()]
    assert [box["y"] for box in boxes[:3]] == [boxes[0]["y"]] * 3 and boxes[3]["y"] > boxes[0]["y"]  # 3 a row
    for box in boxes:
        assert box["width"] >= 90 and box["height"] >= 90, box  # a finger's size, and more
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    expect(page.locator("#clip-search-status")).to_contain_text("Pour « " if language == "fr" else "For “")
    settle(page)
    pages.assert_healthy(page)
    page.locator("#clip-search-status").evaluate("status => status.scrollIntoView({block: 'start'})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-clip-search-{language}.png"))
    # FLAIR's captions, English in the dataset, name their classes in the page's language too.
    other = other_language_on_page(page, language)
    assert not other, other


def test_a_tap_on_a_result_finds_images_like_it(pages):
    page = open_tab(pages)
    search_the_example(page, "fr")
    tapped = page.locator(RESULTS).nth(4)
    caption = tapped.locator("span").inner_text().split(" · ", 1)[1]
    tapped.scroll_into_view_if_needed()
    tapped.tap()
    expect(page.locator("#clip-search-status")).to_contain_text(f"Semblables à « {caption} » :")
    expect(page.locator(f"{RESULTS} span").first).to_have_text(f"1,00 · {caption}")  # itself, nearest of all
    expect(page.locator("#clip-search-query-image img")).to_be_visible()  # the image searched, above
    found = scores(page, "fr")
    assert found == sorted(found, reverse=True) and len(found) == 12
    pages.assert_healthy(page)


def test_captions_are_shown_as_text_never_as_markup(pages, tmp_path):
    """Row 3's caption is markup (with a template literal's ${…}): searching with its image shows
    it first, as the very characters of the dataset, and nothing of it runs."""
    image = tmp_path / "patch.png"
    aerial_like_image(1000 + MARKUP_ROW, size=128).save(image)  # the dataset's row 3
    page = open_tab(pages)
    page.get_by_text("Chercher à partir d'une image").click()
    page.locator("#clip-search-upload input[type=file]").set_input_files(str(image))
    expect(page.locator(f"{RESULTS} span").first).to_have_text(f"1,00 · {MARKUP_CAPTION}", timeout=60_000)
    grid = page.locator("#clip-search-results")
    assert grid.locator("b").count() == 0
    assert grid.locator("img").count() == page.locator(RESULTS).count()  # the thumbnails only
    assert page.locator(RESULTS).first.locator("img").get_attribute("alt") == f"1,00 · {MARKUP_CAPTION}"
    pages.assert_healthy(page)  # no JavaScript error: alert(1) never ran, nor ${1+1}
