"""Cémantix's page of its own in a real browser: what a phone of the room gets when it scans a
join link's QR code (/cemantix/?room=CODE): the demo alone, in the phone's language, named for a
screen reader, with a link back to the whole hub, the code filled in and no server event before
the first tap; and a game begun in the whole hub found again on it."""

from __future__ import annotations

import os
import re

import pytest
from browser_fixtures import PHONE, TIMEOUT_MS, expect
from hub_server import free_port

from shared.settings import load_settings
from spaces.cemantix.texts import TEXTS

WORD_BOX = "#cemantix-word input, #cemantix-word textarea"


@pytest.fixture(scope="module")
def hub_url(browser, french, english):  # after `browser`: no hub when the browser tests are skipped
    import app

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    flags = ["--port", str(port), "--public-url", url, "--demos", "cemantix,tokenizer"]
    server, _, _ = app.launch(load_settings(flags, dict(os.environ)), prevent_thread_lock=True)
    try:
        yield url
    finally:
        server.get_blocks().close()


@pytest.fixture
def phone(browser):
    """A phone's browser: every request its pages send is kept in `phone.sent`."""
    opened = []

    def new(locale: str = "fr-FR"):
        context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.sent, page.errors = [], []
        page.on("request", lambda request: page.sent.append((request.method, request.url)))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        opened.append(context)
        return page

    yield new
    for context in opened:
        context.close()


def server_events(page) -> list[str]:
    return [url for method, url in page.sent if method == "POST" and "/gradio_api/" in url]


@pytest.mark.parametrize(
    ("locale", "back"), [("fr-FR", "← Toutes les démos du cours"), ("en-GB", "← Every demo of the course")]
)
def test_a_join_links_qr_code_opens_the_demo_alone_in_the_phones_language(hub_url, phone, locale, back):
    page = phone(locale)
    page.goto(f"{hub_url}cemantix/?room=ab 12")
    code = page.locator("#cemantix-room-code input, #cemantix-room-code textarea").first
    expect(code).to_have_value("AB12")  # filled in by the page itself, « Salle » opened
    expect(page.locator("#cemantix-room-button")).to_have_attribute("aria-selected", "true")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{locale[:2]}"))
    expect(page).to_have_title("Cémantix — Comprendre l'IA générative")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cémantix")
    link = page.get_by_role("link", name=back)
    expect(link).to_be_visible()
    assert page.evaluate("(link) => link.href", link.element_handle()) == hub_url
    assert page.locator("#hub-tabs").count() == 0  # the demo alone
    expect(page.get_by_role("textbox", name=TEXTS.get("cemantix_room_code", locale[:2]))).to_have_count(1)
    page.wait_for_timeout(1500)  # anything the page would send on its own
    assert server_events(page) == [], "the page asked the server before any tap"
    assert page.errors == []
    link.click()
    page.locator("#hub-tabs [role=tab]").first.wait_for()  # the whole hub


def test_a_game_begun_in_the_whole_hub_goes_on_on_the_demo_page(hub_url, phone):
    page = phone()
    page.goto(f"{hub_url}?tab=cemantix")
    box = page.locator(WORD_BOX).first
    box.fill("maison")
    box.press("Enter")
    expect(page.locator("#cemantix-history")).to_contain_text("maison")
    page.wait_for_timeout(500)  # the token saved after the first action
    page.goto(f"{hub_url}cemantix/")
    expect(page.locator("#cemantix-history")).to_contain_text("maison")
    expect(page.locator("#cemantix-header")).to_contain_text("1 coup")
    assert page.errors == []


def test_the_demo_page_downloads_fewer_of_gradios_files_than_the_whole_hub(hub_url, phone):
    whole, alone = phone(), phone()
    whole.goto(f"{hub_url}?tab=cemantix")
    whole.locator("#hub-tabs [role=tab]").first.wait_for()
    alone.goto(f"{hub_url}cemantix/")
    alone.locator("#cemantix-sections [role=tab]").first.wait_for()
    for page in (whole, alone):  # Gradio's event stream stays open: no network idle to wait for
        page.wait_for_timeout(2000)
    files = {
        page: [url for method, url in page.sent if method == "GET" and "/assets/" in url] for page in (whole, alone)
    }
    assert len(files[alone]) < len(files[whole])
