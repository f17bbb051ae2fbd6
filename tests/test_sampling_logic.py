"""The sampling playground's logic on tiny random models of the real architectures: Llama
(SmolLM2's) and Gemma 3 (Gemma 3 270M's, with its sliding-window layers), with GPT-2's tokenizer.
One test reads the packaged Gemma 3 270M when a converted copy is already in the default cache."""

import math
from types import SimpleNamespace

import pytest
import torch
from tiny_models import gpt2_tokenizer, tiny_gemma3

from spaces.sampling import logic
from spaces.sampling.logic import SamplingSettings
from spaces.sampling.options import FRENCH_PROMPT

torch.set_num_threads(1)

# {% generation %}-free ChatML, SmolLM2's template in substance.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)


def tiny_tokenizer():
    tokenizer = gpt2_tokenizer()
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def tiny_llama(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=128,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def save_tiny(make_model):
    """A saver for seed_hub_cache / a local folder: the tiny model and its tokenizer."""

    def save(folder):
        tokenizer = tiny_tokenizer()
        make_model(tokenizer).save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    return save


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module", params=["llama", "gemma3"])
def lm(request, tokenizer):
    make = {"llama": tiny_llama, "gemma3": tiny_gemma3}[request.param]
    return logic.LanguageModel(make(tokenizer), tokenizer)


def context(lm, text="Le chat est assis sur le"):
    return logic.fit_context(lm, logic.encode(lm, text))


def generated_ids(lm, settings, seed, max_new_tokens=12, text="Le chat est assis sur le", stop_sequences=()):
    return [
        token.token_id
        for token in logic.generate(lm, context(lm, text), settings, max_new_tokens, seed, stop_sequences)
    ]


# --- stages ------------------------------------------------------------------------------------


def test_stages_come_in_generates_order_and_each_keeps_fewer_tokens(lm):
    settings = SamplingSettings(temperature=1.5, top_k=40, top_p=0.5, min_p=0.2, repetition_penalty=1.3)
    result = logic.next_token_stages(lm, context(lm), settings, top_n=50)
    assert [stage.name for stage in result.stages] == list(logic.STAGES)
    assert all(stage.active for stage in result.stages)
    kept = [stage.kept for stage in result.stages]
    assert kept[:3] == [lm.vocabulary_size] * 3  # penalty and temperature reshape, remove nothing
    assert kept[3] == 40
    assert kept[3] >= kept[4] >= kept[5] >= 1
    for candidate in result.candidates:  # once removed, a token stays removed
        removed_at = [index for index, probability in enumerate(candidate.probabilities) if probability == 0]
        assert removed_at == list(range(removed_at[0], len(logic.STAGES))) if removed_at else True
    final = [candidate.probabilities[-1] for candidate in result.candidates]
    assert sum(final) == pytest.approx(1, abs=1e-5)  # every kept token is among the top 50
    assert sum(candidate.kept for candidate in result.candidates) == kept[-1]
    assert result.stages[0].entropy_bits > result.stages[-1].entropy_bits >= 0


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.1),
        SamplingSettings(temperature=1.3, top_p=0.7),  # top-p on the whole vocabulary
        SamplingSettings(temperature=0, top_k=5),  # greedy: one token left
        SamplingSettings(min_p=0.1),
    ],
)
def test_each_stages_figures_are_those_of_its_whole_distribution(lm, settings):
    """The view works on the tokens a stage leaves possible: the figures are those of the stage's
    scores over the whole vocabulary (softmax, -sum p log p, finite scores)."""
    result = logic.next_token_stages(lm, context(lm), settings, top_n=50)
    input_ids = torch.tensor([list(context(lm).ids)])
    scores = lm.passes.scores([context(lm).ids])[0][None]
    whole = [scores]
    for _, processor in logic.stage_processors(settings):
        whole.append(processor(input_ids, whole[-1]) if processor is not None else whole[-1])
    for stage, stage_scores in zip(result.stages, whole, strict=True):
        distribution = stage_scores.double().softmax(dim=-1)[0]
        assert stage.kept == int(torch.isfinite(stage_scores).sum())
        entropy = float(torch.special.entr(distribution).sum()) / math.log(2)
        assert stage.entropy_bits == pytest.approx(entropy, abs=1e-7)
    for candidate in result.candidates:
        expected = [float(stage_scores.double().softmax(dim=-1)[0, candidate.token_id]) for stage_scores in whole]
        assert candidate.probabilities == pytest.approx(expected, abs=1e-6)
    assert torch.equal(result.scores, whole[-1])


def test_the_stages_are_transformers_own_processors_in_generates_order(lm):
    from transformers import GenerationConfig

    settings = SamplingSettings(temperature=0.7, top_k=30, top_p=0.8, min_p=0.05, repetition_penalty=1.2)
    generation_config = GenerationConfig(
        do_sample=True, temperature=0.7, top_k=30, top_p=0.8, min_p=0.05, repetition_penalty=1.2
    )
    theirs = lm.model._get_logits_processor(generation_config, input_ids_seq_length=6)
    ours = logic.logits_processors(settings)
    assert len(ours) == len(theirs)  # top-p is their class with a faster selection (FastTopP): the same rule
    assert all(isinstance(mine, type(their)) for mine, their in zip(ours, theirs, strict=True))


def test_neutral_settings_switch_every_stage_off(lm):
    result = logic.next_token_stages(lm, context(lm), SamplingSettings(), top_n=5)
    assert [stage.active for stage in result.stages] == [True] + [False] * 5
    assert [stage.kept for stage in result.stages] == [lm.vocabulary_size] * 6
    for candidate in result.candidates:
        assert len(set(candidate.probabilities)) == 1
    raw = [candidate.probabilities[0] for candidate in result.candidates]
    assert raw == sorted(raw, reverse=True)


def test_temperature_zero_is_greedy(lm):
    greedy = SamplingSettings(temperature=0)
    result = logic.next_token_stages(lm, context(lm), greedy, top_n=3)
    assert [stage.kept for stage in result.stages[2:]] == [1, 1, 1, 1]
    assert result.candidates[0].probabilities[2:] == (1.0,) * 4
    assert generated_ids(lm, greedy, seed=1) == generated_ids(lm, greedy, seed=2)  # no draw at all
    input_ids = torch.tensor([list(context(lm).ids)])
    expected = lm.model.generate(
        input_ids,
        attention_mask=torch.ones_like(input_ids),
        do_sample=False,
        max_new_tokens=12,
        eos_token_id=sorted(lm.end_token_ids),
        pad_token_id=0,
    )
    assert generated_ids(lm, greedy, seed=1) == expected[0, input_ids.shape[1] :].tolist()


# --- top-p without the full sort --------------------------------------------------------------------


def transformers_top_p(top_p: float, scores: torch.Tensor) -> torch.Tensor:
    from transformers import TopPLogitsWarper

    return TopPLogitsWarper(top_p)(None, scores)


def random_scores(seed: int, vocabulary: int = 50_000, spread: float = 3.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, vocabulary, generator=generator) * spread


@pytest.mark.parametrize("top_p", [0.0, 0.05, 0.5, 0.9, 0.95, 0.999])
@pytest.mark.parametrize("spread", [0.3, 1.0, 3.0, 8.0], ids=["flat", "wide", "peaked", "sharp"])
def test_fast_top_p_keeps_exactly_what_transformers_keeps(top_p, spread):
    from transformers import TopKLogitsWarper

    for seed in range(5):
        scores = random_scores(seed, spread=spread)
        assert torch.equal(logic.FastTopP(top_p)(None, scores), transformers_top_p(top_p, scores))
        after_top_k = TopKLogitsWarper(40)(None, scores)  # most scores -inf, as in the default chain
        assert torch.equal(logic.FastTopP(top_p)(None, after_top_k), transformers_top_p(top_p, after_top_k))


def test_fast_top_p_needs_no_sort_when_a_partial_selection_holds_the_nucleus(monkeypatch):
    from transformers import TopPLogitsWarper

    scores = random_scores(0, vocabulary=262_144, spread=4.0)  # Gemma's vocabulary
    expected = transformers_top_p(0.9, scores)

    def no_sort(*args, **kwargs):
        raise AssertionError("the full sort ran")

    monkeypatch.setattr(TopPLogitsWarper, "__call__", no_sort)
    monkeypatch.setattr(torch, "sort", no_sort)
    assert torch.equal(logic.FastTopP(0.9)(None, scores), expected)
    assert logic.FastTopP(0.9).kept_tokens(scores[0]).numel() == int(torch.isfinite(expected).sum())


def test_fast_top_p_leaves_close_calls_and_ties_to_the_full_sort():
    # Probabilities 0.5, 0.3, 0.2: with top-p 0.8 the third token sits exactly on the threshold.
    on_threshold = torch.tensor([[0.5, 0.3, 0.2]]).log()
    assert logic.FastTopP(0.8).kept_tokens(on_threshold[0]) is None
    assert torch.equal(logic.FastTopP(0.8)(None, on_threshold), transformers_top_p(0.8, on_threshold))
    # Probabilities 0.78, 0.11, 0.11, 0.01: top-p 0.85 keeps one of the two equal tokens, which one
    # is transformers' sort's choice.
    tie = torch.tensor([[3.0, 1.0, 1.0, -2.0]])
    assert logic.FastTopP(0.85).kept_tokens(tie[0]) is None
    assert torch.equal(logic.FastTopP(0.85)(None, tie), transformers_top_p(0.85, tie))
    assert logic.FastTopP(0.95).kept_tokens(tie[0]).tolist() == [0, 1, 2]  # both kept: no doubt
    # A nucleus wider than the biggest partial selection: the full sort too.
    flat = torch.zeros(1, 50_000)
    assert logic.FastTopP(0.9).kept_tokens(flat[0]) is None


# --- generation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(),
        SamplingSettings(temperature=0.8, top_k=50),
        SamplingSettings(temperature=1.3, top_p=0.9, min_p=0.02, repetition_penalty=1.3),
        SamplingSettings(temperature=0, repetition_penalty=1.5),
    ],
    ids=["plain", "top-k", "top-p-min-p-penalty", "greedy-penalty"],
)
def test_same_tokens_as_transformers_generate_with_the_same_settings_and_seed(lm, settings):
    input_ids = torch.tensor([list(context(lm).ids)])
    torch.manual_seed(1234)
    expected = lm.model.generate(
        input_ids,
        attention_mask=torch.ones_like(input_ids),
        max_new_tokens=20,
        do_sample=not settings.greedy,
        temperature=settings.temperature or None,
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        repetition_penalty=settings.repetition_penalty,
        eos_token_id=sorted(lm.end_token_ids),
        pad_token_id=0,
    )
    torch.manual_seed(999)  # ours must not read torch's global generator
    assert generated_ids(lm, settings, seed=1234, max_new_tokens=20) == expected[0, input_ids.shape[1] :].tolist()


def test_a_seed_makes_generation_reproducible(lm):
    settings = SamplingSettings(temperature=1.2)
    assert generated_ids(lm, settings, seed=7) == generated_ids(lm, settings, seed=7)
    assert generated_ids(lm, settings, seed=7) != generated_ids(lm, settings, seed=8)


def test_generated_tokens_carry_their_probability_and_alternatives(lm):
    tokens = list(logic.generate(lm, context(lm), SamplingSettings(temperature=0), 5, seed=0))
    assert len(tokens) == 5 and tokens[-1].finish == "length"
    assert all(token.finish is None for token in tokens[:-1])
    for token in tokens:
        assert len(token.alternatives) == logic.ALTERNATIVES_SHOWN
        assert token.probability == pytest.approx(token.alternatives[0][1])  # greedy: the model's favourite
    assert "".join(token.text for token in tokens) == lm.tokenizer.decode([token.token_id for token in tokens])


def test_a_stop_sequence_cuts_the_text_just_before_it(lm):
    greedy = SamplingSettings(temperature=0)
    full = "".join(token.text for token in logic.generate(lm, context(lm), greedy, 12, seed=0))
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    tokens = list(logic.generate(lm, context(lm), greedy, 12, seed=0, stop_sequences=["@@never@@", stop]))
    assert tokens[-1].finish == "stop_sequence"
    assert "".join(token.text for token in tokens) == full[: full.index(stop)]


def test_generation_stops_at_the_end_of_text_token(tokenizer):
    model = tiny_llama(tokenizer)
    lm = logic.LanguageModel(model, tokenizer)
    favourite = generated_ids(lm, SamplingSettings(temperature=0), seed=0, max_new_tokens=1)[0]
    model.generation_config.eos_token_id = favourite  # the model's first greedy token now ends the text
    tokens = list(logic.generate(lm, context(lm), SamplingSettings(temperature=0), 10, seed=0))
    assert [(token.token_id, token.text, token.finish) for token in tokens] == [(favourite, "", "end_of_text")]


@pytest.mark.parametrize(
    ("text", "stops", "since", "expected"),
    [
        ("abc. def", ["."], 0, 3),
        ("abc. def", [".", "c"], 0, 2),
        ("abc. def", ["."], 4, None),  # already checked up to 4: a match must end after it
        ("abc. def", [" d"], 4, 4),  # starts before `since`, ends after: found
        ("abc", [""], 0, None),
    ],
)
def test_first_stop(text, stops, since, expected):
    assert logic.first_stop(text, stops, since) == expected


def test_stop_sequences_one_per_line_with_escaped_line_breaks():
    assert logic.parse_stop_sequences("\\n\n.\n\n###") == ("\n", ".", "###")
    assert logic.parse_stop_sequences("") == ()


# --- step by step ----------------------------------------------------------------------------------


def test_drawing_step_by_step_gives_what_generate_gives_with_the_same_seed(lm):
    settings = SamplingSettings(temperature=1.1, top_p=0.95)
    steps = logic.Steps("Le chat est assis sur le", seed=5)
    for _ in range(6):
        steps = logic.draw_step(lm, steps, settings)
    assert list(steps.token_ids) == generated_ids(lm, settings, seed=5, max_new_tokens=6)
    assert steps.drawn == (True,) * 6


def test_undo_goes_back_and_the_same_draw_comes_again(lm):
    settings = SamplingSettings(temperature=1.5)
    steps = logic.draw_step(lm, logic.Steps("Bonjour", seed=3), settings)
    after_two = logic.draw_step(lm, steps, settings)
    back = after_two.undone()
    assert back.token_ids == steps.token_ids
    assert logic.draw_step(lm, back, settings).token_ids == after_two.token_ids
    assert logic.Steps("Bonjour", 3).undone() == logic.Steps("Bonjour", 3)  # nothing to undo


def test_choosing_a_token_appends_it_without_moving_the_generator(lm):
    settings = SamplingSettings(temperature=1.5)
    start = logic.draw_step(lm, logic.Steps("Bonjour", seed=3), settings)
    chosen = logic.choose_step(start, 42)
    assert chosen.token_ids[-1] == 42 and chosen.drawn[-1] is False
    assert torch.equal(chosen.rng_state, start.rng_state)
    assert chosen.undone().token_ids == start.token_ids


def test_reseeding_changes_the_next_draws_only():
    steps = logic.Steps("x", seed=1)
    assert steps.reseeded(1) is steps
    assert steps.reseeded(2).seed == 2 and steps.reseeded(2).rng_state is None


# --- bad input ---------------------------------------------------------------------------------------


def test_out_of_range_settings_are_clamped_and_reported():
    settings, adjustments = logic.checked_settings(5, -3, 1.5, -0.1, 0.5, vocabulary_size=1000)
    assert settings == SamplingSettings(temperature=2.0, top_k=0, top_p=1.0, min_p=0.0, repetition_penalty=1.0)
    assert [(a.setting, a.given, a.used) for a in adjustments] == [
        ("temperature", 5, 2.0),
        ("top_k", -3, 0),
        ("top_p", 1.5, 1.0),
        ("min_p", -0.1, 0.0),
        ("repetition_penalty", 0.5, 1.0),
    ]
    settings, adjustments = logic.checked_settings(None, 10**9, float("nan"), None, None, vocabulary_size=1000)
    assert settings == SamplingSettings(top_k=1000) and [a.setting for a in adjustments] == ["top_k"]
    assert logic.checked_settings(0.7, 40, 0.9, 0.05, 1.1, 1000) == (SamplingSettings(0.7, 40, 0.9, 0.05, 1.1), [])


def test_a_long_prompt_loses_its_start_and_keeps_the_beginning_of_text_token():
    lm = SimpleNamespace(context_limit=10, tokenizer=SimpleNamespace(bos_token_id=2))
    assert logic.fit_context(lm, [2, *range(100, 120)]) == logic.Context((2, *range(111, 120)), dropped_tokens=11)
    assert logic.fit_context(lm, range(100, 120), room_for_new_tokens=4) == logic.Context(tuple(range(114, 120)), 14)
    assert logic.fit_context(lm, [2, 5, 6]) == logic.Context((2, 5, 6))


def test_the_context_limit_comes_from_the_model(lm):
    assert lm.context_limit == 128  # the tiny models' max_position_embeddings, under MAX_CONTEXT_TOKENS
    long_text = "La carte n'est pas le territoire. " * 40
    fitted = logic.fit_context(lm, logic.encode(lm, long_text), room_for_new_tokens=8)
    assert len(fitted.ids) == 120 and fitted.dropped_tokens == len(logic.encode(lm, long_text)) - 120
    assert logic.next_token_stages(lm, fitted, SamplingSettings(), top_n=3).candidates


def test_a_huge_text_is_cut_before_it_is_tokenized(lm, monkeypatch):
    seen = []
    tokenize = lm.tokenizer.__call__
    monkeypatch.setattr(type(lm.tokenizer), "__call__", lambda self, text, **kw: seen.append(text) or tokenize(text))
    book = "La carte n'est pas le territoire. " * 20_000  # ~680 000 characters
    context = logic.text_context(lm, book)
    assert len(seen[-1]) <= lm.context_limit * logic.MAX_CHARACTERS_PER_TOKEN and book.endswith(seen[-1])
    assert seen[-1].startswith("carte") or seen[-1].startswith("La") or seen[-1][0] != " "  # starts at a word
    assert context.truncated and len(context.ids) == lm.context_limit and context.dropped_characters > 600_000
    short = logic.text_context(lm, "Bonjour")
    assert not short.truncated and short.ids == logic.encode(lm, "Bonjour")


def test_the_context_limit_is_a_setting(tokenizer):
    lm = logic.LanguageModel(tiny_llama(tokenizer), tokenizer, context_tokens=16)
    assert lm.context_limit == 16  # under the model's own 128
    context = logic.text_context(lm, "La carte n'est pas le territoire. " * 5, room_for_new_tokens=4)
    assert len(context.ids) == 12 and context.truncated


def test_a_chat_answer_ends_at_the_end_of_the_assistants_turn():
    tokenizer = tiny_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_end|>"]})
    lm = logic.LanguageModel(tiny_llama(tokenizer), tokenizer)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert lm.end_of_turn_ids == lm.end_token_ids | {end_of_turn}  # ChatML's end of turn, beside the end of text
    context = logic.fit_context(lm, logic.chat_ids(lm, "", [{"role": "user", "content": "Bonjour"}]))
    greedy = SamplingSettings(temperature=0)
    ids = [token.token_id for token in logic.generate(lm, context, greedy, 6, seed=0)]
    ending = ids.index(ids[1])  # as if the model's turn ended with its second token
    answer = list(logic.generate(lm, context, greedy, 6, seed=0, end_token_ids=frozenset({ids[1]})))
    assert [token.token_id for token in answer] == ids[: ending + 1]
    assert answer[-1].finish == "end_of_text" and answer[-1].text == ""


def test_a_conversation_too_long_loses_its_oldest_messages(lm):
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"Message {i} " + "blabla " * 10} for i in range(9)
    ]
    fitted, dropped = logic.fit_conversation(lm, "Tu es un assistant.", messages, room_for_new_tokens=16)
    assert dropped > 0 and len(fitted.ids) <= 128 - 16
    text = lm.tokenizer.decode(fitted.ids)
    assert text.startswith("<|im_start|>system\nTu es un assistant.") and "Message 8" in text
    assert text.endswith("<|im_start|>assistant\n")
    short, none_dropped = logic.fit_conversation(lm, "", messages[-1:], room_for_new_tokens=16)
    assert none_dropped == 0 and lm.tokenizer.decode(short.ids).startswith("<|im_start|>user\nMessage 8")


def test_emoji_and_mixed_scripts(lm):
    text = "Carte 👍🏽 日本語 مرحبا ça"
    ids = logic.encode(lm, text)
    stream = logic.TextStream(lm.tokenizer)
    pieces = [stream.add(token_id) for token_id in ids]
    assert "".join(pieces) == text
    assert "" in pieces  # the emoji's first byte tokens wait for the last one
    assert all("\ufffd" not in piece for piece in pieces)
    labels = [logic.token_label(lm.tokenizer, token_id) for token_id in ids]
    assert any(label.startswith("‹F0") for label in labels), labels  # an emoji's first bytes, in hexadecimal
    assert all("\ufffd" not in label for label in labels)
    result = logic.next_token_stages(lm, logic.fit_context(lm, ids), SamplingSettings(top_k=5), top_n=5)
    assert len(result.candidates) == 5


def test_sentencepiece_byte_tokens_are_shown_in_hexadecimal():
    tokenizer = SimpleNamespace(decode=lambda ids: "\ufffd", convert_ids_to_tokens=lambda token_id: "<0xF0>")
    assert logic.token_label(tokenizer, 7) == "‹F0›"


# --- the bias slide's pronouns ---------------------------------------------------------------------


class WordTokenizer:
    """Each word of `vocabulary` is one token (its index); any other text takes two."""

    def __init__(self, vocabulary: list[str]):
        self.vocabulary = vocabulary

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [self.vocabulary.index(text)] if text in self.vocabulary else [0, 0]


def distribution(size: int, **probabilities: float) -> torch.Tensor:
    """`probabilities` on the tokens named by index (t3=0.5), the rest spread evenly."""
    values = torch.full((size,), (1 - sum(probabilities.values())) / (size - len(probabilities)))
    for name, probability in probabilities.items():
        values[int(name[1:])] = probability
    return values


def test_the_comparison_talks_of_the_pronoun_pair_the_prompts_call_for():
    # " il"/" elle" (tokens 3, 4) follow « que »; "he"/"she" (5, 6) are likelier here; " he" is two tokens.
    lm = SimpleNamespace(tokenizer=WordTokenizer(["<pad>", "x", "y", " il", " elle", "he", "she"]))
    after = [distribution(10, t3=0.02, t4=0.01, t5=0.30, t6=0.03), distribution(10, t3=0.01, t4=0.02, t5=0.05, t6=0.20)]
    pronouns = logic.likeliest_pronouns(lm, after)
    assert pronouns.words == ("he", "she") and pronouns.token_ids == (5, 6)
    assert pronouns.odds(0) == pytest.approx(10) and pronouns.odds(1) == pytest.approx(0.25)
    # No prompt calls for a pronoun: the comparison says nothing of one.
    assert logic.likeliest_pronouns(lm, [distribution(10, t3=0.02, t4=0.02, t5=0.0, t6=0.0)]) is None


def test_the_pronouns_odds_are_said_in_words():
    from spaces.sampling import render

    pronouns = logic.Pronouns(("il", "elle"), (1, 2), ((0.75, 0.055), (0.514, 0.2347)))
    said = render.pronouns_html(pronouns, ["Le médecin a dit qu'", "L'infirmière a dit qu'"], "fr")
    assert "« il » est 13,6 fois plus probable que « elle »" in said
    assert "« il » est 2,2 fois plus probable que « elle »" in said
    assert "les chances de « elle » face à « il » sont multipliées par 6,2" in said
    english = render.pronouns_html(
        logic.Pronouns(("he", "she"), (1, 2), ((0.14, 0.05), (0.02, 0.18))), ["A", "B"], "en"
    )
    assert "“she” is 9.0 times as likely as “he”" in english and "multiplied by 25.2" in english
    assert render.pronouns_html(None, ["A", "B"], "fr") == ""


# --- the packaged models ---------------------------------------------------------------------------

PACK_PROMPTS = (
    FRENCH_PROMPT,
    "Il était une fois, dans une petite ville de montagne,",
    "Le médecin a dit que",
    "The capital of France is",
    "1, 2, 3, 4,",
)


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """Both packs converted from their GGUF into a fresh cache (about 1-2 minutes), with what
    each first load said it was doing, seen from another thread as a waiting user would."""
    import threading

    from shared.hub import Hub
    from shared.language_models import load_model, load_phase, load_tokenizer
    from shared.settings import load_settings

    hub = Hub(load_settings(["--torch-threads", "1", "--cache-dir", str(tmp_path_factory.mktemp("packs"))]))
    models, phases = {}, {}
    for key in ("gemma3_270m", "smollm2_135m_instruct"):
        seen = phases[key] = []
        loading = threading.Thread(target=lambda key=key: models.setdefault(key, load_model(hub, key)))
        loading.start()
        while loading.is_alive():
            phase = load_phase(hub, key)
            if phase and (not seen or seen[-1] != phase):
                seen.append(phase)
            loading.join(timeout=0.05)
        models[key] = logic.LanguageModel(models[key], load_tokenizer(hub, key))
    return models, phases


PACK_TIMEOUT = pytest.mark.timeout(900)  # the first of these converts both packs: 1-2 minutes, more on a busy machine


@pytest.mark.slow
@PACK_TIMEOUT
def test_packaged_gemma_predicts_lit_after_le_chat_est_assis_sur_le(packs):
    """The lecture's example on the real Gemma 3 270M (docs/models.md: " lit" 33 %), from its pack."""
    lm = packs[0]["gemma3_270m"]
    result = logic.next_token_stages(lm, context(lm, FRENCH_PROMPT), SamplingSettings(top_k=3), top_n=5)
    best = result.candidates[0]
    assert best.label == " lit" and best.probabilities[0] == pytest.approx(0.33, abs=0.02)
    assert result.stages[3].kept == 3 and result.stages[0].kept == 262_144


@pytest.mark.slow
@PACK_TIMEOUT
def test_packaged_gemma_shows_the_bias_slide_in_its_own_numbers(packs):
    """« Le médecin a dit qu' » / « L'infirmière a dit qu' »: « il » far likelier after the first;
    the odds of « elle » several times higher after the second (docs/models.md)."""
    lm = packs[0]["gemma3_270m"]
    prompts = ["Le médecin a dit qu'", "L'infirmière a dit qu'"]
    comparison = logic.compare_prompts(lm, [context(lm, prompt) for prompt in prompts])
    pronouns = comparison.pronouns
    assert pronouns.words == ("il", "elle")
    assert {token.token_id for token in comparison.tokens} >= set(pronouns.token_ids)
    assert pronouns.odds(0) > 5 and pronouns.odds(0) / pronouns.odds(1) > 3


@pytest.mark.slow
@PACK_TIMEOUT
def test_a_first_load_says_what_it_is_doing(packs):
    from shared.language_models import ASSEMBLING, CONVERTING, LOADING

    phases = packs[1]  # as seen every 50 ms: a short phase between two others may be missed
    # Gemma's pack ships its GGUF in pieces: assembled, then converted, then loaded; SmolLM2's is whole.
    for key, steps in (("gemma3_270m", [ASSEMBLING, CONVERTING]), ("smollm2_135m_instruct", [CONVERTING])):
        assert [phase for phase in phases[key] if phase != LOADING] == steps, phases
        assert phases[key][-1] == LOADING, phases  # the converted copy's load, seconds long


@pytest.mark.slow
@PACK_TIMEOUT
@pytest.mark.parametrize("key", ["gemma3_270m", "smollm2_135m_instruct"])
def test_fast_top_p_keeps_what_transformers_keeps_on_the_packs(packs, key):
    lm = packs[0][key]
    fast_path = checks = 0
    for prompt in PACK_PROMPTS:
        raw = lm.passes.scores([context(lm, prompt).ids])[0][None]
        for temperature in (0.5, 1.0, 1.5):
            scores = raw / temperature
            for top_p in (0.5, 0.8, 0.9, 0.95):
                checks += 1
                fast_path += logic.FastTopP(top_p).kept_tokens(scores[0]) is not None
                assert torch.equal(logic.FastTopP(top_p)(None, scores), transformers_top_p(top_p, scores))
    # The partial selection settles most of them; the others are flat (temperature 1.5, nuclei of
    # thousands of tokens) or on the threshold.
    assert fast_path >= 0.85 * checks, f"{fast_path} of {checks} without the full sort"


@pytest.mark.slow
@PACK_TIMEOUT
@pytest.mark.parametrize("key", ["gemma3_270m", "smollm2_135m_instruct"])
def test_generation_gives_the_tokens_of_generate_on_the_packs(packs, key):
    from shared.batching import Batcher, KeyValueCaches, ScoresCache

    direct = packs[0][key]
    batched = logic.LanguageModel(
        direct.model,
        direct.tokenizer,
        Batcher(ScoresCache(2**26), KeyValueCaches(2**26), 4).for_model(direct.model, key),
    )
    settings = SamplingSettings(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.1)
    for lm in (direct, batched):
        input_ids = torch.tensor([list(context(lm, PACK_PROMPTS[1]).ids)])
        torch.manual_seed(1234)
        expected = lm.model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=True,
            max_new_tokens=16,
            temperature=0.8,
            top_k=50,
            top_p=0.95,
            min_p=0.05,
            repetition_penalty=1.1,
            eos_token_id=sorted(lm.end_token_ids),
            pad_token_id=lm.tokenizer.pad_token_id,
        )
        ours = generated_ids(lm, settings, seed=1234, max_new_tokens=16, text=PACK_PROMPTS[1])
        assert ours == expected[0, input_ids.shape[1] :].tolist()


@pytest.mark.slow
@PACK_TIMEOUT
@pytest.mark.parametrize("key", ["gemma3_270m", "smollm2_135m_instruct"])
def test_drawing_on_kept_caches_gives_the_tokens_and_scores_of_full_passes_on_the_packs(packs, key):
    from shared.batching import Batcher, DirectPasses, KeyValueCaches, ScoresCache

    direct = packs[0][key]
    batcher = Batcher(ScoresCache(2**28), KeyValueCaches(2**28), max_rows=16)
    batched = logic.LanguageModel(direct.model, direct.tokenizer, batcher.for_model(direct.model, key))
    settings = SamplingSettings(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.1)
    steps = logic.Steps(PACK_PROMPTS[1], seed=1234)
    for _ in range(8):  # one token's pass each, on the kept cache
        steps = logic.draw_step(batched, steps, settings)
    assert batcher.rows_extended == 7
    assert list(steps.token_ids) == generated_ids(direct, settings, seed=1234, max_new_tokens=8, text=PACK_PROMPTS[1])
    # A room's texts, one token more each at once: one joined pass, the scores of full passes.
    texts = [context(direct, prompt).ids for prompt in PACK_PROMPTS if prompt != PACK_PROMPTS[1]]  # its cache moved on
    batcher.scores(direct.model, key, texts)
    longer = [ids + (ids[-1],) for ids in texts]
    ours = batcher.scores(direct.model, key, longer)
    assert batcher.rows_extended == 7 + len(longer)
    # A full pass adds its float32 sums in another order than any cached pass: ours must be as
    # close to it as transformers' own cached pass (generate()'s) is, on these real weights.
    for ids, our_scores, full in zip(longer, ours, DirectPasses(direct.model).scores(longer), strict=True):
        with torch.inference_mode():
            cache = direct.model(input_ids=torch.tensor([ids[:-1]]), use_cache=True).cache
            cached = direct.model(input_ids=torch.tensor([ids[-1:]]), cache=cache, use_cache=True).logits[0, -1]
        assert float((our_scores - full).abs().max()) <= 2 * float((cached - full).abs().max()) + 1e-5
