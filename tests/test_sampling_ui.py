"""The Échantillonnage tab through its API: an in-process hub with the sampling demo, called with
gradio_client like a script or another Space would. Its models are tiny random ones of the real
architectures (Gemma 3 for the completion model, Llama for SmolLM2) seeded into a fake hub cache
under the real repository ids, which IAGEN_MODEL_<KEY> selects: the production hub-loading path."""

import html
import json
import re
import threading
import time

import gradio as gr
import pytest
import torch
from conftest import seed_hub_cache
from hub_server import hub_in_process
from test_sampling_logic import save_tiny, tiny_gemma3, tiny_llama

from shared.hub import Hub
from shared.settings import load_settings

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

GEMMA_ID = "google/gemma-3-270m"
SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
PROMPT = "Le chat est assis sur le"
# (temperature, top-k, top-p, min-p, repetition penalty) as the sliders send them
FILTERS = (0.7, 20, 0.9, 0.05, 1.2)
NEUTRAL = (1.0, 0, 1.0, 0.0, 1.0)
TOP_N = 8


def tiny_model_settings(cache_dir, **overrides):
    environ = {
        "IAGEN_CACHE_DIR": str(cache_dir),
        "HF_HUB_OFFLINE": "1",
        "IAGEN_TORCH_THREADS": "1",
        "IAGEN_MODEL_GEMMA3_270M": GEMMA_ID,
        "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": SMOLLM2_ID,
        **overrides,
    }
    return load_settings([], environ)


@pytest.fixture(scope="module")
def snapshots():
    return {
        "gemma3_270m": seed_hub_cache(GEMMA_ID, save_tiny(tiny_gemma3)),
        "smollm2_135m_instruct": seed_hub_cache(SMOLLM2_ID, save_tiny(tiny_llama)),
    }


@pytest.fixture(scope="module")
def hub(snapshots, tmp_path_factory):
    return Hub(tiny_model_settings(tmp_path_factory.mktemp("sampling-cache")))


@pytest.fixture(scope="module")
def hub_url(hub):
    with hub_in_process(hub, {"sampling": "spaces.sampling.ui"}) as url:
        yield url


@pytest.fixture
def client(hub_url):
    """A new client is a new session: a new user with their own state."""
    return Client(hub_url, verbose=False)


def next_token(client, prompt=PROMPT, filters=FILTERS, model="gemma3_270m"):
    return client.predict(model, prompt, *filters, TOP_N, api_name="/next_token")


def draw(client, seed, prompt=PROMPT, filters=FILTERS):
    return client.predict("gemma3_270m", prompt, *filters, TOP_N, seed, api_name="/draw_token")


def appended(result) -> list[int]:
    return result[4]["appended_token_ids"]


# --- view 1: next token --------------------------------------------------------------------------


def test_the_chart_carries_what_the_browser_needs_to_redraw_it_made_once_per_text(client, monkeypatch):
    from spaces.sampling import browser_filters

    made = []
    really_make = browser_filters.filters_payload
    monkeypatch.setattr(
        browser_filters, "filters_payload", lambda *arguments: made.append(1) or really_make(*arguments)
    )
    prompt = "Un texte que nul autre test ne montre"
    for temperature in (0.5, 1.5):  # a slider's release: the same text, another view
        _, chart, _, _, data, _ = next_token(client, prompt, (temperature, *FILTERS[1:]))
        sent = json.loads(html.unescape(re.search(r'data-filters="([^"]*)"', chart).group(1)))
        assert sent["prompt"] == prompt
        assert sent["shown"] == [candidate["token_id"] for candidate in data["candidates"]]
        assert set(sent["text_ids"]) <= set(sent["ids"]) and len(sent["tail"]["temperatures"]) == 40
    assert len(made) == 1


def test_next_token_shows_each_stage_with_counts_and_entropy(client):
    text, chart, table, candidates, data, status = next_token(client)
    assert [stage["name"] for stage in data["stages"]] == [
        "raw",
        "repetition_penalty",
        "temperature",
        "top_k",
        "top_p",
        "min_p",
    ]
    kept = [stage["kept"] for stage in data["stages"]]
    assert kept[0] == kept[1] == kept[2] > 20 and kept[3] == 20 and kept[3] >= kept[4] >= kept[5] >= 1
    assert len(data["candidates"]) == TOP_N == len(candidates["choices"])
    header = re.findall(r"<th[^>]*>(.*?)</th>", table)
    assert [re.sub("<[^>]+>", "", cell) for cell in header[:7]] == [
        "Token",
        "Modèle",
        "Pénalité",
        "Temp.",
        "Top-k",
        "Top-p",
        "Min-p",
    ]
    assert "Gardés" in table and "Entropie (bits)" in table and "Désactivés" not in table
    assert table.count("<tr") == 1 + TOP_N + 2
    removed = [candidate for candidate in data["candidates"] if candidate["probabilities"][-1] == 0]
    assert table.count("<tr class=removed>") == len(removed)  # tokens removed by a stage are greyed
    assert chart.count('class="track') == TOP_N
    assert text == "" and "notice" not in status  # nothing appended yet: the prompt box shows the prompt


def test_neutral_settings_are_shown_off(client):
    table = next_token(client, filters=NEUTRAL)[2]
    header = re.findall(r"<th>([^<]*)</th>", re.search(r"<thead>.*</thead>", table).group())
    assert header == ["Token", "Modèle"]  # the stages that are off take no column
    assert "Désactivés : Pénalité, Temp., Top-k, Top-p, Min-p." in table


# --- view 2: step by step --------------------------------------------------------------------------


def test_draws_are_reproducible_with_a_seed_and_undo_goes_back(hub_url):
    first, second = Client(hub_url, verbose=False), Client(hub_url, verbose=False)
    drawn = [appended(draw(first, seed=5)) for _ in range(3)][-1]
    assert len(drawn) == 3
    assert [appended(draw(second, seed=5)) for _ in range(3)][-1] == drawn  # another user, same seed
    back = first.predict("gemma3_270m", PROMPT, *FILTERS, TOP_N, api_name="/undo_token")
    assert appended(back) == drawn[:2]
    assert appended(draw(first, seed=5)) == drawn  # undo restored the generator too


def test_any_candidate_can_be_chosen_instead(client):
    candidates = next_token(client)[4]["candidates"]
    least_likely = candidates[-1]["token_id"]
    result = client.predict(least_likely, "gemma3_270m", PROMPT, *FILTERS, TOP_N, api_name="/choose_token")
    assert appended(result) == [least_likely]
    assert '<span class="chosen">' in result[0]


def test_a_new_prompt_starts_again(client):
    assert len(appended(draw(client, seed=1))) == 1
    assert appended(draw(client, seed=1, prompt="Autre texte")) and len(appended(draw(client, seed=1))) == 1


def test_concurrent_users_keep_their_own_steps(hub_url):
    users = [Client(hub_url, verbose=False) for _ in range(4)]
    results = {}

    def walk(index, client):
        for _ in range(3):
            results[index] = appended(draw(client, seed=index))

    threads = [threading.Thread(target=walk, args=(index, client)) for index, client in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for index in range(len(users)):  # each alone, again: the same tokens as under concurrency
        alone = Client(hub_url, verbose=False)
        assert [appended(draw(alone, seed=index)) for _ in range(3)][-1] == results[index]


# --- view 3: generate ------------------------------------------------------------------------------


def test_generate_streams_tokens_identical_to_transformers_generate(client, snapshots):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    job = client.submit("gemma3_270m", PROMPT, 12, "", *FILTERS, 7, api_name="/generate")
    shown, data, status = job.result(timeout=120)
    assert len(job.outputs()) >= 2  # streamed, token after token
    assert len(data["tokens"]) == 12 and data["finish"] == "length"
    assert "12 tokens en" in status and "longueur maximale" in status
    assert shown.count('class="sampling-token') == 12

    tokenizer = AutoTokenizer.from_pretrained(snapshots["gemma3_270m"])
    model = AutoModelForCausalLM.from_pretrained(snapshots["gemma3_270m"]).eval()
    input_ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    temperature, top_k, top_p, min_p, penalty = FILTERS
    torch.manual_seed(7)
    expected = model.generate(
        input_ids,
        attention_mask=torch.ones_like(input_ids),
        do_sample=True,
        max_new_tokens=12,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        min_p=min_p,
        repetition_penalty=penalty,
        pad_token_id=0,
    )
    assert [token["token_id"] for token in data["tokens"]] == expected[0, input_ids.shape[1] :].tolist()
    again = client.predict("gemma3_270m", PROMPT, 12, "", *FILTERS, 7, api_name="/generate")[1]
    assert again["text"] == data["text"]


def test_generated_tokens_show_their_probability_and_alternatives(client):
    shown, data, _ = client.predict("gemma3_270m", PROMPT, 4, "", *NEUTRAL, 1, api_name="/generate")
    assert shown.startswith(f'<span class="prompt">{PROMPT}</span>')
    assert shown.count('tabindex="0"') == 1 and shown.count('tabindex="-1"') == 3  # one tab stop, then arrows
    assert shown.count('class="alternatives"') == 4
    assert all(len(token["alternatives"]) == 5 and 0 < token["probability"] <= 1 for token in data["tokens"])


def test_a_stop_sequence_ends_generation(client):
    full = client.predict("gemma3_270m", PROMPT, 12, "", *NEUTRAL, 3, api_name="/generate")[1]["text"]
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    data = client.predict("gemma3_270m", PROMPT, 12, f"@@@\n{stop}", *NEUTRAL, 3, api_name="/generate")[1]
    assert data["finish"] == "stop_sequence" and data["text"] == full[: full.index(stop)]


def test_stop_pressed_mid_stream_ends_the_generation(client):
    job = client.submit("gemma3_270m", PROMPT, 200, "", *NEUTRAL, 1, api_name="/generate")
    deadline = time.monotonic() + 60
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    time.sleep(0.5)
    streamed = len(job.outputs())
    assert 1 <= streamed < 200
    # The hub answers the next request at once: no generation left running in the heavy-call group.
    started = time.monotonic()
    assert client.predict("gemma3_270m", PROMPT, 2, "", *NEUTRAL, 1, api_name="/generate")[1]["finish"] == "length"
    assert time.monotonic() - started < 20


# --- view 4: chat -------------------------------------------------------------------------------------


def test_chat_answers_in_the_conversation(client):
    history, message, status = client.predict("Bonjour !", [], "Tu es un assistant.", 6, *NEUTRAL, 1, api_name="/chat")
    assert [turn["role"] for turn in history] == ["user", "assistant"] and message == ""
    assert history[0]["content"][0]["text"] == "Bonjour !"
    assert history[1]["content"][0]["text"].strip() and "6 tokens en" in status
    follow_up, _, _ = client.predict("Et ensuite ?", history, "Tu es un assistant.", 6, *NEUTRAL, 1, api_name="/chat")
    assert [turn["role"] for turn in follow_up] == ["user", "assistant"] * 2


def test_a_chat_too_long_forgets_its_oldest_messages(client):
    long_message = [{"type": "text", "text": "Une très longue phrase qui occupe le contexte. " * 3}]
    history = [{"role": role, "content": long_message} for role in ("user", "assistant") * 4]
    _, _, status = client.predict("Et alors ?", history, "", 8, *NEUTRAL, 1, api_name="/chat")
    assert "plus anciens messages sont oubliés" in status


def test_an_empty_chat_message_asks_for_one(client):
    history, message, status = client.predict("  ", [], "", 6, *NEUTRAL, 1, api_name="/chat")
    assert history == [] and "Tapez un message" in status


# --- bad input ------------------------------------------------------------------------------------------


def test_an_empty_prompt_asks_for_a_text(client):
    assert "Tapez un début de texte" in next_token(client, prompt="")[5]
    assert "Tapez un début de texte" in client.predict("gemma3_270m", "", 5, "", *NEUTRAL, 1, api_name="/generate")[2]


def test_a_prompt_longer_than_the_context_is_cut_with_a_notice(client):
    long_prompt = "La carte n'est pas le territoire. " * 60  # ~480 tokens, the tiny models read 128
    status = next_token(client, prompt=long_prompt)[5]
    assert "Texte trop long : le modèle n'en lit que les 128 derniers tokens." in html.unescape(status)
    _, data, status = client.predict("gemma3_270m", long_prompt, 8, "", *NEUTRAL, 1, api_name="/generate")
    assert "Texte trop long" in status and len(data["tokens"]) == 8


@pytest.mark.parametrize(
    ("position", "value", "setting", "used"),
    [
        (0, 5.0, "Température", "2,00"),
        (1, -1, "Top-k", "0"),
        (2, 1.5, "Top-p", "1"),
        (3, -0.5, "Min-p", "0"),
        (4, 0.5, "Pénalité de répétition", "1"),
    ],
)
def test_out_of_range_settings_are_clamped_with_a_message(client, position, value, setting, used):
    """An API client's value beyond a slider's end (the page's sliders cannot send one): the end is
    used, the status says so in the page's language (French by default), and the view is shown."""
    filters = list(FILTERS)
    filters[position] = value
    *_, data, status = next_token(client, filters=filters)
    assert f"{setting} = {value} hors limites : {used}" in status and "utilisé à la place" in status
    assert len(data["candidates"]) == TOP_N


def test_what_is_no_number_or_no_model_gets_a_message(client):
    *_, data, status = next_token(client, filters=("chaud", *FILTERS[1:]))
    assert "Température = « chaud » n'est pas un nombre : 1,00 utilisé à la place." in html.unescape(status)
    assert data["candidates"]
    *_, data, status = client.predict("gemma3_270m", PROMPT, *FILTERS, 1000, api_name="/next_token")
    assert "Candidats affichés = 1000 hors limites : 30" in status and len(data["candidates"]) == 30
    text, *_, status = client.predict("gemma3_270m", PROMPT, *FILTERS, TOP_N, "graine", api_name="/draw_token")
    assert "« graine » n'est pas un nombre : 42" in html.unescape(status) and text
    *_, data, status = next_token(client, model="gpt-5")
    assert "Modèle inconnu : « gpt-5 ». Choisissez parmi : smollm2_135m_instruct, gemma3_270m." in status
    assert data == {"stages": [], "candidates": []}
    _, _, status = client.predict(
        "gpt-5", "Le médecin a dit qu'", "L'infirmière a dit qu'", api_name="/compare_prompts"
    )
    assert "Modèle inconnu : « gpt-5 »" in status


def test_emoji_mixed_scripts_and_markup(client):
    prompt = "Carte 👍🏽 日本語 مرحبا <img src=x onerror=alert(1)>"
    _, _, table, _, data, _ = next_token(client, prompt=prompt)
    text = draw(client, seed=1, prompt=prompt)[0]
    assert "👍🏽 日本語 مرحبا &lt;img" in text and "<img" not in text
    assert "\ufffd" not in table and len(data["candidates"]) == TOP_N
    shown, _, _ = client.predict(
        "gemma3_270m", "<script>alert(1)</script> 👍🏽", 6, "", *NEUTRAL, 1, api_name="/generate"
    )
    assert "<script" not in shown and "&lt;script&gt;" in shown


def test_temperature_zero_is_greedy_whatever_the_seed(client):
    greedy = (0.0, 0, 1.0, 0.0, 1.0)
    first = client.predict("gemma3_270m", PROMPT, 6, "", *greedy, 1, api_name="/generate")[1]
    second = client.predict("gemma3_270m", PROMPT, 6, "", *greedy, 2, api_name="/generate")[1]
    assert first["text"] == second["text"]
    data = next_token(client, filters=greedy)[4]
    assert [stage["kept"] for stage in data["stages"]][2:] == [1, 1, 1, 1]


def test_missing_weights_give_a_clear_sentence_and_the_other_tabs_work(snapshots, tmp_path):
    settings = tiny_model_settings(tmp_path, IAGEN_MODEL_GEMMA3_270M="google/not-in-the-cache")
    demos = {"sampling": "spaces.sampling.ui", "tokenizer": "spaces.tokenizer.ui"}
    with hub_in_process(Hub(settings), demos) as url:
        client = Client(url, verbose=False)
        outputs = next_token(client)
        assert "Ce modèle n'est pas installé sur ce serveur." in html.unescape(outputs[5])
        _, _, status = client.predict("gemma3_270m", PROMPT, 4, "", *NEUTRAL, 1, api_name="/generate")
        assert "Ce modèle n'est pas installé sur ce serveur." in html.unescape(status)
        for shown in (*outputs, status):  # ids, commands and variables are for the host's log
            assert not re.search(r"not-in-the-cache|IAGEN_|prefetch|pip install", str(shown)), shown
        assert client.predict("Bonjour", [], "", 4, *NEUTRAL, 1, api_name="/chat")[0][1]["role"] == "assistant"
        assert client.predict("Hello", "r50k_base", False, False, api_name="/tokenize")[2]["ids"] == [15496]


@pytest.mark.parametrize(
    ("missing", "language", "sentence", "offered", "chat_works"),
    [
        ({}, "fr", "", ["gemma3_270m", "smollm2_135m_instruct"], True),
        (
            {"IAGEN_MODEL_GEMMA3_270M": "google/not-in-the-cache"},
            "fr",
            "Le modèle de complétion n'est pas installé sur ce serveur : SmolLM2-135M-Instruct le remplace",
            ["smollm2_135m_instruct"],
            True,
        ),
        (
            {"IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": "/nowhere/smollm2"},
            "en",
            "The chat model is not installed on this server: the chat is off, the rest works.",
            ["gemma3_270m"],
            False,
        ),
        (
            {"IAGEN_MODEL_GEMMA3_270M": "/nowhere/gemma", "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": "/nowhere/smollm2"},
            "fr",
            "Les modèles de langage ne sont pas installés sur ce serveur : cet onglet ne peut rien calculer.",
            [],
            False,
        ),
    ],
    ids=["all-here", "no-completion-model", "no-chat-model", "none"],
)
def test_the_page_says_at_load_what_this_server_lacks(
    snapshots, tmp_path, missing, language, sentence, offered, chat_works
):
    hub = Hub(tiny_model_settings(tmp_path, **missing))
    panels = first_values_of_the_tab(hub)
    notice = panels["notice"]
    assert notice.visible == bool(sentence)
    shown = in_language(hub, notice.value, language)
    assert sentence in html.unescape(shown) and (sentence == "") == (shown == "")
    assert "nowhere" not in shown and "not-in-the-cache" not in shown and "IAGEN" not in shown
    dropdown = panels["settings"].model
    assert {key for _, key in dropdown.choices} == {"gemma3_270m", "smollm2_135m_instruct"}  # what the API accepts
    assert dropdown.value == (offered[-1] if len(offered) == 1 else "gemma3_270m")
    next_token, compare, generation = panels["next_token"], panels["compare"], panels["generation"]
    view_buttons = [next_token.show, next_token.draw, next_token.undo, compare.button, generation.button]
    assert all(button.interactive == bool(offered) for button in view_buttons)
    assert panels["chat"].send.interactive == chat_works


def test_the_page_shows_its_example_texts_in_its_language(hub):
    panels = first_values_of_the_tab(hub)
    next_token, compare = panels["next_token"], panels["compare"]
    texts = [next_token.prompt.value, compare.first.value, compare.second.value]
    assert [in_language(hub, text, "en") for text in texts] == [
        "The cat is sitting on the",
        "The doctor said that",
        "The nurse said that",
    ]
    assert in_language(hub, compare.first.value, "fr") == "Le médecin a dit qu'"
    assert in_language(hub, panels["generation"].prompt.value, "en").startswith("Once upon a time")
    assert in_language(hub, panels["chat"].system_prompt.value, "en").startswith("You are")
    assert "Tap “📊 Probabilities”" in in_language(hub, next_token.chart.value, "en")


def first_values_of_the_tab(hub) -> dict:
    """The tab's components as the page holds them once the hub has started (Handlers.first_values)."""
    from types import SimpleNamespace

    from spaces.sampling.handlers import Handlers
    from spaces.sampling.models import TabModels

    buttons = {name: gr.Button() for name in ("show", "draw", "undo", "compare", "generate", "send")}
    panels = {
        "notice": gr.HTML(visible=False),
        "settings": SimpleNamespace(model=gr.Dropdown(["gemma3_270m", "smollm2_135m_instruct"])),
        "next_token": SimpleNamespace(
            show=buttons["show"], draw=buttons["draw"], undo=buttons["undo"], prompt=gr.Textbox(), chart=gr.HTML()
        ),
        "compare": SimpleNamespace(button=buttons["compare"], first=gr.Textbox(), second=gr.Textbox()),
        "generation": SimpleNamespace(button=buttons["generate"], prompt=gr.Textbox()),
        "chat": SimpleNamespace(
            send=buttons["send"], system_prompt=gr.Textbox(), conversation=gr.Chatbot(), fallback=gr.HTML(visible=False)
        ),
    }
    Handlers(hub, TabModels(hub)).first_values(**panels)
    return panels


def in_language(hub, value, language: str) -> str:
    """A value of the page as a browser in `language` shows it: a text to translate (the tab's own,
    or one the hub computed at start) in that language; anything else as it is."""
    from spaces.sampling.texts import TEXTS

    match = re.fullmatch(r'__i18n__\{"__type__": "translation_metadata", "key": "(\w+)"\}', str(value or ""))
    if match is None:
        return value or ""
    key = match.group(1)
    if key in TEXTS:
        return TEXTS.get(key, language)
    return hub.page_texts.by_language[language][key]


# --- scores kept, passes batched -----------------------------------------------------------------------


@pytest.fixture
def passes(hub):
    """Counts the batched forward passes of the hub's completion model (its one copy in the model
    cache): each run of its output layer, with its input's shape (rows first)."""
    from spaces.sampling.models import language_model

    model = language_model(hub, "gemma3_270m").model
    calls = []
    handle = model.get_output_embeddings().register_forward_pre_hook(lambda module, args: calls.append(args[0].shape))
    yield calls
    handle.remove()


def test_slider_moves_undo_and_a_second_student_reuse_the_scores(hub_url, passes):
    student, neighbour = Client(hub_url, verbose=False), Client(hub_url, verbose=False)
    prompt = "Une phrase que personne d'autre n'a écrite :"
    next_token(student, prompt=prompt)
    assert len(passes) == 1
    for filters in ((0.0, 0, 1.0, 0.0, 1.0), (1.7, 40, 0.5, 0.1, 1.5), FILTERS):  # slider moves
        next_token(student, prompt=prompt, filters=filters)
    next_token(neighbour, prompt=prompt)  # another phone, the same prompt
    assert len(passes) == 1
    drawn = draw(student, seed=3, prompt=prompt)  # draws from the kept scores, then shows what follows
    assert len(passes) == 2 and len(appended(drawn)) == 1
    undone = student.predict("gemma3_270m", prompt, *FILTERS, TOP_N, api_name="/undo_token")
    assert appended(undone) == [] and len(passes) == 2  # back to a context already seen
    assert undone[4]["candidates"] == next_token(student, prompt=prompt)[4]["candidates"]


def test_compare_prompts_shows_both_distributions_from_one_batched_pass(client, passes):
    view, data, status = client.predict(
        "gemma3_270m", "Le médecin a dit que", "L'infirmière a dit que", api_name="/compare_prompts"
    )
    assert len(passes) == 1 and passes[0][0] == 2  # one pass, two rows
    assert data["prompts"] == ["Le médecin a dit que", "L'infirmière a dit que"]
    assert 8 <= len(data["tokens"]) <= 16 and all(len(token["probabilities"]) == 2 for token in data["tokens"])
    best = [max(token["probabilities"]) for token in data["tokens"]]
    assert best == sorted(best, reverse=True)
    assert "Le médecin a dit que…" in view and view.count('class="track"') == 2 * len(data["tokens"])
    assert "notice" not in status
    # Said to a screen reader (the status is a live region): the likeliest token after each prompt.
    assert status.count("le token le plus probable") == 2 and "Après « L'infirmière a dit que »" in html.unescape(
        status
    )
    again = client.predict("gemma3_270m", "Le médecin a dit que", "L'infirmière a dit que", api_name="/compare_prompts")
    assert again[1] == data and len(passes) == 1  # kept


def test_compare_prompts_asks_for_two_texts(client):
    _, data, status = client.predict("gemma3_270m", "Le médecin a dit que", " ", api_name="/compare_prompts")
    assert data["tokens"] == [] and "Tapez un début de texte" in status


def test_the_context_cap_is_a_setting_with_a_message(snapshots, tmp_path):
    settings = tiny_model_settings(tmp_path, IAGEN_LM_CONTEXT_TOKENS="16")
    with hub_in_process(Hub(settings), {"sampling": "spaces.sampling.ui"}) as url:
        client = Client(url, verbose=False)
        status = next_token(client, prompt="La carte n'est pas le territoire. " * 10)[5]
        assert "le modèle n'en lit que les 16 derniers tokens" in html.unescape(status)


def test_the_chat_has_its_own_answer_length(client):
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/chat"]["parameters"]
    length = parameters[3]
    assert length["label"]["key"] == "sampling_chat_length" and length["parameter_default"] == 200


# --- the shared cache --------------------------------------------------------------------------------


def test_the_tokenizer_tab_and_this_one_share_one_tokenizer(hub):
    from shared.language_models import shared_tokenizer
    from spaces.sampling.models import language_model

    assert language_model(hub, "gemma3_270m").tokenizer is shared_tokenizer(hub, "gemma3_270m")
    keys = {status.key for status in hub.models.statuses()}
    assert {"gemma3_270m:tokenizer", "gemma3_270m:model"} <= keys


def test_a_first_load_tells_the_waiting_user_what_it_does_in_words(hub, monkeypatch):
    """While a model's first load runs (here held for a moment), the user's progress reads what
    shared.language_models says the load is doing, in the page's language."""
    from spaces.sampling import models as tab_models

    models = tab_models.TabModels(hub)
    really_open = models._open

    def slow_open(key):
        time.sleep(1.2)
        return really_open(key)

    monkeypatch.setattr(models, "_open", slow_open)
    monkeypatch.setattr(models, "loaded", lambda key: False)
    monkeypatch.setattr(tab_models, "load_phase", lambda hub, key: "converting")
    said = []
    lm = models.get("gemma3_270m", progress=lambda value, desc: said.append(desc), language="fr")
    assert lm.vocabulary_size > 0
    assert said and set(said) == {
        "Préparation de gemma-3-270m : conversion de son fichier compressé (une seule fois, environ une minute)…"
    }


def test_a_line_break_drawn_or_chosen_shows_as_an_arrow_before_it_breaks_the_line():
    from types import SimpleNamespace

    from tiny_models import gpt2_tokenizer

    from spaces.sampling import logic, render

    tokenizer = gpt2_tokenizer()
    lm = SimpleNamespace(tokenizer=tokenizer)
    steps = logic.Steps("Le chat", seed=1)
    for token_id, drawn in ((tokenizer.encode("\n")[0], True), (tokenizer.encode(" Il")[0], False)):
        steps = steps.appended(token_id, drawn=drawn, rng_state=None)
    shown = render.steps_text_html(lm, steps, "fr")
    assert '<span class="drawn">↵\n</span><span class="chosen"> Il</span>' in shown


def test_a_generated_tokens_probability_is_said_in_text_and_the_text_is_one_tab_stop():
    """Not by colour alone (RGAA 3.1): each token says its probability; only the first token is a
    tab stop (the arrow keys go on, styles.TAB_SCRIPT)."""
    from types import SimpleNamespace

    from spaces.sampling import render

    token = SimpleNamespace(text=" chat", probability=0.42, alternatives=[(" chat", 0.42)], finish=None)
    first, later = render.generated_token_html(token, "fr", first=True), render.generated_token_html(token, "en")
    assert 'tabindex="0"' in first and 'tabindex="-1"' in later
    assert '<span class="hub-spoken"> (probabilité 42,0 %)</span>' in first
    assert "(probability 42.0 %)" in later


def test_a_streams_progress_is_kept_from_the_live_region_and_its_last_line_is_said():
    from spaces.sampling import render

    assert '<p aria-hidden="true">12 tokens…</p>' in render.status_html(["12 tokens…"], streaming=True)
    assert "<p>40 tokens en 2 s</p>" in render.status_html(["40 tokens en 2 s"])
    assert '<p class="hub-spoken">résumé</p>' in render.status_html([], spoken="résumé")
