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
  the slider's grid its highest score c (in float32, as TemperatureLogitsWarper divides) and the
  sums that normalise a distribution and give its entropy, sum exp(s/T - c) and
  sum exp(s/T - c)(s/T - c), in float64 (`tail_sums`);
- the labels of the tokens the chart may show: the text's own and the `TOP_N_MAX` most likely
  others (the candidates are ranked after the penalty, which only lowers the text's tokens).

Where a setting needs more (a nucleus or a min-p set reaching the tail, a temperature off the
grid, top-k beyond what is sent), the browser says so and asks the server, whose answer is exact.
Sending 512 tokens, the browser computed 975 of 1 000 random settings on Gemma itself (256: 972,
1 024: 981; the others were nuclei beyond them, at high temperatures without top-k). It is built
once per text (models.FiltersCache keeps it by context), and every drawn token is a new text: the
40 temperatures' sums come from one pass over the tail, not forty (`tail_sums`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from spaces.sampling.logic import LanguageModel, token_label
from spaces.sampling.options import TEMPERATURE_GRID, TOP_N_RANGE

TOP_TOKENS = 512  # the most likely tokens sent besides the text's own (top-k goes to 200)
TOP_N_MAX = TOP_N_RANGE[1]  # the most candidates the chart shows
TAIL_BIN_WIDTH = 1 / 256  # of the tail's scores, in bins this wide (a power of 2: exact bin edges)
TAYLOR_TERMS = 6  # of exp(d/T) within a bin


def filters_payload(lm: LanguageModel, context_ids: tuple[int, ...], raw_scores: torch.Tensor) -> dict[str, Any]:
    """The scores and sums filters.js needs for a context whose raw next-token scores (shape
    (vocabulary,)) are `raw_scores`. Every score is a float32 value, sent exactly."""
    vocabulary = raw_scores.numel()
    text_ids = sorted({token_id for token_id in context_ids if token_id < vocabulary})  # as the penalty clamps them
    outside_text = torch.ones(vocabulary, dtype=torch.bool)
    outside_text[text_ids] = False
    others = raw_scores.masked_fill(~outside_text, -math.inf)
    # The tokens sent, then the tail's highest (summed exactly)
    ranked = others.topk(min(2 * TOP_TOKENS, vocabulary - len(text_ids)))
    finite = [
        (token_id, score)
        for token_id, score in zip(ranked.indices.tolist(), ranked.values.tolist(), strict=True)
        if math.isfinite(score)
    ]
    top_ids = [token_id for token_id, _ in finite[:TOP_TOKENS]]
    highest_ids = [token_id for token_id, _ in finite[TOP_TOKENS:]]

    tail = outside_text.clone()
    tail[top_ids + highest_ids] = False
    other_scores = raw_scores[tail]
    other_scores = other_scores[torch.isfinite(other_scores)]
    temperatures = tail_sums(raw_scores[highest_ids], other_scores) if highest_ids else {}

    labelled = top_ids[:TOP_N_MAX] + text_ids
    labels = lm.tokenizer.batch_decode([[token_id] for token_id in labelled])
    return {
        "vocabulary": vocabulary,
        "ids": top_ids + text_ids,
        # JSON has no -inf: filters.js reads null as removed
        "scores": [score if math.isfinite(score) else None for score in raw_scores[top_ids + text_ids].tolist()],
        "text_ids": text_ids,
        "labels": {
            str(token_id): label if "\ufffd" not in label else token_label(lm.tokenizer, token_id)
            for token_id, label in zip(labelled, labels, strict=True)
        },
        "tail": {
            "count": len(highest_ids) + other_scores.numel(),
            "temperatures": temperatures,  # "0.80": [highest score at T, sum exp(x - highest), sum exp(x - highest)(x - highest)]
        },
    }


def tail_sums(highest_scores: torch.Tensor, other_scores: torch.Tensor) -> dict[str, list[float]]:
    """For each temperature T of the slider's grid: [c, sum exp(x - c), sum exp(x - c)(x - c)] over
    the tail's scores, x = s/T, c the highest x, in float32 as TemperatureLogitsWarper divides.
    `highest_scores`: the tail's highest (float32, at least one), summed exactly, each s/T in
    float32; `other_scores`: the rest of the tail.

    Forty passes of exp over Gemma's 262 144 scores cost ~47 ms, and every view of a new text (every
    drawn token) needs them. One pass instead: the other scores fall into bins of width
    TAIL_BIN_WIDTH, each bin keeping the sums of the powers of its scores' distances d to its
    centre m (|d| <= 1/512). Then for any T, over a bin, exp(s/T) = exp(m/T) exp(d/T), and exp(d/T)
    is its Taylor series cut after TAYLOR_TERMS terms: at T = 0.05, |d/T| <= 0.04 and what is cut
    is below 1e-11 of each term; at T = 2, below 1e-20. There s/T is exact where the warper rounds
    it to float32: each exponent off by at most 6e-8 of itself, of either sign, on scores far
    below the ones summed exactly."""
    temperatures = torch.tensor(TEMPERATURE_GRID, dtype=torch.float64)[:, None]  # (T, 1)
    # s/T in float32 for every T at once: bit for bit the warper's `scores / temperature`
    exact = (highest_scores[None, :] / temperatures.float()).double()
    highest = exact.max(1, keepdim=True).values  # c
    exact = exact - highest
    weights = exact.exp()
    total, weighted = weights.sum(1), (weights * exact).sum(1)
    if other_scores.numel():
        # In float32, exactly: a power of 2 scales, and a score minus its nearby centre is a float32.
        bins = torch.floor(other_scores / TAIL_BIN_WIDTH)
        first = float(bins.min())
        index = (bins - first).long()
        distances = other_scores - (bins + 0.5) * TAIL_BIN_WIDTH
        count = int(index.max()) + 1
        moments, power = [torch.bincount(index, minlength=count).double()], torch.ones_like(distances)
        for _ in range(TAYLOR_TERMS):  # each bin's sum of d^k, k = 0 .. TAYLOR_TERMS (the entropy's sum needs the last)
            power = power * distances  # float32: below 1e-6 of a term that is below 0.04 of the bin's sum
            moments.append(torch.bincount(index, weights=power, minlength=count).double())
        occupied = moments[0] > 0
        moments = torch.stack(moments)[:, occupied]  # (TAYLOR_TERMS + 1, bins)
        centres = ((torch.arange(count, dtype=torch.float64) + first + 0.5) * TAIL_BIN_WIDTH)[occupied]
        powers = torch.arange(TAYLOR_TERMS + 1, dtype=torch.float64)
        factorials = torch.tensor([math.factorial(k) for k in range(TAYLOR_TERMS + 1)], dtype=torch.float64)
        taylor = 1 / (factorials * temperatures**powers)  # (T, k): 1 / (k! T^k)
        within = taylor[:, :-1] @ moments[:-1]  # each bin's sum of exp(d/T): sum over k of d^k / (k! T^k)
        spread = (taylor[:, 1:] * powers[1:]) @ moments[1:]  # its sum of (d/T) exp(d/T)
        exponents = centres / temperatures - highest  # (T, bins)
        bin_weights = exponents.exp()
        total = total + (bin_weights * within).sum(1)
        weighted = weighted + (bin_weights * (exponents * within + spread)).sum(1)
    return {
        f"{t:.2f}": list(sums)
        for t, sums in zip(TEMPERATURE_GRID, torch.stack([highest[:, 0], total, weighted], 1).tolist(), strict=True)
    }
