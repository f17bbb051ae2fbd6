"""The sampling settings and their ranges, without torch: the tab is built from these at start-up,
and importing torch and transformers there would double the hub's start-up time and memory."""

from dataclasses import dataclass

# What each setting accepts; values outside are clamped and reported (logic.checked_settings).
TEMPERATURE_RANGE = (0.0, 2.0)
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
