"""The sampling tab's filters in the browser (issue 22) against the server round trip a slider's
release cost before, side by side in one run, with Gemma 3 270M (its pack, from the default cache
as `python -m shared.prefetch` leaves it).

1. What a view sends for the browser (spaces/sampling/browser_filters.py): the time to build it
   from Gemma's 262 144 scores beside the view's own stages (`next_token_stages`), its size as
   the chart's HTML carries it, and the share of random slider settings the browser computes by
   itself, for 256, 512 (the setting) and 1 024 tokens sent.
2. A drag on a real page: the hub (app.py --demos sampling) in Chromium on a phone, the tab's
   first view shown, then the temperature slider and the top-k slider each dragged with the mouse
   through their range: redraws per second (target >= 30; a slider fires an input event only when
   its value changes: temperature's 41 values bound its rate, and Playwright's mouse moves, ~25 ms
   each here, top-k's), requests the page sent meanwhile (target 0); then input events faster than
   the frames, stepped in the page, for the rate the page sustains; the browser's work per redraw
   (filters, chart and table HTML); beside it, what a
   release cost before: a /next_token call (gradio_client, same hub, one user, the text seen
   already, so no forward pass: the queue and the view only).

--quick: one prompt, 20 settings, 10 moves a drag, 2 round trips, tiny random models in Gemma's place
(a check that it runs, not figures).

    python benchmarks/sampling_browser.py [--moves 120] [--quick] [--url URL]

--url: the page on a hub running already (its sampling tab; with --quick, on the tiny models too).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from functools import partial
from typing import NamedTuple

os.environ.setdefault("OMP_NUM_THREADS", "1")

from common import hub_environment, machine_description, median, now, run_benchmark, use_tiny_language_models  # noqa: E402
from hub_server import running_hub  # noqa: E402 (tests/ is on the path via common)

PROMPTS = (
    "Le chat est assis sur le",
    "Il était une fois, dans une petite ville de montagne,",
    "Le médecin a dit que",
    "The capital of France is",
    "1, 2, 3, 4,",
)
SENT_TOKENS = (256, 512, 1024)


class Sizes(NamedTuple):
    prompts: tuple[str, ...]
    settings_per_prompt: int  # random slider settings computed in the browser, per prompt
    timings: int  # calls timed for a median
    round_trips: int  # /next_token calls timed
    moves: int  # mouse moves per drag


FULL = Sizes(PROMPTS, 200, 7, 10, 120)
QUICK = Sizes(PROMPTS[:1], 20, 1, 2, 10)
HUB_FLAGS = ("--demos", "sampling", "--torch-threads", "1", "--host", "127.0.0.1")
FILTERS_JS = "spaces/sampling/filters.js"


def random_settings(rng: random.Random) -> dict:
    """Values the sliders can take, each stage off a third of the time (as tests/test_browser_filters.py)."""
    from spaces.sampling.options import TEMPERATURE_GRID, TOP_K_MAX

    def maybe(edge, value):
        return edge if rng.random() < 1 / 3 else value

    return {
        "temperature": maybe(rng.choice([0.0, 1.0]), rng.choice(TEMPERATURE_GRID)),
        "top_k": maybe(0, rng.randint(1, TOP_K_MAX)),
        "top_p": maybe(1.0, rng.randint(0, 99) / 100),
        "min_p": maybe(0.0, rng.randint(1, 100) / 100),
        "repetition_penalty": maybe(1.0, round(1 + rng.randint(1, 20) / 20, 2)),
    }


def seconds(call, repetitions: int = 7) -> float:
    timings = []
    for _ in range(repetitions):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return median(timings)


def what_a_view_sends(browser, sizes: Sizes) -> dict:
    import torch

    from shared.batching import Batcher, KeyValueCaches, ScoresCache
    from shared.hub import Hub
    from shared.language_models import load_model, load_tokenizer
    from shared.settings import load_settings
    from spaces.sampling import browser_filters, logic, render
    from spaces.sampling.options import SamplingSettings

    torch.set_num_threads(1)
    hub = Hub(load_settings(["--torch-threads", "1"]))
    model = load_model(hub, "gemma3_270m")
    passes = Batcher(ScoresCache(2**26), KeyValueCaches(2**26), max_rows=4).for_model(
        model, "gemma3_270m"
    )  # a view reads cached scores
    lm = logic.LanguageModel(model, load_tokenizer(hub, "gemma3_270m"), passes)
    page = browser.new_context().new_page()
    page.add_script_tag(path=FILTERS_JS)
    rng = random.Random(22)
    build, view, payload_bytes = [], [], []
    computed = {size: 0 for size in SENT_TOKENS}
    total = 0
    for prompt in sizes.prompts:
        context = logic.text_context(lm, prompt)
        next_token = logic.next_token_stages(lm, context, SamplingSettings(temperature=0.8, top_k=5, top_p=0.9))
        raw = next_token.raw_scores
        build.append(seconds(partial(browser_filters.filters_payload, lm, context.ids, raw), sizes.timings))
        view.append(
            seconds(
                partial(logic.next_token_stages, lm, context, SamplingSettings(temperature=0.8, top_p=0.9)),
                sizes.timings,
            )
        )
        all_settings = [random_settings(rng) for _ in range(sizes.settings_per_prompt)]
        total += len(all_settings)
        for size in SENT_TOKENS:
            browser_filters.TOP_TOKENS = size
            payload = browser_filters.filters_payload(lm, context.ids, raw)
            if size == 512:
                payload_bytes.append(len(render.filters_html(payload, prompt, next_token).encode()))
            answers = page.evaluate(
                "([payload, all]) => all.map((s) => iagenSamplingFilters.stages(payload, s, 10))",
                [payload, all_settings],
            )
            computed[size] += sum("ask" not in answer for answer in answers)
    browser_filters.TOP_TOKENS = 512
    print("1. What a view sends for the browser (Gemma 3 270M, 262 144 scores; median over the prompts)")
    print(f"   built in            {1e3 * median(build):6.1f} ms of CPU, once per text (cached)")
    print(f"   the view's stages   {1e3 * median(view):6.1f} ms (next_token_stages on cached scores, T 0.8, top-p 0.9)")
    print(f"   its size            {median(payload_bytes) / 1024:6.1f} KiB in the chart's HTML (512 tokens sent)")
    print(f"   random settings computed in the browser, of {total} ({len(sizes.prompts)} prompts):")
    for size in SENT_TOKENS:
        print(f"     {size:5d} tokens sent: {computed[size]:4d} ({100 * computed[size] / total:.0f} %)")
    return {
        "build_ms": 1e3 * median(build),
        "view_ms": 1e3 * median(view),
        "payload_kib": median(payload_bytes) / 1024,
        **{f"computed_share_{size}": computed[size] / total for size in SENT_TOKENS},
    }


DRAGS = {"temperature": (0.0, 2.0), "top-k": (0, 200)}

COUNTERS_JS = """() => {
  window.benchRedraws = 0;
  window.benchInputs = 0;
  new MutationObserver((records) => {
    for (const record of records)
      for (const node of record.addedNodes)
        if (node.classList && node.classList.contains("sampling-chart")) window.benchRedraws += 1;
  }).observe(document.querySelector("#sampling-chart"), {childList: true, subtree: true});
  document.addEventListener("input", () => { window.benchInputs += 1; }, true);
}"""

WORK_PER_REDRAW_JS = """(repetitions) => {
  const data = JSON.parse(document.querySelector("#sampling-chart .sampling-filters").dataset.filters);
  const F = iagenSamplingFilters;
  const words = {column_token: "Token", table_caption: "", row_kept: "", row_entropy: "", stages_off: "{stages}",
                 stage_raw: "", stage_repetition_penalty: "", stage_temperature: "", stage_top_k: "", stage_top_p: "", stage_min_p: ""};
  const started = performance.now();
  for (let index = 0; index < repetitions; index += 1) {
    const settings = {temperature: 0.05 * (1 + (index % 40)), top_k: 5, top_p: 0.9, min_p: 0, repetition_penalty: 1};
    const view = F.stages(data, settings, data.shown.length);
    F.chartHtml(view, "fr");
    F.tableHtml(view, "fr", words);
  }
  return (performance.now() - started) / repetitions;
}"""


def drag(page, slider: str, moves: int) -> dict:
    """The slider dragged from one end to the other with `moves` mouse moves."""
    page.evaluate("() => { window.benchRedraws = 0; window.benchInputs = 0; }")
    requests = []
    listener = lambda request: requests.append(request.url)  # noqa: E731
    page.on("request", listener)
    track = page.locator(f"#sampling-{slider} input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    started = time.perf_counter()
    for move in range(1, moves + 1):
        page.mouse.move(box["x"] + 2 + (box["width"] - 4) * move / moves, y)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    elapsed = time.perf_counter() - started
    page.mouse.up()
    page.wait_for_timeout(1000)  # a call the release might make
    page.remove_listener("request", listener)
    redraws, inputs = page.evaluate("() => [window.benchRedraws, window.benchInputs]")
    return {"seconds": elapsed, "redraws": redraws, "inputs": inputs, "requests": len(requests)}


# Input events faster than the screen's frames (every 4 ms for 2 s, top-k's range value stepped
# through 1..200 as a fast finger would): what the page sustains, its frames being the limit.
FAST_DRAG_JS = """async () => {
  const range = document.querySelector("#sampling-top-k input[type=range]");
  window.benchRedraws = 0;
  let events = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    range.value = String(1 + (events % 200));
    range.dispatchEvent(new Event("input", {bubbles: true}));
    events += 1;
    await new Promise((done) => setTimeout(done, 4));
  }
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return [events, window.benchRedraws, (performance.now() - started) / 1000];
}"""


def a_drag_on_a_real_page(browser, url: str, sizes: Sizes) -> dict:
    from browser_fixtures import PHONE
    from gradio_client import Client

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(180_000)  # the first view loads the model
    page.goto(url + "?tab=sampling")
    page.locator("#sampling-show").tap()
    page.locator("#sampling-chart .sampling-chart .track").nth(9).wait_for()
    page.locator("#sampling-settings .label-wrap > span").first.tap()
    page.locator("#sampling-repetition-penalty input[type=number]").wait_for()
    page.wait_for_timeout(500)
    page.evaluate(COUNTERS_JS)
    results = {slider: drag(page, slider, sizes.moves) for slider in DRAGS}
    per_redraw = page.evaluate(WORK_PER_REDRAW_JS, 400)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    fast_events, fast_redraws, fast_seconds = page.evaluate(FAST_DRAG_JS)
    context.close()

    client = Client(url, verbose=False)
    filters = (0.8, 5, 0.9, 0.0, 1.0)
    client.predict("gemma3_270m", PROMPTS[0], *filters, 10, api_name="/next_token")  # the text seen: its scores cached
    round_trips = []
    for call in range(sizes.round_trips):
        temperature = 0.05 * (1 + call)
        started = time.perf_counter()
        client.predict("gemma3_270m", PROMPTS[0], temperature, *filters[1:], 10, api_name="/next_token")
        round_trips.append(time.perf_counter() - started)

    print("2. A slider dragged on the hub's page (Chromium, 390 x 844 phone) vs the server round trip it replaces")
    print(f"   {'slider':12s} {'moves':>5s} {'input events':>12s} {'redraws':>7s} {'redraws/s':>9s} {'requests':>8s}")
    for slider, result in results.items():
        result["redraws_per_s"] = result["redraws"] / result["seconds"]
        print(
            f"   {slider:12s} {sizes.moves:5d} {result['inputs']:12d} {result['redraws']:7d} "
            f"{result['redraws_per_s']:9.1f} {result['requests']:8d}"
        )
    print(
        f"   top-k stepped in the page every 4 ms for {fast_seconds:.1f} s: {fast_events} input events, "
        f"{fast_redraws} redraws ({fast_redraws / fast_seconds:.1f}/s, one per frame), {len(requests)} requests"
    )
    print(f"   the browser's work per redraw (filters + chart + table HTML): {per_redraw:.2f} ms")
    print(
        f"   a /next_token round trip (one user, text cached): median {1e3 * median(round_trips):.0f} ms, "
        f"max {1e3 * max(round_trips):.0f} ms: at most {1 / median(round_trips):.1f} views/s, each a request"
    )
    return {
        "drags": results,
        "fast_redraws_per_s": fast_redraws / fast_seconds,
        "fast_requests": len(requests),
        "work_per_redraw_ms": per_redraw,
        "round_trip_ms": 1e3 * median(round_trips),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=FULL.moves, help="mouse moves per drag")
    parser.add_argument("--quick", action="store_true", help="one prompt, few settings, moves and calls (seconds)")
    parser.add_argument("--url", help="part 2 on a hub already running on loopback; without it, one is started")
    arguments = parser.parse_args(argv)
    sizes = QUICK if arguments.quick else FULL._replace(moves=arguments.moves)
    if arguments.quick:
        use_tiny_language_models()

    from browser_fixtures import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    from shared.settings import load_settings

    print(f"Sampling filters in the browser — {now()} — {machine_description()}")
    with open("/proc/loadavg") as load:
        print(f"load average before: {load.read().split()[:3]}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        results = {"view": what_a_view_sends(browser, sizes)}
        if arguments.url:
            results["page"] = a_drag_on_a_real_page(browser, arguments.url, sizes)
        else:
            cache = load_settings([]).cache_dir
            with running_hub(*HUB_FLAGS, environ=hub_environment(cache), timeout=180) as url:
                results["page"] = a_drag_on_a_real_page(browser, url, sizes)
        browser.close()
    with open("/proc/loadavg") as load:
        print(f"load average after: {load.read().split()[:3]}")
    return results


if __name__ == "__main__":
    run_benchmark(main)
