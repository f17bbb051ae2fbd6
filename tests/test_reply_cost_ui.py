"""A reply's cost on the Échantillonnage tab, through its API (gradio_client, as a script would
call it): the line under a generation and under a chat answer, in the page's language; « Pour
situer » and the memory calculator. The models are tiny random ones of the real architectures
(test_sampling_ui.py's hub)."""

import html
import re

import pytest
from conftest import seed_hub_cache
from hub_server import hub_in_process
from test_sampling_logic import save_tiny, tiny_gemma3, tiny_llama
from test_sampling_ui import GEMMA_ID, NEUTRAL, SMOLLM2_ID, tiny_model_settings

from shared.hub import Hub
from shared.reply_cost_ui import memory_answer

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    seed_hub_cache(GEMMA_ID, save_tiny(tiny_gemma3))
    seed_hub_cache(SMOLLM2_ID, save_tiny(tiny_llama))
    return Hub(tiny_model_settings(tmp_path_factory.mktemp("reply-cost-cache")))


@pytest.fixture(scope="module")
def hub_url(hub):
    with hub_in_process(hub, {"sampling": "spaces.sampling.ui"}) as url:
        yield url


HOW = {
    "fr": ("modélisé d'après la charge CPU", "processeur mesuré par RAPL"),
    "en": ("modelled from CPU load", "processor measured by RAPL"),
}


def cost_line(status: str) -> str:
    """The line a student sees under the reply (its part hidden from screen readers, which read
    the spoken one)."""
    found = re.search(r'<p class="reply-cost"[^>]*><span aria-hidden="true">(.*?)</span>', status)
    assert found, f"no cost line in {status}"
    return html.unescape(found.group(1))


def spoken(status: str) -> str:
    return html.unescape(re.search(r'class="reply-cost-spoken"[^>]*>(.*?)</span>', status).group(1))


@pytest.mark.parametrize(("language", "accept"), [("fr", "fr-FR,fr;q=0.9"), ("en", "en-US,en;q=0.9")])
def test_a_generation_ends_with_its_cost_in_the_page_s_language(hub_url, language, accept):
    client = Client(hub_url, verbose=False, headers={"Accept-Language": accept})
    _, data, status = client.predict(
        "gemma3_270m", "Le chat est assis sur le", 6, "", *NEUTRAL, 1, api_name="/generate"
    )
    line = cost_line(status)
    words = {
        "fr": (
            "6 tokens · ",
            "\u00a0s de calcul · ≈\u00a0",
            "\u00a0Wh · ≈\u00a0",
            "\u00a0g CO2e (",
            "le même texte par GPT-4o : ",
        ),
        "en": (
            "6 tokens · ",
            "\u00a0s of computing · ≈\u00a0",
            "\u00a0Wh · ≈\u00a0",
            "\u00a0g CO2e (",
            "the same text by GPT-4o: ",
        ),
    }
    assert all(part in line for part in words[language]), line
    assert any(how in line for how in HOW[language])
    assert spoken(status).startswith(
        {"fr": "Coût de cette réponse : 6 tokens", "en": "Cost of this reply: 6 tokens"}[language]
    )
    cost = data["cost"]
    assert cost["tokens"] == len(data["tokens"]) == 6
    assert cost["cpu_seconds"] > 0 and cost["energy_wh"] > 0 and cost["co2e_g"] > 0
    assert ("6 tokens en" if language == "fr" else "6 tokens in") in status  # the stream's own line stays


def test_a_chat_answer_ends_with_its_cost(hub_url):
    client = Client(hub_url, verbose=False)
    history, _, status = client.predict("Bonjour !", [], "Tu es un assistant.", 5, *NEUTRAL, 1, api_name="/chat")
    assert history[-1]["role"] == "assistant"
    assert cost_line(status).startswith("5 tokens · ")
    assert "Coût" not in history[-1]["content"][0]["text"]  # not in the conversation the model reads next


def test_a_refused_message_costs_nothing(hub_url):
    _, _, status = Client(hub_url, verbose=False).predict("  ", [], "", 5, *NEUTRAL, 1, api_name="/chat")
    assert "reply-cost" not in status


def test_pour_situer_and_the_memory_table_are_in_the_page_in_both_languages(hub, hub_url):
    french, english = (hub.page_texts.by_language[language] for language in ("fr", "en"))
    assert french["reply_cost_context_title"] == "Pour situer : ce que coûte l'IA générative"
    assert english["reply_cost_context_title"] == "For scale: what generative AI costs"
    for source in ("Luccioni, Jernite", "Patterson", "BLOOM", "RTE", "Mistral AI"):
        assert source in french["reply_cost_context_sources"] and source in english["reply_cost_context_sources"]
    assert re.search(
        r">700\u00a0Go · 9\u00a0GPU</td></tr>", french["reply_cost_memory_table"]
    )  # GPT-3, the last column
    assert re.search(r">350\u00a0GB · 5\u00a0GPU</td></tr>", english["reply_cost_memory_table"])
    assert "175 milliards de paramètres × 2 octets = 350 Go : 5 GPU de 80 Go" in french["reply_cost_memory_first"]


class Request:
    def __init__(self, language):
        self.headers = {"accept-language": language}
        self.cookies = {}


@pytest.mark.parametrize(
    ("parameters", "bytes_per_weight", "sentence"),
    [
        (70, 2, "70 milliards de paramètres × 2 octets = 140 Go : 2 GPU de 80 Go, pour les poids seuls."),
        (0.135, 4, "0,135 milliards de paramètres × 4 octets = 0,54 Go : 1 GPU de 80 Go, pour les poids seuls."),
        (1.5, 0.5, "1,5 milliards de paramètres × 0,5 octets = 0,75 Go : 1 GPU de 80 Go, pour les poids seuls."),
    ],
)
def test_the_calculator_answers_in_french(parameters, bytes_per_weight, sentence):
    assert (
        html.unescape(memory_answer(parameters, bytes_per_weight, Request("fr"))) == f'<p role="status">{sentence}</p>'
    )


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf"), -3, 0, 1e9, "douze"])
def test_a_wrong_number_in_the_calculator_says_what_to_type(bad):
    assert "Tapez un nombre de paramètres" in html.unescape(memory_answer(bad, 2, Request("fr")))
    assert "Type a number of parameters" in memory_answer(bad, 2, Request("en"))
    assert "Type a number" in memory_answer(7, 3, Request("en"))  # not one of the precisions offered
