"""The tokenizer tab served over HTTP, where the end-to-end suite's whole hub is not needed."""

import html

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
