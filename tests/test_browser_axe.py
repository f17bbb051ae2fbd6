"""axe-core (through axe-playwright-python, which bundles it) on every tab of the hub, in a real
browser, at a phone's and a projector's size, as the tab opens: WCAG 2.0 and 2.1, levels A and AA
(RGAA 4.1). Every violation is reported (rule, impact, element); what comes from Gradio itself and
cannot be fixed from the app is in ALLOWED, each entry with its reason, so that a new one fails."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_fixtures import LOGS, PHONE, PROJECTOR, expect, settle
from hub_server import running_hub

from shared.settings import ALL_DEMOS

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (rule id, a piece of the element's CSS selector as axe gives it, why): what comes from Gradio's own
# markup and cannot be fixed from the app. Empty: on integrate (5e0ce0b) axe found 39 violations in
# these 14 views, all fixed from the app (color-contrast through the theme, shared/hub_page.py;
# button-name of the noised image through its alt). An entry needs its reason and upstream issue.
ALLOWED: list[tuple[str, str, str]] = []


@pytest.fixture(scope="module")
def hub_url(browser):  # after `browser`: no hub is started when the browser tests are skipped
    LOGS.mkdir(parents=True, exist_ok=True)
    # As in test_browser.py: the sampling tab's warm-up would convert Gemma for minutes.
    environ = {"IAGEN_MODEL_GEMMA3_270M": "/nonexistent/gemma3_270m"}
    with running_hub(environ=environ, log_path=LOGS / "hub-browser-axe.log") as url:
        yield url


def violations(page) -> list[tuple[str, str, str]]:
    """(rule id, impact, the element's selector) of every WCAG A/AA violation axe finds on the page."""
    options = {"runOnly": {"type": "tag", "values": WCAG_A_AA}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [
        (violation["id"], violation["impact"], " ".join(map(str, node["target"])))
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


def allowed(rule: str, target: str) -> bool:
    return any(rule == allowed_rule and piece in target for allowed_rule, piece, _why in ALLOWED)


@pytest.mark.parametrize("screen", [PHONE, PROJECTOR], ids=["phone", "projector"])
@pytest.mark.parametrize("tab", [*ALL_DEMOS, "about"])
def test_a_tab_as_it_opens_has_no_wcag_violation_but_gradios_known_ones(pages, tab, screen):
    page = pages.open(f"?tab={tab}", screen=screen)
    settle(page)
    found = violations(page)
    print(f"axe {tab} {screen['width']}x{screen['height']}: {len(found)} violations")
    for rule, impact, target in found:
        print(f"  {rule} ({impact}): {target}{'  [allowed]' if allowed(rule, target) else ''}")
    new = [violation for violation in found if not allowed(violation[0], violation[2])]
    assert not new, "\n".join(f"{rule} ({impact}): {target}" for rule, impact, target in new)


@pytest.mark.parametrize(("locale", "name"), [("fr-FR", "Envoyer"), ("en-US", "Send")])
def test_a_text_boxs_send_arrow_is_named_in_the_pages_language(pages, locale, name):
    page = pages.open("?tab=cemantix", locale=locale)
    expect(page.locator("#cemantix-word button[data-testid=submit-button]")).to_have_attribute("aria-label", name)
