"""The tokenizer tab: what its views draw, and the tab served over HTTP where the end-to-end
suite's whole hub is not needed."""

import html
import re

from gradio_client import Client
from hub_server import hub_in_process

from shared.hub import Hub
from shared.settings import load_settings


def test_a_missing_model_tokenizer_is_said_in_one_sentence_of_the_callers_language(tmp_path):
    settings = load_settings(
        [], {"IAGEN_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "IAGEN_MODEL_GEMMA3_270M": "/nonexistent/gemma"}
    )
    with hub_in_process(Hub(settings), {"tokenizer": "spaces.tokenizer.ui"}) as url:
        french = Client(url, verbose=False).predict("Bonjour", "gemma3_270m", False, False, api_name="/tokenize")
        english = Client(url, verbose=False, headers={"Accept-Language": "en"}).predict(
            "Bonjour", "gemma3_270m", False, False, api_name="/tokenize"
        )
    assert "Le tokeniseur de Gemma 3 270M n'est pas installé sur ce serveur" in html.unescape(french[0])
    assert "The Gemma 3 270M tokenizer is not installed on this server" in html.unescape(english[0])
    for shown in (french, english):
        assert "IAGEN_" not in shown[0] and "/nonexistent" not in shown[0]  # ids and paths are for the host
        assert shown[1] == "" and shown[2]["ids"] == []


def test_a_token_of_invisible_characters_shows_their_names_explained_in_the_pages_language():
    from spaces.tokenizer import logic, ui

    tokenization = logic.tokenize("❤️ café\u00ad", "cl100k_base")  # ❤ then U+FE0F alone; a soft hyphen alone
    french = ui.tokens_html(tokenization, show_ids=True, show_whitespace=False, language="fr")
    english = ui.tokens_html(tokenization, show_ids=True, show_whitespace=False, language="en")
    chips = re.findall(r'<span class="invisible"[^>]*>(.*?)</span>', french)
    assert chips == ["⟨VS16⟩", "⟨U+00AD⟩"]
    assert "sélecteur de variante 16" in html.unescape(french) and "SOFT HYPHEN, son nom Unicode" in html.unescape(
        french
    )
    assert "variation selector 16" in html.unescape(english) and "its Unicode name" in english
    plain = ui.tokens_html(logic.tokenize("café", "cl100k_base"), False, False, "fr")
    assert "invisible" not in plain  # no legend without an invisible token
    twice = ui.tokens_html(logic.tokenize("a\u200b\u200b b\u200b", "cl100k_base"), False, False, "en")
    legend = twice.partition('class="tokenizer-invisible"')[2]
    assert legend.count("<li>") == 1  # a character met twice, in one token or two, is explained once


def test_the_comparison_adds_our_models_tokenizers_once_they_are_ready(monkeypatch):
    from spaces.tokenizer import logic, ui

    monkeypatch.setattr(logic, "is_loaded", lambda name: name == "gemma3_270m")
    assert ui.compared_encodings() == [*logic.ENCODINGS, "gemma3_270m"]


def test_in_a_lecture_hall_the_tabs_warm_up_makes_our_installed_models_tokenizers_ready(tmp_path, monkeypatch):
    from tiny_models import save_tiny_causal_lm

    from spaces.tokenizer import logic, ui

    save_tiny_causal_lm(tmp_path / "gemma")
    environment = {
        "IAGEN_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
        "IAGEN_MODEL_GEMMA3_270M": str(tmp_path / "gemma"),
        "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": "/nonexistent/smollm2",
    }
    for profile, ready in (("laptop", []), ("lecture", ["gemma3_270m"])):
        monkeypatch.setattr(logic, "_registered", {})  # the registry is the process's: each hub its own
        monkeypatch.setattr(logic, "_loaded", {})
        hub = Hub(load_settings(["--profile", profile], environment))
        ui.register_model_tokenizers(hub)
        ui.warm_up(hub)
        assert [key for key in ("gemma3_270m", "smollm2_135m_instruct") if logic.is_loaded(key)] == ready


def test_a_screen_reader_hears_the_tokens_and_their_ids_not_the_coloured_text():
    """Not by colour alone (RGAA 3.1): the coloured tokens are hidden from a screen reader, which
    hears a list of the tokens, their spaces shown, each with its id(s)."""
    from spaces.tokenizer import logic, ui

    tokenization = logic.tokenize("Bonjour le monde", "cl100k_base")
    shown = ui.tokens_html(tokenization, False, False, "fr")
    assert '<div class="tokenizer-tokens" aria-hidden="true">' in shown
    spoken = shown.partition('class="hub-spoken"')[2]
    expected = [
        f"<li>« {segment.text.replace(' ', '·')} » {segment.token_ids[0]}</li>" for segment in tokenization.segments
    ]
    assert "<li>« ·le » " in spoken and all(item in spoken for item in expected)
    assert "identifiant" in spoken
    assert "its id" in ui.tokens_html(tokenization, True, True, "en")
