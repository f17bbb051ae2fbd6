"""Fetch every model the hub uses into the caches, the night before a lecture.

    python -m shared.prefetch            # every model of the mounted demos
    python -m shared.prefetch gemma3_270m smollm2_135m_instruct

Hub models are downloaded into the standard HF cache (progress bars from huggingface_hub), packs
are checked, then each mounted demo whose ui.py has `prepare(hub)` does its one-off work
(conversions, vocabularies, the image search's gallery index), so the lecture runs with no
network. Ends with a table of what is ready; the exit code is 1 if anything is missing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.demo import import_demo
from shared.settings import apply_process_settings, load_settings


@dataclass(frozen=True)
class Outcome:
    key: str
    origin: str
    ready: bool
    seconds: float
    detail: str


def prefetch(hub, keys: list[str], preparations: dict[str, Callable] | None = None, report=print) -> list[Outcome]:
    """Locate (downloading if online) every model of `keys`, then run each demo's preparation."""
    from shared.weights import WeightsUnavailable

    outcomes = []
    for key in keys:
        source = hub.weights.source(key)
        report(f"→ {key}: {source.title} ({source.origin})")
        started = time.perf_counter()
        try:
            folder = hub.weights.locate(key, download=not hub.settings.offline)
            outcomes.append(Outcome(key, source.origin, True, time.perf_counter() - started, str(folder)))
        except WeightsUnavailable as missing:
            outcomes.append(Outcome(key, source.origin, False, time.perf_counter() - started, str(missing)))
    for demo, prepare in (preparations or {}).items():
        report(f"→ {demo}: preparing")
        started = time.perf_counter()
        try:
            prepare(hub)
            outcomes.append(Outcome(f"{demo} (prepared)", "", True, time.perf_counter() - started, "ready"))
        except Exception as error:  # one demo's failure must not stop the others' preparation
            outcomes.append(
                Outcome(
                    f"{demo} (prepared)", "", False, time.perf_counter() - started, f"{type(error).__name__}: {error}"
                )
            )
    return outcomes


def demo_preparations(demos: tuple[str, ...]) -> dict[str, Callable]:
    """Each mounted demo's `prepare(hub)`, for those that have one-off work to do."""
    preparations = {}
    for name in demos:
        prepare = getattr(import_demo(f"spaces.{name}.ui"), "prepare", None)
        if prepare is not None:
            preparations[name] = prepare
    return preparations


def outcome_table(outcomes: list[Outcome]) -> str:
    width = max(len(outcome.key) for outcome in outcomes)
    lines = [f"{'model'.ljust(width)}  state    seconds  detail"]
    for outcome in outcomes:
        state = "ready  " if outcome.ready else "MISSING"
        lines.append(f"{outcome.key.ljust(width)}  {state}  {outcome.seconds:7.1f}  {outcome.detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "keys",
        nargs="*",
        help="models to fetch, nothing else (default: those of the mounted demos, then their preparations)",
    )
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
    preparations = {} if arguments.keys else demo_preparations(settings.demos)
    outcomes = prefetch(hub, keys, preparations)
    print()
    print(outcome_table(outcomes))
    return 0 if all(outcome.ready for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
