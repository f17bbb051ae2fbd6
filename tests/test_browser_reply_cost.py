"""What a reply cost, in a real browser on a 390 x 844 phone, in French and in English: the line
under a generation and under a chat answer (read to a screen reader in words, its text contrasted
enough), « Pour situer » and its memory calculator. The hub serves the sampling tab with random
models of the real architectures (test_browser_sampling.py's). Screenshots of the line and of
« Pour situer » land in artifacts/screenshots/reply-cost-*.png."""

from __future__ import annotations

import pytest
from browser_fixtures import SCREENSHOTS, expect
from test_browser_sampling import FIRST_USE_MS, LOCALES, open_tab, seed_models, serve, type_in_slider_box

# WCAG 2.1's contrast ratio of an element's text against the first opaque background behind it.
CONTRAST_JS = """(element) => {
  const channels = (colour) => colour.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  let background = [255, 255, 255];
  for (let node = element; node; node = node.parentElement) {
    const colour = channels(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) { background = colour; break; }
  }
  const [light, dark] = [luminance(channels(getComputedStyle(element).color)), luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""
SPOKEN = {"fr": "Coût de cette réponse : ", "en": "Cost of this reply: "}
SHOWN = {
    "fr": (
        "tokens · ",
        "s de calcul · ≈ ",
        "Wh · ≈ ",
        "g CO2e (",
        "le même texte par GPT-4o : ",
        "par Mistral Large 3 : ",
    ),
    "en": (
        "tokens · ",
        "s of computing · ≈ ",
        "Wh · ≈ ",
        "g CO2e (",
        "the same text by GPT-4o: ",
        "by Mistral Large 3: ",
    ),
}
OTHER_LANGUAGE = {
    "fr": ("Cost of this reply", "of computing", "For scale"),
    "en": ("Coût de cette", "de calcul", "Pour situer"),
}


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):  # after `browser`: no hub is started when the browser tests are skipped
    seed_models()
    with serve(tmp_path_factory, "reply-cost") as url:
        yield url


def check_cost_line(page, status: str, language: str) -> None:
    line = page.locator(f"{status} .reply-cost")
    expect(line).to_be_visible(timeout=FIRST_USE_MS)
    shown = line.locator("[aria-hidden=true]")
    for words in SHOWN[language]:
        expect(shown).to_contain_text(words)
    spoken = line.locator(".reply-cost-spoken")
    expect(spoken).to_contain_text(SPOKEN[language])
    # A screen reader hears the line once written, from a region that was in the page before it: the
    # status's own live region where it is in one (the sampling tab's), else the page's announcer.
    announced = page.locator("p[aria-live=polite]", has_text=SPOKEN[language])
    if line.locator("xpath=ancestor::*[@aria-live='polite']").count():
        expect(announced).to_have_count(0)  # not said twice
    else:
        expect(announced).to_have_count(1)
        assert spoken.inner_text() == announced.inner_text()
    assert shown.evaluate(CONTRAST_JS) >= 4.5
    box = line.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"the line is cut: {box}"


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_generation_ends_with_its_cost_read_in_words(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    type_in_slider_box(page, "max-tokens", "12")
    page.locator("#sampling-generate").tap()
    check_cost_line(page, "#sampling-generate-status", language)
    status = page.locator("#sampling-generate-status")
    status.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"reply-cost-generation-{locale}.png"))
    text = page.locator("body").inner_text()
    assert not [words for words in OTHER_LANGUAGE[language] if words in text]
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_chat_answer_ends_with_its_cost(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    type_in_slider_box(page, "chat-length", "8")
    page.locator("#sampling-preset-assistant").tap()
    page.locator("#sampling-send").tap()
    check_cost_line(page, "#sampling-chat-status", language)
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_pour_situer_gives_its_sources_and_the_memory_calculator_answers(pages, locale):
    language = LOCALES[locale]
    page = open_tab(pages, locale)
    title = {"fr": "Pour situer : ce que coûte l'IA générative", "en": "For scale: what generative AI costs"}[language]
    accordion = page.locator(".reply-cost-context")
    accordion.get_by_text(title).tap()
    for source in ("Luccioni, Jernite", "Patterson et al.", "BLOOM", "RTE", "Mistral AI"):
        expect(accordion).to_contain_text(source)
    expect(accordion.locator("table")).to_contain_text("700 Go · 9 GPU" if language == "fr" else "700 GB · 9 GPU")
    box = page.locator(".reply-cost-parameters input")
    box.fill("70")
    box.press("Enter")
    answer = {
        "fr": "70 milliards de paramètres × 2 octets = 140 Go : 2 GPU de 80 Go",
        "en": "70 billion parameters × 2 bytes = 140 GB: 2 GPUs of 80 GB",
    }
    result = page.locator(".reply-cost-memory [role=status]")
    expect(result).to_contain_text(answer[language])
    page.locator(".reply-cost-precision").get_by_text("int4 · ½").tap()
    expect(result).to_contain_text("35 Go" if language == "fr" else "35 GB")
    accordion.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    accordion.screenshot(path=str(SCREENSHOTS / f"reply-cost-context-{locale}.png"))
    text = page.locator("body").inner_text()
    assert not [words for words in OTHER_LANGUAGE[language] if words in text]
    pages.assert_healthy(page)
