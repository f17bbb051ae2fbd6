"""Load harness: N simulated users call a named endpoint of the hub as fast as they can for T seconds.

Each user is a thread with its own gradio_client.Client (its own session, like a phone in a
lecture hall), the users spread over --processes processes (4: one Python process would make
100 clients take turns on its interpreter lock, a wait that phones do not have; --processes 1
measures it). The clients are created and each makes one warm-up call before the timed window
(setup and warm-up are reported separately); then every user loops: call, wait for the answer,
call again, until the window closes. Printed: latency p50/p95/max of the successful calls,
throughput (successful calls per second), errors by kind, and, when the harness started the hub
itself, the CPU and memory the hub used.

Reading it: latency is what one user waits for an answer while N users hammer the hub, queueing
included; throughput is what the whole hub sustains. On one machine the clients compete with the
hub for the CPU, so these are lower bounds for a real room; compare runs on the same machine.

Bounded: the window closes after --seconds, each call gives up after --call-timeout, and at most
--max-calls calls are made in all; the harness then stops by itself (and stops the hub it started).
Loopback only: --url must point at 127.0.0.1 or localhost.

    python benchmarks/load_harness.py --scenario tokenize --users 50 --seconds 30 [--url URL]

A new demo adds a scenario: an entry in SCENARIOS, name -> Scenario(api_name, make_args(rng) -> args,
interval_s). A Mix makes each user call several endpoints, one picked at random by share for each
call (a lecture hall where every phone has several tabs open); its results come per endpoint too.
A Crowd runs different users at once (100 players and one projector's board), after a one-off
`prepare(url)` (the room they play in); --users sets the first group's size.

    python benchmarks/load_harness.py --scenario cemantix_room --users 100 --seconds 300
    python benchmarks/load_harness.py --scenario lecture --users 100 --seconds 300 --phone-page "?tab=sampling" --reuse-cache

--phone-page: halfway through the window a phone (Debian's Chromium, 390 x 844) opens that page
of the loaded hub; printed: the seconds until every tab and the opened tab's first screen show.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import multiprocessing
import os
import random
import re
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple

import psutil
from common import hub_environment, machine_description, mib, now, percentile
from hub_server import running_hub  # noqa: E402 (tests/ is on the path via common)


class Scenario(NamedTuple):
    api_name: str
    make_args: Callable[[random.Random], tuple]  # one call's arguments; rng is the user's own
    interval_s: float = 0.0  # a user's pace: one call every interval_s at most (0: as fast as it can)


class Mix(NamedTuple):
    """Users who each call several endpoints: each call picks one part, with the part's share."""

    parts: tuple[tuple[float, Scenario], ...]  # (share of the calls, what such a call does)
    interval_s: float  # a user's pace, whatever they call

    def pick(self, rng: random.Random) -> Scenario:
        return rng.choices([part for _, part in self.parts], weights=[share for share, _ in self.parts])[0]


class Crowd(NamedTuple):
    """Different users at once: (how many, what each does); `prepare(url)` runs once before they
    connect (a part of share 0 is called once by each user, in the warm-up, and never again)."""

    groups: tuple[tuple[int, Scenario | Mix], ...]
    prepare: Callable[[str], None] | None = None


def as_mix(entry: Scenario | Mix) -> Mix:
    return entry if isinstance(entry, Mix) else Mix(((1.0, entry),), entry.interval_s)


def user_mixes(entry: Scenario | Mix | Crowd, users: int) -> list[Mix]:
    """What each user does: `users` of the entry (of a Crowd's first group, then its others)."""
    if not isinstance(entry, Crowd):
        return [as_mix(entry)] * users
    (_, first), *others = entry.groups
    return [as_mix(first)] * users + [as_mix(part) for count, part in others for _ in range(count)]


# What students type in the tokenizer tab: short sentences, the lecture examples, a pasted paragraph.
TOKENIZER_TEXTS = (
    "Bonjour, je m'appelle Marie et j'habite à Paris.",
    "Hello darkness my old friend",
    "123456",
    "👍🏽",
    "La géomatique c\u2019est f",
    "Les modèles d'IA générative découpent le texte en tokens avant de le traiter.",
    "Generative AI models split text into tokens before processing it.",
    "L'Institut national de l'information géographique et forestière publie des cartes, des "
    "photographies aériennes et des modèles numériques de terrain. " * 4,
)
OPENAI_ENCODINGS = ("r50k_base", "cl100k_base", "o200k_base")


def tokenize_args(rng: random.Random) -> tuple:
    # (text, encoding, show_ids, show_whitespace), as the /tokenize endpoint takes them
    return rng.choice(TOKENIZER_TEXTS), rng.choice(OPENAI_ENCODINGS), rng.random() < 0.3, rng.random() < 0.2


def compare_args(rng: random.Random) -> tuple:
    # (text A, text B) of the "compare two texts" panel: same meaning, two languages
    return rng.choice(TOKENIZER_TEXTS[5:7]), rng.choice(TOKENIZER_TEXTS[:2] + TOKENIZER_TEXTS[5:])


@functools.cache
def french_words() -> list[str]:
    """What players type in Cémantix: common French words (a few are unknown or repeated, as in a room)."""
    from wordfreq import top_n_list

    return [word for word in top_n_list("fr", 5000) if word.isalpha()]


def cemantix_guess_args(rng: random.Random) -> tuple:
    # (word,): the first call of a session starts the daily game
    return (rng.choice(french_words()),)


# What students do in the sampling tab: the lecture's prompts, the sliders moved at random.
SAMPLING_PROMPTS = (
    "Le chat est assis sur le",
    "Il était une fois, dans une petite ville de montagne,",
    "La capitale de la France est",
    "L'IGN publie des cartes, des photographies aériennes et des",
    "Generative AI models split text into",
)


def next_token_args(rng: random.Random) -> tuple:
    """80 % of the room on the tab's default prompt, each moving the sliders at random; 20 % on a
    prompt of their own, never seen before (its forward pass cannot be cached)."""
    if rng.random() < 0.8:
        prompt = SAMPLING_PROMPTS[0]  # the tab's default (spaces/sampling/options.py FRENCH_PROMPT)
    else:
        prompt = f"{rng.choice(SAMPLING_PROMPTS)} {rng.choice(french_words())} {rng.choice(french_words())}"
    # (model, prompt, temperature, top-k, top-p, min-p, repetition penalty, candidates shown), on the sliders' steps
    return (
        "gemma3_270m",
        prompt,
        round(0.05 * rng.randrange(41), 2),
        rng.randrange(201),
        round(0.01 * rng.randrange(101), 2),
        round(0.01 * rng.randrange(21), 2),
        round(1 + 0.05 * rng.randrange(21), 2),
        10,
    )


# What students type in the image search tab: the lecture's examples and variations, French first.
CLIP_SEARCH_QUERIES = (
    "Clairière entourée de forêt",
    "Un lotissement avec des piscines",
    "Une rivière qui traverse des champs",
    "A clearing surrounded by forest",
    "Un rond-point",
    "Des vignes sur une colline",
    "Un parking de supermarché",
)


def clip_search_args(rng: random.Random) -> tuple:
    # (query, top_k), as the /clip_search_text endpoint takes them
    return rng.choice(CLIP_SEARCH_QUERIES), 12


def diffusion_noise_args(rng: random.Random) -> tuple:
    # (image, t), as /diffusion_noise takes them: Seg2Sat's example aerial image, the slider anywhere
    from gradio_client import handle_file

    from spaces.seg2sat.make_examples import AERIAL_EXAMPLES, aerial_path

    return handle_file(str(aerial_path(rng.choice(AERIAL_EXAMPLES)))), rng.randint(0, 1000)


class LectureRoom:
    """A Cémantix room for a load run: created once, then joined by every player, each with a
    nickname of their own, and shown on one board."""

    def __init__(self):
        self.code = ""
        self.nicknames = itertools.count(1)

    def create(self, url: str) -> None:
        host = new_client(url)
        created = host.predict("fr", "random", api_name="/cemantix_create_room")
        self.code = re.search(r'class="cx-code">(\w+)<', created).group(1)
        print(f"  room {self.code} created (a random French word)")

    def join_args(self, rng: random.Random) -> tuple:
        # (room code, nickname), as /cemantix_join_room takes them
        return self.code, f"Joueur {next(self.nicknames)}"

    def board_args(self, rng: random.Random) -> tuple:
        return (self.code,)


CEMANTIX_ROOM = LectureRoom()

SCENARIOS: dict[str, Scenario | Mix | Crowd] = {
    "tokenize": Scenario("/tokenize", tokenize_args),
    "tokenize_compare": Scenario("/tokenize_compare", compare_args),
    # A lecture room: each student moves a slider or edits the text about every 2 s (next_token_args: 80 % one prompt).
    "next_token": Scenario("/next_token", next_token_args, interval_s=2.0),
    # A lecture room: each player guesses about once a second (run with --users 100 --seconds 60).
    "cemantix_guess": Scenario("/cemantix_guess", cemantix_guess_args, interval_s=1.0),
    # A lecture room: each student types a description about every 3 s (one text encode each).
    "clip_search_text": Scenario("/clip_search_text", clip_search_args, interval_s=3.0),
    # A lecture room at « Comment ça marche »: each student moves the noise slider about once a second.
    "diffusion_noise": Scenario("/diffusion_noise", diffusion_noise_args, interval_s=1.0),
}
# A lecture hall playing one Cémantix room (run with --users 100 --seconds 300): each player joins,
# then guesses a word every 5 s; the projector's board refreshes every 3 s.
SCENARIOS["cemantix_room"] = Crowd(
    (
        (
            100,
            Mix(
                (
                    (0.0, Scenario("/cemantix_join_room", CEMANTIX_ROOM.join_args)),
                    (1.0, Scenario("/cemantix_guess", cemantix_guess_args)),
                ),
                interval_s=5.0,
            ),
        ),
        (1, Scenario("/cemantix_board", CEMANTIX_ROOM.board_args, interval_s=3.0)),
    ),
    prepare=CEMANTIX_ROOM.create,
)
# A lecture hall: each phone does something about every 3 s, in the tokenizer, the word game or
# the sampling tab (run with --users 100 --seconds 300).
SCENARIOS["lecture"] = Mix(
    ((1.0, SCENARIOS["tokenize"]), (1.0, SCENARIOS["cemantix_guess"]), (1.0, SCENARIOS["next_token"])),
    interval_s=3.0,
)

# A lecture hall, served on loopback only (the lecture profile would listen on 0.0.0.0).
# The profile brings its queue (512) and concurrency (32) from shared/settings.py.
HUB_FLAGS = ("--profile", "lecture", "--host", "127.0.0.1")
SETUP_WORKERS = 8  # clients created at once: each fetches the config and the API info
UNLOADED_CALLS = 20  # one user alone, one call after the other: the latency baseline


class Call(NamedTuple):
    api_name: str
    latency_s: float
    error: str | None  # None for a successful call
    started: float  # time.monotonic() when it was sent


def check_loopback(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"refusing {url}: the load harness only targets 127.0.0.1 or localhost")


def new_client(url: str):
    from gradio_client import Client

    # ssl_verify=False: the hub is plain HTTP on loopback, so no certificate is ever checked, but with
    # the default gradio_client builds two fresh SSL contexts per call (~20 ms of CPU each, with
    # httpx 0.28): the 50 clients would then load the CPU more than the hub does.
    return Client(url, verbose=False, analytics_enabled=False, download_files=False, ssl_verify=False)


def describe(error: BaseException) -> str:
    message = str(error)[:100]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def call_once(client, scenario: Scenario, rng: random.Random, call_timeout: float) -> Call:
    started, job = time.monotonic(), None
    try:
        job = client.submit(*scenario.make_args(rng), api_name=scenario.api_name)
        job.result(timeout=call_timeout)
        return Call(scenario.api_name, time.monotonic() - started, None, started)
    except Exception as error:  # a failed call is a figure, not a crash: keep loading
        if job is not None:
            job.cancel()
        return Call(scenario.api_name, time.monotonic() - started, describe(error), started)


class CallBudget:
    """At most `limit` calls in all, shared by the users' threads."""

    def __init__(self, limit: int):
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def user_loop(
    client,
    mix: Mix,
    rng: random.Random,
    deadline: float,
    budget: CallBudget,
    call_timeout: float,
    calls: list[Call],
) -> None:
    # Users start at random within one interval, as a room does: started together, 100 paced
    # users would all call at the same instant, once per interval, and wait for each other.
    next_call = time.monotonic() + rng.uniform(0, mix.interval_s)
    time.sleep(max(0.0, next_call - time.monotonic()))
    while time.monotonic() < deadline and budget.take():
        calls.append(call_once(client, mix.pick(rng), rng, call_timeout))  # list.append is thread-safe
        # The next call at the user's pace; a call slower than that is followed at once, not by a burst.
        next_call = max(next_call + mix.interval_s, time.monotonic())
        time.sleep(max(0.0, min(next_call, deadline) - time.monotonic()))


@contextmanager
def hub_or_url(url: str | None, cache_dir: str | None = None):
    """Yield (url, hub process or None): the given URL, or a hub started here for the run, with a
    fresh temporary cache, or `cache_dir` (--reuse-cache: the models converted there already)."""
    if url:
        yield url, None
        return
    with tempfile.TemporaryDirectory(prefix="iagen-bench-load-") as scratch:
        cache = cache_dir or f"{scratch}/cache"
        print(f"  starting the hub: app.py {' '.join(HUB_FLAGS)} (cache {cache}; log {scratch}/hub.log while it runs)")
        with running_hub(*HUB_FLAGS, environ=hub_environment(cache), log_path=f"{scratch}/hub.log") as started_url:
            children = psutil.Process().children()
            hub = next((p for p in children if any("app.py" in part for part in p.cmdline())), None)
            yield started_url, hub


def summarise(calls: list[Call], window_s: float) -> dict[str, object]:
    """Latency and errors of all the calls, and of each endpoint's calls under "by_endpoint"."""
    results = summarise_calls(calls, window_s)
    endpoints = sorted({call.api_name for call in calls})
    if len(endpoints) > 1:
        results["by_endpoint"] = {
            name: summarise_calls([call for call in calls if call.api_name == name], window_s) for name in endpoints
        }
    return results


def p95_by_minute(calls: list[Call], window_started: float) -> list[float]:
    """The p95 latency of the calls sent in each minute of the window: a slowdown that grows with
    time, or a burst (the phone page), shows where a single p95 would hide it."""
    minutes: dict[int, list[float]] = {}
    for call in calls:
        if call.error is None:
            minutes.setdefault(int((call.started - window_started) // 60), []).append(call.latency_s)
    return [percentile(sorted(minutes[minute]), 0.95) * 1e3 for minute in sorted(minutes)]


def summarise_calls(calls: list[Call], window_s: float) -> dict[str, object]:
    latencies = sorted(call.latency_s for call in calls if call.error is None)
    errors = Counter(call.error for call in calls if call.error is not None)
    return {
        "calls": len(calls),
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p95_ms": percentile(latencies, 0.95) * 1e3,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1e3,
        "throughput_per_s": len(latencies) / window_s,
        "window_s": window_s,
    }


class WindowResult(NamedTuple):
    calls: list[Call]
    stuck_users: int  # still waiting on a call when the harness gave up on them
    cpu_s: float  # CPU seconds the users' process used during the window


class UserGroup:
    """Some of the users, with their clients, in one process: `user_ids` index the run's users
    (each keeps its own seed and mix whichever process it runs in)."""

    def __init__(self, url: str, scenario_name: str, users: int, user_ids: Sequence[int], seed: int, timeout: float):
        mixes = user_mixes(SCENARIOS[scenario_name], users)
        self.url, self.call_timeout = url, timeout
        self.mixes = [mixes[user] for user in user_ids]
        self.rngs = [random.Random(seed * 100_003 + user) for user in user_ids]
        self.clients: list = []

    def connect_and_warm_up(self) -> tuple[float, float, list[str]]:
        """Connect every client, then each calls each of its endpoints once (every model is loaded):
        (seconds to connect, seconds to warm up, the warm-up's errors)."""
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        started = time.monotonic()
        with ThreadPoolExecutor(SETUP_WORKERS) as pool:
            self.clients = list(pool.map(lambda _: new_client(self.url), self.mixes))
        connected = time.monotonic()

        def warm_up_user(user: int) -> list[Call]:
            client, rng = self.clients[user], self.rngs[user]
            return [call_once(client, part, rng, self.call_timeout) for _, part in self.mixes[user].parts]

        with ThreadPoolExecutor(len(self.clients)) as pool:
            warm_up = [call for calls in pool.map(warm_up_user, range(len(self.clients))) for call in calls]
        return connected - started, time.monotonic() - connected, [call.error for call in warm_up if call.error]

    def run_window(self, start_at: float, seconds: float, max_calls: int) -> WindowResult:
        """Every user loops from `start_at` (time.monotonic(), one clock for every process on
        Linux) for `seconds`."""
        time.sleep(max(0.0, start_at - time.monotonic()))
        cpu_before = sum(psutil.Process().cpu_times()[:2])
        calls: list[Call] = []
        budget, deadline = CallBudget(max_calls), start_at + seconds
        threads = [
            threading.Thread(
                target=user_loop,
                daemon=True,
                args=(client, mix, rng, deadline, budget, self.call_timeout, calls),
            )
            for client, mix, rng in zip(self.clients, self.mixes, self.rngs, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:  # a call still running at the deadline ends within call_timeout
            thread.join(timeout=max(0.0, deadline + self.call_timeout + 5 - time.monotonic()))
        cpu_s = sum(psutil.Process().cpu_times()[:2]) - cpu_before
        return WindowResult(list(calls), sum(thread.is_alive() for thread in threads), cpu_s)

    def close(self) -> None:
        with ThreadPoolExecutor(16) as pool:  # close() waits up to 1 s for each heartbeat thread
            list(pool.map(lambda client: client.close(), self.clients))


def user_group_process(connection, *group_args) -> None:
    """A child process's users: connect and warm up, wait for the window's start, run it."""
    group = UserGroup(*group_args)
    connection.send(group.connect_and_warm_up())
    start_at, seconds, max_calls = connection.recv()
    connection.send(group.run_window(start_at, seconds, max_calls))
    group.close()


class InThisProcess:
    """A UserGroup run by the harness's own process (--processes 1, and a Crowd's room)."""

    def __init__(self, *group_args):
        self.group = UserGroup(*group_args)
        self.window = ThreadPoolExecutor(1)  # the window runs while the harness opens the phone page

    def connect_and_warm_up(self):
        return self.group.connect_and_warm_up()

    def start_window(self, start_at: float, seconds: float, max_calls: int) -> None:
        self.result = self.window.submit(self.group.run_window, start_at, seconds, max_calls)

    def window_results(self) -> WindowResult:
        return self.result.result()

    def close(self) -> None:
        self.window.shutdown()
        self.group.close()


class InOwnProcess:
    """A UserGroup in a process of its own (spawned: no thread of the parent is copied)."""

    def __init__(self, *group_args):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=user_group_process, args=(child, *group_args), daemon=True)
        self.process.start()

    def connect_and_warm_up(self):
        return self.connection.recv()

    def start_window(self, start_at: float, seconds: float, max_calls: int) -> None:
        self.connection.send((start_at, seconds, max_calls))

    def window_results(self) -> WindowResult:
        return self.connection.recv()

    def close(self) -> None:
        self.process.join(timeout=30)


def run(
    scenario_name: str,
    users: int,
    seconds: float,
    url: str | None = None,
    call_timeout: float = 30.0,
    max_calls: int = 200_000,
    seed: int = 0,
    phone_page: str | None = None,
    cache_dir: str | None = None,
    processes: int = 4,
) -> dict[str, object]:
    """With `phone_page` (e.g. "?tab=sampling"), a phone (Chromium) opens that page halfway
    through the window: how long a newcomer waits for every tab and its first screen.

    The users run in `processes` processes, as many clients in each: a room's phones wait for
    nobody, while 100 gradio_client clients in one Python process take turns on its one
    interpreter lock (each call polls its messages every 50 ms in two threads). A Crowd runs in
    one process: its room lives there."""
    entry = SCENARIOS[scenario_name]
    mixes = user_mixes(entry, users)
    users = len(mixes)
    processes = 1 if isinstance(entry, Crowd) else max(1, min(processes, users))
    parts = list({part.api_name: part for mix in mixes for _, part in mix.parts}.values())
    endpoints = ", ".join(part.api_name for part in parts)
    if url:
        check_loopback(url)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # the clients too
    print(
        f"== Load: {users} users in {processes} process{'es' if processes > 1 else ''} on {endpoints} "
        f"({scenario_name}) for {seconds:g} s — {now()}; {machine_description()}"
    )
    with hub_or_url(url, cache_dir) as (hub_url, hub_process):
        if isinstance(entry, Crowd) and entry.prepare:
            entry.prepare(hub_url)
        group_args = [
            (hub_url, scenario_name, users, range(first, users, processes), seed, call_timeout)
            for first in range(processes)
        ]
        groups = [InThisProcess(*group_args[0])] if processes == 1 else [InOwnProcess(*args) for args in group_args]
        ready = [group.connect_and_warm_up() for group in groups]  # the processes connect at once
        setup_s, warm_up_s = max(r[0] for r in ready), max(r[1] for r in ready)
        warm_up_errors = [error for r in ready for error in r[2]]
        print(
            f"  setup: {users} clients in {setup_s:.1f} s; warm-up: one call of each endpoint each in {warm_up_s:.1f} s"
            + (f", {len(warm_up_errors)} failed (first: {warm_up_errors[0]})" if warm_up_errors else "")
        )

        alone, alone_rng = new_client(hub_url), random.Random(seed)  # one user alone: the latency baseline
        unloaded = {
            part.api_name: [call_once(alone, part, alone_rng, call_timeout) for _ in range(UNLOADED_CALLS)]
            for part in parts
        }
        alone.close()

        hub_cpu_before = hub_process.cpu_times() if hub_process else None
        machine_before = psutil.cpu_times()
        window_started = time.monotonic() + 0.5
        for group in groups:
            group.start_window(window_started, seconds, max_calls // processes)
        phone = None
        if phone_page is not None:
            from first_load import record_a_phone

            time.sleep(max(0.0, window_started + seconds / 2 - time.monotonic()))
            phone = record_a_phone(hub_url, phone_page)
        windows = [group.window_results() for group in groups]
        window_s = time.monotonic() - window_started
        machine = psutil.cpu_times()
        calls = [call for window in windows for call in window.calls]
        stuck = sum(window.stuck_users for window in windows)

        results = summarise(calls, window_s)
        results["p95_ms_by_minute"] = p95_by_minute(calls, window_started)
        results.update(users=users, processes=processes, setup_s=setup_s, warm_up_s=warm_up_s, stuck_users=stuck)
        if phone is not None:
            results.update(phone_page=phone_page, phone_first_screen_s=phone.first_screen_s)
        results["unloaded_p50_ms"] = summarise_calls([c for part in unloaded.values() for c in part], 1.0)["p50_ms"]
        results["p50_ratio"] = results["p50_ms"] / results["unloaded_p50_ms"]
        for name, endpoint in results.get("by_endpoint", {}).items():
            endpoint["unloaded_p50_ms"] = summarise_calls(unloaded[name], 1.0)["p50_ms"]
        results["harness_cpu_per_s"] = sum(window.cpu_s for window in windows) / window_s
        # On a virtual machine, "steal" is the time its host gave our cores to someone else.
        results["steal_cores"] = (getattr(machine, "steal", 0.0) - getattr(machine_before, "steal", 0.0)) / window_s
        if hub_process:
            hub_cpu = hub_process.cpu_times()
            results["hub_cpu_per_s"] = (
                hub_cpu.user + hub_cpu.system - hub_cpu_before.user - hub_cpu_before.system
            ) / window_s
            results["hub_rss_mib"] = hub_process.memory_info().rss / 2**20
        for group in groups:
            group.close()

    print_results(results)
    return results


def print_results(results: dict[str, object]) -> None:
    print(
        f"  window {results['window_s']:.1f} s: {results['calls']} calls, {results['ok']} ok, "
        f"{results['errors']} errors; throughput {results['throughput_per_s']:.1f} calls/s"
    )
    print(
        f"  latency of successful calls: p50 {results['p50_ms']:.0f} ms, p95 {results['p95_ms']:.0f} ms, "
        f"max {results['max_ms']:.0f} ms"
    )
    print(
        f"  unloaded (1 user alone, {UNLOADED_CALLS} calls): p50 {results['unloaded_p50_ms']:.0f} ms "
        f"-> loaded p50 / unloaded p50 = {results['p50_ratio']:.1f}x"
    )
    if results.get("p95_ms_by_minute"):
        print("  p95 minute by minute: " + ", ".join(f"{p95:.0f}" for p95 in results["p95_ms_by_minute"]) + " ms")
    for name, endpoint in results.get("by_endpoint", {}).items():
        print(
            f"    {name}: {endpoint['calls']} calls, {endpoint['errors']} errors; p50 {endpoint['p50_ms']:.0f} ms, "
            f"p95 {endpoint['p95_ms']:.0f} ms, max {endpoint['max_ms']:.0f} ms (alone: p50 "
            f"{endpoint['unloaded_p50_ms']:.0f} ms)"
        )
    if results["error_kinds"]:
        print(f"  errors by kind: {results['error_kinds']}")
    if "phone_page" in results:
        print(
            f"  a phone opening {results['phone_page']} halfway through: every tab and its first screen "
            f"shown after {results['phone_first_screen_s']:.1f} s"
        )
    if results["stuck_users"]:
        print(f"  {results['stuck_users']} users still waiting on a call when the harness gave up on them")
    cpu = f"  CPU (cores busy): harness {results['harness_cpu_per_s']:.2f}, taken by the VM's host {results['steal_cores']:.2f}"
    if "hub_cpu_per_s" in results:
        cpu += f", hub {results['hub_cpu_per_s']:.2f}; hub RSS after the run {mib(results['hub_rss_mib'] * 2**20)}"
    print(cpu)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="tokenize")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--url", help="a hub already running on loopback; without it, one is started")
    parser.add_argument("--call-timeout", type=float, default=30, help="seconds before one call counts as failed")
    parser.add_argument("--max-calls", type=int, default=200_000, help="calls in all, across users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--processes", type=int, default=4, help="processes the users run in (1: all in this one, as before)"
    )
    parser.add_argument("--phone-page", help='e.g. "?tab=sampling": a phone (Chromium) opens it halfway through')
    parser.add_argument(
        "--reuse-cache",
        action="store_true",
        help="start the hub on the normal cache (IAGEN_CACHE_DIR, ~/.cache/iagen-demos) instead of a fresh one, so that "
        "the models converted there already (python -m shared.prefetch) load in seconds, within the call timeout",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.seconds > 600:
        parser.error("--users must be >= 1 and --seconds in (0, 600]")
    cache_dir = None
    if args.reuse_cache:
        from shared.settings import load_settings

        cache_dir = str(load_settings([]).cache_dir)
    return run(
        args.scenario,
        args.users,
        args.seconds,
        args.url,
        args.call_timeout,
        args.max_calls,
        args.seed,
        args.phone_page,
        cache_dir,
        args.processes,
    )


if __name__ == "__main__":
    main()
