"""The Seg2Sat tab on a phone (390 × 844, touch), in French and English, in a real browser.

The hub runs with the tiny random Seg2Sat models in its hub cache (the real loading code, on this
CPU), and a second hub without them for what a student meets when they are missing.
Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil

import pytest
from browser_fixtures import ERROR_TOAST, LOGS, PHONE, SCREENSHOTS, Pages, expect, other_language_on_page, settle
from conftest import seed_seg2sat_models
from hub_server import running_hub
from PIL import Image

from spaces.seg2sat.examples import EXAMPLES


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):
    snapshots = seed_seg2sat_models()
    LOGS.mkdir(parents=True, exist_ok=True)
    environ = {"IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("cache")), "IAGEN_TORCH_THREADS": "1"}
    try:
        with running_hub("--demos", "seg2sat", environ=environ, log_path=LOGS / "hub-browser-seg2sat.log") as url:
            yield url
    finally:
        for snapshot in snapshots:  # other modules' hubs must see no Seg2Sat weights
            shutil.rmtree(snapshot.parent.parent)


@pytest.fixture(scope="module")
def bare_hub_url(browser, tmp_path_factory):
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("bare-cache")),
        "IAGEN_MODEL_SEG2SAT_CONTROLNET": "example-org/absent-controlnet",
    }
    with running_hub("--demos", "seg2sat", environ=environ, log_path=LOGS / "hub-browser-seg2sat-bare.log") as url:
        yield url


@pytest.fixture
def bare_pages(request, browser, bare_hub_url):
    opened = Pages(browser, bare_hub_url)
    yield opened
    opened.close(request.node.name)


def open_tab(pages, locale="fr-FR"):
    page = pages.open("?tab=seg2sat", locale=locale)
    page.locator("#seg2sat-canvas canvas").wait_for()
    settle(page)
    return page


def canvas_pixels(page) -> str:
    return page.evaluate("document.querySelector('#seg2sat-canvas canvas').toDataURL()")


def touch_stroke(page, points) -> None:
    """A finger drawn along `points` (page coordinates of the viewport), as a phone sends it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}
    )
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def swipe_up(page, x: float, y: float, distance: float = 240) -> None:
    """A finger swiping up from (x, y): where the page may scroll, it scrolls down."""
    touch_stroke(page, [(x, y - distance * step / 15) for step in range(16)])


def bring_canvas_to_top(page) -> None:
    page.locator("#seg2sat-canvas .seg2sat-tools").first.evaluate(
        "e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -8); }"
    )
    page.wait_for_timeout(200)


def test_the_drawing_area_fits_one_screen_with_the_palette_and_the_button(pages):
    page = open_tab(pages)
    bring_canvas_to_top(page)
    for selector in (".seg2sat-colour", "#seg2sat-canvas canvas", "#seg2sat-generate"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    for button in page.locator("#seg2sat-canvas button:visible").all():
        assert button.bounding_box()["height"] >= 40, button.inner_text()  # a finger's size
    pages.assert_healthy(page)


def test_a_swipe_on_the_margin_scrolls_the_page_and_on_the_drawing_draws(pages):
    page = open_tab(pages)
    bring_canvas_to_top(page)
    canvas = page.locator("#seg2sat-canvas canvas").bounding_box()
    frame = page.locator("#seg2sat-canvas .seg2sat-frame").bounding_box()
    before = page.evaluate("window.scrollY")
    swipe_up(page, frame["x"] + 10, canvas["y"] + canvas["height"] / 2)  # in the left margin
    page.wait_for_timeout(500)
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > before + 100, f"a swipe on the margin did not scroll the page: {before} → {scrolled}"

    bring_canvas_to_top(page)
    canvas = page.locator("#seg2sat-canvas canvas").bounding_box()
    page.locator(".seg2sat-colour").click()
    page.locator(".seg2sat-pick").first.click()  # bâtiment: not the forest of a fresh map
    drawing, before = canvas_pixels(page), page.evaluate("window.scrollY")
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] * 0.8
    touch_stroke(page, [(x, y - step * 12) for step in range(20)])  # a finger moving up on the drawing
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") == before, "a stroke on the drawing scrolled the page"
    assert canvas_pixels(page) != drawing, "the stroke drew nothing"
    pages.assert_healthy(page)


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("fr-FR", "bâtiment", "building"), ("en-US", "building", "bâtiment")]
)
def test_swatches_are_named_and_the_palette_closes_after_a_pick(pages, locale, shown, hidden):
    page = open_tab(pages, locale)
    palette = page.locator("#seg2sat-canvas .seg2sat-palette")
    expect(palette).to_be_hidden()
    page.locator(".seg2sat-colour").click()
    expect(palette).to_be_visible()
    expect(palette).to_contain_text(shown)
    assert hidden not in palette.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"phone-seg2sat-palette-{locale}.png"))
    page.locator(".seg2sat-pick", has_text=shown).click()
    expect(palette).to_be_hidden()
    expect(page.locator(".seg2sat-colour")).to_contain_text(shown)
    pages.assert_healthy(page)


def test_an_example_replaces_the_drawing_and_undo_brings_it_back(pages):
    page = open_tab(pages)
    bring_canvas_to_top(page)
    canvas = page.locator("#seg2sat-canvas canvas").bounding_box()
    page.locator(".seg2sat-colour").click()
    page.locator(".seg2sat-pick").nth(4).click()  # eau
    x, y = canvas["x"] + 40, canvas["y"] + 40
    touch_stroke(page, [(x + 10 * step, y + 6 * step) for step in range(15)])
    page.wait_for_timeout(200)
    drawn = canvas_pixels(page)
    page.locator(".seg2sat-example").nth(2).click()
    expect(page.locator("#seg2sat-canvas .message")).to_contain_text("« Annuler » le rétablit")
    expect(page.locator("#seg2sat-place textarea")).to_have_value(EXAMPLES[2].place)
    assert canvas_pixels(page) != drawn
    page.locator(".seg2sat-undo").click()
    page.wait_for_timeout(200)
    assert canvas_pixels(page) == drawn
    pages.assert_healthy(page)


@pytest.mark.parametrize(
    ("locale", "photo_caption", "credit"),
    [
        ("fr-FR", "La vraie photo : Mourenx, 2021 (IGN – FLAIR)", "Cartes et photos : IGN – FLAIR"),
        ("en-US", "The real photo: Mourenx, 2021 (IGN – FLAIR)", "Maps and photos: IGN – FLAIR"),
    ],
)
def test_an_example_brings_its_real_photo_beside_the_results_with_its_credit(pages, locale, photo_caption, credit):
    page = open_tab(pages, locale)
    expect(page.locator("#seg2sat-canvas .credit")).to_contain_text(credit)
    expect(page.locator("#seg2sat-repaint")).to_be_hidden()  # nothing to repaint before a real place
    page.locator(".seg2sat-example").first.click()
    expect(page.locator("#seg2sat-place textarea")).to_have_value(EXAMPLES[0].place)
    results = page.locator("#seg2sat-results")
    expect(results.locator("figcaption .caption").first).to_have_text(photo_caption)
    page.wait_for_function("() => document.querySelector('#seg2sat-results img')?.naturalWidth === 512")
    expect(results.get_by_role("link")).to_have_count(0)  # the IGN's photo is not offered as ours
    expect(page.locator("#seg2sat-repaint")).to_be_visible()
    # The map in the canvas is the example's, exactly: the top-left pixel is its class colour.
    corner = page.evaluate(
        "Array.from(document.querySelector('#seg2sat-canvas canvas').getContext('2d').getImageData(0, 0, 1, 1).data)"
    )
    assert tuple(corner[:3]) == Image.open(EXAMPLES[0].path).convert("RGB").getpixel((0, 0))
    settle(page)
    pages.assert_healthy(page)
    results.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"phone-seg2sat-example-{locale}.png"))


def test_a_pond_painted_on_a_real_map_repaints_that_part_of_the_photo(pages):
    page = open_tab(pages)
    page.locator(".seg2sat-example").first.click()
    expect(page.locator("#seg2sat-repaint")).to_be_visible()
    bring_canvas_to_top(page)
    canvas = page.locator("#seg2sat-canvas canvas").bounding_box()
    page.locator(".seg2sat-colour").click()
    page.locator(".seg2sat-pick").nth(4).click()  # eau
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    touch_stroke(page, [(x + 4 * step, y) for step in range(10)])
    page.wait_for_timeout(300)
    page.locator("#seg2sat-repaint").click()
    status = page.locator("#seg2sat-status")
    expect(status).to_contain_text("Sans GPU", timeout=30_000)  # the time it will take comes first
    expect(status).to_contain_text("Ailleurs, la photo est intacte", timeout=180_000)
    results = page.locator("#seg2sat-results")
    expect(results.locator("img")).to_have_count(2)  # the real photo, then the repainted one
    expect(results.locator("figcaption .caption").nth(1)).to_contain_text("photo repeinte, graine")
    download = results.get_by_role("link", name="Télécharger")
    expect(download).to_have_attribute("download", re.compile(r"seg2sat-\d+\.png"))
    pages.assert_healthy(page)
    page.screenshot(path=str(SCREENSHOTS / "phone-seg2sat-repaint-fr-FR.png"), full_page=True)


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_on_a_cpu_the_tab_says_how_long_then_generates(pages, locale):
    language = locale[:2]
    page = open_tab(pages, locale)
    generate = page.locator("#seg2sat-generate")
    # The warm-up measures a step; the estimate then shows on the button and beside it.
    expect(generate).to_contain_text("(~", timeout=60_000)
    expect(page.locator("#seg2sat-estimate")).to_contain_text("Sans GPU" if language == "fr" else "Without a GPU")
    live = page.locator("#seg2sat-live input[type=checkbox]")
    expect(live).to_be_disabled()
    expect(page.locator("#seg2sat-live")).to_contain_text("demande un GPU" if language == "fr" else "needs a GPU")
    # A CPU's default is the distilled path, named as such, with one tap to the reference and its time.
    distilled_name = (
        "Version distillée en 4 étapes, plus rapide, un peu moins détaillée"
        if language == "fr"
        else "Distilled version in 4 steps, faster, a little less detailed"
    )
    expect(page.get_by_role("radio", name=distilled_name)).to_be_checked()
    preset = page.locator("#seg2sat-cpu-preset")
    expect(preset).to_contain_text("Réglages de référence (~" if language == "fr" else "Reference settings (~")
    generate.click()
    results = page.locator("#seg2sat-results")
    # While it runs: the latest preview, captioned with its step, and nothing to download yet.
    expect(results.locator("figcaption").first).to_contain_text(
        "étape " if language == "fr" else "step ", timeout=120_000
    )
    expect(results.get_by_role("link")).to_have_count(0)
    expect(page.locator("#seg2sat-status")).to_contain_text(
        "4 " + ("étapes en" if language == "fr" else "steps in"), timeout=120_000
    )
    made_by = (
        "Version distillée en 4 étapes (plus rapide" if language == "fr" else "Distilled version in 4 steps (faster"
    )
    expect(page.locator("#seg2sat-status")).to_contain_text(made_by)
    expect(results.locator("img")).to_have_count(1)
    expect(results.locator("img")).to_be_visible()
    page.wait_for_function(  # the image itself, at the distilled preset's size (not an enlarged preview)
        "() => document.querySelector('#seg2sat-results img').naturalWidth === 384"
    )
    caption = results.locator("figcaption .caption").inner_text()
    seed = re.fullmatch(r"(?:graine|seed) (\d+)", caption).group(1)
    assert caption.startswith("graine " if language == "fr" else "seed ")
    expect(page.locator("#seg2sat-status")).to_contain_text(seed)  # the seed that was used
    download = results.get_by_role("link", name="Télécharger" if language == "fr" else "Download")
    expect(download).to_have_attribute("download", f"seg2sat-{seed}.webp")
    assert download.bounding_box()["height"] >= 40  # a finger's size
    assert page.request.get(download.get_attribute("href")).ok
    assert results.locator("input[type=file]").count() == 0  # output only: no upload zone
    expect(page.get_by_text("Ajouter à la recherche d'images")).to_have_count(0)  # no image search here
    page.locator("#seg2sat-strip").scroll_into_view_if_needed()
    expect(page.locator("#seg2sat-strip img")).to_have_count(4)
    timesteps = [int(t) for t in page.locator("#seg2sat-strip figcaption").all_inner_texts()]
    assert timesteps == sorted(timesteps, reverse=True) and timesteps[0] < 1000, timesteps  # noisiest first
    settle(page)
    found = other_language_on_page(page, language)
    assert not found, f"text of the other language after a generation: {found}"
    pages.assert_healthy(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#seg2sat-results").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"phone-seg2sat-distilled-{language}.png"))  # the result and its name
    page.screenshot(path=str(SCREENSHOTS / f"phone-seg2sat-{language}.png"), full_page=True)
    # One tap: the reference path and its settings; the button then offers the distilled one back.
    preset.click()
    reference_name = "Version de référence en 20 étapes" if language == "fr" else "Reference version in 20 steps"
    expect(page.get_by_role("radio", name=re.compile(reference_name))).to_be_checked()
    expect(preset).to_contain_text(
        "Version distillée, plus rapide (~" if language == "fr" else "Distilled version, faster (~"
    )


def test_the_noising_slider_shows_the_forward_process(pages):
    page = open_tab(pages)
    shares = page.locator("#seg2sat-shares")
    expect(shares).to_contain_text("t = 500 / 1\u202f000")
    shares.scroll_into_view_if_needed()  # the first image, made when the hub started, loads once near the screen
    page.wait_for_function("() => document.querySelector('#seg2sat-noised img')?.naturalWidth > 0")
    number = page.locator("#seg2sat-how input[type=number]")
    number.fill("1000")
    number.press("Enter")
    expect(shares).to_contain_text("0,5 %")
    expect(shares).to_contain_text("99,5 %")
    expect(page.locator("#seg2sat-noised img")).to_be_visible()
    page.get_by_role("button", name="Ma dernière image").click()
    expect(page.locator("#seg2sat-how")).to_contain_text("Générez d'abord une image")
    pages.assert_healthy(page)


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        ("fr-FR", "Le modèle de génération n'est pas installé sur ce serveur : vous pouvez dessiner, pas générer."),
        ("en-US", "The image model is not installed on this server: you can draw, not generate."),
    ],
)
def test_missing_models_are_said_at_page_load_in_one_sentence(bare_pages, locale, sentence):
    page = open_tab(bare_pages, locale)
    expect(page.locator("#seg2sat-availability")).to_have_text(sentence)
    expect(page.locator("#seg2sat-generate")).to_be_disabled()
    expect(page.locator("#seg2sat-live input[type=checkbox]")).to_be_disabled()
    assert page.locator('[data-testid="toast-body"]').count() == 0  # no toast
    shown = page.locator("#tab-seg2sat").inner_text()
    assert "prefetch" not in shown and "rgres/" not in shown and "IAGEN_" not in shown  # the host's, in the log
    assert page.locator(ERROR_TOAST).count() == 0
    # Drawing still works.
    bring_canvas_to_top(page)
    before = canvas_pixels(page)
    page.locator(".seg2sat-new").click()
    page.locator(".seg2sat-fill").click()
    page.locator(".seg2sat-colour").click()
    page.locator(".seg2sat-pick").nth(4).click()
    page.locator("#seg2sat-canvas canvas").click(position={"x": 50, "y": 50})
    assert canvas_pixels(page) != before
    bare_pages.assert_healthy(page)
    page.screenshot(path=str(SCREENSHOTS / f"phone-seg2sat-missing-{locale}.png"), full_page=True)
