"""The QR rush: what a phone downloads to open the hub, and 200 phones opening it within 10 s.

1. A phone (Debian's Chromium, 390 x 844, touch) opens the page: the bytes it transfers, its
   requests, and the seconds until every tab's label and the opened tab's first screen show.
   Its requests are recorded: the page, Gradio's code and styles, and the page's load events
   (the calls the page makes to the server as it opens, e.g. the tokenizer's first count).
2. The rush: N phones start within W seconds (evenly spread) and each replays what that phone
   did, with httpx: the page, its files (six connections at a time, as a browser), its load
   events (a session of its own; queued events followed on the event stream until they end).
   A phone counts as served when all of it answered without error. The same rush runs twice,
   one after the other in one run: on the hub ("ours"), then on the same hub as Gradio serves it
   alone (gradio_alone_hub.py: without shared/compression.py, its page and JSON uncompressed,
   its .js and .css read and compressed anew for every phone).

    python benchmarks/first_load.py [--phones 200] [--within 10] [--tab tokenizer] [--own-page] [--quick]
                                    [--url URL --hub-pid PID]   # ours: a hub running already

   With --own-page, the phones open on the hub what a room's QR code opens, the demo's page of
   its own (/cemantix/?room=CODE, app.py's DEMO_PAGES), and the whole hub at ?tab= too; Gradio
   alone serves the whole hub at ?tab=, the page a QR code opened before there were such pages.

3. One compressed page GET: the hub's CPU for it, beside a one-textbox Gradio app's
   (one_textbox_app.py) and the hub as Gradio serves it alone, each the mean of --page-gets GETs.
4. API clients: --clients gradio_client users connecting at once (each fetches /config and the
   API info, then keeps a heartbeat open): how many connected, and the hub's CPU for them.

Loopback only; bounded: each phone gives up after --timeout seconds, the run ends by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import hub_environment, machine_description, now, percentile, run_benchmark
from hub_server import running_hub  # noqa: E402 (tests/ is on the path via common)

HUB_FLAGS = ("--profile", "lecture", "--host", "127.0.0.1")
# --quick: the laptop profile, which makes no model ready before serving: each hub starts in
# seconds instead of ~15 s, and the pages, files and rush are the same.
QUICK_HUB_FLAGS = ("--profile", "laptop", "--host", "127.0.0.1")
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TARGET_BYTES = 600_000
ACCEPT_ENCODING = "gzip, deflate, br"  # what Chromium asks
START_TIMEOUT = 600  # the lecture profile converts every model from its pack on a fresh cache first


# The code of a join link in the rush: no room of that code is needed (the page fills the code in
# and opens « Salle » without asking the server anything).
ROOM_CODE = "QR2026"


@dataclass
class Recording:
    """What one phone's browser did to open the page."""

    query: str  # what follows the hub's address: "?tab=tokenizer", "cemantix/?room=QR2026"
    transferred: int
    requests: int
    first_screen_s: float
    files: list[str]  # paths of the page's own files (code, styles, images), in the order fetched
    sent_with_origin: list[str]  # those the browser asked with an Origin header (module scripts, styles)
    load_calls: list[tuple[str, dict]]  # (path, JSON body) of the calls the page made as it opened


def record_a_phone(url: str, query: str) -> Recording:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
        page = context.new_page()
        network = context.new_cdp_session(page)
        network.send("Network.enable")
        transferred: dict[str, int] = {}
        network.on("Network.loadingFinished", lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]))
        files, load_calls, sent_with_origin = [], [], []

        def on_request(request) -> None:
            path = request.url.removeprefix(url.rstrip("/"))
            if request.method == "POST" and "/gradio_api/" in path:
                load_calls.append((path, json.loads(request.post_data or "{}")))
            elif request.method == "GET" and "/gradio_api/" not in path and request.url.startswith(url):
                files.append(path)
                if "origin" in request.headers:
                    sent_with_origin.append(path)

        page.on("request", on_request)
        started = time.perf_counter()
        page.goto(url + query)
        whole_hub = query.startswith("?")  # else a demo's page of its own, with its own tabs
        tabs = page.locator("#hub-tabs [role=tab]" if whole_hub else "[role=tab]")
        tabs.first.wait_for()
        for index in range(tabs.count()):
            tabs.nth(index).wait_for()
        opened = page.locator("#hub-tabs [role=tabpanel]:visible" if whole_hub else "[role=tabpanel]:visible").first
        opened.locator("textarea, button, .prose").first.wait_for()
        first_screen_s = time.perf_counter() - started
        page.wait_for_timeout(5000)  # the load events' answers, and the files loaded after them
        browser.close()
    return Recording(
        query, sum(transferred.values()), len(transferred), first_screen_s, files, sent_with_origin, load_calls
    )


@dataclass
class Phone:
    seconds: float
    transferred: int
    error: str | None


async def open_like_a_phone(url: str, recording: Recording, accept_encoding: str, delay: float, timeout: float):
    import httpx

    await asyncio.sleep(delay)
    started = time.perf_counter()
    session = secrets.token_hex(6)
    limits = httpx.Limits(max_connections=6)  # what a browser opens to one host
    headers = {"Accept-Encoding": accept_encoding}
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout) as client:

            async def send(method: str, path: str, **options):
                # A browser sends a request again when the server closed the kept-alive connection
                # it went out on before answering (the server's keep-alive timeout, 5 s, met the
                # request; Chromium resends then, whatever the method): so does a phone.
                try:
                    return await client.request(method, path, **options)
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    try:
                        return await client.request(method, path, **options)
                    except httpx.HTTPError as error:
                        raise RuntimeError(f"{method} {path[:40]}: {type(error).__name__} twice") from error

            origin = {"Origin": url.rstrip("/")}  # as the browser sent it: the page's own
            responses = [await send("GET", recording.files[0])]  # the page, then what it names
            responses += await asyncio.gather(
                *(
                    send("GET", path, headers=origin if path in recording.sent_with_origin else None)
                    for path in recording.files[1:]
                )
            )
            events = []
            for path, body in recording.load_calls:
                answer = await send("POST", path, json={**body, "session_hash": session})
                responses.append(answer)
                if "/queue/join" in path and answer.status_code == 200:
                    events.append(answer.json()["event_id"])
            for response in responses:
                response.raise_for_status()
            await follow_events(client, session, set(events))
            transferred = sum(response.num_bytes_downloaded for response in responses)
        return Phone(time.perf_counter() - started, transferred, None)
    except Exception as error:  # a failed phone is a figure, not a crash
        return Phone(time.perf_counter() - started, 0, f"{type(error).__name__}: {str(error)[:80]}")


async def follow_events(client, session: str, pending: set[str]) -> None:
    """Read the session's event stream until every queued load event has ended, successfully."""
    if not pending:
        return
    async with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                if not message.get("success", True):
                    raise RuntimeError(f"a load event failed: {str(message.get('output'))[:80]}")
                pending.discard(message.get("event_id"))
                if not pending:
                    return
            elif message.get("msg") == "close_stream":
                break
    if pending:
        raise RuntimeError(f"{len(pending)} load events never ended")


async def rush(url: str, recording: Recording, phones: int, within: float, accept_encoding: str, timeout: float):
    delays = [within * index / max(1, phones - 1) for index in range(phones)]
    return await asyncio.gather(
        *(open_like_a_phone(url, recording, accept_encoding, delay, timeout) for delay in delays)
    )


def summarise(name: str, results: list[Phone], phones: int) -> dict:
    served = sorted(phone.seconds for phone in results if phone.error is None)
    errors = [phone.error for phone in results if phone.error]
    transferred = [phone.transferred for phone in results if phone.error is None]
    figures = {
        "served": len(served),
        "errors": len(errors),
        "p50_s": percentile(served, 0.5),
        "p95_s": percentile(served, 0.95),
        "max_s": served[-1] if served else float("nan"),
        "kb_per_phone": sum(transferred) / max(1, len(transferred)) / 1000,
    }
    print(
        f"  {name}: {figures['served']}/{phones} phones served, {figures['errors']} errors; page working after "
        f"p50 {figures['p50_s']:.1f} s, p95 {figures['p95_s']:.1f} s, max {figures['max_s']:.1f} s; "
        f"{figures['kb_per_phone']:.0f} KB each" + (f"; first error: {errors[0]}" if errors else "")
    )
    return figures


def timed_rush(name: str, url: str, hub, recording: Recording, args) -> dict:
    """The rush on the hub at `url` (its process `hub`), with the CPU it cost the hub and this harness (same cores)."""
    import psutil

    harness = psutil.Process()
    hub_before, harness_before = sum(hub.cpu_times()[:2]), sum(harness.cpu_times()[:2])
    phones = asyncio.run(rush(url, recording, args.phones, args.within, ACCEPT_ENCODING, args.timeout))
    figures = summarise(name, phones, args.phones)
    figures["hub_cpu_s"] = sum(hub.cpu_times()[:2]) - hub_before
    figures["harness_cpu_s"] = sum(harness.cpu_times()[:2]) - harness_before
    print(
        f"    CPU: the hub {figures['hub_cpu_s']:.1f} s, this harness {figures['harness_cpu_s']:.1f} s (the same 2 cores)"
    )
    return figures


def page_get_cpu_ms(url: str, hub, query: str, gets: int) -> float:
    """The hub's CPU for one compressed page GET: the mean of `gets` GETs one after the other,
    less what the hub spent idle (its queue's loops, its warm-ups) for as long right after."""
    import httpx

    with httpx.Client(headers={"Accept-Encoding": ACCEPT_ENCODING}) as client:
        client.get(url + query).raise_for_status()  # the first is the one that may render
        before, started = sum(hub.cpu_times()[:2]), time.perf_counter()
        for _ in range(gets):
            client.get(url + query).raise_for_status()
        busy, elapsed = sum(hub.cpu_times()[:2]) - before, time.perf_counter() - started
    time.sleep(elapsed)
    idle = sum(hub.cpu_times()[:2]) - before - busy
    return max(0.0, busy - idle) / gets * 1000


def clients_connecting(url: str, hub, clients: int) -> dict:
    """`clients` gradio_client users connecting at once, each in a thread of its own."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    ready = threading.Barrier(clients)

    def connect(_) -> str | None:
        ready.wait()
        try:
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
            client.close()
            return None
        except Exception as error:  # a failed client is a figure
            return f"{type(error).__name__}: {str(error)[:80]}"

    before, started = sum(hub.cpu_times()[:2]), time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        errors = [error for error in pool.map(connect, range(clients)) if error]
    figures = {
        "connected": clients - len(errors),
        "errors": len(errors),
        "seconds": time.perf_counter() - started,
        "hub_cpu_ms_per_client": (sum(hub.cpu_times()[:2]) - before) / clients * 1000,
    }
    print(
        f"    {clients} gradio_client users connecting at once: {figures['connected']} connected, "
        f"{figures['errors']} failed, in {figures['seconds']:.1f} s; the hub's CPU "
        f"{figures['hub_cpu_ms_per_client']:.0f} ms a client" + (f"; first error: {errors[0]}" if errors else "")
    )
    return figures


@contextmanager
def served(url: str | None, hub_pid: int | None, *flags: str, **options):
    """Yield (the URL, the server's process): `url` and the process `hub_pid` where given (a hub
    already running), else `running_hub`'s, started here."""
    import psutil

    if url:
        yield url, psutil.Process(hub_pid)
        return
    with running_hub(*flags, timeout=START_TIMEOUT, **options) as started:
        yield started, psutil.Process().children()[-1]  # running_hub's child: the server


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--within", type=float, default=10.0, help="seconds over which the phones start")
    parser.add_argument("--tab", default="tokenizer", help="the tab the QR code opens (?tab=)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a phone gives up")
    parser.add_argument("--page-gets", type=int, default=100, help="page GETs timed one after the other")
    parser.add_argument("--clients", type=int, default=100, help="gradio_client users connecting at once (0: none)")
    parser.add_argument(
        "--reuse-cache",
        action="store_true",
        help="start the hubs on the normal cache (IAGEN_CACHE_DIR, ~/.cache/iagen-demos) instead of a fresh one: the "
        "lecture profile makes every model ready before serving, in seconds from what python -m shared.prefetch "
        "converted there, in minutes from the packs",
    )
    parser.add_argument("--url", help="ours: a hub already running on loopback (its process: --hub-pid)")
    parser.add_argument("--hub-pid", type=int, help="with --url: the hub's process, whose CPU is measured")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 phones, 2 clients, 25 page GETs, on the normal cache, the laptop profile (a check that it runs)",
    )
    parser.add_argument(
        "--own-page",
        action="store_true",
        help="on the hub, the phones open the demo's page of its own (/<tab>/?room=CODE, what a room's QR code "
        "opens) and the whole hub at ?tab=<tab>; Gradio alone serves the whole hub at ?tab=<tab>",
    )
    args = parser.parse_args(argv)
    if args.quick:
        # 25 page GETs: Gradio alone's (~40 ms of CPU each) took 4 s of the run at 100; the one
        # textbox's (~1.6 ms each) still add up past the CPU clock's tick, ours may read 0 ms.
        args.phones, args.within, args.clients, args.reuse_cache, args.page_gets = 5, 1.0, 2, True, 25
    if not 1 <= args.phones <= 500 or not 0 <= args.within <= 60:
        parser.error("--phones must be in [1, 500] and --within in [0, 60]")
    if bool(args.url) != bool(args.hub_pid):
        parser.error("--url and --hub-pid go together")
    print(f"== First load and the QR rush — {now()}; {machine_description()}")
    with tempfile.TemporaryDirectory(prefix="iagen-bench-first-load-") as scratch:
        if args.reuse_cache:
            from shared.settings import load_settings

            environ = hub_environment(load_settings([]).cache_dir)
        else:
            environ = hub_environment(f"{scratch}/cache")
        hub_flags = QUICK_HUB_FLAGS if args.quick else HUB_FLAGS
        ours = served(args.url, args.hub_pid, *hub_flags, environ=environ, log_path=f"{scratch}/hub.log")
        with ours as (url, hub):
            recording = record_a_phone(url, f"?tab={args.tab}")
            verdict = "within" if recording.transferred <= TARGET_BYTES else "ABOVE"
            print(
                f"  one phone, ?tab={args.tab}: {recording.transferred / 1000:.0f} KB in {recording.requests} requests "
                f"({verdict} the {TARGET_BYTES / 1000:.0f} KB target); every tab and the first screen shown after "
                f"{recording.first_screen_s:.1f} s; {len(recording.load_calls)} load events"
            )
            print(f"  the rush: {args.phones} phones opening ?tab={args.tab} within {args.within:g} s, on each hub")
            results = {"phone": recording.__dict__}
            opened = recording  # what the phones open on the hub
            if args.own_page:
                opened = record_a_phone(url, f"{args.tab}/?room={ROOM_CODE}")
                print(
                    f"  one phone, /{opened.query}: {opened.transferred / 1000:.0f} KB in {opened.requests} requests; "
                    f"its tabs and first screen shown after {opened.first_screen_s:.1f} s; "
                    f"{len(opened.load_calls)} load events"
                )
                results["phone on the demo's page"] = opened.__dict__
                print(f"  and the same phones opening /{opened.query} on ours")
            page_get_ours = page_get_cpu_ms(url, hub, opened.query, args.page_gets)
            results["ours"] = timed_rush("ours", url, hub, opened, args)
            results["ours"]["page_get_cpu_ms"] = page_get_ours
            if args.own_page:
                results["ours, the whole hub"] = timed_rush(
                    f"ours, the whole hub at {recording.query}", url, hub, recording, args
                )
            if args.clients:
                results["ours"]["clients"] = clients_connecting(url, hub, args.clients)
        alone = Path(__file__).resolve().parent / "gradio_alone_hub.py"
        alone_log = f"{scratch}/hub-alone.log"
        with served(None, None, *hub_flags, environ=environ, log_path=alone_log, script=alone) as (url, hub):
            results["as Gradio serves it alone"] = timed_rush("as Gradio serves it alone", url, hub, recording, args)
            results["as Gradio serves it alone"]["page_get_cpu_ms"] = page_get_cpu_ms(
                url, hub, recording.query, args.page_gets
            )
            if args.clients:
                results["as Gradio serves it alone"]["clients"] = clients_connecting(url, hub, args.clients)
        textbox = Path(__file__).resolve().parent / "one_textbox_app.py"
        with served(None, None, environ=environ, log_path=f"{scratch}/textbox.log", script=textbox) as (url, hub):
            results["one textbox"] = {"page_get_cpu_ms": page_get_cpu_ms(url, hub, "", args.page_gets)}
    ours, alone_cpu = results["ours"]["hub_cpu_s"], results["as Gradio serves it alone"]["hub_cpu_s"]
    page_ms = {name: figures["page_get_cpu_ms"] for name, figures in results.items() if "page_get_cpu_ms" in figures}
    if args.own_page:
        whole = results["ours, the whole hub"]["hub_cpu_s"]
        print(
            f"  the hub's CPU for the rush, its whole page at {recording.query}: ours {whole:.1f} s "
            f"({whole / alone_cpu:.2f}x Gradio alone)"
        )
    where = f" on /{opened.query}" if args.own_page else ""
    textbox_ms = page_ms["one textbox"]
    against_textbox = (
        f"ours {page_ms['ours'] / textbox_ms:.2f}x the one textbox" if textbox_ms else "under the CPU clock's tick"
    )
    print(
        f"  the hub's CPU for the rush: ours{where} {ours:.1f} s against {alone_cpu:.1f} s as Gradio serves it alone "
        f"({ours / alone_cpu:.2f}x)\n  one compressed page GET, the server's CPU: ours {page_ms['ours']:.1f} ms, "
        f"as Gradio serves the hub alone {page_ms['as Gradio serves it alone']:.1f} ms, a one-textbox Gradio app "
        f"{textbox_ms:.1f} ms ({against_textbox})"
    )
    return results


if __name__ == "__main__":
    run_benchmark(main)
