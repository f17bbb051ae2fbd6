"""What the phone needs to run the sampling filters itself (filters.js), and no more.

A slider move changes no forward pass: the repetition penalty, the temperature, top-k, top-p and
min-p reshape the scores the server already has. So a view sends, with its figures, the scores
that can matter for ANY value on the sliders' grids, and the browser redraws the chart and the
table while a finger drags, exactly as `logic.next_token_stages` would (tests/test_browser_filters.py
compares the two over many settings):

- the raw scores of the text's own tokens (the penalty reads them), and of the `TOP_TOKENS` most
  likely other tokens: top-k's slider goes to 200, and a nucleus or a min-p set is a few dozen
  tokens on a real model, rarely hundreds;
- the rest of the vocabulary (the "tail") as a few sums: its size, and for each temperature on
  the slider's grid its highest score c and the sums that normalise a distribution and give its
  entropy, sum exp(s/T - c) and sum exp(s/T - c)(s/T - c), summed in float64, each score divided
  by T in float32 as TemperatureLogitsWarper divides it;
- the labels of the tokens the chart may show: the text's own and the `TOP_N_MAX` most likely
  others (the candidates are ranked after the penalty, which only lowers the text's tokens).

Where a setting needs more (a nucleus or a min-p set reaching the tail, a temperature off the
grid, top-k beyond what is sent), the browser says so and asks the server, whose answer is exact.
Sending 512 tokens, the browser computed 975 of 1 000 random settings on Gemma itself (256: 972,
1 024: 981; the others were nuclei beyond them, at high temperatures without top-k). Building it
costs ~55 ms for Gemma's 262 144 scores on one thread (the 40 temperatures' sums; the view itself
~9 ms on kept scores, in the same run), once per text: models.FiltersCache keeps it by context
(benchmarks/sampling_browser.py).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from spaces.sampling.logic import LanguageModel, token_label
from spaces.sampling.options import TEMPERATURE_GRID, TOP_N_RANGE

TOP_TOKENS = 512  # the most likely tokens sent besides the text's own (top-k goes to 200)
TOP_N_MAX = TOP_N_RANGE[1]  # the most candidates the chart shows


def filters_payload(lm: LanguageModel, context_ids: tuple[int, ...], raw_scores: torch.Tensor) -> dict[str, Any]:
    """The scores and sums filters.js needs for a context whose raw next-token scores (shape
    (vocabulary,)) are `raw_scores`. Every score is a float32 value, sent exactly."""
    vocabulary = raw_scores.numel()
    text_ids = sorted({token_id for token_id in context_ids if token_id < vocabulary})  # as the penalty clamps them
    outside_text = torch.ones(vocabulary, dtype=torch.bool)
    outside_text[text_ids] = False
    others = raw_scores.masked_fill(~outside_text, -math.inf)
    top = others.topk(min(TOP_TOKENS, vocabulary - len(text_ids)))
    top_ids = [
        token_id
        for token_id, score in zip(top.indices.tolist(), top.values.tolist(), strict=True)
        if math.isfinite(score)
    ]

    tail = outside_text.clone()
    tail[top_ids] = False
    tail_scores = raw_scores[tail]
    tail_scores = tail_scores[torch.isfinite(tail_scores)]
    temperatures = {}
    if tail_scores.numel():
        for temperature in TEMPERATURE_GRID:
            scaled = tail_scores if temperature == 1 else tail_scores / temperature  # float32, as the warper
            highest = float(scaled.max())
            # float32 exponentials summed in float64: within 3e-8 of float64 throughout, 4x faster
            shifted = scaled - highest
            weights = shifted.exp()
            sums = weights.sum(dtype=torch.float64), (weights * shifted).sum(dtype=torch.float64)
            temperatures[f"{temperature:.2f}"] = [highest, *map(float, sums)]

    labelled = top_ids[:TOP_N_MAX] + text_ids
    labels = lm.tokenizer.batch_decode([[token_id] for token_id in labelled])
    return {
        "vocabulary": vocabulary,
        "ids": top_ids + text_ids,
        "scores": [_score(raw_scores[token_id]) for token_id in top_ids + text_ids],
        "text_ids": text_ids,
        "labels": {
            str(token_id): label if "\ufffd" not in label else token_label(lm.tokenizer, token_id)
            for token_id, label in zip(labelled, labels, strict=True)
        },
        "tail": {
            "count": tail_scores.numel(),
            "temperatures": temperatures,  # "0.80": [highest score at T, sum exp(x - highest), sum exp(x - highest)(x - highest)]
        },
    }


def _score(value: torch.Tensor) -> float | None:
    score = float(value)
    return score if math.isfinite(score) else None  # JSON has no -inf: filters.js reads null as removed
