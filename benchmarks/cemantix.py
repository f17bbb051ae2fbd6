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

--room-watch (alone, ~4 min): what a room's phones watching for its end cost the hub. A hub
(app.py, the lecture profile, Cémantix only) with 100 light phones in one room (queue_client.py,
a session each); for --seconds each, side by side in one run: the phones idle (no watch), each
sending the watch's tick every ROOM_WATCH_SECONDS as its page does (one POST, no queue), and
every 2 s (the pace the issue ruled out). Printed: the hub's CPU in each window, the calls and
their latency; then the room ends and one round of ticks brings every phone its end view.

    python benchmarks/cemantix.py [--no-build] [--scale 0.1] [--quick]
    python benchmarks/cemantix.py --room-watch [--phones 100] [--seconds 60]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import psutil  # noqa: E402
from common import hub_environment, machine_description, median, now, percentile, run_benchmark  # noqa: E402

from shared.hub import Hub  # noqa: E402 (the repository root is on the path via common)
from shared.settings import load_settings  # noqa: E402
from spaces.cemantix import logic  # noqa: E402
from spaces.cemantix.play import ROOM_WATCH_SECONDS  # noqa: E402
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


def watch_tick_index(config: dict) -> int:
    """The function index of the room watch's tick: the event of the timer that ticks every
    ROOM_WATCH_SECONDS (the board's ticks faster)."""
    timers = {
        component["id"]
        for component in config["components"]
        if component["type"] == "timer" and component["props"].get("value") == ROOM_WATCH_SECONDS
    }
    return next(
        dependency.get("id", index)
        for index, dependency in enumerate(config["dependencies"])
        if any(target[0] in timers and target[1] == "tick" for target in dependency["targets"])
    )


async def watch_room(url: str, phones: int, seconds: float, hub: psutil.Process) -> dict[str, dict[str, float]]:
    from load_harness import cpu_seconds, light_http
    from queue_client import Endpoints, QueueSession

    async with light_http(url, phones) as http:
        endpoints = await Endpoints.fetch(http)
        tick = watch_tick_index((await http.get("/config")).raise_for_status().json())
        host = QueueSession(http, endpoints)
        created = next(out for out in await host.call("/cemantix_create_room", "fr", "random") if "cx-code" in str(out))
        code = re.search(r'class="cx-code">(\w+)<', created).group(1)
        room = [QueueSession(http, endpoints) for _ in range(phones)]
        for number, phone in enumerate(room):  # one after the other: the hub is idle when the windows start
            await phone.call("/cemantix_join_room", code, f"Joueur {number}")
            await phone.call("/cemantix_guess", "arbre")

        async def send_tick(phone: QueueSession) -> tuple[float, list]:
            started = time.perf_counter()
            body = {"data": [None], "fn_index": tick, "session_hash": phone.session_hash, "event_data": None}
            answer = (await http.post("/gradio_api/run/predict", json=body)).raise_for_status().json()
            return time.perf_counter() - started, answer["data"]

        async def window(interval: float | None) -> dict[str, float]:
            """The hub's CPU while every phone ticks every `interval` s (None: no watch), each at its own phase."""
            latencies: list[float] = []
            deadline = time.monotonic() + seconds

            async def phone_loop(phone: QueueSession) -> None:
                next_tick = time.monotonic() + random.uniform(0, interval)
                while next_tick < deadline:
                    await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
                    latencies.append((await send_tick(phone))[0])
                    next_tick += interval

            before = cpu_seconds(hub)
            if interval is None:
                await asyncio.sleep(seconds)
            else:
                await asyncio.gather(*map(phone_loop, room))
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            latencies.sort()
            return {
                "hub_cpu_s": cpu_seconds(hub) - before,
                "calls": len(latencies),
                "p50_ms": percentile(latencies, 0.5) * 1e3,
                "p95_ms": percentile(latencies, 0.95) * 1e3,
            }

        results = {
            "no watch": await window(None),
            f"every {ROOM_WATCH_SECONDS} s": await window(ROOM_WATCH_SECONDS),
            "every 2 s": await window(2.0),
        }
        await host.call("/cemantix_end_room")
        before, started = cpu_seconds(hub), time.perf_counter()
        answers = await asyncio.gather(*map(send_tick, room))
        ended = sum('class="cx-reveal"' in str(data) for _, data in answers)
        results["the end, one tick each"] = {
            "hub_cpu_s": cpu_seconds(hub) - before,
            "calls": len(answers),
            "ended": ended,
            "seconds": time.perf_counter() - started,
        }
        return results


def measure_room_watch(phones: int, seconds: float) -> dict[str, dict[str, float]]:
    from hub_server import running_hub

    hub_settings = load_settings([])
    flags = ("--profile", "lecture", "--host", "127.0.0.1", "--demos", "cemantix")
    print(f"  starting the hub: app.py {' '.join(flags)} (cache {hub_settings.cache_dir})")
    with running_hub(*flags, environ=hub_environment(hub_settings.cache_dir)) as url:
        children = psutil.Process().children()
        hub = next(process for process in children if any("app.py" in part for part in process.cmdline()))
        results = asyncio.run(watch_room(url, phones, seconds, hub))
    print(f"  {phones} phones in one room, {seconds:g} s a window, the hub's CPU (its process):")
    for name, figures in results.items():
        if "ended" in figures:
            print(
                f"    {name:<24} {figures['hub_cpu_s']:6.2f} s of CPU for {figures['calls']} ticks in "
                f"{figures['seconds']:.1f} s; {figures['ended']} phones got the end view"
            )
        else:
            print(
                f"    {name:<24} {figures['hub_cpu_s']:6.2f} s of CPU ({100 * figures['hub_cpu_s'] / seconds:4.1f} % "
                f"of a core), {figures['calls']:5d} calls, p50 {figures['p50_ms']:5.1f} ms, p95 {figures['p95_ms']:5.1f} ms"
            )
    return results


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="skip the first-build timing (~10-30 s a language)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the repetitions (0.1 for a quick look)")
    parser.add_argument("--quick", action="store_true", help="the fewest repetitions, no build (seconds)")
    parser.add_argument("--room-watch", action="store_true", help="only the cost of a room's phones watching its end")
    parser.add_argument("--phones", type=int, default=100, help="--room-watch: phones in the room")
    parser.add_argument("--seconds", type=float, default=60.0, help="--room-watch: each window's length")
    args = parser.parse_args(argv)
    if args.room_watch:
        print(f"== Cémantix: a room's phones watching for its end — {now()}; {machine_description()}")
        return measure_room_watch(args.phones, args.seconds)
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
