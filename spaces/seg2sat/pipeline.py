"""Seg2Sat: a land-cover sketch guides Stable Diffusion 2.1 base through a ControlNet (Gradio-free).

Read top to bottom: fitting the prompt, loading the weights, one generation, and the same
generation streamed step by step with cheap previews of the denoising. What a user chooses (the
prompt's parts, seeds, ranges of the settings) is in options.py.

* Weights: the ControlNet `rgres/Seg2Sat-sd-controlnet` and Stable Diffusion 2.1 base, located by
  shared/weights.py (keys `seg2sat_controlnet`, `sd21_base`; ids and revisions are settings). The
  ControlNet ships a pickled `.bin`: it is read once with weights-only loading and kept as
  safetensors in our cache. CUDA runs float16, the CPU float32 (shared/device.py).
* Scheduler: UniPC instead of the base model's PNDM, because it is good at 20 steps.
* Previews: at each step the latents are turned into colours by a fixed linear map (4 latent
  channels → RGB, the factors known for SD's VAE), a few thousand multiply-adds instead of a VAE
  decode; they are 1/8 of the image's size, enough to watch noise become a landscape. They are
  made outside the denoising thread, which never waits for them.
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.device import torch_runtime
from shared.weights import WeightsUnavailable, convert_once
from spaces.seg2sat.options import CONDITIONING_SCALE, GUIDANCE_SCALE, STEPS, VARIATIONS

CONTROLNET_KEY = "seg2sat_controlnet"
BASE_KEY = "sd21_base"
PIPELINE_CACHE_KEY = f"{CONTROLNET_KEY}:pipeline"  # the catalogue key first: the About tab lists it there

# SD's VAE latents (scaled by 0.18215) → RGB in [-1, 1]: one row per latent channel. The same
# VAE serves SD 1.x and 2.x. Factors from ComfyUI's latent previews (comfy/latent_formats.py).
LATENT_RGB_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)


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
    """A folder with the ControlNet as safetensors: the hub's, or our one-off conversion of its .bin."""
    folder = hub.weights.locate(CONTROLNET_KEY)
    if (folder / "diffusion_pytorch_model.safetensors").exists():
        return folder
    pickled = folder / "diffusion_pytorch_model.bin"
    if not pickled.exists() or not (folder / "config.json").exists():
        raise WeightsUnavailable(
            hub.weights.source(CONTROLNET_KEY),
            f"{folder} holds no config.json with diffusion_pytorch_model.bin or .safetensors",
        )

    def convert(staging: Path) -> None:
        from safetensors.torch import save_file

        # weights_only: a pickle can run code when loaded; this refuses anything but tensors.
        state = torch.load(pickled, map_location="cpu", weights_only=True)
        save_file(
            {name: tensor.contiguous() for name, tensor in state.items()},
            staging / "diffusion_pytorch_model.safetensors",
            metadata={"format": "pt"},
        )
        shutil.copy(folder / "config.json", staging / "config.json")

    return convert_once(hub.weights.converted_dir(CONTROLNET_KEY, "safetensors"), convert)


def weights_cached(hub) -> bool:
    """Whether both models are on this machine already (nothing is downloaded to find out)."""
    try:
        hub.weights.locate(CONTROLNET_KEY, download=False)
        hub.weights.locate(BASE_KEY, download=False)
    except WeightsUnavailable:
        return False
    return True


def load_pipeline(hub):
    """The Seg2Sat pipeline on the hub's device and dtype; WeightsUnavailable says what is missing."""
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
    return pipeline.to(runtime.device)


def shared_pipeline(hub, progress: Callable | None = None, language: str = "fr"):
    """The pipeline through the hub's model cache: loaded once, on first use, with a progress message."""
    return hub.load_model(PIPELINE_CACHE_KEY, lambda: load_pipeline(hub), progress, language)


# --- One generation -----------------------------------------------------------------------------


def latents_to_rgb(latents: torch.Tensor) -> np.ndarray:
    """(n, 4, h, w) latents → (n, h, w, 3) uint8 colours: the cheap preview, no VAE involved.

    Computed on the CPU: the device only copies a few kilobytes of latents."""
    factors = torch.tensor(LATENT_RGB_FACTORS)
    rgb = torch.einsum("nchw,cr->nhwr", latents.to("cpu", torch.float32), factors)
    return ((rgb + 1) * 127.5).clamp(0, 255).to(torch.uint8).numpy()


def generate(
    pipeline,
    sketch: Image.Image,
    prompt: str,
    seeds: list[int],
    steps: int = STEPS.default,
    guidance_scale: float = GUIDANCE_SCALE.default,
    conditioning_scale: float = CONDITIONING_SCALE.default,
    on_step: Callable[[int, int, torch.Tensor], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Image.Image]:
    """One image per seed, guided by `sketch` (a square of palette colours: see palette.prepare_sketch).

    The images have the sketch's size. `on_step(step, total, latents)` receives a copy of each
    step's latents, on the device: turning them into a preview (latents_to_rgb) waits for the
    device, which is best done in another thread. `should_stop()` returning True skips the
    remaining steps. The same seed and settings give the same image: each variation draws its
    noise from its own CPU generator, so a seed also gives the same start on any device."""
    STEPS.check("steps", steps)
    GUIDANCE_SCALE.check("guidance_scale", guidance_scale)
    CONDITIONING_SCALE.check("conditioning_scale", conditioning_scale)
    VARIATIONS.check("number of seeds", len(seeds))
    # A fresh pipeline object around the same models: the scheduler and the pipeline keep
    # per-call state, which concurrent requests must not share. Costs no memory.
    scheduler = type(pipeline.scheduler).from_config(pipeline.scheduler.config)
    run = type(pipeline)(**{**pipeline.components, "scheduler": scheduler}, requires_safety_checker=False)
    run.set_progress_bar_config(disable=True)

    def step_end(pipe, step: int, timestep, tensors: dict) -> dict:
        if on_step is not None:
            on_step(step + 1, pipe.num_timesteps, tensors["latents"].clone())
        if should_stop is not None and should_stop():
            pipe._interrupt = True  # diffusers' documented way to end the denoising loop early
        return tensors

    result = run(
        prompt=prompt,
        image=sketch,
        width=sketch.width,
        height=sketch.height,
        num_inference_steps=steps,
        guidance_scale=float(guidance_scale),
        controlnet_conditioning_scale=float(conditioning_scale),
        num_images_per_prompt=len(seeds),
        generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
        callback_on_step_end=step_end,
    )
    return result.images


# --- The same, step by step ---------------------------------------------------------------------

# One long-lived thread runs the generations, one after the other (they share one device anyway).
# Not a new thread per call: PyTorch keeps per-thread caches (cuDNN execution plans, CUDA graphs)
# that a new thread rebuilds, +0.5 s over 20 steps on an H100. It starts on first use.
DENOISING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seg2sat-denoising")


@dataclass(frozen=True)
class GenerationState:
    """What a streamed generation has produced so far."""

    total_steps: int
    previews: tuple[np.ndarray, ...]  # one per finished step: (variations, h, w, 3) uint8, see latents_to_rgb
    images: list[Image.Image] | None = None  # the final images, in the last state only

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
) -> Iterator[GenerationState]:
    """`generate` in the denoising thread, yielding its state as steps finish, then once finished.

    The denoising never waits for the previews: this thread makes them, so that on a GPU the worker
    keeps queuing work while we copy each step's latents. A slow consumer (a web page) gets the
    steps that finished meanwhile in one state instead of one state each. Closing the iterator
    early (the user left) stops the denoising at the next step."""
    updates: queue.Queue = queue.Queue()  # ("step", total, latents), then ("done", images) or ("error", exception)
    stop = threading.Event()

    def work() -> None:
        try:
            images = generate(
                pipeline,
                sketch,
                prompt,
                seeds,
                steps,
                guidance_scale,
                conditioning_scale,
                on_step=lambda step, total, latents: updates.put(("step", total, latents)),
                should_stop=stop.is_set,
            )
            updates.put(("done", images))
        except BaseException as error:  # raised again in the consumer's thread
            updates.put(("error", error))

    finished = DENOISING_THREAD.submit(work)
    total_steps, previews, images = steps, (), None
    try:
        while images is None:
            arrived = [updates.get()]  # wait for one, then take whatever else is there
            while not updates.empty():
                arrived.append(updates.get())
            for update in arrived:
                if update[0] == "step":
                    _, total_steps, latents = update
                    previews += (latents_to_rgb(latents),)
                elif update[0] == "done":
                    images = update[1]
                else:
                    raise update[1]
            yield GenerationState(total_steps, previews, images)
    finally:
        stop.set()
        finished.result()  # the next generation starts once this one has left the device


def side_by_side(rgb: np.ndarray) -> Image.Image:
    """A preview's variations, (n, h, w, 3), as one image, left to right."""
    return Image.fromarray(np.concatenate(list(rgb), axis=1))
