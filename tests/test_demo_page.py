"""Cémantix's page of its own (/cemantix/, app.DEMO_PAGES): what a room's QR code opens, served by
the hub's process beside the whole hub, kept and compressed like it; an unknown path's page in
the visitor's language.

The hub is served in this process (Cémantix only), its public address itself."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from hub_server import free_port

from shared.settings import load_settings
from spaces.cemantix.context import OWN_PAGE, TabContext


@pytest.fixture(scope="module")
def hub_url():
    import app

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    flags = ["--port", str(port), "--public-url", url, "--demos", "cemantix"]
    server, _, _ = app.launch(load_settings(flags, dict(os.environ)), prevent_thread_lock=True)
    try:
        yield url
    finally:
        server.get_blocks().close()


def components(config: dict) -> list[dict]:
    return config["components"]


def test_the_demo_page_holds_the_demo_alone_beside_the_whole_hub(hub_url):
    assert httpx.get(hub_url + OWN_PAGE + "?room=AB12").status_code == 200
    alone = httpx.get(hub_url + OWN_PAGE + "config").json()
    whole = httpx.get(hub_url + "config").json()
    assert alone["title"] == "Cémantix — Comprendre l'IA générative"  # the page's <title>, set by Gradio
    ids = {component["props"].get("elem_id") for component in components(alone)}
    assert {"hub-title", "hub-back", "cemantix-room-code", "cemantix-sections"} <= ids
    assert "hub-tabs" not in ids and "tab-about" not in ids  # the demo alone: no hub tabs, no À propos
    whole_ids = {component["props"].get("elem_id") for component in components(whole)}
    assert {"hub-tabs", "tab-cemantix", "tab-about"} <= whole_ids  # the whole hub is still at /
    assert len(components(alone)) < len(components(whole))
    assert alone["root"] == hub_url + OWN_PAGE.rstrip("/")  # its events go to its own queue


def test_the_demo_page_is_kept_like_the_hub_page_and_a_forged_header_changes_nothing_for_others(hub_url):
    headers = {"Accept-Encoding": "br"}
    first = httpx.get(hub_url + OWN_PAGE, headers=headers)
    assert first.headers["content-encoding"] == "br" and first.text.startswith("<!doctype html>")
    assert first.text.index("iagen-language") < first.text.index("<meta")  # the saved language first
    forged = httpx.get(hub_url + OWN_PAGE + "config", headers={"X-Forwarded-Host": "evil.example"})
    assert forged.json()["root"] == "http://evil.example/cemantix"
    assert httpx.get(hub_url + OWN_PAGE + "config").json()["root"] == hub_url + "cemantix"
    assert httpx.get(hub_url + OWN_PAGE, headers=headers).content == first.content


def test_the_demo_page_and_the_hub_send_the_same_kept_files(hub_url):
    import gradio

    page = httpx.get(hub_url + OWN_PAGE).text
    name = page.split('src="./assets/', 1)[1].split('"', 1)[0]  # Gradio's code, named by its content
    built = Path(gradio.__file__).parent / "templates" / "frontend" / "assets" / name
    # Asked first on the demo page, whose mounted Gradio app compresses its answers itself.
    on_the_demo_page = httpx.get(f"{hub_url}{OWN_PAGE}assets/{name}", headers={"Accept-Encoding": "br"})
    in_the_hub = httpx.get(f"{hub_url}assets/{name}", headers={"Accept-Encoding": "br"})
    assert on_the_demo_page.headers["content-encoding"] == in_the_hub.headers["content-encoding"] == "br"
    assert on_the_demo_page.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert on_the_demo_page.content == in_the_hub.content == built.read_bytes()  # decoded by httpx: once


@pytest.mark.parametrize(
    ("accept_language", "title", "link"),
    [
        ("fr-FR,fr;q=0.9", "Page introuvable", "Ouvrir toutes les démos du cours"),
        ("en-GB,en;q=0.9", "Page not found", "Open every demo of the course"),
    ],
)
def test_an_unknown_demo_path_gets_a_page_in_the_visitors_language(hub_url, accept_language, title, link):
    answer = httpx.get(hub_url + "cemantx/", headers={"Accept": "text/html", "Accept-Language": accept_language})
    assert answer.status_code == 404
    language = accept_language[:2]
    assert f'<html lang="{language}">' in answer.text and f"<h1>{title}</h1>" in answer.text
    assert f'<a href="/">{link}</a>' in answer.text


def test_an_api_client_still_gets_gradios_json_for_an_unknown_path(hub_url):
    answer = httpx.get(hub_url + "cemantx/")
    assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}


def test_a_rooms_join_link_and_board_open_the_demo_page():
    from shared.hub import Hub

    class Request:
        headers = {"host": "192.168.1.10:7860"}

    hub = Hub(load_settings(["--host", "0.0.0.0"], {}))
    in_the_hub, on_its_page = TabContext(hub), TabContext(hub, own_page=True)
    assert in_the_hub.join_url(Request(), "AB12") == "http://192.168.1.10:7860/cemantix/?room=AB12"
    assert on_its_page.join_url(Request(), "AB12") == "http://192.168.1.10:7860/cemantix/?room=AB12"
    assert in_the_hub.board_link("AB12") == "cemantix/?board=AB12"  # from the hub's page, /
    assert on_its_page.board_link("AB12") == "?board=AB12"  # from /cemantix/


def test_gradios_files_are_answered_ahead_of_gradios_layers_for_the_hubs_own_pages(hub_url):
    """KeepAssets sits in front of the app (app.py's lifespan: Starlette's middleware_stack): a
    browser's same-origin request never reaches Gradio's CORS middleware; another origin's does."""
    page = httpx.get(hub_url).text
    name = page.split('src="./assets/', 1)[1].split('"', 1)[0]
    own = httpx.get(f"{hub_url}assets/{name}", headers={"Origin": hub_url.rstrip("/")})
    assert own.status_code == 200 and own.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "access-control-allow-credentials" not in own.headers
    embedding = httpx.get(f"{hub_url}assets/{name}", headers={"Origin": "http://elsewhere.example"})
    assert embedding.status_code == 200 and embedding.headers["access-control-allow-credentials"] == "true"


def test_the_theme_and_gradios_package_files_are_kept_too(hub_url):
    version = httpx.get(hub_url + OWN_PAGE + "config").json()["theme_hash"]  # the page asks ?v=<it>
    theme = f"theme.css?v={version}"
    for path in (theme, OWN_PAGE + theme, "static/js/iframeResizer.contentWindow.min.js"):
        first = httpx.get(hub_url + path, headers={"Accept-Encoding": "br"})
        again = httpx.get(hub_url + path, headers={"Accept-Encoding": "br"})
        assert first.status_code == 200 and first.headers["content-encoding"] == "br"
        assert again.content == first.content and "etag" not in again.headers  # ours, not Gradio's answer
        assert "immutable" not in again.headers.get("cache-control", "")  # not named by their content
