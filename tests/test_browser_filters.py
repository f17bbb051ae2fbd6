"""The sampling filters in the browser (spaces/sampling/filters.js) against the server's
(logic.next_token_stages, transformers' processors): over many settings on the sliders' grids and
their edges, and several texts, the same kept counts, the same candidates, probabilities and
entropies within 1e-6; and where the browser says « ask the server », that it really could not
know. The module runs alone in a blank page of Debian's Chromium: no hub.

The tiny random models give nearly flat distributions (every nucleus reaches far beyond what is
sent): their output layer is also scaled up, for distributions as peaked as a real model's."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Error as PlaywrightError
from test_sampling_logic import FRENCH_PROMPT, PACK_PROMPTS, tiny_gemma3, tiny_llama, tiny_tokenizer

from spaces.sampling import logic
from spaces.sampling.browser_filters import filters_payload
from spaces.sampling.options import TEMPERATURE_GRID, TOP_K_MAX, SamplingSettings

pytestmark = pytest.mark.browser

FILTERS_JS = Path(__file__).parents[1] / "spaces" / "sampling" / "filters.js"
TOLERANCE = 1e-6
TEXTS = (
    FRENCH_PROMPT,
    "le le le chat chat le chat",  # repeated tokens: the penalty's own case
    "Il était une fois, dans une petite ville de montagne, un boulanger qui",
    "The capital of France is",
    "🙂 1, 2, 3, 4,",
)
SETTINGS_PER_TEXT = 60
SHARPNESS = (1, 12, 30)  # output-layer scale of the tiny models: flat, peaked, very peaked


def random_settings(rng: random.Random) -> SamplingSettings:
    """Values the sliders can take, each stage off (its edge) a third of the time."""

    def maybe(edge, value):
        return edge if rng.random() < 1 / 3 else value

    return SamplingSettings(
        temperature=maybe(rng.choice([0.0, 1.0]), rng.choice(TEMPERATURE_GRID)),
        top_k=maybe(0, rng.choice([1, 2, 5, rng.randint(1, TOP_K_MAX), TOP_K_MAX])),
        top_p=maybe(1.0, round(rng.randint(0, 99) / 100, 2)),
        min_p=maybe(0.0, round(rng.randint(1, 100) / 100, 2)),
        repetition_penalty=maybe(1.0, round(1 + rng.randint(1, 20) / 20, 2)),
    )


EDGES = [
    SamplingSettings(),
    SamplingSettings(temperature=0),
    SamplingSettings(temperature=0.05, top_k=200),
    SamplingSettings(temperature=2.0, top_p=0.01),
    SamplingSettings(top_p=0.0),
    SamplingSettings(min_p=1.0),
    SamplingSettings(repetition_penalty=2.0, top_k=1),
    SamplingSettings(temperature=0.8, top_k=5, top_p=0.9),  # the tab's defaults
]


@pytest.fixture(scope="module")
def filters_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.add_script_tag(content=FILTERS_JS.read_text(encoding="utf-8"))
    yield page
    context.close()


def browser_stages(page, payload: dict, all_settings: list[SamplingSettings], top_n: int, script: str | None = None):
    """filters.js's answer for each settings (one call for all of them); `script`: another version of it."""
    if script is not None:
        page.add_script_tag(content=script)
    return page.evaluate(
        "([payload, all, topN]) => all.map((settings) => iagenSamplingFilters.stages(payload, settings, topN))",
        [payload, [settings.__dict__ for settings in all_settings], top_n],
    )


def stage_rows(lm, context, settings: SamplingSettings) -> list[torch.Tensor]:
    """Each stage's scores over the whole vocabulary, from transformers' processors."""
    input_ids = torch.tensor([list(context.ids)])
    rows = [lm.passes.scores([context.ids])[0][None]]
    for _, processor in logic.stage_processors(settings):
        rows.append(processor(input_ids, rows[-1]) if processor is not None else rows[-1])
    return [row[0] for row in rows]


def surely_ahead(row: torch.Tensor, sent: torch.Tensor) -> int:
    """How many sent tokens score above every token that was not sent."""
    unsent = row.masked_fill(sent, -math.inf).max()
    return int((row[sent] > unsent).sum())


def could_not_know(reason: str, rows: list[torch.Tensor], sent: torch.Tensor, settings, top_n: int) -> bool:
    """Whether the server's own figures confirm that the browser lacked what `reason` says."""
    raw, penalised, tempered, top_k, top_p, _ = rows
    if reason == "greedy_tail":
        return surely_ahead(penalised, sent) == 0
    if reason == "top_k_beyond_sent":
        return surely_ahead(tempered, sent) < settings.top_k
    if reason in ("top_p_beyond_sent", "top_p_close_call"):
        kept = logic.FastTopP(settings.top_p).kept_tokens(top_k)
        return kept is None or (reason == "top_p_beyond_sent" and len(kept) >= surely_ahead(top_k, sent))
    if reason in ("min_p_beyond_sent", "min_p_close_call"):
        ratios = (top_p.double() - top_p.max()).exp()
        if reason == "min_p_beyond_sent":
            return float(ratios.masked_fill(sent, 0).max()) >= settings.min_p * (1 - 1e-5)
        return bool(((ratios[sent] - settings.min_p).abs() <= 1e-5 * settings.min_p).any())
    if reason == "candidates_beyond_sent":
        return surely_ahead(penalised, sent) < top_n
    return False


def mismatches(lm, text: str, all_settings, answers, payload, top_n: int) -> tuple[list[str], int]:
    """What differs between the browser's answers and the server's figures; how many were exact."""
    found, exact = [], 0
    context = logic.text_context(lm, text)
    sent = torch.zeros(payload["vocabulary"], dtype=torch.bool)
    sent[payload["ids"]] = True
    for settings, answer in zip(all_settings, answers, strict=True):
        where = f"{text!r} {settings}"
        if "ask" in answer:
            rows = stage_rows(lm, context, settings)
            if not could_not_know(answer["ask"], rows, sent, settings, top_n):
                found.append(f"{where}: asked the server ({answer['ask']}) but could know")
            continue
        exact += 1
        expected = logic.next_token_stages(lm, context, settings, top_n)
        for ours, theirs in zip(answer["stages"], expected.stages, strict=True):
            if (ours["name"], ours["active"], ours["kept"]) != (theirs.name, theirs.active, theirs.kept):
                found.append(f"{where}: stage {ours} != {theirs}")
            elif abs(ours["entropy_bits"] - theirs.entropy_bits) > TOLERANCE:
                found.append(f"{where}: {theirs.name} entropy {ours['entropy_bits']} != {theirs.entropy_bits}")
        if [c["token_id"] for c in answer["candidates"]] != [c.token_id for c in expected.candidates]:
            found.append(f"{where}: candidates {answer['candidates']} != {expected.candidates}")
            continue
        for ours, theirs in zip(answer["candidates"], expected.candidates, strict=True):
            if ours["label"] != theirs.label:
                found.append(f"{where}: label {ours['label']!r} != {theirs.label!r}")
            if any(abs(a - b) > TOLERANCE for a, b in zip(ours["probabilities"], theirs.probabilities, strict=True)):
                found.append(f"{where}: {theirs.label!r} {ours['probabilities']} != {theirs.probabilities}")
    return found, exact


def sharpened(make, sharpness: int):
    """A tiny model whose scores are `sharpness` times larger (its tied output layer scaled)."""
    tokenizer = tiny_tokenizer()
    model = make(tokenizer)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(sharpness)
    return logic.LanguageModel(model, tokenizer)


def check_model(page, lm, texts, seed: int, script: str | None = None) -> tuple[list[str], int, int]:
    rng = random.Random(seed)
    found, exact, total = [], 0, 0
    for text in texts:
        all_settings = EDGES + [random_settings(rng) for _ in range(SETTINGS_PER_TEXT)]
        top_n = rng.choice([3, 10, 30])
        context = logic.text_context(lm, text)
        payload = json.loads(json.dumps(filters_payload(lm, context.ids, lm.passes.scores([context.ids])[0])))
        answers = browser_stages(page, payload, all_settings, top_n, script)
        text_found, text_exact = mismatches(lm, text, all_settings, answers, payload, top_n)
        found += text_found
        exact += text_exact
        total += len(all_settings)
    return found, exact, total


@pytest.mark.parametrize("sharpness", SHARPNESS)
@pytest.mark.parametrize("make", [tiny_llama, tiny_gemma3], ids=["llama", "gemma3"])
def test_the_browsers_filters_give_the_servers_figures(filters_page, make, sharpness):
    lm = sharpened(make, sharpness)
    found, exact, total = check_model(filters_page, lm, TEXTS, seed=sharpness)
    assert not found, f"{len(found)} of {total} differ:\n" + "\n".join(found[:10])
    print(f"{make.__name__} x{sharpness}: {exact} of {total} settings x texts computed in the browser")
    # Flat distributions send most nuclei to the server; a peaked one must stay in the browser.
    assert exact >= (0.3 if sharpness == 1 else 0.6) * total, f"only {exact} of {total} in the browser"


SABOTAGES = {
    "top-k drops the ties of the k-th": ("token.value >= threshold", "token.value > threshold"),
    "the penalty divides negative scores too": ("token.value < 0 ? f32(token.value * factor)", "false ? 0"),
    "the temperature in float64": ("value: f32(token.value / divisor)", "value: token.value / temperature"),
    "min-p keeps below the threshold": ("share >= minPValue", "share >= minPValue / 2"),
    "the tail forgotten": ("total += scale * tail.s0;", ""),
}


@pytest.mark.parametrize("sabotage", list(SABOTAGES))
def test_a_wrong_filter_fails_the_comparison(browser, sabotage):
    """The comparison above catches a filter that is only slightly wrong."""
    original, wrong = SABOTAGES[sabotage]
    script = FILTERS_JS.read_text(encoding="utf-8")
    assert original in script
    context = browser.new_context()
    try:
        page = context.new_page()
        lm = sharpened(tiny_llama, 12)
        found, _, _ = check_model(page, lm, TEXTS[:2], seed=7, script=script.replace(original, wrong))
    except PlaywrightError as error:  # the wrong filter broke the script: caught too
        found = [str(error)]
    finally:
        context.close()
    assert found, f"the comparison missed: {sabotage}"


@pytest.mark.slow
@pytest.mark.timeout(900)  # converts the Gemma pack into the default cache on a first run: 1-2 minutes
def test_the_browsers_filters_give_the_servers_figures_on_gemma(filters_page):
    from shared.hub import Hub
    from shared.language_models import load_model, load_tokenizer
    from shared.settings import load_settings

    hub = Hub(load_settings(["--torch-threads", "1"]))  # the default cache, as benchmarks/sampling.py
    lm = logic.LanguageModel(load_model(hub, "gemma3_270m"), load_tokenizer(hub, "gemma3_270m"))
    found, exact, total = check_model(filters_page, lm, PACK_PROMPTS, seed=2026)
    assert not found, f"{len(found)} of {total} differ:\n" + "\n".join(found[:10])
    print(f"Gemma 3 270M: {exact} of {total} settings x texts computed in the browser")
    assert exact >= 0.6 * total, f"only {exact} of {total} in the browser"


# --- the view the browser writes ---------------------------------------------------------------------


def view_of(next_token) -> dict:
    """The server's figures as filters.js gives them."""
    return {
        "stages": [
            {"name": s.name, "active": s.active, "kept": s.kept, "entropy_bits": s.entropy_bits}
            for s in next_token.stages
        ],
        "candidates": [
            {"token_id": c.token_id, "label": c.label, "probabilities": list(c.probabilities)}
            for c in next_token.candidates
        ],
    }


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_browser_writes_the_chart_the_table_and_the_choices_as_the_server_does(filters_page, language):
    from spaces.sampling import render
    from spaces.sampling.styles import _VIEW_WORDS

    lm = sharpened(tiny_llama, 12)
    rng = random.Random(3)
    context = logic.text_context(lm, TEXTS[1])
    for settings in EDGES + [random_settings(rng) for _ in range(20)]:
        next_token = logic.next_token_stages(lm, context, settings, rng.choice([3, 10, 30]))
        chart, table, choices = filters_page.evaluate(
            """([view, language, words]) => [
                iagenSamplingFilters.chartHtml(view, language),
                iagenSamplingFilters.tableHtml(view, language, words),
                view.candidates.map((candidate) => iagenSamplingFilters.choiceLabel(candidate, language)),
            ]""",
            [view_of(next_token), language, _VIEW_WORDS[language]],
        )
        assert chart == render.chart_html(next_token, language).removeprefix(render.chart_legend(language))
        assert table == render.stages_table_html(next_token, language)
        assert choices == [render.choice_label(candidate, language) for candidate in next_token.candidates]


def test_the_browser_writes_labels_escaped_and_whitespace_visible(filters_page):
    from spaces.sampling import render

    view = {
        "stages": [{"name": name, "active": True, "kept": 2, "entropy_bits": 1.0} for name in logic.STAGES],
        "candidates": [{"token_id": 1, "label": ' <b>"x"\n\t&\'', "probabilities": [0.5] * 6}],
    }
    chart = filters_page.evaluate("(view) => iagenSamplingFilters.chartHtml(view, 'fr')", view)
    assert "<code>␣&lt;b&gt;&quot;x&quot;↵⇥&amp;&#x27;</code>" in chart
    assert render.visible(view["candidates"][0]["label"]) in chart


NUMBERS = [
    0,
    1,
    0.05,
    0.125,
    0.25,
    2.5,
    12.25,
    12.35,
    33.04999,
    99.95,
    100,
    1e-7,
    1234.5,
    262_144,
    16.999,
    -3.42,
    -0.001,
]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_the_browser_formats_numbers_as_the_server_does(filters_page, language, decimals):
    from shared.i18n import format_number
    from spaces.sampling import render

    ours = filters_page.evaluate(
        "([numbers, language, decimals]) => numbers.map((n) => iagenSamplingFilters.formatNumber(n, language, decimals))",
        [NUMBERS, language, decimals],
    )
    assert ours == [format_number(number, language, decimals) for number in NUMBERS]
    probabilities = [0, 1e-9, 0.000999, 0.001, 0.1225, 0.33, 0.5, 1]
    ours = filters_page.evaluate(
        "([ps, language]) => ps.map((p) => [iagenSamplingFilters.percent(p, language), iagenSamplingFilters.percent(p, language, false)])",
        [probabilities, language],
    )
    assert ours == [[render.percent(p, language), render.percent(p, language, sign=False)] for p in probabilities]
