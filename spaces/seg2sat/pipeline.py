"""Seg2Sat: a land-cover sketch guides Stable Diffusion 2.1 base through a ControlNet (Gradio-free).

Read top to bottom: fitting the prompt, loading the weights, the warm-up, one generation, the
repaint of part of a real photo, both streamed step by step with cheap previews of the denoising,
and the live mode's generation. What a user chooses (the prompt's parts, seeds, ranges of the settings) is in
options.py; what the tab computes around the model (sketches, time estimates, who is the latest
live request, the forward noising) is in logic.py.

* Weights: the ControlNet `rgres/Seg2Sat-sd-controlnet` and Stable Diffusion 2.1 base, located by
  shared/weights.py (keys `seg2sat_controlnet`, `sd21_base`; ids and revisions are settings). The
  ControlNet's safetensors is fetched; revisions older than it hold only a pickled `.bin`, which is
  then fetched, read once with weights-only loading and kept as safetensors in our cache. CUDA runs
  float16 (the whole pipeline, VAE included: SD 2.1's VAE is stable in float16), the CPU float32
  (shared/device.py). Attention is PyTorch's fused scaled_dot_product_attention, diffusers'
  default.
* Compilation (setting `seg2sat_compile`, CUDA only): the UNet and the ControlNet go through
  `torch.compile(mode="reduce-overhead")`, i.e. Inductor kernels replayed as CUDA graphs, and
  `warm_up` compiles them for the shapes the tab offers, logging what each compilation cost. On an
  H100 the eager pipeline is bound by Python launching kernels (0.75 s of GPU work in a 0.93 s
  call for 20 steps); CUDA graphs remove the launches: 0.39 s in an experiment (docs/performance-history.md).
  "max-autotune" adds minutes of kernel search to the start for what CUDA graphs already give.
* Scheduler: UniPC instead of the base model's PNDM, because it is good at 20 steps and fewer.
* The distilled path (key `tcd_lora`): the Trajectory Consistency Distillation LoRA of SD 2.1 base
  (`h1t/TCD-SD21-base-LoRA`) fused once at load into a copy of the UNet, `TCDScheduler`, no
  guidance (one batch per step instead of two: the distillation learnt the guided result), 2-8
  steps, and TAESD for the final image too when its weights are here. The ControlNet, the text
  encoder and the VAE are the reference pipeline's own objects: only the UNet is held twice. A CPU
  makes an image in half a minute this way instead of minutes (docs/models.md).
* Previews: at each step the latents are decoded by TAESD (`madebyollin/taesd`, a 1 M-parameter
  distilled VAE decoder) when its weights are on this machine, else turned into colours by a fixed
  linear map (4 latent channels → RGB, the factors known for SD's VAE), a few thousand
  multiply-adds. They are made outside the denoising thread, which never waits for them.
"""

from __future__ import annotations

import copy
import logging
import queue
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.device import torch_runtime
from shared.weights import WeightsUnavailable, convert_once
from spaces.seg2sat import palette
from spaces.seg2sat.logic import StepTimes, Timing, pasted_back
from spaces.seg2sat.options import (
    CONDITIONING_SCALE,
    DEFAULT_PLACE,
    DISTILLED_ETA,
    DISTILLED_PRESET,
    DISTILLED_STEPS,
    GUIDANCE_SCALE,
    IMAGE_SIZE,
    LIVE_STEPS,
    STEPS,
    VARIATIONS,
    build_prompt,
)

log = logging.getLogger(__name__)

CONTROLNET_KEY = "seg2sat_controlnet"
BASE_KEY = "sd21_base"
TAESD_KEY = "taesd"
TCD_LORA_KEY = "tcd_lora"
TCD_LORA_FILE = "pytorch_lora_weights.safetensors"
PIPELINE_CACHE_KEY = f"{CONTROLNET_KEY}:pipeline"  # the catalogue key first: the About tab lists it there
SAFETENSORS = "diffusion_pytorch_model.safetensors"
PICKLED = "diffusion_pytorch_model.bin"

# SD's VAE latents (scaled by 0.18215) → RGB in [-1, 1]: one row per latent channel. The same
# VAE serves SD 1.x and 2.x. Factors from ComfyUI's latent previews (comfy/latent_formats.py).
LATENT_RGB_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
TAESD_PREVIEW_SIZE = 128  # a TAESD preview is decoded at the image's size, then shrunk to this

# What the warm-up compiles, each (size, variations, conditioning scale): the default image (and the
# live mode's), then another size and batch at once, then another conditioning scale. Measured with
# PyTorch's compiler on the tiny architecture: after the second call, the size and the batch are
# dynamic dimensions, after the third the scale is a symbolic input, so other shapes and scales
# need no new compilation (CUDA graphs are still recorded once per shape, in well under a second).
COMPILE_WARM_UP_CALLS = ((IMAGE_SIZE, 1, 1.0), (384, 2, 1.0), (IMAGE_SIZE, 1, 0.5))
# The UNet and the ControlNet share their forward's decorator (diffusers' peft wrapper), hence one
# recompilation budget; the default 8 was reached on the tiny architecture by a few more shapes.
RECOMPILE_LIMIT = 32


def fit_prompt(tokenizer, prompt: str) -> tuple[str, str]:
    """The prompt cut to what the text encoder reads (77 tokens with start and end), and the cut-off
    rest ("" if none). Cut on the original text, so the kept part is shown as the user wrote it."""
    room = tokenizer.model_max_length - 2
    encoding = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    if len(encoding.input_ids) <= room:
        return prompt, ""
    cut = encoding.offset_mapping[room - 1][1]
    return prompt[:cut], prompt[cut:].strip()


# --- Loading ------------------------------------------------------------------------------------


def controlnet_folder(hub) -> Path:
    """A folder with the ControlNet as safetensors: the hub's, or our one-off conversion of a .bin
    (a local folder that holds one, or a revision of the repository older than its safetensors)."""
    folder = hub.weights.locate(CONTROLNET_KEY)
    if (folder / SAFETENSORS).exists():
        return folder
    if not (folder / "config.json").exists():
        raise WeightsUnavailable(
            hub.weights.source(CONTROLNET_KEY), f"{folder} holds no config.json with {PICKLED} or {SAFETENSORS}"
        )
    pickled = pickled_checkpoint(hub, folder)

    def convert(staging: Path) -> None:
        from safetensors.torch import save_file

        # weights_only: a pickle can run code when loaded; this refuses anything but tensors.
        state = torch.load(pickled, map_location="cpu", weights_only=True)
        save_file(
            {name: tensor.contiguous() for name, tensor in state.items()},
            staging / SAFETENSORS,
            metadata={"format": "pt"},
        )
        shutil.copy(folder / "config.json", staging / "config.json")

    return convert_once(hub.weights.converted_dir(CONTROLNET_KEY, "safetensors"), convert)


def pickled_checkpoint(hub, folder: Path) -> Path:
    """The .bin beside `folder`'s config.json: already there (a local folder, an older snapshot
    preloaded whole), else fetched for the same revision, which the catalogue's patterns
    (config.json + safetensors) left out."""
    if (folder / PICKLED).exists():
        return folder / PICKLED
    try:
        return hub.weights.locate_file(CONTROLNET_KEY, PICKLED)
    except WeightsUnavailable as missing:
        revision = missing.source.revision or "main"
        raise WeightsUnavailable(
            missing.source, f"revision {revision} has no {SAFETENSORS}, and {missing.reason}"
        ) from None


def distilled_weights_cached(hub) -> bool:
    """Whether the TCD LoRA is on this machine (nothing is downloaded to find out)."""
    try:
        hub.weights.locate(TCD_LORA_KEY, download=False)
    except WeightsUnavailable:
        return False
    return True


def load_pipeline(hub):
    """The Seg2Sat pipeline on the hub's device and dtype, compiled if the settings ask and the
    device is CUDA; WeightsUnavailable says what is missing."""
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, UniPCMultistepScheduler

    runtime = torch_runtime(hub.settings)
    controlnet = ControlNetModel.from_pretrained(controlnet_folder(hub), dtype=runtime.dtype)
    pipeline = StableDiffusionControlNetPipeline.from_pretrained(
        hub.weights.locate(BASE_KEY),
        controlnet=controlnet,
        dtype=runtime.dtype,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.scheduler = UniPCMultistepScheduler.from_config(pipeline.scheduler.config)
    pipeline = pipeline.to(runtime.device)
    if hub.settings.seg2sat_compile:
        if runtime.device.type == "cuda":
            compile_denoiser(pipeline)
        else:  # docs/models.md: torch.compile did not help on our CPUs
            log.warning("seg2sat_compile is set but the device is %s: the UNet is not compiled", runtime.device)
    return pipeline


def compile_denoiser(pipeline) -> None:
    """The UNet and the ControlNet through torch.compile with CUDA graphs. Lazy: the first call of
    each new shape compiles (a minute or more for the first), hence `warm_up`. diffusers' loop
    marks each step's start for CUDA graphs when both are compiled. Not fullgraph: past the
    recompilation limit a new shape then runs eager instead of failing the generation."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
    pipeline.unet = torch.compile(pipeline.unet, mode="reduce-overhead")
    pipeline.controlnet = torch.compile(pipeline.controlnet, mode="reduce-overhead")


def shared_pipeline(hub, progress: Callable | None = None, language: str = "fr"):
    """The pipeline through the hub's model cache: loaded once, on first use, with a progress message."""
    return hub.load_model(PIPELINE_CACHE_KEY, lambda: load_pipeline(hub), progress, language)


def load_distilled_pipeline(hub, reference):
    """The distilled path around `reference`'s models: its UNet copied with the TCD LoRA fused in
    (then the LoRA's layers removed: a step costs what a plain UNet's does), TCDScheduler, and
    TAESD as the decoder when its weights are here. WeightsUnavailable when the LoRA is missing."""
    from diffusers import StableDiffusionControlNetPipeline, TCDScheduler

    folder = hub.weights.locate(TCD_LORA_KEY)
    if not (folder / TCD_LORA_FILE).exists():
        raise WeightsUnavailable(hub.weights.source(TCD_LORA_KEY), f"{folder} holds no {TCD_LORA_FILE}")
    runtime = torch_runtime(hub.settings)
    taesd = tiny_decoder(hub)
    unet = copy.deepcopy(getattr(reference.unet, "_orig_mod", reference.unet))  # the eager module if compiled
    distilled = StableDiffusionControlNetPipeline(
        **{
            **reference.components,
            "unet": unet,
            "vae": reference.vae if taesd is None else taesd,
            "scheduler": TCDScheduler.from_config(reference.scheduler.config),
        },
        requires_safety_checker=False,
    )
    distilled.load_lora_weights(folder, weight_name=TCD_LORA_FILE, adapter_name="tcd")
    distilled.fuse_lora(components=["unet"])
    distilled.unload_lora_weights()  # keeps the fused weights
    if hub.settings.seg2sat_compile and runtime.device.type == "cuda":
        distilled.unet = torch.compile(distilled.unet, mode="reduce-overhead")
    return distilled


# The distilled path of each loaded reference pipeline, living exactly as long as it. Not an entry
# of the model cache of its own: the distilled path holds the reference's ControlNet, text encoder
# and VAE, so the cache evicting the reference alone (the two exceed its default budget) would free
# nothing, and the reference's next use would load those a second time beside them.
_DISTILLED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DISTILLED_LOCK = threading.Lock()


def shared_distilled_pipeline(hub, progress: Callable | None = None, language: str = "fr"):
    """The distilled path of the shared reference pipeline (loaded first): built once, on first
    use, with a progress message; WeightsUnavailable when its LoRA is missing. The model cache
    counts the reference's size only: the distilled path adds its UNet (3.5 GB in float32)."""
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.hub import model_name

    reference = shared_pipeline(hub, progress, language)
    with _DISTILLED_LOCK:
        if reference not in _DISTILLED:
            if progress is not None:
                progress(None, desc=HUB_TEXTS.get("loading_model", language, model=model_name(TCD_LORA_KEY, language)))
            started = time.perf_counter()
            _DISTILLED[reference] = load_distilled_pipeline(hub, reference)
            log.info(
                "Seg2Sat's distilled path: the TCD LoRA fused into a copy of the UNet in %.1f s",
                time.perf_counter() - started,
            )
        return _DISTILLED[reference]


def is_distilled(pipeline) -> bool:
    return type(pipeline.scheduler).__name__ == "TCDScheduler"


def decodes_with_taesd(pipeline) -> bool:
    return type(pipeline.vae).__name__ == "AutoencoderTiny"


_WARMED_UP: weakref.WeakSet = weakref.WeakSet()  # pipelines already run once (a reloaded one is new)
_WARM_UP_LOCK = threading.Lock()


def warm_up(hub, times: StepTimes) -> None:
    """Load the pipeline and run it once before anyone waits for it, recording what it costs:
    compiled, each call of COMPILE_WARM_UP_CALLS (the cost of each is logged); otherwise one step
    of the default image, whose time tells a CPU's users how long theirs will take. The distilled
    path first, when its LoRA is here (`warm_up_distilled`). Once per loaded pipeline, however
    often the tab is opened."""
    from diffusers.utils.torch_utils import is_compiled_module

    pipeline = shared_pipeline(hub)
    with _WARM_UP_LOCK:
        if pipeline in _WARMED_UP:
            return
        _WARMED_UP.add(pipeline)
    prompt = build_prompt(DEFAULT_PLACE, "")
    if distilled_weights_cached(hub):  # first: a CPU's default, whose estimate is then shown soonest
        warm_up_distilled(shared_distilled_pipeline(hub), prompt, times)
    compiled = is_compiled_module(pipeline.unet)
    calls = COMPILE_WARM_UP_CALLS if compiled else ((IMAGE_SIZE, 1, CONDITIONING_SCALE.default),)
    for size, variations, conditioning_scale in calls:
        started = time.perf_counter()
        steps = 2 if compiled else 1  # UniPC's first step differs from the others: compile both
        sketch, seeds = palette.blank_sketch(size), list(range(variations))
        # In the denoising thread, whose CUDA graphs the generations will replay.
        DENOISING_THREAD.submit(
            generate,
            pipeline,
            sketch,
            prompt,
            seeds,
            steps,
            conditioning_scale=conditioning_scale,
            times=times if conditioning_scale == CONDITIONING_SCALE.default else None,
        ).result()
        log.info(
            "Seg2Sat warm-up (%s): %d × %d px, %d image(s), conditioning %.1f, %d step(s) in %.1f s",
            "compiling the UNet and the ControlNet" if compiled else "eager",
            size,
            size,
            variations,
            conditioning_scale,
            steps,
            time.perf_counter() - started,
        )


def warm_up_distilled(distilled, prompt: str, times: StepTimes) -> None:
    """Two steps of the distilled path at its preset's size (its fewest: one is the first step's
    cost, the other the steady one), which also measures its decoder for the estimates."""
    started = time.perf_counter()
    sketch = palette.blank_sketch(DISTILLED_PRESET.size)
    steps = int(DISTILLED_STEPS.minimum)
    DENOISING_THREAD.submit(generate, distilled, sketch, prompt, [0], steps, times=times).result()
    log.info(
        "Seg2Sat warm-up (distilled): %d × %d px, %d steps in %.1f s",
        sketch.width,
        sketch.height,
        steps,
        time.perf_counter() - started,
    )


def tiny_decoder(hub):
    """TAESD, loaded once, when its weights are on this machine (never downloaded for this); else None."""
    try:
        folder = hub.weights.locate(TAESD_KEY, download=False)
    except WeightsUnavailable:
        return None
    runtime = torch_runtime(hub.settings)

    def load():
        from diffusers import AutoencoderTiny

        return AutoencoderTiny.from_pretrained(folder, dtype=runtime.dtype).to(runtime.device).eval()

    return hub.load_model(TAESD_KEY, load)


def preview_decoder(hub) -> Callable[[torch.Tensor], np.ndarray]:
    """How previews are made: TAESD when its weights are on this machine, else the linear map."""
    decoder = tiny_decoder(hub)
    if decoder is None:
        return latents_to_rgb
    return lambda latents: taesd_to_rgb(decoder, latents)


# --- One generation -----------------------------------------------------------------------------


def latents_to_rgb(latents: torch.Tensor) -> np.ndarray:
    """(n, 4, h, w) latents → (n, h, w, 3) uint8 colours: the cheap preview, no VAE involved.

    Computed on the CPU: the device only copies a few kilobytes of latents."""
    factors = torch.tensor(LATENT_RGB_FACTORS)
    rgb = torch.einsum("nchw,cr->nhwr", latents.to("cpu", torch.float32), factors)
    return ((rgb + 1) * 127.5).clamp(0, 255).to(torch.uint8).numpy()


@torch.inference_mode()
def taesd_to_rgb(decoder, latents: torch.Tensor) -> np.ndarray:
    """(n, 4, h, w) latents → (n, 128, 128, 3) uint8: TAESD reads SD's scaled latents as they are
    and decodes the full image (in [-1, 1]), shrunk on the device before the copy."""
    images = decoder.decode(latents.to(decoder.device, decoder.dtype)).sample
    small = torch.nn.functional.interpolate(images.float(), size=TAESD_PREVIEW_SIZE, mode="area")
    return ((small + 1) * 127.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@dataclass(frozen=True)
class Generation:
    images: list[Image.Image]
    timing: Timing | None  # None when it was stopped before its end


def generate(
    pipeline,
    sketch: Image.Image,
    prompt: str,
    seeds: list[int],
    steps: int = STEPS.default,
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    on_step: Callable[[int, int, int, torch.Tensor], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    times: StepTimes | None = None,
) -> Generation:
    """One image per seed, guided by `sketch` (a square of palette colours: see palette.prepare_sketch).

    On the distilled pipeline (`load_distilled_pipeline`), `steps` is within DISTILLED_STEPS and
    `guidance_scale` is not used: it runs without guidance, with TCD's eta DISTILLED_ETA.
    The images have the sketch's size. `on_step(step, total, timestep, latents)` receives a copy of
    each step's latents, on the device: turning them into a preview waits for the device, which is
    best done in another thread. `should_stop()` returning True skips the remaining steps. What the
    steps and the decode cost goes to `times` (a finished generation only). The same seed and
    settings give the same image: each variation draws its noise from its own CPU generator, so a
    seed also gives the same start on any device."""
    distilled = is_distilled(pipeline)
    (DISTILLED_STEPS if distilled else STEPS).check("steps", steps)
    if not distilled:
        GUIDANCE_SCALE.check("guidance_scale", guidance_scale)
    CONDITIONING_SCALE.check("conditioning_scale", conditioning_scale)
    VARIATIONS.check("number of seeds", len(seeds))
    arguments = dict(
        prompt=prompt,
        image=sketch,
        width=sketch.width,
        height=sketch.height,
        num_inference_steps=steps,
        # diffusers guides when the scale is above 1: 0 is TCD's documented setting, no guidance.
        guidance_scale=0.0 if distilled else float(guidance_scale),
        controlnet_conditioning_scale=float(conditioning_scale),
        num_images_per_prompt=len(seeds),
        generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
    )
    if distilled:
        arguments["eta"] = DISTILLED_ETA
    guided = not distilled and guidance_scale > 1
    return _denoise(per_call(pipeline, type(pipeline)), arguments, guided, on_step, should_stop, times)


def per_call(pipeline, pipeline_class):
    """A fresh pipeline object of `pipeline_class` around the same models: the scheduler and the
    pipeline keep per-call state, which concurrent requests must not share. Costs no memory."""
    scheduler = type(pipeline.scheduler).from_config(pipeline.scheduler.config)
    run = pipeline_class(**{**pipeline.components, "scheduler": scheduler}, requires_safety_checker=False)
    run.set_progress_bar_config(disable=True)
    return run


def _denoise(
    run,
    arguments: dict,
    guided: bool,
    on_step: Callable[[int, int, int, torch.Tensor], None] | None,
    should_stop: Callable[[], bool] | None,
    times: StepTimes | None,
) -> Generation:
    """`run(**arguments)` with the step callbacks and the timing of `generate`."""
    step_ends = []  # perf_counter() at the end of each step
    stopped = False

    def step_end(pipe, step: int, timestep, tensors: dict) -> dict:
        nonlocal stopped
        step_ends.append(time.perf_counter())
        if on_step is not None:
            on_step(step + 1, pipe.num_timesteps, int(timestep), tensors["latents"].clone())
        if should_stop is not None and should_stop():
            stopped = True
            pipe._interrupt = True  # diffusers' documented way to end the denoising loop early
        return tensors

    started = time.perf_counter()
    result = run(**arguments, callback_on_step_end=step_end)
    finished = time.perf_counter()
    if stopped:
        return Generation(result.images, None)
    # The first step also encodes the prompt; the others are the steady cost of a step.
    step_seconds = (
        (step_ends[-1] - step_ends[0]) / (len(step_ends) - 1) if len(step_ends) > 1 else step_ends[0] - started
    )
    images = result.images
    decoder = "taesd" if decodes_with_taesd(run) else "vae"
    timing = Timing(images[0].width, len(images), guided, step_seconds, finished - step_ends[-1], decoder)
    if times is not None:
        times.record(timing)
    return Generation(result.images, timing)


# --- Repainting part of a real photo ------------------------------------------------------------


def repaint(
    pipeline,
    photo: Image.Image,
    control_map: Image.Image,
    mask: Image.Image,
    prompt: str,
    seed: int,
    steps: int = STEPS.default,
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    on_step: Callable[[int, int, int, torch.Tensor], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    times: StepTimes | None = None,
) -> Generation:
    """`photo` redrawn where `mask` is not 0 (logic.repaint_input makes both), guided by the edited
    `control_map`, and pasted back onto the photo: unchanged, pixel for pixel, where the mask is 0.

    diffusers' ControlNet inpainting pipeline around the same models: with Stable Diffusion 2.1
    base's own UNet (4 input channels, not an inpainting UNet), each step puts the photo's latents,
    noised to the step's level, back outside the mask, so the new area grows to match its
    surroundings. The other arguments are `generate`'s."""
    from diffusers import StableDiffusionControlNetInpaintPipeline

    STEPS.check("steps", steps)
    GUIDANCE_SCALE.check("guidance_scale", guidance_scale)
    CONDITIONING_SCALE.check("conditioning_scale", conditioning_scale)
    arguments = dict(
        prompt=prompt,
        image=photo,
        mask_image=mask,
        control_image=control_map,
        width=photo.width,
        height=photo.height,
        num_inference_steps=steps,
        guidance_scale=float(guidance_scale),
        controlnet_conditioning_scale=float(conditioning_scale),
        generator=torch.Generator("cpu").manual_seed(seed),
    )
    run = per_call(pipeline, StableDiffusionControlNetInpaintPipeline)
    generation = _denoise(run, arguments, guidance_scale > 1, on_step, should_stop, times)
    return Generation([pasted_back(photo, image, mask) for image in generation.images], generation.timing)


# --- The same, step by step ---------------------------------------------------------------------

# One long-lived thread runs the generations, one after the other (they share one device anyway).
# Not a new thread per call: PyTorch keeps per-thread caches (cuDNN execution plans, CUDA graphs)
# that a new thread rebuilds, +0.5 s over 20 steps on an H100. It starts on first use.
DENOISING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seg2sat-denoising")


@dataclass(frozen=True)
class GenerationState:
    """What a streamed generation has produced so far."""

    total_steps: int
    previews: tuple[np.ndarray, ...]  # one per finished step: (variations, h, w, 3) uint8
    timesteps: tuple[int, ...]  # the scheduler's timestep of each finished step (999 … 0)
    images: list[Image.Image] | None = None  # the final images, in the last state only
    timing: Timing | None = None  # in the last state only

    @property
    def done(self) -> bool:
        return self.images is not None


def stream_generation(
    pipeline,
    sketch: Image.Image,
    prompt: str,
    seeds: list[int],
    steps: int = STEPS.default,
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    preview: Callable[[torch.Tensor], np.ndarray] = latents_to_rgb,
    times: StepTimes | None = None,
) -> Iterator[GenerationState]:
    """`generate` in the denoising thread, yielding its state as steps finish, then once finished
    (see `stream_denoising`)."""

    def denoise(on_step, should_stop) -> Generation:
        return generate(
            pipeline,
            sketch,
            prompt,
            seeds,
            steps,
            guidance_scale,
            conditioning_scale,
            on_step=on_step,
            should_stop=should_stop,
            times=times,
        )

    return stream_denoising(denoise, steps, preview)


def stream_repaint(
    pipeline,
    photo: Image.Image,
    control_map: Image.Image,
    mask: Image.Image,
    prompt: str,
    seed: int,
    steps: int = STEPS.default,
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    preview: Callable[[torch.Tensor], np.ndarray] = latents_to_rgb,
    times: StepTimes | None = None,
) -> Iterator[GenerationState]:
    """`repaint`, streamed as a generation is."""

    def denoise(on_step, should_stop) -> Generation:
        return repaint(
            pipeline,
            photo,
            control_map,
            mask,
            prompt,
            seed,
            steps,
            guidance_scale,
            conditioning_scale,
            on_step=on_step,
            should_stop=should_stop,
            times=times,
        )

    return stream_denoising(denoise, steps, preview)


def stream_denoising(
    denoise: Callable[[Callable, Callable], Generation],
    steps: int,
    preview: Callable[[torch.Tensor], np.ndarray],
) -> Iterator[GenerationState]:
    """`denoise(on_step, should_stop)` in the denoising thread, yielding its state as steps finish,
    then once finished.

    The denoising never waits for the previews: this thread makes them (with `preview`), so that
    on a GPU the worker keeps queuing work while we copy each step's latents. A slow consumer (a
    web page) gets the steps that finished meanwhile in one state instead of one state each.
    Closing the iterator early (the user left) stops the denoising at the next step."""
    updates: queue.Queue = (
        queue.Queue()
    )  # ("step", total, timestep, latents), then ("done", generation) or ("error", e)
    stop = threading.Event()

    def work() -> None:
        try:
            generation = denoise(
                lambda step, total, timestep, latents: updates.put(("step", total, timestep, latents)), stop.is_set
            )
            updates.put(("done", generation))
        except BaseException as error:  # raised again in the consumer's thread
            updates.put(("error", error))

    finished = DENOISING_THREAD.submit(work)
    total_steps, previews, timesteps, generation = steps, (), (), None
    try:
        while generation is None:
            arrived = [updates.get()]  # wait for one, then take whatever else is there
            while not updates.empty():
                arrived.append(updates.get())
            for update in arrived:
                if update[0] == "step":
                    _, total_steps, timestep, latents = update
                    previews += (preview(latents),)
                    timesteps += (timestep,)
                elif update[0] == "done":
                    generation = update[1]
                else:
                    raise update[1]
            if generation is None:
                yield GenerationState(total_steps, previews, timesteps)
            else:
                yield GenerationState(total_steps, previews, timesteps, generation.images, generation.timing)
    finally:
        stop.set()
        finished.result()  # the next generation starts once this one has left the device


def side_by_side(rgb: np.ndarray) -> Image.Image:
    """A preview's variations, (n, h, w, 3), as one image, left to right."""
    return Image.fromarray(np.concatenate(list(rgb), axis=1))


# --- Live mode ----------------------------------------------------------------------------------


def live_steps(pipeline) -> int:
    """The live mode's steps: the distilled path's 4 (one batch each, no guidance: a pen followed
    at several images a second on a GPU), or LIVE_STEPS of the reference where its LoRA is absent."""
    return int(DISTILLED_STEPS.default) if is_distilled(pipeline) else LIVE_STEPS


def live_image(
    pipeline,
    sketch: Image.Image,
    prompt: str,
    seed: int,
    superseded: Callable[[], bool],
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    times: StepTimes | None = None,
) -> Image.Image | None:
    """One image in `live_steps(pipeline)` steps, in the denoising thread; None if `superseded()`
    became true before it started or at one of its steps (a newer drawing wants the device)."""

    def run() -> Image.Image | None:
        if superseded():  # it waited in the queue while the user drew on
            return None
        generation = generate(
            pipeline,
            sketch,
            prompt,
            [seed],
            live_steps(pipeline),
            guidance_scale,
            conditioning_scale,
            should_stop=superseded,
            times=times,
        )
        return None if generation.timing is None else generation.images[0]

    return DENOISING_THREAD.submit(run).result()
