"""What a language model's reply cost: its tokens, the CPU time it took, an energy and carbon
estimate, and what the same text would cost a large hosted model; and the memory slide made live
(parameters x bytes per weight). Gradio-free; the texts are in reply_cost_texts.py, the page's
parts in reply_cost_ui.py and reply_cost_line.py.

Energy comes from codecarbon (`OfflineEmissionsTracker`, France's electricity, no network). One
tracker for the process, created at the first reply, not at the hub's start: its hardware probe
takes ~1.5 s (mostly waiting), which that first reply waits for, once. codecarbon measures one
task at a time, and a room's replies overlap, so the tracker's tasks are *segments*: a segment ends
and the next begins whenever a reply starts or ends, and each segment's energy and CPU time are
shared equally among the replies written during it (their tokens come from the same batched
passes, one row each: shared/batching.py). A reply's cost is the sum of its shares.

Where the CPU time is counted: codecarbon's "process" mode, and our CPU seconds with it, count the
hub's process and its children. A reply's passes run in the hub's process (the batcher's worker);
the lecture profile's passes' process (shared/pass_process.py) is a child and is counted too. Other
work of the hub during a reply (a page served, a next-token view) is counted in: on a busy server
the figure is an upper bound.

Measured or modelled: with an energy counter (RAPL on Linux, readable by the hub's user) the
processor's energy is measured; without one (most VMs, and laptops where RAPL is root-only)
codecarbon models it from the CPU load and the processor's rated power. The memory is always
modelled (a constant power per GB). `ReplyCost.energy_measured` says which, and the page says it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

COUNTRY = "FRA"  # the hub runs in France (a lecture hall, a laptop): codecarbon's French electricity factor
SEGMENT_TASK = "reply-segment"
# codecarbon's CPU modes that read an energy counter; the others ("cpu_load", "constant") model it.
MEASURED_CPU_MODES = frozenset({"intel_rapl", "windows_emi", "apple_powermetrics", "intel_power_gadget"})

# Large hosted models whose cost for the same text ecologits estimates (its model table ships in
# the package): (provider, model id in ecologits' table, name for the page).
HOSTED_MODELS = (
    ("openai", "gpt-4o", "GPT-4o"),
    ("mistralai", "mistral-large-2512", "Mistral Large 3"),
)

GPU_MEMORY_GB = 80  # an A100 or H100 of 80 GB
BYTES_PER_WEIGHT = {"float32": 4, "bfloat16": 2, "int8": 1, "int4": 0.5}
# The models of the memory slide: ours (parameters counted on the loaded models, docs/models.md)
# and GPT-3's 175 billion.
MODEL_PARAMETERS = {
    "SmolLM2 135M": 134.5e6,
    "Gemma 3 270M": 268e6,
    "GPT-3 175 B": 175e9,
}


@dataclass(frozen=True)
class ReplyCost:
    """One reply's share of what the hub spent while it was written."""

    tokens: int
    cpu_seconds: float  # CPU time of the hub's processes, this reply's share
    energy_wh: float | None  # processor + memory; None where codecarbon could not start (the log says why)
    co2e_g: float | None  # energy x codecarbon's factor for France
    energy_measured: bool  # True: the processor's energy counter (RAPL); False: modelled from CPU load


@dataclass(frozen=True)
class HostedEstimate:
    """ecologits' estimate for one hosted model writing as many tokens: (low, high), equal when
    the model's size is published."""

    model: str
    energy_wh: tuple[float, float]
    co2e_g: tuple[float, float]


class ReplyMeasure:
    """A reply being measured: the caller counts its tokens; `cost` is set once it has ended."""

    def __init__(self):
        self.tokens = 0
        self.cost: ReplyCost | None = None
        self._cpu_seconds = 0.0
        self._energy_kwh = 0.0
        self._co2e_kg = 0.0

    def _add_share(self, cpu_seconds: float, energy_kwh: float, co2e_kg: float) -> None:
        self._cpu_seconds += cpu_seconds
        self._energy_kwh += energy_kwh
        self._co2e_kg += co2e_kg


def processes_cpu_seconds() -> float:
    """CPU time (user + system) of this process and its children, the processes codecarbon's
    "process" mode follows."""
    import psutil

    total = 0.0
    process = psutil.Process()
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.Error:  # a child that ended meanwhile
            continue
        total += times.user + times.system
    return total


def offline_tracker():
    """codecarbon's tracker for this process, France's factor, nothing written, no network."""
    from codecarbon import OfflineEmissionsTracker

    # Its INFO lines (one per measurement) would flood the hub's log; its import sets them on.
    logging.getLogger("codecarbon").setLevel(logging.WARNING)

    return OfflineEmissionsTracker(
        country_iso_code=COUNTRY,
        tracking_mode="process",
        output_methods=[],  # no emissions.csv, no API
        log_level="warning",
        # Its periodic measurement is paused during tasks, and there is nothing to measure between replies.
        measure_power_secs=3600,
    )


class ReplyCostMeter:
    """One tracker for the process (see the module's docstring); thread-safe."""

    def __init__(
        self,
        make_tracker: Callable[[], object] = offline_tracker,
        cpu_seconds: Callable[[], float] = processes_cpu_seconds,
    ):
        self._make_tracker = make_tracker
        self._cpu_seconds = cpu_seconds
        self._lock = threading.Lock()
        self._tracker = None
        self._tracker_failed = False  # codecarbon could not start: replies get their tokens and CPU time only
        self._energy_measured = False
        self._running: list[ReplyMeasure] = []  # replies being written
        self._segment_cpu = 0.0  # CPU seconds when the current segment began

    @property
    def started(self) -> bool:
        return self._tracker is not None or self._tracker_failed

    @contextmanager
    def measure(self) -> Iterator[ReplyMeasure]:
        """Measure one reply: count its tokens in the measure yielded; once the block ends (the
        reply's end, or its stop), `measure.cost` holds its cost."""
        reply = ReplyMeasure()
        with self._lock:
            self._end_segment()
            self._running.append(reply)
            self._begin_segment()
        try:
            yield reply
        finally:
            with self._lock:
                self._end_segment()
                self._running.remove(reply)
                if self._running:
                    self._begin_segment()
            energy_known = not self._tracker_failed
            reply.cost = ReplyCost(
                reply.tokens,
                reply._cpu_seconds,
                reply._energy_kwh * 1000 if energy_known else None,
                reply._co2e_kg * 1000 if energy_known else None,
                self._energy_measured,
            )

    def _begin_segment(self) -> None:
        if not self.started:
            self._start_tracker()
        if self._tracker is not None:
            self._tracker.start_task(SEGMENT_TASK)
        self._segment_cpu = self._cpu_seconds()

    def _end_segment(self) -> None:
        """Share the segment that ends among the replies written during it."""
        if not self._running:
            return
        cpu_seconds = self._cpu_seconds() - self._segment_cpu
        energy_kwh = co2e_kg = 0.0
        if self._tracker is not None:
            emissions = self._tracker.stop_task(SEGMENT_TASK)
            # codecarbon keeps every task's data for a final report, which this tracker never
            # writes: a lecture's thousands of segments would pile up.
            self._tracker._tasks.pop(SEGMENT_TASK, None)
            if emissions is not None:
                energy_kwh, co2e_kg = emissions.energy_consumed, emissions.emissions
        share = 1 / len(self._running)
        for reply in self._running:
            reply._add_share(cpu_seconds * share, energy_kwh * share, co2e_kg * share)

    def _start_tracker(self) -> None:
        started = time.perf_counter()
        try:
            tracker = self._make_tracker()
            tracker.start_task(SEGMENT_TASK)  # the first task probes the hardware (~1.5 s)
            tracker.stop_task(SEGMENT_TASK)
            tracker._tasks.pop(SEGMENT_TASK, None)
        except Exception:  # the replies must not fail for their cost: they go without the energy
            log.exception("reply costs: codecarbon could not start; replies show their tokens and CPU time only")
            self._tracker_failed = True
            return
        self._tracker = tracker
        cpu = [hardware for hardware in tracker._hardware if type(hardware).__name__ == "CPU"]
        self._energy_measured = bool(cpu) and getattr(cpu[0], "_mode", "") in MEASURED_CPU_MODES
        log.info(
            "reply costs: codecarbon ready in %.1f s, processor energy %s",
            time.perf_counter() - started,
            "measured" if self._energy_measured else "modelled from CPU load",
        )


REPLY_COSTS = ReplyCostMeter()  # the process's one meter; its tracker starts at the first reply


def hosted_estimates(tokens: int) -> list[HostedEstimate]:
    """ecologits' estimate of the same number of output tokens written by each of HOSTED_MODELS,
    in the provider's data centres (their electricity mix, as ecologits sets it), at the latency
    ecologits knows for each model: (low, high) where the model's size is not published. None
    for an empty reply."""
    if tokens <= 0:
        return []
    try:
        from ecologits.tracers.utils import llm_impacts
    except ImportError:
        log.warning("reply costs: ecologits is not installed; no estimate for hosted models")
        return []
    estimates = []
    for provider, model_id, name in HOSTED_MODELS:
        impacts = llm_impacts(provider, model_id, tokens, request_latency=math.inf)
        if impacts.has_errors:
            log.warning("ecologits has no estimate for %s: %s", model_id, impacts.errors)
            continue
        energy_kwh, co2e_kg = _bounds(impacts.energy.value), _bounds(impacts.gwp.value)
        estimates.append(
            HostedEstimate(name, (energy_kwh[0] * 1000, energy_kwh[1] * 1000), (co2e_kg[0] * 1000, co2e_kg[1] * 1000))
        )
    return estimates


def _bounds(value) -> tuple[float, float]:
    """ecologits gives a number, or a RangeValue (min, max) where the model's size is a guess."""
    if hasattr(value, "min"):
        return float(value.min), float(value.max)
    return float(value), float(value)


# --- the line under a reply ----------------------------------------------------------------------------


def cost_line(cost: ReplyCost, estimates: list[HostedEstimate], language: str) -> str:
    """The short line under a reply: « 42 tokens · 3,1 s de calcul · ≈ 0,02 Wh · ≈ 0,001 g CO2e
    (modélisé d'après la charge CPU) · le même texte par GPT-4o : 0,068–0,11 Wh »."""
    from shared.i18n import format_number
    from shared.reply_cost_texts import TEXTS

    parts = [
        TEXTS.get("reply_cost_tokens", language, tokens=format_number(cost.tokens, language)),
        TEXTS.get("reply_cost_cpu", language, seconds=approximate(cost.cpu_seconds, language)),
    ]
    if cost.energy_wh is not None:
        how = TEXTS.get("reply_cost_measured" if cost.energy_measured else "reply_cost_modelled", language)
        energy, co2e = approximate(cost.energy_wh, language), approximate(cost.co2e_g, language)
        parts.append(TEXTS.get("reply_cost_energy", language, energy=energy, co2e=co2e, how=how))
    if estimates:
        each = [
            TEXTS.get(
                "reply_cost_hosted_one", language, model=estimate.model, energy=_range(estimate.energy_wh, language)
            )
            for estimate in estimates
        ]
        joiner = TEXTS.get("reply_cost_hosted_joiner", language)
        parts.append(TEXTS.get("reply_cost_hosted", language, estimates=joiner.join(each)))
    return " · ".join(parts)


def spoken_cost(cost: ReplyCost, estimates: list[HostedEstimate], language: str) -> str:
    """The same line in words, for a screen reader (no « ≈ », « · » or « – » to read out)."""
    from shared.i18n import format_number
    from shared.reply_cost_texts import TEXTS

    energy = ""
    if cost.energy_wh is not None:
        how = TEXTS.get(
            "reply_cost_spoken_measured" if cost.energy_measured else "reply_cost_spoken_modelled", language
        )
        energy = TEXTS.get(
            "reply_cost_spoken_energy",
            language,
            energy=approximate(cost.energy_wh, language),
            co2e=approximate(cost.co2e_g, language),
            how=how,
        )
    hosted = ""
    if estimates:
        each = [
            TEXTS.get(
                "reply_cost_spoken_hosted_one",
                language,
                model=estimate.model,
                energy=_range(estimate.energy_wh, language, spoken=True),
            )
            for estimate in estimates
        ]
        joiner = TEXTS.get("reply_cost_spoken_hosted_joiner", language)
        hosted = TEXTS.get("reply_cost_spoken_hosted", language, estimates=joiner.join(each))
    return TEXTS.get(
        "reply_cost_spoken",
        language,
        tokens=format_number(cost.tokens, language),
        seconds=approximate(cost.cpu_seconds, language),
        energy=energy,
        hosted=hosted,
    )


def approximate(value: float, language: str) -> str:
    """Two significant digits in the page's language (0,019 → « 0,019 », 3,14 → « 3,1 », 1 287 →
    « 1 300 »): the figures are estimates, more digits would pretend otherwise."""
    from shared.i18n import format_number

    if value == 0:
        return format_number(0, language)
    magnitude = math.floor(math.log10(abs(value)))
    rounded = round(value, 1 - magnitude)
    magnitude = math.floor(math.log10(abs(rounded)))  # 0,996 rounds to 1,0: one digit fewer after the comma
    return format_number(rounded, language, max(0, 1 - magnitude))


def _range(bounds: tuple[float, float], language: str, spoken: bool = False) -> str:
    """« 0,068–0,11 » (or « entre 0,068 et 0,11 » in words); one figure where both bounds agree."""
    low, high = (approximate(bound, language) for bound in bounds)
    if low == high:
        return low
    if spoken:
        from shared.reply_cost_texts import TEXTS

        return TEXTS.get("reply_cost_spoken_range", language, low=low, high=high)
    return f"{low}–{high}"


# --- the memory slide -----------------------------------------------------------------------------------


def weights_memory_gb(parameters: float, bytes_per_weight: float) -> float:
    """The memory the weights alone take, in GB (10^9 bytes): parameters x bytes per weight. The
    key/value cache and the activations come on top."""
    return parameters * bytes_per_weight / 1e9


def gpus_needed(memory_gb: float, gpu_memory_gb: float = GPU_MEMORY_GB) -> int:
    """How many GPUs of `gpu_memory_gb` hold that memory, at least one."""
    return max(1, math.ceil(memory_gb / gpu_memory_gb))
