"""« De GPT-3 à ChatGPT » and the chat's fallback notice in a real browser, on a 390 x 844 phone,
in French and in English.

The hub serves the sampling and assistant tabs on a server without the Qwen3 models (their
IAGEN_MODEL_<KEY> point at a folder that is not there): the chat falls back to the offline pack
and says so, and the base/instruct view takes the packs' pair of two networks, named as such.
The models are tiny random Gemma 3 and a small Llama (test_browser_sampling's, which streams at a
reader's pace) under the real repository ids. Screenshots land in artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import LOGS, expect, other_language_on_page, settle
from hub_server import running_hub
from test_browser_sampling import FIRST_USE_MS, offline_language_models

LOCALES = {"fr-FR": "fr", "en-US": "en"}


@pytest.fixture(scope="module")
def hub_url(browser, tmp_path_factory):  # after `browser`: no hub is started when the browser tests are skipped
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path_factory.mktemp("assistant")),
        "IAGEN_TORCH_THREADS": "1",
        **offline_language_models(),
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    with running_hub("--demos", "sampling,assistant", environ=environ, log_path=LOGS / "hub-assistant.log") as url:
        yield url


RECORD_TEXTS_JS = """() => {
  window.seenTexts = {base: new Set(), instruct: new Set()};
  const record = () => {
    for (const side of ["base", "instruct"]) {
      const box = document.querySelector(`#assistant-${side}-text textarea`);
      if (box && box.value) window.seenTexts[side].add(box.value);
    }
  };
  window.textsRecorder = setInterval(record, 5);
}"""


@pytest.mark.parametrize("locale", list(LOCALES))
def test_both_replies_stream_under_their_models_names(pages, locale):
    language = LOCALES[locale]
    page = pages.open("?tab=assistant", locale=locale)
    expect(page.locator("#assistant-prompt textarea")).to_be_visible()
    settle(page)
    notice = {
        "fr": "gemma-3-270m et SmolLM2-135M-Instruct sont deux réseaux différents",
        "en": "gemma-3-270m and SmolLM2-135M-Instruct are two different networks",
    }[language]
    expect(page.locator("#assistant-notice")).to_contain_text(notice)
    robot = {"fr": "Humain : Bonjour ! Qui es-tu ?", "en": "Human: Hello! Who are you?"}[language]
    page.locator("#assistant-preset-robot").tap()
    expect(page.locator("#assistant-prompt textarea")).to_have_value(re.compile(re.escape(robot)))
    assert not other_language_on_page(page, language)
    page.evaluate(RECORD_TEXTS_JS)
    page.locator("#assistant-send").tap()
    done = {"fr": "Les deux réponses sont terminées.", "en": "Both replies are finished."}[language]
    expect(page.locator("#assistant-status")).to_contain_text(done, timeout=FIRST_USE_MS)
    seen = page.evaluate("() => ({base: window.seenTexts.base.size, instruct: window.seenTexts.instruct.size})")
    assert seen["base"] > 2 and seen["instruct"] > 2, f"the texts did not grow token by token: {seen}"
    # The models set with IAGEN_MODEL_<KEY> are named after their repository (shared.language_models.model_title).
    base_name = {"fr": "gemma-3-270m — modèle de base", "en": "gemma-3-270m — base model"}[language]
    instruct_name = {
        "fr": "SmolLM2-135M-Instruct — un modèle instruct d'un autre réseau",
        "en": "SmolLM2-135M-Instruct — an instruct model of another network",
    }[language]
    expect(page.locator("#assistant-base-name")).to_contain_text(base_name)
    expect(page.locator("#assistant-instruct-name")).to_contain_text(instruct_name)
    cost = {"fr": "le même texte par", "en": "the same text by"}[language]
    expect(page.locator("#assistant-cost .reply-cost")).to_have_count(2)
    expect(page.locator("#assistant-cost")).to_contain_text(cost)
    # On a phone, one under the other.
    base_box = page.locator("#assistant-base-text").bounding_box()
    instruct_box = page.locator("#assistant-instruct-text").bounding_box()
    assert instruct_box["y"] > base_box["y"] + base_box["height"] - 1
    settle(page)
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_an_empty_request_is_refused_in_words_and_a_bad_length_never_sent(pages, locale):
    language = LOCALES[locale]
    page = pages.open("?tab=assistant", locale=locale)
    expect(page.locator("#assistant-prompt textarea")).to_be_visible()
    settle(page)
    page.locator("#assistant-prompt textarea").fill("")
    page.locator("#assistant-send").tap()
    expect(page.locator("#assistant-status")).to_contain_text(
        {"fr": "Tapez une demande.", "en": "Type a request."}[language]
    )
    page.locator("#assistant-prompt textarea").fill("Bonjour")
    page.locator("#assistant-settings .label-wrap").tap()
    length = page.locator("#assistant-max-new-tokens input[type=number]")
    length.click()  # key by key, as a student types, then leave the box
    length.press("Control+A")
    length.press("Delete")
    length.press_sequentially("5000")
    length.press("Tab")
    expect(length).to_have_value("48")
    expect(page.locator("#assistant-max-new-tokens .hub-number-note")).to_be_visible()
    expect(page.locator("#assistant-prompt textarea")).to_have_value("Bonjour")  # nothing lost
    pages.assert_healthy(page)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_the_chat_says_that_the_offline_pack_answers_in_poor_french(pages, locale):
    language = LOCALES[locale]
    page = pages.open("?tab=sampling", locale=locale)
    expect(page.locator("#sampling-prompt textarea")).to_be_visible()
    settle(page)
    fallback = {
        "fr": "modèle anglais de 135 M paramètres, réponses en français médiocres",
        "en": "English model of 135 M parameters whose French replies are poor",
    }[language]
    notice = page.locator("#sampling-chat-fallback")
    expect(notice).to_contain_text(fallback)
    notice.scroll_into_view_if_needed()
    page.locator("#sampling-preset-assistant").tap()
    page.locator("#sampling-send").tap()
    expect(page.locator("#sampling-chat .message-row")).to_have_count(2, timeout=FIRST_USE_MS)
    expect(page.locator("#sampling-chat .message-row").last).to_contain_text(
        "— SmolLM2-135M-Instruct", timeout=FIRST_USE_MS
    )
    settle(page)
    page.locator("#sampling-chat").scroll_into_view_if_needed()
    pages.assert_healthy(page)
