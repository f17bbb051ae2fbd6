"""What a reply cost (shared/reply_cost.py): the memory arithmetic, the line in both languages, the
meter's segments shared among replies written at once, its one tracker started at the first reply
(not at import), and codecarbon and ecologits working with no network at all."""

import math
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from shared.reply_cost import (
    HostedEstimate,
    ReplyCost,
    ReplyCostMeter,
    approximate,
    cost_line,
    gpus_needed,
    hosted_estimates,
    spoken_cost,
    weights_memory_gb,
)
from shared.reply_cost_texts import TEXTS

# --- the memory slide ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "bytes_per_weight", "memory_gb", "gpus"),
    [
        (175e9, 4, 700, 9),  # GPT-3 in float32: 700 GB, nine 80 GB GPUs
        (175e9, 2, 350, 5),
        (175e9, 1, 175, 3),
        (175e9, 0.5, 87.5, 2),
        (268e6, 4, 1.072, 1),  # Gemma 3 270M in float32
        (40e9, 2, 80, 1),  # exactly one GPU's memory
    ],
)
def test_weights_memory_is_parameters_times_bytes_and_fills_80_gb_gpus(parameters, bytes_per_weight, memory_gb, gpus):
    assert weights_memory_gb(parameters, bytes_per_weight) == pytest.approx(memory_gb)
    assert gpus_needed(weights_memory_gb(parameters, bytes_per_weight)) == gpus


def test_a_byte_more_than_a_gpu_takes_another_and_nothing_takes_one():
    assert gpus_needed(80.000001) == 2 and gpus_needed(0) == 1 and gpus_needed(160, gpu_memory_gb=40) == 4


# --- the line under a reply -------------------------------------------------------------------------------

COST = ReplyCost(tokens=42, cpu_seconds=3.14, energy_wh=0.0194, co2e_g=0.00108, energy_measured=False)
ESTIMATES = [
    HostedEstimate("GPT-4o", (0.0676, 0.108), (0.029, 0.045)),
    HostedEstimate("Mistral Large 3", (0.132,) * 2, (0.012,) * 2),
]


@pytest.mark.parametrize(
    ("value", "french", "english"),
    [
        (0.0194, "0,019", "0.019"),
        (3.14, "3,1", "3.1"),
        (1287, "1\u202f300", "1,300"),
        (0.996, "1,0", "1.0"),
        (0, "0", "0"),
    ],
)
def test_figures_keep_two_significant_digits_in_the_pages_number_format(value, french, english):
    assert approximate(value, "fr") == french and approximate(value, "en") == english


def test_the_line_says_tokens_cpu_time_energy_how_it_was_known_and_the_hosted_models_in_french():
    assert cost_line(COST, ESTIMATES, "fr") == (
        "42 tokens · 3,1\u00a0s de calcul · ≈\u00a00,019\u00a0Wh · ≈\u00a00,0011\u00a0g CO2e (modélisé d'après la charge"
        " CPU) · le même texte par GPT-4o : 0,068–0,11\u00a0Wh, par Mistral Large 3 : 0,13\u00a0Wh"
    )


def test_the_line_in_english_and_a_measured_processor_said_so():
    measured = ReplyCost(1234, 61.0, 0.5, 0.028, energy_measured=True)
    assert cost_line(measured, ESTIMATES[:1], "en") == (
        "1,234 tokens · 61\u00a0s of computing · ≈\u00a00.50\u00a0Wh · ≈\u00a00.028\u00a0g CO2e (processor measured by"
        " RAPL, memory modelled) · the same text by GPT-4o: 0.068–0.11\u00a0Wh"
    )


def test_a_screen_reader_hears_words_not_symbols():
    for language in ("fr", "en"):
        spoken = spoken_cost(COST, ESTIMATES, language)
        assert not {"≈", "·", "–"} & set(spoken), spoken
    assert spoken_cost(COST, ESTIMATES, "fr") == (
        "Coût de cette réponse : 42 tokens, 3,1 secondes de calcul, environ 0,019 wattheure et 0,0011 gramme"
        " d'équivalent CO2, une estimation d'après la charge du processeur, pas une mesure. Le même texte écrit"
        " par GPT-4o : entre 0,068 et 0,11 wattheure ; par Mistral Large 3 : 0,13 wattheure."
    )
    assert spoken_cost(COST, [], "en") == (
        "Cost of this reply: 42 tokens, 3.1 seconds of computing, about 0.019 watt-hours and 0.0011 grams of CO2"
        " equivalent, an estimate from the processor's load, not a measurement."
    )


def test_without_codecarbon_the_line_keeps_the_tokens_and_the_cpu_time():
    unknown = ReplyCost(5, 0.5, None, None, energy_measured=False)
    assert cost_line(unknown, [], "fr") == "5 tokens · 0,50\u00a0s de calcul"
    assert "wattheure" not in spoken_cost(unknown, [], "fr")


# --- the meter: segments shared among the replies written at once ----------------------------------------


class FakeTracker:
    """codecarbon's task API as the meter uses it; each stopped task reports `energy_kwh` (set by the
    test before it ends) at 56 g CO2e per kWh."""

    def __init__(self, cpu_mode: str = "cpu_load"):
        self._tasks = {}
        self._hardware = [SimpleNamespace(), type("CPU", (), {"_mode": cpu_mode})()]
        self.energy_kwh = 0.0
        self.started_tasks = 0

    def start_task(self, name):
        assert name not in self._tasks, "a task started twice: codecarbon would measure it under another name"
        self._tasks[name] = True
        self.started_tasks += 1

    def stop_task(self, name):
        self._tasks[name] = "stopped"  # the meter drops it: codecarbon would keep it for ever
        energy, self.energy_kwh = self.energy_kwh, 0.0
        return SimpleNamespace(energy_consumed=energy, emissions=energy * 0.056)


class Clock:
    """CPU seconds the test advances by hand."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self):
        return self.seconds


def meter_with_fakes(cpu_mode="cpu_load"):
    trackers, clock = [], Clock()

    def make_tracker():
        trackers.append(FakeTracker(cpu_mode))
        return trackers[-1]

    return ReplyCostMeter(make_tracker, clock), trackers, clock


def test_the_tracker_starts_at_the_first_reply_and_only_once():
    meter, trackers, clock = meter_with_fakes()
    assert not meter.started and trackers == []
    for _ in range(3):
        with meter.measure() as reply:
            reply.tokens = 4
    assert len(trackers) == 1 and meter.started
    assert trackers[0]._tasks.get("reply-segment") is None  # each segment dropped once shared


def test_a_reply_alone_gets_all_of_its_segment():
    meter, trackers, clock = meter_with_fakes()
    with meter.measure() as reply:
        reply.tokens = 12
        clock.seconds += 2.5
        trackers[0].energy_kwh = 10e-6
    assert reply.cost == ReplyCost(12, 2.5, pytest.approx(0.01), pytest.approx(0.00056), False)


def test_replies_written_at_once_share_each_segment_equally():
    meter, trackers, clock = meter_with_fakes()
    first = meter.measure()
    a = first.__enter__()
    clock.seconds += 1.0  # A alone: 1 s, 4 mWh
    trackers[0].energy_kwh = 4e-6
    second = meter.measure()
    b = second.__enter__()
    clock.seconds += 2.0  # A and B: 2 s, 6 mWh, half each
    trackers[0].energy_kwh = 6e-6
    first.__exit__(None, None, None)
    clock.seconds += 0.5  # B alone: 0.5 s, 1 mWh
    trackers[0].energy_kwh = 1e-6
    second.__exit__(None, None, None)
    assert a.cost.cpu_seconds == pytest.approx(2.0) and a.cost.energy_wh == pytest.approx(0.007)
    assert b.cost.cpu_seconds == pytest.approx(1.5) and b.cost.energy_wh == pytest.approx(0.004)
    assert a.cost.co2e_g == pytest.approx(0.007 * 0.056)


def test_a_stopped_reply_ends_its_measure_and_the_others_go_on():
    meter, trackers, clock = meter_with_fakes()

    def stream(measure):
        with measure as reply:
            while True:
                reply.tokens += 1
                yield

    stopped = meter.measure()
    generator = stream(stopped)
    next(generator)
    with meter.measure() as other:
        clock.seconds += 1.0
        generator.close()  # « Arrêter »: Gradio closes the handler's generator
        clock.seconds += 1.0
    assert meter._running == []
    assert other.cost.cpu_seconds == pytest.approx(1.5)


def test_a_processor_with_an_energy_counter_is_said_measured():
    for mode, measured in (("intel_rapl", True), ("cpu_load", False), ("constant", False)):
        meter, _, _ = meter_with_fakes(mode)
        with meter.measure() as reply:
            pass
        assert reply.cost.energy_measured is measured, mode


def test_if_codecarbon_cannot_start_replies_go_on_without_energy(caplog):
    def broken():
        raise OSError("no /proc here")

    meter = ReplyCostMeter(broken, Clock())
    with meter.measure() as reply:
        reply.tokens = 3
    with meter.measure() as again:
        again.tokens = 2
    assert reply.cost.energy_wh is None and again.cost.co2e_g is None and again.cost.tokens == 2
    assert "codecarbon could not start" in caplog.text


def test_the_meter_is_thread_safe():
    meter, trackers, clock = meter_with_fakes()
    costs = []

    def reply():
        with meter.measure() as measure:
            measure.tokens = 1
        costs.append(measure.cost)

    threads = [threading.Thread(target=reply) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(costs) == 16 and meter._running == [] and len(trackers) == 1


def test_importing_the_hub_s_reply_code_loads_neither_codecarbon_nor_ecologits():
    code = (
        "import sys, shared.reply_cost, shared.reply_cost_ui, spaces.sampling.handlers, spaces.sampling.ui\n"
        "from shared.reply_cost import REPLY_COSTS\n"
        "assert not REPLY_COSTS.started\n"
        "print(sorted(name for name in ('codecarbon', 'ecologits') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- the real libraries, with no network -------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any connection or name lookup fails at once and is recorded."""
    attempts = []

    def refuse(*arguments, **keywords):
        attempts.append(arguments)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_codecarbon_measures_a_reply_offline_with_france_s_factor(no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where codecarbon would write its emissions.csv
    meter = ReplyCostMeter()
    with meter.measure() as reply:
        reply.tokens = 1
        busy_until = time.process_time() + 0.3
        while time.process_time() < busy_until:
            pass
    cost = reply.cost
    assert cost.cpu_seconds >= 0.25 and cost.energy_wh > 0
    # codecarbon's own factor for France, which « Pour situer » quotes
    assert cost.co2e_g / (cost.energy_wh / 1000) == pytest.approx(56.039, rel=1e-3)
    assert "56 g" in TEXTS.get("reply_cost_context_intro", "fr") and "56 g" in TEXTS.get(
        "reply_cost_context_sources", "en"
    )
    assert no_network == [] and list(tmp_path.iterdir()) == []


def test_ecologits_estimates_hosted_models_offline_as_ranges(no_network):
    short, long = hosted_estimates(40), hosted_estimates(400)
    assert [estimate.model for estimate in short] == ["GPT-4o", "Mistral Large 3"]
    gpt4o, mistral = long
    assert gpt4o.energy_wh[0] < gpt4o.energy_wh[1]  # GPT-4o's size is not published: a range
    assert mistral.energy_wh[0] == mistral.energy_wh[1]  # Mistral Large 3's is
    for before, after in zip(short, long, strict=True):
        assert after.energy_wh[0] > before.energy_wh[0] and after.co2e_g[1] > before.co2e_g[1]
    assert 0.3 < gpt4o.energy_wh[0] < gpt4o.energy_wh[1] < 2  # Wh for 400 tokens, the order of published figures
    assert hosted_estimates(0) == [] and no_network == []
    assert all(math.isfinite(value) for estimate in long for value in (*estimate.energy_wh, *estimate.co2e_g))
