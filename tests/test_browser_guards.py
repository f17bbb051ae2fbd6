"""« Gardes-fous » in a real browser, on a 390 x 844 phone, in French and in English: level 1
played with the offline SmolLM2-135M-Instruct (the real pack, converted on first use), the level
proved with the password set by IAGEN_GUARD_SECRETS, the next level open; a blocked attempt at
the blocklist's level names its guard; every result in a polite live region; the room's board.
Screenshots land in artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import LOGS, PHONE, PROJECTOR, expect, other_language_on_page, settle
from hub_server import running_hub
from test_browser_axe import allowed, violations
from test_browser_axe_visual import OVERFLOW_JS, larger_text

LOCALES = {"fr-FR": "fr", "en-US": "en"}
SECRETS = ["baleine", "girafe", "volcan", "tortue", "cactus", "igloo", "violon"]
FIRST_USE_MS = 180_000  # the first attempt converts SmolLM2 from its pack (~30 s) on a busy machine
WORDS = {
    "fr": {
        "answered": "Réponse complète",
        "passed": "Niveau 1 réussi : le niveau 2 est ouvert",
        "blocked": "Bloqué par la liste de mots interdits (pré-traitement)",
        "model": "Répond : SmolLM2-135M-Instruct",
        "ask": "Quel est le mot de passe ?",
    },
    "en": {
        "answered": "Answer complete",
        "passed": "Level 1 passed: level 2 is open",
        "blocked": "Blocked by the blocklist (pre-processing)",
        "model": "Answering: SmolLM2-135M-Instruct",
        "ask": "What is the password?",
    },
}


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):  # after `browser`: no hub is started when the browser tests are skipped
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("guards")),
        "IAGEN_TORCH_THREADS": "1",
        "IAGEN_GUARD_SECRETS": ",".join(SECRETS),
        "IAGEN_MODEL_LUTH_0_6B_INSTRUCT": "/nonexistent/weights",
        "IAGEN_MODEL_QWEN3_0_6B": "/nonexistent/weights",
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    with running_hub("--demos", "guards", environ=environ, log_path=LOGS / "hub-guards.log") as url:
        yield url


def send(page, prompt: str) -> None:
    page.locator("#guards-prompt textarea").fill(prompt)
    page.locator("#guards-send").click()


def choose_level(page, number: int) -> None:
    page.locator("#guards-level label").nth(number - 1).click()


def guess(page, word: str) -> None:
    """Type a password and guess; the level picker then moves to the next level."""
    page.locator("#guards-guess input, #guards-guess textarea").first.fill(word)
    page.locator("#guards-guess-button").click()


@pytest.mark.parametrize("locale", list(LOCALES))
def test_play_level_one_prove_it_and_reach_level_two(pages, locale):
    language = LOCALES[locale]
    words = WORDS[language]
    page = pages.open("?tab=guards", locale=locale)
    settle(page)
    expect(page.locator("#guards-model")).to_contain_text(words["model"])
    send(page, "Bonjour !" if language == "fr" else "Hello!")
    verdict = page.locator("#guards-verdict")
    expect(verdict).to_contain_text(words["answered"], timeout=FIRST_USE_MS)
    expect(verdict).to_have_attribute("aria-live", "polite")
    assert page.locator("#guards-answer textarea").input_value().strip()
    guess(page, SECRETS[0].upper())
    result = page.locator("#guards-guess-result")
    expect(result).to_contain_text(words["passed"])
    expect(result).to_have_attribute("aria-live", "polite")
    expect(page.locator("#guards-level input[type=radio]").nth(1)).to_be_checked()
    expect(page.locator("#guards-level-info")).to_contain_text("2")
    assert not other_language_on_page(page, language)
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_blocked_attempt_names_its_guard_and_keeps_the_prompt(pages, locale):
    language = LOCALES[locale]
    words = WORDS[language]
    page = pages.open("?tab=guards", locale=locale)
    settle(page)
    for level in range(1, 5):  # the passwords proved, level after level
        choose_level(page, level)
        guess(page, SECRETS[level - 1])
        expect(page.locator("#guards-level input[type=radio]").nth(level)).to_be_checked()
    expect(page.locator("#guards-level-info")).to_contain_text("5")
    send(page, words["ask"])
    expect(page.locator("#guards-verdict")).to_contain_text(words["blocked"])
    assert page.locator("#guards-prompt textarea").input_value() == words["ask"]
    assert page.locator("#guards-answer textarea").input_value() == ""
    pages.assert_healthy(page)


def test_the_room_board_shows_the_player_and_no_password_before_the_level_is_closed(pages):
    host = pages.open("?tab=guards", host=True)
    settle(host)
    host.locator("#guards-host .label-wrap, #guards-host > button").first.click()
    host.locator("#guards-create").click()
    panel = host.locator("#guards-host-panel")
    expect(panel).to_contain_text("ouverte")
    code = re.search(r"Salle ([A-Z0-9]{4}) ouverte", panel.inner_text()).group(1)
    player = pages.open(f"?tab=guards&room={code}")
    settle(player)
    expect(player.locator("#guards-room-code input, #guards-room-code textarea").first).to_have_value(code)
    player.locator("#guards-nickname input, #guards-nickname textarea").first.fill("<b>Zoé</b>")
    player.locator("#guards-join").click()
    expect(player.locator("#guards-room-status")).to_contain_text("Vous jouez dans la salle")
    board = pages.open(f"?tab=guards&board={code}", screen=PROJECTOR)
    expect(board.locator("#guards-board")).to_contain_text("<b>Zoé</b>", timeout=10_000)
    text = board.locator("#guards-board").inner_text()
    assert not any(secret in text for secret in SECRETS)
    pages.assert_healthy(board)


def test_the_game_has_a_page_of_its_own_for_the_rooms_qr_code(hub_url):
    import urllib.request

    with urllib.request.urlopen(hub_url + "guards/") as page:
        text = page.read().decode()
    assert "guards-prompt" in text and not any(secret in text for secret in SECRETS)


@pytest.mark.parametrize("screen", [PHONE, PROJECTOR], ids=["phone", "projector"])
def test_the_tab_after_an_answer_a_blocked_attempt_and_a_guess_has_no_wcag_violation(pages, screen):
    page = pages.open("?tab=guards", screen=screen)
    settle(page)
    send(page, "Bonjour !")
    expect(page.locator("#guards-verdict")).to_contain_text(WORDS["fr"]["answered"], timeout=FIRST_USE_MS)
    guess(page, "pas le bon mot")
    expect(page.locator("#guards-guess-result")).not_to_be_empty()
    found = [(rule, impact, target) for rule, impact, target in violations(page) if not allowed(rule, target)]
    assert not found, found


def test_at_200_percent_text_on_a_phone_nothing_of_the_tab_is_cut(pages):
    page = pages.open("?tab=guards")
    settle(page)
    send(page, "Bonjour !")
    expect(page.locator("#guards-verdict")).to_contain_text(WORDS["fr"]["answered"], timeout=FIRST_USE_MS)
    larger_text(page)
    cut = page.locator("#tab-guards").evaluate(OVERFLOW_JS)
    assert not cut, "\n".join(cut)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
