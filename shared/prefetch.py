"""Fetch every model the hub uses into the caches, the night before a lecture.

    python -m shared.prefetch            # every model of the mounted demos
    python -m shared.prefetch gemma3_270m smollm2_135m_instruct

Hub models are downloaded into the standard HF cache (progress bars from huggingface_hub), packs
are checked, and the one-off conversions are done, so the lecture runs with no network. Ends with
a table of what is ready; the exit code is 1 if anything is missing.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from shared.settings import apply_process_settings, load_settings


@dataclass(frozen=True)
class Outcome:
    key: str
    origin: str
    ready: bool
    seconds: float
    detail: str


def prefetch(hub, keys: list[str], report=print) -> list[Outcome]:
    from shared.language_models import LANGUAGE_MODELS, load_model, load_tokenizer
    from shared.weights import WeightsUnavailable

    outcomes = []
    for key in keys:
        source = hub.weights.source(key)
        report(f"→ {key}: {source.title} ({source.origin})")
        started = time.perf_counter()
        try:
            folder = hub.weights.locate(key, download=not hub.settings.offline)
            if key in LANGUAGE_MODELS:  # the GGUF → transformers conversions, done once
                load_tokenizer(hub, key)
                load_model(hub, key)
            outcomes.append(Outcome(key, source.origin, True, time.perf_counter() - started, str(folder)))
        except WeightsUnavailable as missing:
            outcomes.append(Outcome(key, source.origin, False, time.perf_counter() - started, str(missing)))
    return outcomes


def outcome_table(outcomes: list[Outcome]) -> str:
    width = max(len(outcome.key) for outcome in outcomes)
    lines = [f"{'model'.ljust(width)}  state    seconds  detail"]
    for outcome in outcomes:
        state = "ready  " if outcome.ready else "MISSING"
        lines.append(f"{outcome.key.ljust(width)}  {state}  {outcome.seconds:7.1f}  {outcome.detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("keys", nargs="*", help="models to fetch (default: those of the mounted demos)")
    arguments = parser.parse_args(argv)
    settings = load_settings([])
    apply_process_settings(settings)

    from shared.hub import Hub

    hub = Hub(settings)
    known = hub.weights.catalogue
    unknown = [key for key in arguments.keys if key not in known]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(known)}")
    keys = arguments.keys or [key for key, source in known.items() if set(source.demos) & set(settings.demos)]
    outcomes = prefetch(hub, keys)
    print()
    print(outcome_table(outcomes))
    return 0 if all(outcome.ready for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
