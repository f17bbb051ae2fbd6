"""Cémantix and Seg2Sat after their main action, in a real browser (issue 29): axe-core finds no
WCAG A/AA violation (a few guesses, an ended game's map, a room's board; an example generated
with the tiny Seg2Sat pipeline), at a phone's and a projector's size; each main action done with
the keyboard alone, its result announced in a polite live region; and text at 200 % on a 390-px
phone cuts nothing (what overflows is measured).

A module of its own beside test_browser_axe.py (whose helpers it uses): its hub holds the tiny
Seg2Sat models and Cémantix's vocabularies, which the other tabs' checks do not need.
"""

from __future__ import annotations

import shutil

import pytest
from browser_fixtures import LOGS, PHONE, PROJECTOR, expect, settle
from conftest import seed_seg2sat_models
from hub_server import running_hub
from test_browser_axe import allowed, violations

from spaces.seg2sat.texts import TEXTS as SEG2SAT_TEXTS
from spaces.seg2sat.views import noised_alt

WORD_BOX = "#cemantix-word input, #cemantix-word textarea"
SCREENS = pytest.mark.parametrize("screen", [PHONE, PROJECTOR], ids=["phone", "projector"])


@pytest.fixture(scope="module")
def hub_url(browser, french, english, tmp_path_factory):  # the vocabularies built once, before the hub
    snapshots = seed_seg2sat_models()
    LOGS.mkdir(parents=True, exist_ok=True)
    environ = {"IAGEN_TORCH_THREADS": "1"}  # the session's cache: Cémantix's vocabularies are there
    try:
        with running_hub(
            "--demos", "seg2sat,cemantix", environ=environ, log_path=LOGS / "hub-browser-axe-visual.log"
        ) as url:
            yield url
    finally:
        for snapshot in snapshots:  # other modules' hubs must see no Seg2Sat weights
            shutil.rmtree(snapshot.parent.parent)


def assert_no_violation(page, what: str) -> None:
    settle(page)
    found = violations(page)
    print(f"axe {what}: {len(found)} violations")
    new = [violation for violation in found if not allowed(violation[0], violation[2])]
    assert not new, "\n".join(f"{rule} ({impact}): {target}" for rule, impact, target in new)


def guess(page, word: str) -> None:
    box = page.locator(WORD_BOX).first
    box.fill(word)
    box.press("Enter")
    expect(page.locator("#cemantix-history")).to_contain_text(word)


# --- axe after the main action ----------------------------------------------------------------


@SCREENS
def test_cemantix_after_guesses_and_at_the_end_has_no_violation(pages, screen):
    page = pages.open("?tab=cemantix", screen=screen)
    settle(page)
    guess(page, "arbre")
    guess(page, "maison")
    box = page.locator(WORD_BOX).first
    box.fill("zzzqx")  # refused: a problem in the status
    box.press("Enter")
    expect(page.locator("#cemantix-status .cx-problem")).to_be_visible()
    assert_no_violation(page, f"cemantix guesses {screen['width']}")
    page.locator("#cemantix-give-up").click()
    page.locator("#cemantix-give-up-yes").click()
    expect(page.locator("#cemantix-reveal svg.cx-map")).to_be_visible()
    page.locator("#cemantix-reveal details summary").click()  # the 100 nearest, opened
    assert_no_violation(page, f"cemantix ended map {screen['width']}")
    pages.assert_healthy(page)


@SCREENS
def test_a_rooms_board_while_it_plays_and_at_its_end_has_no_violation(pages, hub_url, screen):
    host = pages.open("?tab=cemantix", screen=PROJECTOR, host=True)
    host.locator("#cemantix-room-button").click()
    host.locator("#cemantix-create-room").click()
    host.locator("#cemantix-create").click()
    code = host.locator("#cemantix-host-panel .cx-code").inner_text()
    assert_no_violation(host, "cemantix host panel")
    player = pages.open(f"?tab=cemantix&room={code}", screen=PHONE)
    player.locator("#cemantix-nickname input, #cemantix-nickname textarea").first.fill("Alice")
    player.locator("#cemantix-join").click()
    expect(player.locator("#cemantix-header")).to_contain_text(code)
    guess(player, "arbre")
    board = pages.open("?tab=about", screen=screen)
    board.goto(f"{hub_url}?tab=cemantix&board={code}")
    expect(board.locator("#cemantix-board .cx-progress circle")).to_have_count(1, timeout=5_000)
    assert_no_violation(board, f"cemantix board {screen['width']}")
    host.locator("#cemantix-end-room").click()
    expect(board.locator("#cemantix-board .cx-board-ended svg.cx-map")).to_be_visible(timeout=5_000)
    assert_no_violation(board, f"cemantix ended board {screen['width']}")


@SCREENS
def test_seg2sat_after_an_example_is_generated_has_no_violation(pages, screen):
    page = pages.open("?tab=seg2sat", screen=screen)
    page.locator("#seg2sat-canvas canvas").wait_for()
    settle(page)
    page.locator(".seg2sat-example").first.click()
    page.locator("#seg2sat-generate").click()
    expect(page.locator("#seg2sat-results img[alt^='Image générée']")).to_have_count(1, timeout=120_000)
    assert_no_violation(page, f"seg2sat generated {screen['width']}")
    pages.assert_healthy(page)


# --- the keyboard alone -----------------------------------------------------------------------


def tab_to(page, selector: str, presses: int = 120) -> None:
    """Tab until the focus is on `selector`, as a keyboard user moves through the page."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement?.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} is not reached with Tab in {presses} presses")


def test_a_cemantix_guess_with_the_keyboard_alone_is_said(pages):
    page = pages.open("?tab=cemantix", screen=PROJECTOR)
    settle(page)
    tab_to(page, "#cemantix-word input, #cemantix-word textarea")
    page.keyboard.type("arbre")
    page.keyboard.press("Enter")
    expect(page.locator("#cemantix-history")).to_contain_text("arbre")
    status = page.locator("#cemantix-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("« arbre » :")  # said, though only the history shows it
    expect(status.locator("p")).to_have_class("cx-said")


def test_seg2sat_example_and_generation_with_the_keyboard_alone_are_said(pages):
    page = pages.open("?tab=seg2sat", screen=PROJECTOR)
    page.locator("#seg2sat-canvas canvas").wait_for()
    settle(page)
    canvas = page.locator("#seg2sat-canvas canvas")
    expect(canvas).to_have_accessible_name(SEG2SAT_TEXTS.get("seg2sat_canvas_name", "fr"))
    expect(page.locator("#seg2sat-noised img")).to_have_attribute("alt", noised_alt(500, "fr"))
    # The palette: opened on the colour in use, a pick ticked, closed by Escape back on its button.
    tab_to(page, ".seg2sat-colour")
    page.keyboard.press("Enter")
    expect(page.locator(".seg2sat-pick[aria-pressed=true]")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".seg2sat-palette")).to_be_hidden()
    expect(page.locator(".seg2sat-colour")).to_be_focused()
    expect(page.locator(".seg2sat-pick[aria-pressed=true]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator(".seg2sat-palette")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".seg2sat-palette")).to_be_hidden()
    expect(page.locator(".seg2sat-colour")).to_be_focused()
    # An example, then the generation: the image said by its map, the status said once it is done.
    tab_to(page, ".seg2sat-example")
    page.keyboard.press("Enter")
    expect(page.locator("#seg2sat-place input, #seg2sat-place textarea").first).not_to_have_value("")
    tab_to(page, "#seg2sat-generate")
    page.keyboard.press("Enter")
    generated = page.locator("#seg2sat-results img[alt^='Image générée']")
    expect(generated).to_have_count(1, timeout=120_000)
    status = page.locator("#seg2sat-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("graine")


# --- text at 200 % on a phone -----------------------------------------------------------------

# What does not fit at 200 % text: an element past the screen's edge (unless inside a box that
# scrolls on its own), or one whose content is cut (overflow hidden, an ellipsis).
OVERFLOW_JS = """(root) => {
  const width = document.documentElement.clientWidth;
  const describe = (e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${[...e.classList].join(".")} «${(e.innerText || e.textContent || "").trim().slice(0, 30)}»`;
  const scrollsOnItsOwn = (e) => {
    for (let box = e.parentElement; box && box !== root; box = box.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(box).overflowX)) return true;
    }
    return false;
  };
  const forScreenReadersOnly = (e) => {  // inside a 1-px box (.seg2sat-sr-only, .cx-said)
    for (let box = e; box && box !== root; box = box.parentElement) {
      if (box.getBoundingClientRect().width <= 1) return true;
    }
    return false;
  };
  const found = [];
  for (const e of root.querySelectorAll("*")) {
    if (!e.checkVisibility() || e.closest("svg")) continue;
    const box = e.getBoundingClientRect();
    if (box.height <= 1 || forScreenReadersOnly(e) || scrollsOnItsOwn(e)) continue;
    if (box.right > width + 1 || box.left < -1) found.push(`${describe(e)} past the screen: ${Math.round(box.left)}-${Math.round(box.right)}`);
    const style = getComputedStyle(e);
    const clips = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
    if (clips && e.scrollWidth > e.clientWidth + 1) found.push(`${describe(e)} cut: ${e.scrollWidth} > ${e.clientWidth}`);
  }
  return found;
}"""


def larger_text(page) -> None:
    page.add_style_tag(content="html { font-size: 200% !important; }")
    page.wait_for_timeout(300)


def test_cemantix_at_200_percent_text_on_a_phone_cuts_nothing(pages):
    page = pages.open("?tab=cemantix")
    settle(page)
    for word in ("enseignante", "administration", "photographie"):
        guess(page, word)
    larger_text(page)
    cut = page.locator("#tab-cemantix").evaluate(OVERFLOW_JS)
    assert not cut, "\n".join(cut)
    history = page.locator("#cemantix-history .cx-scroll")
    assert history.evaluate("box => box.scrollWidth <= box.clientWidth || getComputedStyle(box).overflowX === 'auto'")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_seg2sat_at_200_percent_text_on_a_phone_cuts_nothing(pages):
    page = pages.open("?tab=seg2sat")
    page.locator("#seg2sat-canvas canvas").wait_for()
    settle(page)
    larger_text(page)
    cut = page.locator("#tab-seg2sat").evaluate(OVERFLOW_JS)
    assert not cut, "\n".join(cut)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
