"""Real-browser testing of the hub: Debian's Chromium through Playwright, on a phone.

A pytest plugin (tests/conftest.py loads it). Its fixtures:
- `browser`: one Chromium for the whole session;
- `pages`: opens hub pages in fresh browser contexts (a 390 x 844 touch phone at device scale 2
  by default, a locale each) and saves a full-page screenshot of every page it opened to
  artifacts/screenshots/<test name>.png when the test ends, passed or failed. It serves the
  `hub_url` fixture, which each browser test module defines (the hub it needs).

Without /usr/bin/chromium these tests are skipped, except under CI=true, where they fail.
Never run `playwright install`: the tests use the system Chromium.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture: a skip, or a failure under CI=true
    expect = sync_playwright = None

from hub_server import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # A name of the hub as a phone in the room knows it (a proxy's, the laptop's on the network):
    # not loopback, for the pages that tell the host from a student in the browser (ROOM_HOST).
    "--host-resolver-rules=MAP room.test 127.0.0.1",
]
ROOM_HOST = "room.test"
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
STUDENT_ADDRESS = "192.168.1.42"  # a phone on the lecture hall's network
SCREENSHOTS = REPO / "artifacts" / "screenshots"
LOGS = REPO / "artifacts" / "logs"
TIMEOUT_MS = 30_000  # a first page load on a busy 2-core machine
EXPECT_TIMEOUT_MS = 15_000  # what expect() waits for a change the page makes on its own

# Gradio's toasts are <div data-testid="toast-body" class="toast-body error ...">; the class after
# toast-body is the kind (error, warning, info, success). test_error_toast_selector_matches_a_real_error
# checks that this selector does find the toast of a real server error.
ERROR_TOAST = '[data-testid="toast-body"].error'


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, where the browser tests must run (.ci installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser tests"
        )
    if sync_playwright is None:
        unavailable("the playwright Python package is not installed (requirements-dev.txt)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def settle(page) -> None:
    """Until no component waits for the server (Gradio marks those with the class "pending"):
    the page's load events, and the tab's, have answered and been drawn."""
    page.wait_for_function("() => document.querySelectorAll('.pending').length === 0")
    page.wait_for_timeout(300)


class Pages:
    """Opens hub pages on a phone screen and remembers them for the screenshots and checks."""

    def __init__(self, browser, hub_url: str):
        self.browser = browser
        self.hub_url = hub_url
        self.opened = []  # (context, page, JavaScript errors of the page)

    def open(self, query: str = "", locale: str = "fr-FR", before_load=None, screen: dict = PHONE, host: bool = False):
        """A hub page on a phone (or, with screen=PROJECTOR, on a lecture hall's projector), seen
        by a student: the hub serves this browser on loopback, but a proxy header makes it a
        visitor from the room (shared.hub.is_host); with host=True, the person at the server."""
        phone = screen is PHONE
        context = self.browser.new_context(
            viewport=screen,
            locale=locale,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
            extra_http_headers={} if host else {"X-Forwarded-For": STUDENT_ADDRESS},
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        self.opened.append((context, page, errors))
        if before_load:
            before_load(page)
        page.goto(self.hub_url + query)
        page.locator("#hub-tabs [role=tab]").first.wait_for()
        return page

    def assert_healthy(self, page) -> None:
        """No error toast, no uncaught JavaScript error, nothing wider than the phone's screen."""
        toasts = page.locator(ERROR_TOAST)
        assert toasts.count() == 0, f"error toast: {toasts.all_inner_texts()}"
        errors = next(errors for _, opened, errors in self.opened if opened is page)
        assert not errors, f"JavaScript errors: {errors}"
        width = page.evaluate("document.documentElement.scrollWidth")
        screen = page.viewport_size["width"]
        assert width <= screen, f"the page scrolls sideways on a {screen} px screen: {width} px wide"

    def close(self, test_name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        base = re.sub(r"[^\w.-]+", "-", test_name).strip("-")
        for number, (context, page, _) in enumerate(self.opened, start=1):
            suffix = "" if number == 1 else f"-{number}"
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{base}{suffix}.png"), full_page=True)
            finally:
                context.close()


@pytest.fixture
def pages(request, browser, hub_url):
    opened = Pages(browser, hub_url)
    yield opened
    opened.close(request.node.name)


# --- one language per page ------------------------------------------------------------------------

# English that Gradio writes itself (labels, aria-labels, tooltips of its components), which a
# French page must not show. Gradio translates some of it; what it does not is ours to replace.
GRADIO_ENGLISH = (
    "Drop Image Here",
    "Click to Upload",
    "Drop File Here",
    "Upload",
    "Clear",
    "Submit",
    "Loading",
    "Error",
    "Warning",
    "Pan",
    "Zoom in",
    "Zoom out",
    "Undo",
    "Redo",
    "Clear canvas",
    "Brush",
    "Erase",
    "Eraser",
    "Color",
    "Brush Size",
    "Eraser Size",
    "Download",
    "Share",
    "Fullscreen",
    "Exit fullscreen",
    "Copy",
    "Copied",
    "Remove",
    "Retry",
    "Like",
    "Dislike",
    "Settings",
    "Use via API",
    "Built with Gradio",
    "queue:",
    "select the draw tool to start",
)


def english_constants() -> set[str]:
    """English that lives in the demos' code rather than in their texts: Seg2Sat's prompts and
    its classes' English names (what the model reads, not what a French page may show)."""
    from shared.flair import FLAIR_CLASSES
    from spaces.seg2sat.options import STYLES

    return {*STYLES, *(land_cover.english for land_cover in FLAIR_CLASSES)}


def _rendered(text: str) -> str:
    """A Markdown text as the page shows it: without the marks."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*#`_]{1,3}", "", text).strip()


def other_language_probes(language: str) -> list[str]:
    """Strings that give away the other language on a page in `language`: every text of the hub
    and its demos in the other language, cut at its placeholders, less what the page's own
    language writes the same way (« tokens », « Top-k », « Cémantix »…)."""
    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.settings import ALL_DEMOS

    all_texts = [HUB_TEXTS, *(import_demo(f"spaces.{name}.ui").TEXTS for name in ALL_DEMOS)]
    other = "en" if language == "fr" else "fr"
    own_values = "\n".join(_rendered(v) for texts in all_texts for v in texts.by_language[language].values())
    probes = {*GRADIO_ENGLISH, *english_constants()} if language == "fr" else set()
    for texts in all_texts:
        for value in texts.by_language[other].values():
            for fragment in re.split(r"\{[^}]*\}", _rendered(value)):
                fragment = fragment.strip(" :;,.()[]«»“”—–-·\n")
                if len(re.findall(r"[^\W\d_]", fragment)) >= 4 and fragment not in own_values:
                    probes.add(fragment)
    return sorted(probes, key=len, reverse=True)


# Everything a person can read on the page: its visible text, and the labels and tooltips that a
# screen reader says or a long press shows.
VISIBLE_WORDS_JS = """() => {
  const words = [document.body.innerText];
  for (const element of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    if (!element.checkVisibility || !element.checkVisibility()) continue;
    for (const name of ["aria-label", "title", "placeholder"]) {
      if (element.hasAttribute(name)) words.push(element.getAttribute(name));
    }
  }
  return words.join("\\n");
}"""


def other_language_on_page(page, language: str) -> list[str]:
    """The probes of the other language that the page shows now (whole words only)."""
    shown = page.evaluate(VISIBLE_WORDS_JS)
    return [probe for probe in other_language_probes(language) if re.search(rf"(?<!\w){re.escape(probe)}(?!\w)", shown)]
