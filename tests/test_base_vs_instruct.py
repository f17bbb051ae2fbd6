"""« De GPT-3 à ChatGPT »: the base model beside its instruct version. The pair's choice, what each
model reads, the draws, and the /base_vs_instruct endpoint through gradio_client in both languages,
with bad input; the Qwen3 models are test_french_assistant's tiny ones in the fake hub cache."""

import pytest
import torch
from hub_server import hub_in_process
from test_french_assistant import make_hub, remove_qwen3_models, seed_qwen3_models

from spaces.assistant import logic

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    seed_qwen3_models()
    yield make_hub(tmp_path_factory.mktemp("base-vs-instruct-cache"))
    remove_qwen3_models()


def test_the_base_beside_instruct_pair_is_one_network_from_the_hub_else_two_from_the_packs():
    everything = logic.best_pair(lambda key: True)
    assert everything == logic.HUB_PAIR and everything.same_network
    packs_only = logic.best_pair(lambda key: key in ("gemma3_270m", "smollm2_135m_instruct"))
    assert packs_only == logic.OFFLINE_PAIR and not packs_only.same_network
    assert logic.best_pair(lambda key: False) is None


def test_the_instruct_model_reads_a_user_turn_with_thinking_off_the_base_model_the_text_itself(hub):
    from shared.language_models import load_tokenizer

    instruct = load_tokenizer(hub, "qwen3_0_6b")
    text = instruct.decode(logic.instruct_prompt_ids(instruct, "Bonjour !"))
    assert text == "<|im_start|>user\nBonjour !<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    base = load_tokenizer(hub, "qwen3_0_6b_base")
    assert base.decode(logic.base_prompt_ids(base, "Bonjour !")) == "Bonjour !"


# --- base beside instruct: its logic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "max_new_tokens", "seed", "key"),
    [
        ("", 10, 1, "assistant_empty_prompt"),
        ("   \n", 10, 1, "assistant_empty_prompt"),
        ("x" * 20_000, 10, 1, "assistant_long_prompt"),
        ("Bonjour", 0, 1, "assistant_out_of_range"),
        ("Bonjour", 201, 1, "assistant_out_of_range"),
        ("Bonjour", 2.5, 1, "assistant_out_of_range"),
        ("Bonjour", "douze", 1, "assistant_not_a_number"),
        ("Bonjour", 10, None, "assistant_not_a_number"),
        ("Bonjour", 10, -1, "assistant_out_of_range"),
        ("Bonjour", float("nan"), 1, "assistant_out_of_range"),
    ],
)
def test_bad_input_is_refused_with_the_reason(prompt, max_new_tokens, seed, key):
    with pytest.raises(logic.BadInput) as refused:
        logic.checked_request(prompt, max_new_tokens, seed)
    assert refused.value.key == key


def test_a_prompt_in_any_script_is_accepted():
    prompt = "Bonjour — 你好 — مرحبا — Привет — 🙂"
    assert logic.checked_request(prompt, "12", 7.0) == (prompt, 12, 7)


class Letters:
    """A tokenizer of one letter per id."""

    def decode(self, ids, skip_special_tokens=False):
        return "".join("abcdefgh"[i] for i in ids)


def test_a_reply_draws_the_same_tokens_for_the_same_seed_and_ends_at_its_end_token():
    scores = torch.tensor([0.0, 3.0, 2.9, 2.8, -5.0, -5.0, -5.0, -5.0])

    def reply(seed, end_ids=frozenset(), steps=6):
        step = logic.ReplySteps(Letters(), end_ids, steps, seed)
        return [(token, text, last) for token, (text, _), last in (step(scores) for _ in range(steps))]

    assert reply(1) == reply(1) and reply(1) != reply(2)
    assert {token for token, _, _ in reply(1)} <= {1, 2, 3}  # top-p 0.8 keeps the three likeliest
    assert reply(1)[-1][2] and not any(last for _, _, last in reply(1)[:-1])
    first = reply(1)[0][0]
    ended = logic.ReplySteps(Letters(), frozenset({first}), 6, 1)
    token, (text, cpu_seconds), last = ended(scores)
    assert (token, text, last) == (first, "", True) and cpu_seconds >= 0  # the end token adds no text


def test_two_replies_advance_in_turn_until_both_are_done():
    replies = logic.side_by_side(
        [logic.measured_reply(iter([("a", 0.1), ("ab", 0.3)])), logic.measured_reply(iter([("x", 0.2)]))]
    )
    states = [tuple((reply.text, reply.done) for reply in state) for state in replies]
    assert states[0] == (("a", False), ("x", False))
    assert states[-1] == (("ab", True), ("x", True))
    costs = [
        (state[0].cost.tokens, state[0].cost.cpu_seconds)
        for state in logic.side_by_side([logic.measured_reply(iter([("a", 0.1), ("ab", 0.3)]))])
    ]
    assert costs == [(1, 0.1), (2, 0.3), (2, 0.3)]  # the last state only says it is done


# --- base beside instruct: the endpoint -------------------------------------------------------------


@pytest.fixture(scope="module")
def hub_url(hub):
    with hub_in_process(hub, {"assistant": "spaces.assistant.ui"}) as url:
        yield url


ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def test_base_vs_instruct_streams_both_replies_names_both_models_and_says_their_cost(hub_url):
    job = Client(hub_url, verbose=False).submit(
        "Quelle est la capitale de la France ?", 12, 3, api_name="/base_vs_instruct"
    )
    final = job.result()
    updates = job.outputs()
    base_text, instruct_text, base_name, instruct_name, cost, status = final
    assert len(updates) > 3  # both texts grew token by token
    assert base_name == "Qwen3-0.6B-Base — modèle de base : il continue le texte"
    assert instruct_name == "Qwen3-0.6B — le même réseau, entraîné à répondre"
    # Once ended, each reply's cost line (shared/reply_cost.py) under its model's name.
    assert "<strong>Qwen3-0.6B-Base</strong>" in cost and "<strong>Qwen3-0.6B</strong>" in cost
    assert cost.count('class="reply-cost"') == 2
    assert "s de calcul" in cost and "Wh" in cost and "CO2e" in cost and "le même texte par" in cost
    assert any("s de calcul (CPU)" in update[4] for update in updates)  # while written: tokens and seconds
    assert "Les deux réponses sont terminées." in status
    again = Client(hub_url, verbose=False).predict(
        "Quelle est la capitale de la France ?", 12, 3, api_name="/base_vs_instruct"
    )
    assert again[:2] == (base_text, instruct_text)  # the same seed draws the same replies


def test_base_vs_instruct_answers_in_english_for_an_english_page(hub_url):
    result = Client(hub_url, verbose=False, headers=ENGLISH).predict(
        "Hello 你好 🙂", 4, 1, api_name="/base_vs_instruct"
    )
    assert result[2] == "Qwen3-0.6B-Base — base model: it continues the text"
    assert "the same text by" in result[4] and "Both replies are finished." in result[5]


@pytest.mark.parametrize(
    ("prompt", "max_new_tokens", "french", "english"),
    [
        ("", 8, "Tapez une demande.", "Type a request."),
        ("x" * 20_000, 8, "20\u202f000 caractères, au plus 2\u202f000", "20,000 characters, at most 2,000"),
        ("Bonjour", 5000, "un nombre entier de 1 à 200", "a whole number from 1 to 200"),
    ],
)
def test_bad_input_gets_a_sentence_in_the_pages_language_and_no_reply(hub_url, prompt, max_new_tokens, french, english):
    for headers, expected in (({}, french), (ENGLISH, english)):
        result = Client(hub_url, verbose=False, headers=headers).predict(
            prompt, max_new_tokens, 1, api_name="/base_vs_instruct"
        )
        assert expected in result[5]
        unchanged = {"__type__": "update"}  # gr.skip(): the page keeps the last replies
        assert result[0] == unchanged and result[1] == unchanged
