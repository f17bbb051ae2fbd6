"""Cémantix: the cost of a guess against a bare numpy dot product, the vocabulary's load from the
cache, the per-secret ranking and the first build.

* guess: `Game.guess(word)` (normalise, look up, score, ‰, history), per guess, once the secret's
  ranking exists, vs the bare work of a score: one dot product of two unit vectors
  (`vectors[i] @ vectors[j]`). Target: <= 1 ms per guess. Both run alternately, many times;
* ranking: `Vocabulary.ranking(secret)` on a new secret (similarity to every word, top 1 000);
* load: `Vocabulary.load` from the cache (the files the build wrote), target <= 100 ms;
* first build: `build_vocabulary` from the installed packages (spaCy load and tagging for French).

numpy runs single-threaded (OPENBLAS_NUM_THREADS=1), as the hub runs it on a small machine.

--quick: the fewest repetitions and no timed build (seconds, once the vocabularies are in the cache).

    python benchmarks/cemantix.py [--no-build] [--scale 0.1] [--quick]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from common import machine_description, median, now, run_benchmark  # noqa: E402

from shared.hub import Hub  # noqa: E402 (the repository root is on the path via common)
from shared.settings import load_settings  # noqa: E402
from spaces.cemantix import logic  # noqa: E402
from spaces.cemantix.vocabulary import (
    LANGUAGES,
    VECTOR_SOURCES,
    Vocabulary,
    build_vocabulary,  # noqa: E402
    load_vocabulary,
    vocabulary_folder,
)

GUESS_TARGET_MS = 1.0
LOAD_TARGET_MS = 100.0


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def measure_guesses(vocabulary: Vocabulary, games: int, guesses_per_game: int) -> dict[str, float]:
    """Median seconds per guess (ours) and per bare dot product, alternating one with the other."""
    rng = random.Random(0)
    ours, bare = [], []
    for _ in range(games):
        game = logic.Game(vocabulary.words_language, rng.choice(vocabulary.secret_pool), vocabulary)
        secret_vector = vocabulary.vectors[vocabulary.index[game.secret]]
        words = rng.sample(vocabulary.words, guesses_per_game)  # distinct: none is a repeat
        for number, word in enumerate(words):
            vector = vocabulary.vectors[vocabulary.index[word]]
            pair = ((ours, game.guess, word), (bare, secret_vector.__matmul__, vector))
            for times, function, argument in pair if number % 2 == 0 else pair[::-1]:
                times.append(timed(function, argument)[0])
    return {"ours_ms": median(ours) * 1e3, "bare_ms": median(bare) * 1e3}


def measure_rankings(vocabulary: Vocabulary, count: int) -> float:
    """Median seconds to rank the vocabulary against a secret not ranked before."""
    secrets = random.Random(1).sample(vocabulary.secret_pool, count)
    return median([timed(vocabulary._rank, vocabulary.index[secret])[0] for secret in secrets])


def measure_load(folder: Path, words_language: str, repetitions: int) -> float:
    Vocabulary.load(folder, words_language)  # the first read may come from disk rather than the page cache
    return median([timed(Vocabulary.load, folder, words_language)[0] for _ in range(repetitions)])


def measure_build(hub: Hub, words_language: str) -> float:
    with tempfile.TemporaryDirectory(prefix="cemantix-build-") as scratch:
        seconds, _ = timed(
            build_vocabulary, words_language, hub.weights.locate(VECTOR_SOURCES[words_language]), Path(scratch)
        )
    return seconds


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="skip the first-build timing (~10-30 s a language)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the repetitions (0.1 for a quick look)")
    parser.add_argument("--quick", action="store_true", help="the fewest repetitions, no build (seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.no_build = 0.0, True

    print(f"== Cémantix: guess vs a bare dot product, ranking, load, build — {now()}; {machine_description()}")
    hub = Hub(load_settings([]))
    results = {}
    for words_language in LANGUAGES:
        vocabulary = load_vocabulary(hub, words_language)  # built into the cache if it was not there
        figures = measure_guesses(vocabulary, games=max(2, round(20 * args.scale)), guesses_per_game=500)
        figures["ratio"] = figures["ours_ms"] / figures["bare_ms"]
        figures["ranking_ms"] = measure_rankings(vocabulary, max(3, round(30 * args.scale))) * 1e3
        figures["load_ms"] = (
            measure_load(vocabulary_folder(hub.weights, words_language), words_language, max(3, round(20 * args.scale)))
            * 1e3
        )
        if not args.no_build:
            figures["build_s"] = measure_build(hub, words_language)
        results[words_language] = figures
        print(
            f"  {words_language}: {len(vocabulary):,} words × {vocabulary.vectors.shape[1]} dimensions, "
            f"{len(vocabulary.secret_pool):,} possible secrets"
        )
        print(
            f"    guess      ours {figures['ours_ms'] * 1e3:7.1f} µs vs bare dot product {figures['bare_ms'] * 1e3:5.1f} µs "
            f"-> ratio {figures['ratio']:.0f}x; target <= {GUESS_TARGET_MS:g} ms: "
            f"{'met' if figures['ours_ms'] <= GUESS_TARGET_MS else 'MISSED'}"
        )
        print(f"    ranking    {figures['ranking_ms']:7.2f} ms per new secret (once, shared by every player of it)")
        print(
            f"    load       {figures['load_ms']:7.1f} ms from the cache; target <= {LOAD_TARGET_MS:g} ms: "
            f"{'met' if figures['load_ms'] <= LOAD_TARGET_MS else 'MISSED'}"
        )
        if "build_s" in figures:
            print(f"    first build {figures['build_s']:6.1f} s from the installed packages")
    return results


if __name__ == "__main__":
    run_benchmark(main)
