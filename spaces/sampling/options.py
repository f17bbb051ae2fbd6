"""The sampling settings and their ranges, without torch: the tab is built from these at start-up,
and importing torch and transformers there would double the hub's start-up time and memory."""

from dataclasses import dataclass

# What each setting accepts; values outside are clamped and reported (logic.checked_settings).
TEMPERATURE_RANGE = (0.0, 2.0)
TEMPERATURE_STEP = 0.05  # the slider's step: the browser's filters know the temperatures on this grid
# Every temperature the slider can take but 0 (greedy needs no sums): 0.05, 0.1, ... 2.0.
TEMPERATURE_GRID = tuple(
    round(step * TEMPERATURE_STEP, 2) for step in range(1, round(TEMPERATURE_RANGE[1] / TEMPERATURE_STEP) + 1)
)
TOP_K_MAX = 200  # the top-k slider's end
TOP_N_RANGE = (3, 30)  # how many candidates the chart may show
TOP_P_RANGE = (0.0, 1.0)
MIN_P_RANGE = (0.0, 1.0)
REPETITION_PENALTY_RANGE = (1.0, 2.0)
SEED_RANGE = (0, 2**32 - 1)

FRENCH_PROMPT = "Le chat est assis sur le"


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0  # 0: greedy
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1: off
    min_p: float = 0.0  # 0: off
    repetition_penalty: float = 1.0  # 1: off

    @property
    def greedy(self) -> bool:
        return self.temperature == 0
