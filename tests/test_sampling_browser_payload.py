"""What a view sends for the browser's filters (spaces/sampling/browser_filters.py), without a
browser: the tokens it names, and the tail's sums, which must give the whole vocabulary's
normalisation and entropy at every temperature of the slider's grid (filters.js relies on it;
tests/test_browser_filters.py compares the browser's figures with the server's)."""

import json
import math

import pytest
import torch
from test_sampling_logic import tiny_llama, tiny_tokenizer

from spaces.sampling import browser_filters, logic
from spaces.sampling.options import TEMPERATURE_GRID


@pytest.fixture(scope="module")
def lm():
    return logic.LanguageModel(tiny_llama(tiny_tokenizer()), tiny_tokenizer())


def payload_of(lm, text: str):
    context = logic.text_context(lm, text)
    scores = lm.passes.scores([context.ids])[0]
    return context, scores, json.loads(json.dumps(browser_filters.filters_payload(lm, context.ids, scores)))


def test_it_names_the_texts_own_tokens_and_the_most_likely_others_and_no_more(lm):
    context, scores, payload = payload_of(lm, "le le le chat chat le chat")
    text_ids = sorted(set(context.ids))
    assert payload["text_ids"] == text_ids and payload["ids"][-len(text_ids) :] == text_ids
    others = payload["ids"][: -len(text_ids)]
    assert len(others) == browser_filters.TOP_TOKENS and not set(others) & set(text_ids)
    rest = scores.clone()
    rest[text_ids] = -math.inf
    assert set(others) == set(rest.topk(browser_filters.TOP_TOKENS).indices.tolist())
    assert payload["scores"] == [float(scores[token_id]) for token_id in payload["ids"]]  # float32, exactly
    # Labels for what the chart may show: the text's own and the most likely others, as the server writes them.
    labelled = others[: browser_filters.TOP_N_MAX] + text_ids
    assert payload["labels"] == {str(i): logic.token_label(lm.tokenizer, i) for i in labelled}
    assert payload["tail"]["count"] == payload["vocabulary"] - len(payload["ids"])


@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0, 1.35, 2.0])
def test_the_tails_sums_complete_the_sent_scores_at_every_temperature(lm, temperature):
    _, scores, payload = payload_of(lm, "Le chat est assis sur le")
    tempered = (scores if temperature == 1 else scores / temperature).double()  # as TemperatureLogitsWarper
    highest, s0, s1 = payload["tail"]["temperatures"][f"{temperature:.2f}"]
    sent = torch.tensor(payload["ids"])
    values = tempered[sent]
    top = max(float(values.max()), highest)
    weights = (values - top).exp()
    total = float(weights.sum()) + math.exp(highest - top) * s0
    assert top + math.log(total) == pytest.approx(float(torch.logsumexp(tempered, 0)), abs=1e-7)
    weighted = float(weights @ (values - top)) + math.exp(highest - top) * (s1 + (highest - top) * s0)
    probabilities = tempered.softmax(0)
    entropy = float(-(probabilities * probabilities.log()).sum())
    assert math.log(total) - weighted / total == pytest.approx(entropy, abs=1e-7)


def test_every_temperature_of_the_slider_has_its_sums(lm):
    """0.05 to 2 by 0.05, as the slider steps (0 is greedy: no sums needed)."""
    _, _, payload = payload_of(lm, "Le chat")
    assert list(payload["tail"]["temperatures"]) == [f"{step * 0.05:.2f}" for step in range(1, 41)]
    assert TEMPERATURE_GRID[0] == 0.05 and TEMPERATURE_GRID[-1] == 2.0


@pytest.mark.parametrize(
    "spread, size",
    [(3.0, 262_144), (15.0, 100_000), (0.05, 600), (1.0, 3)],
    ids=["gemma-like", "wide", "flat", "three tokens"],
)
def test_the_tails_binned_sums_are_the_forty_passes_sums(spread, size):
    """tail_sums bins the tail instead of forty passes of exp: the same sums, within what float32
    scores can tell (each s/T rounded to float32, as the warper rounds it, in the forty passes)."""
    generator = torch.Generator().manual_seed(size)
    scores = (torch.randn(size, generator=generator) * spread - 10).float().sort(descending=True).values
    highest, others = scores[:512], scores[512:][torch.randperm(max(0, size - 512), generator=generator)]
    sums = browser_filters.tail_sums(highest, others)
    for temperature in TEMPERATURE_GRID:
        tempered = scores / temperature  # float32, as TemperatureLogitsWarper
        top = float(tempered.max())
        shifted = tempered.double() - top
        weights = shifted.exp()
        c, s0, s1 = sums[f"{temperature:.2f}"]
        assert c == top
        assert s0 == pytest.approx(float(weights.sum()), rel=2e-6)
        assert s1 == pytest.approx(float(weights @ shifted), rel=2e-6, abs=2e-6 * float(weights.sum()))
