"""Results a user waits for are polite live regions, so a screen reader says them once (RGAA 7.5):
the components a demo marks with the class hub-live (shared/hub_page.py LIVE_REGIONS_SCRIPT)."""

from __future__ import annotations

import pytest
from browser_fixtures import LOGS, expect
from hub_server import running_hub


@pytest.fixture(scope="module")
def hub_url(browser):  # after `browser`: no hub is started when the browser tests are skipped
    LOGS.mkdir(parents=True, exist_ok=True)
    # As in test_browser.py: the sampling tab's warm-up would convert Gemma for minutes.
    environ = {"IAGEN_MODEL_GEMMA3_270M": "/nonexistent/gemma3_270m"}
    with running_hub(environ=environ, log_path=LOGS / "hub-browser-live-regions.log") as url:
        yield url


def test_the_token_counts_are_a_polite_live_region(pages):
    page = pages.open("?tab=tokenizer")
    region = page.locator("#tokenizer-stats")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region.locator(".tokenizer-stats b").first).to_be_visible()  # the counts are inside it


def test_a_guess_feedback_is_said_in_a_polite_live_region(pages):
    page = pages.open("?tab=cemantix")
    region = page.locator("#cemantix-status")
    expect(region).to_have_attribute("aria-live", "polite")
    page.locator("#cemantix-word textarea, #cemantix-word input").first.fill("zzzqx")
    page.locator("#cemantix-word button[data-testid=submit-button]").click()
    expect(region).not_to_have_text("")  # the feedback on the guess lands inside the region
