"""Accessibility of the sampling, tokenizer, image search and « De GPT-3 à ChatGPT » tabs once used,
in a real browser (issue 29): axe-core after each tab's main action at a phone's and a projector's
size, each main action done with the keyboard alone, the results said in polite live regions, the
structure a screen reader walks (headings, accordions, languages, names), visible focus, and the
page at 200 % text on a 390 px phone.

The hub serves these four tabs with tiny random models under the real repository ids
(test_browser_sampling's Gemma 3 and small Llama, test_browser_clip_search's CLIP encoder and fake
FLAIR images), on a server without the Qwen3 models: the chat falls back to the English pack and
the base/instruct view to the packs' pair, whose instruct model answers in English."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import LOGS, PHONE, PROJECTOR, expect, settle
from clip_search_fixtures import FLAIR_REPO, seed_fake_flair, seed_tiny_encoder
from hub_server import running_hub
from test_browser_axe import allowed, violations
from test_browser_sampling import FIRST_USE_MS, offline_language_models
from test_clip_search_logic import forget_hub_repo

ENCODER_REPO = "test/tiny-clip-a11y"
TABS = ("clip_search", "sampling", "assistant", "tokenizer")
# A stream's status once it ended: its last line, which a screen reader hears (not its cost line).
LAST_LINE = ".sampling-status > p:not([aria-hidden]):not(.reply-cost)"
SCREENS = pytest.mark.parametrize("screen", [PHONE, PROJECTOR], ids=["phone", "projector"])


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):  # after `browser`: no hub is started when the browser tests are skipped
    seed_tiny_encoder(ENCODER_REPO)
    seed_fake_flair(24)
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("a11y")),
        "IAGEN_TORCH_THREADS": "1",
        **offline_language_models(),
        "IAGEN_CLIP_MODEL": f"hf-hub:{ENCODER_REPO}",
        "IAGEN_CLIP_GALLERY_SIZE": "24",
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        with running_hub(
            "--demos", ",".join(TABS), environ=environ, log_path=LOGS / "hub-browser-a11y-actions.log"
        ) as url:
            yield url
    finally:  # other modules' hubs must see no CLIP weights
        forget_hub_repo(ENCODER_REPO)
        forget_hub_repo(FLAIR_REPO, "dataset")


def open_tab(pages, tab: str, screen=PHONE, locale="fr-FR"):
    page = pages.open(f"?tab={tab}", screen=screen, locale=locale)
    settle(page)
    return page


def assert_no_violation(page, view: str) -> None:
    found = violations(page)
    for rule, impact, target in found:
        print(f"  {view}: {rule} ({impact}): {target}{'  [allowed]' if allowed(rule, target) else ''}")
    new = [violation for violation in found if not allowed(violation[0], violation[2])]
    assert not new, "\n".join(f"{rule} ({impact}): {target}" for rule, impact, target in new)


# --- the main actions, and what they leave on the page ------------------------------------------------


def tokenize(page) -> None:
    page.locator("#tokenizer-text textarea").fill("Bonjour le monde, hello world")
    expect(page.locator("#tokenizer-tokens .hub-spoken li").first).to_contain_text("Bonjour")
    expect(page.locator("#tokenizer-tokens .hub-spoken")).to_contain_text("·world")


def show_next_token(page) -> None:
    page.locator("#sampling-show").click()
    expect(page.locator("#sampling-next-status .hub-spoken")).to_contain_text("le plus probable", timeout=FIRST_USE_MS)


def generate(page) -> None:
    page.locator("#sampling-max-tokens input[type=number]").fill("8")
    page.locator("#sampling-max-tokens input[type=number]").press("Enter")
    page.locator("#sampling-generate").click()
    expect(page.locator(f"#sampling-generate-status {LAST_LINE}")).to_contain_text("tokens en", timeout=FIRST_USE_MS)


def search_images(page) -> None:
    page.locator("#clip-search-query textarea, #clip-search-query input").first.fill("forêt")
    page.locator("#clip-search-button").click()
    expect(page.locator("#clip-search-results .clip-search-result").first).to_be_visible(timeout=FIRST_USE_MS)
    expect(page.locator("#clip-search-status")).to_contain_text("images les plus proches")


def ask_both_models(page) -> None:
    page.locator("#assistant-send").click()
    expect(page.locator("#assistant-status")).to_contain_text("terminées", timeout=FIRST_USE_MS)


ACTIONS = {
    "tokenizer": [tokenize],
    "sampling": [show_next_token, generate],
    "clip_search": [search_images],
    "assistant": [ask_both_models],
}


@SCREENS
@pytest.mark.parametrize("tab", TABS)
def test_a_tab_after_its_main_action_has_no_wcag_violation(pages, tab, screen):
    page = open_tab(pages, tab, screen)
    for action in ACTIONS[tab]:
        action(page)
        settle(page)
        assert_no_violation(page, f"{tab} after {action.__name__}")


# --- with the keyboard alone ------------------------------------------------------------------------


def tab_to(page, selector: str, limit: int = 120, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector`, as a keyboard user does."""
    for _ in range(limit):
        if page.evaluate("(selector) => document.activeElement?.matches(selector) ?? false", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} not reached in {limit} presses of Tab")


def start_from_the_tab(page, tab: str) -> None:
    """The focus on the tab's own button, where a keyboard user lands after choosing the tab."""
    page.locator(f"#tab-{tab}-button").focus()


def test_the_tokenizer_with_the_keyboard_alone(pages):
    page = open_tab(pages, "tokenizer")
    start_from_the_tab(page, "tokenizer")
    tab_to(page, "#tokenizer-text textarea")
    page.keyboard.press("Control+A")
    page.keyboard.type("Clavier seul")
    expect(page.locator("#tokenizer-tokens .hub-spoken")).to_contain_text("·seul")


def test_the_next_token_view_and_a_generation_with_the_keyboard_alone(pages):
    page = open_tab(pages, "sampling")
    start_from_the_tab(page, "sampling")
    tab_to(page, "#sampling-show")
    page.keyboard.press("Enter")
    expect(page.locator("#sampling-next-status .hub-spoken")).to_contain_text("le plus probable", timeout=FIRST_USE_MS)
    # A candidate chosen in the radio under the chart (Gradio names each choice a group of its own:
    # Tab goes from one to the next, Space checks it).
    tab_to(page, "#sampling-candidates input[type=radio]")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator("#sampling-text .sampling-text")).to_be_visible(timeout=FIRST_USE_MS)

    tab_to(page, "#sampling-generate")
    page.keyboard.press("Enter")
    status = page.locator(f"#sampling-generate-status {LAST_LINE}")
    expect(status).to_contain_text("tokens en", timeout=FIRST_USE_MS)
    # The generated text is one tab stop; the arrow keys go from token to token, each saying its probability.
    first = page.locator("#sampling-generated .sampling-token").first
    tab_to(page, "#sampling-generated .sampling-token", backwards=True)
    assert page.evaluate("() => document.activeElement.tabIndex") == 0
    expect(first).to_be_focused()
    expect(first.locator(".alternatives")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#sampling-generated .sampling-token").nth(1)).to_be_focused()
    assert page.locator("#sampling-generated .sampling-token[tabindex='0']").count() == 1


def test_the_image_search_with_the_keyboard_alone(pages):
    page = open_tab(pages, "clip_search")
    start_from_the_tab(page, "clip_search")
    tab_to(page, "#clip-search-query textarea, #clip-search-query input")
    page.keyboard.type("champs")
    page.keyboard.press("Enter")
    expect(page.locator("#clip-search-results .clip-search-result").first).to_be_visible(timeout=FIRST_USE_MS)
    expect(page.locator("#clip-search-status")).to_contain_text("champs")


def test_base_and_instruct_with_the_keyboard_alone(pages):
    page = open_tab(pages, "assistant")
    start_from_the_tab(page, "assistant")
    tab_to(page, "#assistant-preset-robot")
    page.keyboard.press("Enter")
    tab_to(page, "#assistant-send")
    page.keyboard.press("Enter")
    expect(page.locator("#assistant-status")).to_contain_text("terminées", timeout=FIRST_USE_MS)
    assert page.locator("#assistant-instruct-text textarea").input_value()


# --- results said once, in polite live regions --------------------------------------------------------

LIVE_REGIONS = {
    "sampling": [
        "#sampling-next-status",
        "#sampling-compare-status",
        "#sampling-generate-status",
        "#sampling-chat-status",
    ],
    "clip_search": ["#clip-search-status"],
    "assistant": ["#assistant-status"],
    "tokenizer": ["#tokenizer-stats"],
}


@pytest.mark.parametrize("tab", TABS)
def test_every_result_a_user_waits_for_is_in_a_polite_live_region(pages, tab):
    page = open_tab(pages, tab)
    for region in LIVE_REGIONS[tab]:
        expect(page.locator(region)).to_have_attribute("aria-live", "polite")
        # One region, not one inside another (said twice), and Gradio's timer kept out of it.
        assert page.locator(f"{region} [aria-live]").count() == 0
        for tracker in page.locator(f"{region} > [data-testid=status-tracker]").all():
            expect(tracker).to_have_attribute("aria-hidden", "true")


RECORD_SPOKEN_JS = """(selector) => {
  window.spokenLines = [];
  const region = document.querySelector(selector);
  new MutationObserver(() => {
    // What a screen reader can hear in the region: its text less what is aria-hidden.
    const copy = region.cloneNode(true);
    for (const hidden of copy.querySelectorAll("[aria-hidden=true]")) hidden.remove();
    const text = copy.textContent.replace(/\\s+/g, " ").trim();
    if (text && text !== window.spokenLines.at(-1)) window.spokenLines.push(text);
  }).observe(region, {subtree: true, childList: true, characterData: true});
}"""


def test_a_generation_is_announced_once_at_its_end_not_at_every_token(pages):
    page = open_tab(pages, "sampling")
    page.evaluate(RECORD_SPOKEN_JS, "#sampling-generate-status")
    generate(page)
    page.wait_for_timeout(500)
    spoken = page.evaluate("() => window.spokenLines")
    assert spoken, "nothing said"
    assert all("tokens en" in line for line in spoken), spoken  # no « 3 tokens… » along the way
    assert len(spoken) <= 2, spoken  # its last line, then the same with what it cost


def test_a_next_token_view_is_summed_up_for_a_screen_reader(pages):
    page = open_tab(pages, "sampling")
    show_next_token(page)
    summary = page.locator("#sampling-next-status .hub-spoken").inner_text()
    assert re.search(r"Après les filtres : \d+ tokens possibles ; le plus probable, « .+ », [\d,]+ %", summary)


# --- structure: headings, accordions, languages, names -------------------------------------------------

HEADINGS_JS = """() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
  .filter((heading) => heading.checkVisibility())
  .map((heading) => [Number(heading.tagName[1]), heading.textContent.trim()])"""


@pytest.mark.parametrize("tab", [*TABS, "about"])
def test_each_tab_has_a_heading_of_its_own_and_no_heading_level_is_skipped(pages, tab):
    page = open_tab(pages, tab)
    label = page.locator(f"#tab-{tab}-button").inner_text().strip()
    expect(page.locator(f"#tab-{tab} > h2.hub-tab-heading")).to_have_text(label)
    headings = page.evaluate(HEADINGS_JS)
    assert headings[0][0] == 1 and headings[1] == [2, label], headings
    for (before, _), (level, text) in zip(headings, headings[1:], strict=False):
        assert level <= before + 1, f"{text!r}: h{before} then h{level} ({headings})"


@pytest.mark.parametrize("tab", ["sampling", "tokenizer", "clip_search", "assistant"])
def test_an_accordion_says_whether_it_is_open(pages, tab):
    page = open_tab(pages, tab)
    buttons = page.locator(f"#tab-{tab} button.label-wrap")
    assert buttons.count() >= 1
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if not button.is_visible():
            continue
        expected = "true" if "open" in (button.get_attribute("class") or "").split() else "false"
        expect(button).to_have_attribute("aria-expanded", expected)
    button = buttons.first
    before = button.get_attribute("aria-expanded")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "false" if before == "true" else "true")


def test_english_passages_are_marked_as_english_on_the_french_page(pages):
    page = open_tab(pages, "tokenizer")
    expect(page.locator("#tokenizer-text-a")).to_have_attribute("lang", "en")
    expect(page.locator("#tokenizer-examples [lang=en]").first).to_contain_text("Hello darkness")
    assert page.locator("#tokenizer-examples [lang=en]", has_text="géomatique").count() == 0

    page = open_tab(pages, "assistant")
    expect(page.locator("#assistant-instruct-text")).to_have_attribute("lang", "en")  # SmolLM2 answers in English
    assert page.locator("#assistant-base-text[lang]").count() == 0


def test_the_english_chat_packs_replies_are_marked_as_english(pages):
    page = open_tab(pages, "sampling")
    page.locator("#sampling-chat-length input[type=number]").fill("4")
    page.locator("#sampling-chat-length input[type=number]").press("Enter")
    page.locator("#sampling-message textarea").fill("Bonjour")
    page.locator("#sampling-send").click()
    expect(page.locator(f"#sampling-chat-status {LAST_LINE}")).to_contain_text("tokens en", timeout=FIRST_USE_MS)
    expect(page.locator("#sampling-chat .bot-row").last).to_have_attribute("lang", "en")
    assert page.locator("#sampling-chat .user-row[lang]").count() == 0


GRADIO_ENGLISH_NAMES = re.compile(
    r"^(range slider for|number input for|Copy|Copied|Reset to default value|chatbot conversation|"
    r"Gradio footer navigation)"
)


@pytest.mark.parametrize("tab", TABS)
def test_gradios_english_names_are_in_the_pages_language(pages, tab):
    page = open_tab(pages, tab)
    if tab == "assistant":
        ask_both_models(page)  # the replies' copy buttons
    names = page.evaluate(
        "() => [...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label'))"
    )
    english = [name for name in names if GRADIO_ENGLISH_NAMES.match(name)]
    assert not english, english


# --- focus seen, a checked choice seen by more than its colour -----------------------------------------

OUTLINE_JS = "() => getComputedStyle(document.activeElement).outlineStyle"


def test_a_slider_and_a_radio_show_their_focus_and_the_checked_radio_is_bold(pages):
    page = open_tab(pages, "sampling")
    show_next_token(page)
    start_from_the_tab(page, "sampling")
    tab_to(page, "#sampling-top-n input[type=range]")
    assert page.evaluate(OUTLINE_JS) == "solid"
    tab_to(page, "#sampling-candidates input[type=radio]", backwards=True)
    assert page.evaluate(OUTLINE_JS) == "solid"
    # A checked choice is bold (a checked candidate asks the server for the next view, which draws
    # a fresh radio at once: Gradio's class for a checked choice is given here, to look at).
    label = page.locator("#sampling-candidates label").first
    label.evaluate("(label) => label.classList.add('selected')")
    expect(label).to_have_css("font-weight", "700")  # once Gradio's transition has run
    expect(page.locator("#sampling-candidates label:not(.selected)").first).to_have_css("font-weight", "400")


# --- 200 % text on a 390 px phone --------------------------------------------------------------------

# What is wider than its box and not in a box that scrolls: a control or a text cut or spilling.
OVERFLOW_JS = """(root) => {
  const scrolls = (element) => {
    for (let box = element; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (["auto", "scroll"].includes(style.overflowX) && box.scrollWidth > box.clientWidth) return true;
    }
    return false;
  };
  const found = [];
  for (const element of document.querySelector(root).querySelectorAll("*")) {
    // Not a text box (its text scrolls inside it), nor what is hidden from the eye or from a reader.
    if (element.matches("input, textarea") || !element.checkVisibility()
        || element.closest(".hub-spoken, .sr-only, [aria-hidden=true], svg")) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (box.width <= 1) continue;  // nothing, or hidden from the eye (a screen reader's words)
    // A control's words cut, even with an ellipsis (a long token's may end in one: its full text is
    // in the table), across or from top to bottom.
    const control = element.matches("button, [role=tab], label");
    const cut = (["hidden", "clip"].includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1
                 && (control || style.textOverflow !== "ellipsis"))
      || (control && ["hidden", "clip"].includes(style.overflowY) && element.scrollHeight > element.clientHeight + 1);
    const outside = box.right > window.innerWidth + 1 || box.left < -1;
    if ((cut || outside) && !scrolls(element)) {
      found.push(`${element.tagName.toLowerCase()}#${element.id}.${[...element.classList].join(".")} `
        + `(${Math.round(box.left)}–${Math.round(box.right)} px, ${element.scrollWidth}/${element.clientWidth})`
        + `: ${(element.innerText || "").trim().slice(0, 40)}`);
    }
  }
  return found;
}"""


def at_200_percent_text(page) -> None:
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    page.wait_for_timeout(300)


@pytest.mark.parametrize("tab", [*TABS, "about"])
def test_at_200_percent_text_on_a_phone_nothing_is_cut_or_spills_past_the_screen(pages, tab):
    page = open_tab(pages, tab)
    at_200_percent_text(page)
    base = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#hub-tabs')).fontSize)")
    assert base >= 26, f"the text did not grow: {base} px"  # Gradio's 14 px, at 200 %
    for action in ACTIONS.get(tab, ()):  # À propos has none: its text and QR code
        action(page)
    settle(page)
    found = page.evaluate(OVERFLOW_JS, "body")
    assert not found, "\n".join(found)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
