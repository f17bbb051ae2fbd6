"""Every setting of the hub, read in one place: command-line flags, then environment variables,
then the chosen profile, then the defaults (which suit a laptop).

This module imports nothing heavy: `app.py` reads the settings before importing gradio, numpy or
torch, so that thread counts are in place before those libraries start their thread pools.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "IAGEN_"
# Tab order. Each name is a folder spaces/<name>/ whose ui.py has build(hub) and TEXTS.
ALL_DEMOS = ("seg2sat", "clip_search", "sampling", "assistant", "guards", "tokenizer", "cemantix")
PROFILES = ("laptop", "lecture", "space")


def _default_threads() -> int:
    # Half the cores, at least one: on a busy 2-core machine two torch threads were 10-25x
    # slower than one (docs/models.md), and a laptop still has cores left for the browser.
    return max(1, (os.cpu_count() or 2) // 2)


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "iagen-demos")


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: object
    help: str
    profiles: dict[str, object] = field(default_factory=dict)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# docs/settings.md's table is this list; `python app.py --help` prints it too.
OPTIONS = (
    Option("profile", str, "laptop", "laptop, lecture (a room of ~100 phones) or space (a Hugging Face Space)"),
    Option(
        "host",
        str,
        "127.0.0.1",
        "address to listen on; 0.0.0.0 serves the local network",
        {"lecture": "0.0.0.0", "space": "0.0.0.0"},
    ),
    Option("port", int, 7860, "port to listen on"),
    Option("share", bool, False, "open a temporary public gradio.live link"),
    Option("offline", bool, False, "never contact the model hub; missing weights are reported at once"),
    Option("demos", str, ",".join(ALL_DEMOS), "comma-separated demos to mount, in tab order"),
    Option("tab", str, "", "tab opened when the page has no ?tab= parameter"),
    Option("torch_threads", int, _default_threads(), "CPU threads for torch and numpy"),
    Option("device", str, "auto", "auto, cpu, cuda or mps"),
    Option("dtype", str, "auto", "auto (float16 on CUDA, float32 elsewhere), float32, float16 or bfloat16"),
    Option(
        "cache_dir",
        str,
        _default_cache_dir(),
        "our conversions and derived data (the hub's own cache stays in HF_HOME)",
    ),
    Option(
        "memory_budget_gb",
        float,
        8.0,
        "models kept in memory before the least recently used is dropped",
        {"space": 14.0},
    ),
    Option(
        "queue_size",
        int,
        64,
        "requests waiting in the queue before newcomers are told to retry",
        {"lecture": 512, "space": 256},
    ),
    Option(
        "concurrency",
        int,
        4,
        "requests of a cheap demo (tokenizer, word game) run at once",
        {"lecture": 32, "space": 16},
    ),
    Option("gpu_concurrency", int, 1, "heavy model calls run at once (one shared group)"),
    Option(
        "lm_concurrency",
        int,
        4,
        "language-model views (next token, comparison) handled at once; their forward passes run batched",
        {"lecture": 16, "space": 8},
    ),
    Option(
        "lm_stream_concurrency",
        int,
        2,
        "language-model generations and chats streamed at once (their steps are interleaved)",
        {"lecture": 8, "space": 4},
    ),
    Option("lm_cache_mb", int, 256, "next-token scores kept by context, in megabytes (Gemma: 1 MB per context)"),
    Option(
        "lm_kv_cache_mb",
        int,
        256,
        "key/value caches of recent texts kept, in megabytes (Gemma: 36 KB per token), so that one more token "
        "costs one token's pass",
        {"lecture": 512},
    ),
    Option(
        "lm_process",
        bool,
        False,
        "run the language models' next-token passes in a process of their own (a second copy of their "
        "weights; the guards game's answers in another): under a room's load, Python's lock no longer "
        "slows them (shared/pass_process.py)",
        {"lecture": True, "space": True},
    ),
    Option(
        "lm_context_tokens",
        int,
        2048,
        "most tokens a language model reads in one call; a longer text loses its start",
        {"lecture": 512},
    ),
    Option("max_upload_mb", int, 20, "largest uploaded file, in megabytes"),
    Option("public_url", str, "", "address shown in the QR code (found automatically when empty)"),
    Option(
        "clip_model",
        str,
        "",
        "image search encoder: empty for RS-M-CLIP, hf-hub:ORG/NAME, or ARCHITECTURE:TAG "
        "or ARCHITECTURE:/path/to/weights (ViT-B-32:laion2b_s34b_b79k is the English-only baseline)",
    ),
    Option(
        "clip_gallery", str, "", "image search gallery: empty for FLAIR aerial patches from the hub, or a local folder"
    ),
    Option("clip_gallery_size", int, 1000, "FLAIR aerial patches in the default image search gallery"),
    Option(
        "seg2sat_compile",
        bool,
        False,
        "Seg2Sat on CUDA: compile the UNet and the ControlNet (torch.compile with CUDA graphs) when the tab "
        "first opens; minutes of start-up for about twice as fast images",
    ),
    Option(
        "seg2sat_live",
        bool,
        True,
        "Seg2Sat on a GPU: offer the live mode, where each stroke makes a new image",
        {"lecture": False},
    ),
    Option(
        "guard_secrets",
        str,
        "",
        "the « Gardes-fous » passwords: comma-separated, one a level, the last one for the levels beyond "
        "(random French nouns when empty)",
    ),
)


@dataclass(frozen=True)
class Settings:
    profile: str
    host: str
    port: int
    share: bool
    offline: bool
    demos: tuple[str, ...]
    tab: str
    torch_threads: int
    device: str
    dtype: str
    cache_dir: Path
    memory_budget_gb: float
    queue_size: int
    concurrency: int
    gpu_concurrency: int
    lm_concurrency: int
    lm_stream_concurrency: int
    lm_cache_mb: int
    lm_kv_cache_mb: int
    lm_process: bool
    lm_context_tokens: int
    max_upload_mb: int
    public_url: str
    clip_model: str
    clip_gallery: str
    clip_gallery_size: int
    seg2sat_compile: bool
    seg2sat_live: bool
    guard_secrets: str
    # IAGEN_MODEL_<KEY> / IAGEN_REVISION_<KEY>: per-model hub id or local path, and revision.
    model_overrides: dict[str, str] = field(default_factory=dict)
    revision_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def serves_beyond_loopback(self) -> bool:
        loopback = self.host.startswith("127.") or self.host in ("localhost", "::1")
        return self.share or not loopback


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting and what it accepts."""


def _parse(option: Option, raw: object) -> object:
    if option.type is bool and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{option.env}={raw!r}: expected true or false")
    try:
        return option.type(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{option.env}={raw!r}: expected a {option.type.__name__}") from None


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Démos « Comprendre l'IA générative ». Each flag also reads an IAGEN_* variable."
    )
    for option in OPTIONS:
        help_text = f"{option.help} (env {option.env}, default {option.default!r})"
        if option.type is bool:
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(option.flag, type=str, default=None, help=help_text)
    return parser


def load_settings(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Flags beat environment variables, which beat the profile, which beats the defaults."""
    environ = dict(os.environ if environ is None else environ)
    flags = vars(argument_parser().parse_args([] if argv is None else argv))

    def explicit(option: Option) -> object | None:
        if flags[option.name] is not None:
            return flags[option.name]
        return environ.get(option.env)

    profile = explicit(OPTIONS[0]) or ("space" if environ.get("SPACE_ID") else "laptop")
    if profile not in PROFILES:
        raise SettingsError(f"profile {profile!r}: expected one of {', '.join(PROFILES)}")

    values: dict[str, object] = {"profile": profile}
    for option in OPTIONS[1:]:
        raw = explicit(option)
        if raw is None:
            raw = option.profiles.get(profile, option.default)
        values[option.name] = _parse(option, raw)

    demos = tuple(name.strip() for name in str(values["demos"]).split(",") if name.strip())
    unknown = [name for name in demos if name not in ALL_DEMOS]
    if unknown:
        raise SettingsError(f"demos: unknown {', '.join(unknown)}; choose among {', '.join(ALL_DEMOS)}")
    values["demos"] = demos
    if values["tab"] and values["tab"] not in demos + ("about",):
        raise SettingsError(f"tab {values['tab']!r}: expected one of the mounted demos or 'about'")
    for name, choices in (
        ("device", ("auto", "cpu", "cuda", "mps")),
        ("dtype", ("auto", "float32", "float16", "bfloat16")),
    ):
        if values[name] not in choices:
            raise SettingsError(f"{name} {values[name]!r}: expected one of {', '.join(choices)}")
    for name in (
        "port",
        "torch_threads",
        "queue_size",
        "concurrency",
        "gpu_concurrency",
        "lm_concurrency",
        "lm_stream_concurrency",
        "lm_cache_mb",
        "lm_kv_cache_mb",
        "lm_context_tokens",
        "max_upload_mb",
        "clip_gallery_size",
    ):
        if values[name] < 1:
            raise SettingsError(f"{name} must be at least 1, got {values[name]}")
    values["cache_dir"] = Path(str(values["cache_dir"])).expanduser()

    # HF_HUB_OFFLINE=1 set by the user means offline too: respect the hub's own switch.
    if environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        values["offline"] = True

    return Settings(
        **values,
        model_overrides=_per_model(environ, ENV_PREFIX + "MODEL_"),
        revision_overrides=_per_model(environ, ENV_PREFIX + "REVISION_"),
    )


def _per_model(environ: dict[str, str], prefix: str) -> dict[str, str]:
    # IAGEN_MODEL_SEG2SAT_CONTROLNET=... -> {"seg2sat_controlnet": ...}
    return {name[len(prefix) :].lower(): value for name, value in environ.items() if name.startswith(prefix) and value}


def apply_process_settings(settings: Settings) -> None:
    """Environment that libraries read once at import: call before importing numpy, torch or gradio."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(settings.torch_threads)
    # Nothing phones home: no gradio analytics, no hub telemetry.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    if settings.offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    # A hub that is slow to answer must not freeze a tab: fail fast, tell the user.
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "20")
    # Gradio's queue rebuilds a pandas table of its last 10 000 events after every event, for the
    # latency figures of the API page: 9 ms of CPU an event at 1 000 events, 17 ms at 10 000, holding
    # the GIL, which made a lecture hall's calls wait seconds. Once every 1 000 events is enough.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
