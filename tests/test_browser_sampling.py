"""The Échantillonnage tab in a real browser, on a 390 x 844 phone, in French and in English.

The hub serves only this tab, with random models of the real architectures under the real
repository ids in the test HF cache: the pages, buttons and streams are the real ones, the tokens
a random model's. The completion model is a tiny Gemma 3; the chat model a small Llama (SmolLM2's
architecture, ~60 M parameters) that streams at a reader's pace (~20 tokens/s on one core), as
« Arrêter » needs: a tiny one finishes before a finger reaches the button. Screenshots of every
page land in artifacts/screenshots/ (tests/browser_fixtures.py)."""

from __future__ import annotations

import functools
import re

import pytest
from browser_fixtures import LOGS, PHONE, SCREENSHOTS, Pages, expect, other_language_on_page, settle
from conftest import seed_hub_cache
from hub_server import running_hub
from test_sampling_logic import CHATML_TEMPLATE, save_tiny, tiny_gemma3, tiny_tokenizer
from test_sampling_ui import GEMMA_ID, SMOLLM2_ID

LOCALES = {"fr-FR": "fr", "en-US": "en"}
FIRST_USE_MS = 90_000  # the first view of a session loads torch and the model in the hub
SUMMARY = {"fr": "Réglages : T 0,8 · top-k 5 · top-p 0,9", "en": "Settings: T 0.8 · top-k 5 · top-p 0.9"}
OFF = {"fr": "Désactivés", "en": "Off"}


def small_llama(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=640,
        intermediate_size=2048,
        num_hidden_layers=6,
        num_attention_heads=10,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def save_small_chat_model(folder) -> None:
    tokenizer = tiny_tokenizer()
    assert tokenizer.chat_template == CHATML_TEMPLATE
    small_llama(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@functools.cache  # once a session: the hubs of this module share the test HF cache's files
def seed_models() -> None:
    seed_hub_cache(GEMMA_ID, save_tiny(tiny_gemma3))
    seed_hub_cache(SMOLLM2_ID, save_small_chat_model)


def offline_language_models() -> dict[str, str]:
    """The hub's settings for the offline packs' models (tiny copies, seeded) and none of the model
    hub's (Luth, Qwen3): a server without the model hub."""
    seed_models()
    missing = "/nonexistent/weights"
    return {
        "IAGEN_MODEL_GEMMA3_270M": GEMMA_ID,
        "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": SMOLLM2_ID,
        "IAGEN_MODEL_LUTH_0_6B_INSTRUCT": missing,
        "IAGEN_MODEL_QWEN3_0_6B": missing,
        "IAGEN_MODEL_QWEN3_0_6B_BASE": missing,
    }


def serve(tmp_path_factory, name: str, **models: str):
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp(name)),
        "IAGEN_TORCH_THREADS": "1",
        "IAGEN_MODEL_GEMMA3_270M": GEMMA_ID,
        "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": SMOLLM2_ID,
        **models,
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    return running_hub("--demos", "sampling", environ=environ, log_path=LOGS / f"hub-{name}.log")


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):  # after `browser`: no hub is started when the browser tests are skipped
    seed_models()
    with serve(tmp_path_factory, "sampling") as url:
        yield url


def open_tab(pages, locale: str):
    page = pages.open("?tab=sampling", locale=locale)
    expect(page.locator("#sampling-prompt textarea")).to_be_visible()
    settle(page)
    return page


def on_first_screen(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{selector}: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], f"{selector} is below the first screen: {box}"


def type_in_slider_box(page, slider: str, value: str) -> None:
    """What a student does: tap a slider's number box, type a value, press Enter."""
    box = page.locator(f"#sampling-{slider} input[type=number]")
    box.fill(value)
    box.press("Enter")


def summary(page):
    return page.locator("#sampling-settings .label-wrap > span").first


def open_settings(page) -> None:
    """Tap the settings' summary; the sliders are drawn when it first opens."""
    summary(page).tap()
    expect(page.locator("#sampling-repetition-penalty input[type=number]")).to_be_visible()
    settle(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_first_screen_holds_the_settings_summary_the_prompt_its_button_and_the_chart(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    expect(summary(page)).to_have_text(SUMMARY[language])
    expect(page.locator("#sampling-temperature")).to_be_hidden()  # the settings are folded
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-chart .sampling-chart .track")).to_have_count(10, timeout=FIRST_USE_MS)
    settle(page)
    for selector in (
        "#sampling-settings .label-wrap",
        "#sampling-prompt textarea",
        "#sampling-show",
        "#sampling-chart",
    ):
        on_first_screen(page, selector)
    assert not other_language_on_page(page, language)
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_value_typed_in_a_slider_box_applies_and_the_summary_follows(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-table table")).to_be_visible(timeout=FIRST_USE_MS)
    open_settings(page)  # the summary opens the settings
    type_in_slider_box(page, "temperature", "0")
    greedy = {
        "fr": "Réglages : T 0 (glouton) · top-k 5 · top-p 0,9",
        "en": "Settings: T 0 (greedy) · top-k 5 · top-p 0.9",
    }
    expect(summary(page)).to_have_text(greedy[language])
    # Greedy: after the temperature stage, one token holds all the probability.
    expect(page.locator("#sampling-table tfoot tr").first).to_contain_text("1")
    expect(page.locator("#sampling-table tbody tr").first.locator("td").nth(2)).to_have_text(
        "100,0" if language == "fr" else "100.0"
    )
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_stage_table_fits_the_phone_with_every_stage_on(pages, locale):
    page = open_tab(pages, locale)
    open_settings(page)
    type_in_slider_box(page, "min-p", "0.01")
    type_in_slider_box(page, "repetition-penalty", "1.2")
    page.locator("#sampling-show").tap()
    table = page.locator("#sampling-table table")
    expect(table.locator("thead th")).to_have_count(7, timeout=FIRST_USE_MS)  # the token and all six stages
    expect(page.locator("#sampling-table")).not_to_contain_text(OFF[LOCALES[locale]])
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the table is cut: {box}"
    widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth, t.getBoundingClientRect().right]")
    assert widths[0] <= widths[1] and widths[2] <= PHONE["width"], f"table, its container, its right edge: {widths}"
    pages.assert_healthy(page)


def drag_slider(page, slider: str, start: float, end: float, steps: int = 20) -> None:
    """A finger's drag with the mouse: press at `start` of the slider's track (0 to 1), move to `end`, release."""
    track = page.locator(f"#sampling-{slider} input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + start * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + end * box["width"], y, steps=steps)
    page.mouse.up()


@pytest.mark.parametrize("locale", list(LOCALES))
def test_dragging_a_slider_redraws_the_chart_and_the_table_with_no_request(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-chart .sampling-chart .track")).to_have_count(10, timeout=FIRST_USE_MS)
    open_settings(page)
    before = page.locator("#sampling-chart .sampling-chart").inner_html(), page.locator("#sampling-table").inner_html()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    drag_slider(page, "temperature", 0.4, 0.02)  # to 0: greedy, one token left after the temperature
    expect(page.locator("#sampling-temperature input[type=number]")).to_have_value("0")
    expect(page.locator("#sampling-table tbody tr").first.locator("td").nth(2)).to_have_text(
        "100,0" if language == "fr" else "100.0"
    )
    page.wait_for_timeout(500)  # a call the release would make
    after = page.locator("#sampling-chart .sampling-chart").inner_html(), page.locator("#sampling-table").inner_html()
    assert after[0] != before[0] and after[1] != before[1]
    assert requests == [], f"the drag sent {requests}"
    expect(summary(page)).to_have_text(
        {"fr": "Réglages : T 0 (glouton) · top-k 5 · top-p 0,9", "en": "Settings: T 0 (greedy) · top-k 5 · top-p 0.9"}[
            language
        ]
    )
    # Said once the finger is up, in the page's language; the chart and the table no longer busy.
    expect(page.locator(".sampling-live")).to_contain_text("100,0 %" if language == "fr" else "100.0 %")
    expect(page.locator("#sampling-chart")).to_have_attribute("aria-busy", "false")
    # The radio offers the redrawn percentages; choosing a token still asks the server.
    choice = page.locator("#sampling-candidates label").first
    expect(choice).to_contain_text("100,0 %" if language == "fr" else "100.0 %")
    choice.tap()
    expect(page.locator("#sampling-text .sampling-text")).to_be_visible()
    assert requests, "choosing a token asked nothing of the server"
    pages.assert_healthy(page)


def test_the_chart_stays_in_sight_while_a_finger_holds_a_slider_then_goes_back(pages):
    """On a phone the open settings push the chart below the screen: while a slider is held it
    floats over the screen's edge, redrawn as the finger moves; released, it is back in place."""
    page = open_tab(pages, "fr-FR")
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-chart .sampling-chart .track")).to_have_count(10, timeout=FIRST_USE_MS)
    open_settings(page)
    track = page.locator("#sampling-min-p input[type=range]")
    track.scroll_into_view_if_needed()
    chart = page.locator("#sampling-chart")
    in_place = chart.bounding_box()
    assert in_place["y"] >= PHONE["height"], "the chart was already in sight: nothing to check"
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.02 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], y, steps=10)
    floating = chart.bounding_box()
    assert floating["y"] >= 0 and floating["y"] + floating["height"] <= PHONE["height"] + 1, floating
    slider_top, slider_bottom = box["y"], box["y"] + box["height"]
    assert floating["y"] >= slider_bottom or floating["y"] + floating["height"] <= slider_top, "it hides the finger"
    expect(chart.locator(".sampling-chart .track")).to_have_count(10)  # the chart itself, redrawn in place
    page.screenshot(path=str(SCREENSHOTS / "sampling-chart-floating-fr-FR.png"))
    page.mouse.up()
    expect(chart).not_to_have_class(re.compile("sampling-chart-floating"))
    assert chart.bounding_box()["y"] >= PHONE["height"]
    pages.assert_healthy(page)


def test_a_setting_the_browser_cannot_compute_asks_the_server_once_on_release(pages):
    page = open_tab(pages, "fr-FR")
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-chart .sampling-chart .track")).to_have_count(10, timeout=FIRST_USE_MS)
    open_settings(page)
    calls = []
    page.on("request", lambda request: calls.append(request.url) if "queue/join" in request.url else None)
    # top-k off: the tiny model's nearly flat distribution puts top-p 0.9's nucleus far beyond the
    # tokens sent; the server draws it.
    type_in_slider_box(page, "top-k", "0")
    expect(page.locator("#sampling-table thead th")).to_have_count(4)  # the token, the model, temperature, top-p
    expect(summary(page)).to_have_text("Réglages : T 0,8 · top-p 0,9")
    page.wait_for_timeout(500)
    assert len(calls) == 1, calls
    pages.assert_healthy(page)


def test_another_text_in_the_box_dims_the_view_while_a_slider_moves_then_asks_the_server(pages):
    page = open_tab(pages, "fr-FR")
    page.locator("#sampling-show").tap()
    expect(page.locator("#sampling-chart .sampling-chart .track")).to_have_count(10, timeout=FIRST_USE_MS)
    open_settings(page)
    page.locator("#sampling-prompt textarea").fill("Il était une fois")  # typed, not sent yet
    calls = []
    page.on("request", lambda request: calls.append(request.url) if "queue/join" in request.url else None)
    track = page.locator("#sampling-temperature input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    page.mouse.move(box["x"] + 0.4 * box["width"], box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + box["height"] / 2, steps=5)
    # The figures on screen are the old text's: dimmed, and no call while the finger moves.
    expect(page.locator("#sampling-chart .sampling-chart.stale")).to_have_count(1)
    expect(page.locator("#sampling-table .sampling-stages.stale")).to_have_count(1)
    assert calls == []
    page.mouse.up()
    expect(page.locator("#sampling-chart .sampling-chart.stale")).to_have_count(0)  # the server's view
    page.wait_for_timeout(500)
    assert len(calls) == 1, calls
    pages.assert_healthy(page)


def test_the_token_pop_up_closes_on_a_tap_elsewhere(pages):
    page = open_tab(pages, "fr-FR")
    page.locator("#sampling-generate").tap()
    expect(page.locator("#sampling-generate-status")).to_contain_text("longueur maximale", timeout=FIRST_USE_MS)
    token = page.locator("#sampling-generated .sampling-token").nth(2)
    token.tap()
    expect(token.locator(".alternatives")).to_be_visible()
    expect(token.locator(".alternatives")).to_contain_text("Le modèle proposait :")
    page.locator("#sampling-generate-status").tap()  # somewhere else on the page
    expect(token.locator(".alternatives")).to_be_hidden()
    pages.assert_healthy(page)


def choose_model(page, title: str) -> None:
    open_settings(page)
    page.locator("#sampling-model input").tap()
    page.get_by_role("option", name=title).tap()
    expect(page.locator("#sampling-model input")).to_have_value(title)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_after_stop_the_generation_says_it_stopped(pages, locale):
    page = open_tab(pages, locale)
    choose_model(page, "SmolLM2-135M-Instruct")  # the small model, at a reader's pace
    type_in_slider_box(page, "max-tokens", "200")
    page.locator("#sampling-generate").tap()
    status = page.locator("#sampling-generate-status")
    expect(status).to_contain_text("tokens…", timeout=FIRST_USE_MS)
    page.locator("#sampling-stop-generation").tap()
    note = page.locator("#sampling-generate-stopped")
    stopped = {"fr": "Arrêté après", "en": "Stopped after"}[LOCALES[locale]]
    expect(note).to_contain_text(stopped)
    expect(status).to_be_hidden()
    page.wait_for_timeout(1500)  # the tokens already on their way do not bring the stream's status back
    expect(note).to_contain_text(stopped)
    expect(status).to_be_hidden()
    assert page.locator("#sampling-generated .sampling-token").count() < 200
    page.locator("#sampling-generate").tap()  # a new generation: its own status again
    expect(status).to_contain_text("tokens", timeout=FIRST_USE_MS)
    expect(note).to_be_hidden()
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_course_preset_fills_the_chat_and_the_model_answers(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    mistakes = {"fr": "se trompe souvent", "en": "is often wrong"}[language]
    expect(page.locator("#tab-sampling .prose.sampling-mistakes")).to_contain_text(mistakes)
    expect(page.locator("#sampling-chat-length input[type=number]")).to_have_value("200")  # its own length
    page.locator("#sampling-preset-assistant").tap()
    question = {"fr": "Quelle est la capitale de la France ?", "en": "What is the capital of France?"}[language]
    expect(page.locator("#sampling-message textarea")).to_have_value(question)
    page.locator("#sampling-system-accordion .label-wrap").tap()
    system = page.locator("#sampling-system-prompt textarea")
    expect(system).to_have_value(
        "Tu es un assistant virtuel. Réponds en une phrase, simplement."
        if language == "fr"
        else "You are a virtual assistant. Answer in one simple sentence."
    )
    assert not other_language_on_page(page, language)  # before the model writes: its words are its own
    page.locator("#sampling-send").tap()
    expect(page.locator("#sampling-chat .message-row")).to_have_count(2, timeout=FIRST_USE_MS)
    # The answer ends at the end of the model's turn (or at its 200 tokens).
    ended = {"fr": r"token de fin|longueur maximale", "en": r"end token|maximum length"}[language]
    expect(page.locator("#sampling-chat-status")).to_contain_text(re.compile(ended), timeout=FIRST_USE_MS)
    settle(page)
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_bias_slide_compares_two_prompts_side_by_side(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    first = {"fr": "Le médecin a dit qu'", "en": "The doctor said that"}[language]
    expect(page.locator("#sampling-compare-first textarea")).to_have_value(first)
    page.locator("#sampling-compare").tap()
    view = page.locator("#sampling-compare-view .sampling-compare")
    expect(view.locator(".prompt")).to_have_count(2, timeout=FIRST_USE_MS)
    expect(view.locator(".prompt").first).to_have_text(first + "…")
    assert view.locator(".track").count() >= 16
    box = view.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    pages.assert_healthy(page)


@pytest.fixture(scope="module")
def no_models_url(browser, tmp_path_factory):
    missing = {"IAGEN_MODEL_GEMMA3_270M": "/nowhere/gemma", "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": "/nowhere/smollm2"}
    with serve(tmp_path_factory, "sampling-no-models", **missing) as url:
        yield url


@pytest.mark.parametrize("locale", list(LOCALES))
def test_missing_models_are_said_at_load_and_their_buttons_disabled(browser, no_models_url, locale, request):
    language = LOCALES[locale]
    pages = Pages(browser, no_models_url)
    try:
        page = open_tab(pages, locale)
        sentence = {
            "fr": "Les modèles de langage ne sont pas installés sur ce serveur : cet onglet ne peut rien calculer.",
            "en": "The language models are not installed on this server: this tab cannot compute anything.",
        }[language]
        expect(page.locator("#sampling-notice")).to_have_text(sentence)
        on_first_screen(page, "#sampling-notice")
        for button in ("show", "draw", "undo", "compare", "generate", "send"):
            expect(page.locator(f"#sampling-{button}")).to_be_disabled()
        assert "nowhere" not in page.locator("body").inner_text()  # no paths, ids or commands for a student
        assert not other_language_on_page(page, language)
        pages.assert_healthy(page)
    finally:
        pages.close(request.node.name)


@pytest.fixture(scope="module")
def one_stream_url(browser, tmp_path_factory):
    """A hub that streams one generation at a time: a second one waits in Gradio's real queue."""
    seed_models()
    with serve(tmp_path_factory, "sampling-one-stream", IAGEN_LM_STREAM_CONCURRENCY="1") as url:
        yield url


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_generation_waiting_in_the_queue_is_told_its_place_in_words(browser, one_stream_url, locale, request):
    """The busy texts on a real queue, as the hub's queue sends them (places once a second), not
    drawn by hand: the only stream slot is taken by another phone's generation."""
    pages = Pages(browser, one_stream_url)
    try:
        first, second = open_tab(pages, "fr-FR"), open_tab(pages, locale)
        for page in (first, second):
            choose_model(page, "SmolLM2-135M-Instruct")  # the small model, at a reader's pace
            type_in_slider_box(page, "max-tokens", "200")
        first.locator("#sampling-generate").tap()
        expect(first.locator("#sampling-generate-status")).to_contain_text("tokens…", timeout=FIRST_USE_MS)
        second.locator("#sampling-generate").tap()
        queued = {"fr": r"^En file d'attente : place 1 sur 1", "en": r"^In the queue: 1 of 1"}[LOCALES[locale]]
        waiting = second.locator(".progress-text[data-words]").first
        expect(waiting).to_have_attribute("data-words", re.compile(queued))
        waiting.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        second.screenshot(path=str(SCREENSHOTS / f"sampling-queued-{locale}.png"))  # what the student sees meanwhile
        first.locator("#sampling-stop-generation").tap()
        expect(second.locator("#sampling-generate-status")).to_contain_text("tokens", timeout=FIRST_USE_MS)
        second.locator("#sampling-stop-generation").tap()
        for page in (first, second):
            pages.assert_healthy(page)
    finally:
        pages.close(request.node.name)


# --- French numbers in the number boxes (shared/number_boxes.py, on every tab) -----------------------

REFUSALS = {
    # (slider, what the student types, what the page says, in each language)
    "above": ("top-p", "5", {"fr": "5 est au-dessus du maximum (1).", "en": "5 is above the maximum (1)."}),
    "huge": (
        "top-p",
        "1e9",
        {"fr": "1000000000 est au-dessus du maximum (1).", "en": "1000000000 is above the maximum (1)."},
    ),
    "negative": (
        "temperature",
        "-1,5",
        {"fr": "-1,5 est en dessous du minimum (0).", "en": "-1.5 is below the minimum (0)."},
    ),
    "empty": ("top-p", "", {"fr": "Il faut une valeur.", "en": "A value is needed."}),
    "not a number": ("top-p", "e", {"fr": "Ce n'est pas un nombre.", "en": "That is not a number."}),
}
KEPT = {"fr": "La valeur précédente (0,9) est gardée.", "en": "The previous value (0.9) is kept."}


def type_like_a_student(page, slider: str, keys: str, tapped: bool = False) -> None:
    """Key by key (a comma goes through the browser's own input handling, as on a phone), then Enter."""
    box = page.locator(f"#sampling-{slider} input[type=number]")
    if not tapped:
        box.click()
    box.press("Control+A")
    box.press("Delete")
    if keys:
        box.press_sequentially(keys)
    box.press("Enter")


def server_events(page) -> list[str]:
    events = []
    page.on("request", lambda request: events.append(request.url) if "/queue/join" in request.url else None)
    return events


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_decimal_comma_is_a_decimal_point(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    open_settings(page)
    type_like_a_student(page, "top-p", "0,5")
    expect(page.locator("#sampling-top-p input[type=number]")).to_have_value("0.5")
    expect(summary(page)).to_have_text(SUMMARY[language].replace("0,9", "0,5").replace("0.9", "0.5"))
    expect(page.locator(".hub-number-note")).to_have_count(0)
    pages.assert_healthy(page)


@pytest.mark.parametrize("case", list(REFUSALS))
@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_value_out_of_range_is_refused_in_words_and_the_last_good_one_stays(pages, locale, case):
    language = LOCALES[locale]
    slider, keys, reason = REFUSALS[case]
    page = open_tab(pages, locale)
    page.locator("#sampling-show").tap()  # a view the page redraws itself as the sliders move
    expect(page.locator("#sampling-table table")).to_be_visible(timeout=FIRST_USE_MS)
    open_settings(page)
    if slider == "temperature":  # a known last good value, as for top-p's 0.9
        type_like_a_student(page, "temperature", "0,9")
    page.locator(f"#sampling-{slider} input[type=number]").click()
    settle(page)
    sent = server_events(page)
    type_like_a_student(page, slider, keys, tapped=True)
    expect(page.locator(f"#sampling-{slider} input[type=number]")).to_have_value("0.9")
    note = page.locator(f"#sampling-{slider} .hub-number-note")
    expect(note).to_have_text(f"{reason[language]} {KEPT[language]}")
    expect(note).to_have_attribute("role", "status")
    page.wait_for_timeout(500)
    assert sent == [], f"a refused value reached the server: {sent}"
    # The next good value clears the sentence.
    type_like_a_student(page, slider, "0,7")
    expect(page.locator(f"#sampling-{slider} input[type=number]")).to_have_value("0.7")
    expect(note).to_be_hidden()
    pages.assert_healthy(page)
