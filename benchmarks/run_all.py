"""All the benchmarks in sequence (`make bench`), then a summary of their headline figures.

1. startup.py: hub first page vs `import gradio` (ratio, target <= 1.5x), and their memory;
2. tokenizer.py: logic.tokenize vs the bare encoder call, per encoding, 10 000 and 200 000 chars;
3. load_harness.py: 50 users on /tokenize for 30 s against a hub started for the run.

Each ratio is measured side by side in the same run, so compare ratios across machines and
absolute figures only on the same machine. About 2 to 3 minutes; nothing is asserted.
"""

from __future__ import annotations

import time

import load_harness
import startup
import tokenizer
from common import machine_description, now


def main() -> None:
    started = time.perf_counter()
    machine, date = machine_description(), now()
    startup_results = startup.main([])
    print()
    tokenizer_results = tokenizer.main([])
    print()
    load_results = load_harness.main(["--scenario", "tokenize", "--users", "50", "--seconds", "30"])

    print(f"\n== Summary — {date}; {machine}; {time.perf_counter() - started:.0f} s in all")
    print(
        f"  start-up: hub first page {startup_results['hub_start_s']:.2f} s vs import gradio "
        f"{startup_results['import_gradio_s']:.2f} s -> {startup_results['time_ratio']:.2f}x (target <= "
        f"{startup.TARGET_RATIO}x); RSS {startup_results['hub_rss_mib']:.0f} vs "
        f"{startup_results['import_gradio_rss_mib']:.0f} MiB -> {startup_results['memory_ratio']:.2f}x"
    )
    for name, figures in tokenizer_results.items():
        encoding, size = name.split()
        print(
            f"  tokenize {encoding:12} {int(size):>7,} chars: ours {figures['ours_ms']:7.2f} ms vs bare "
            f"{figures['bare_ms']:7.2f} ms -> {figures['ratio']:.2f}x"
        )
    print(
        f"  load, {load_results['users']} users on /tokenize for {load_results['window_s']:.0f} s: "
        f"p50 {load_results['p50_ms']:.0f} ms, p95 {load_results['p95_ms']:.0f} ms, max {load_results['max_ms']:.0f} ms, "
        f"{load_results['throughput_per_s']:.1f} calls/s, {load_results['errors']} errors; "
        f"p50 {load_results['p50_ratio']:.1f}x the unloaded {load_results['unloaded_p50_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
