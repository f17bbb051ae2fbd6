"""Seg2Sat at full size: seconds per denoising step at 512², and our generate against the bare pipeline.

The full-size architecture (SD 2.1 base UNet, its ControlNet, the VAE, the ViT-H text tower) is
built from its configs with random weights (spaces/seg2sat/random_pipeline.py): the compute does
not depend on weight values, so the timings hold for the real model. One pipeline object serves
both sides, called alternately, same sketch, prompt, seed and settings (UniPC, guidance 7.5, so
each step runs the UNet and the ControlNet on a batch of 2):

* bare: `pipeline(prompt=..., image=sketch, ...)`, the plain diffusers call;
* ours: `spaces.seg2sat.pipeline.stream_generation`, i.e. what /seg2sat_generate runs without
  Gradio: a fresh scheduler and pipeline object per call, a worker thread, a preview of every step
  (latents → RGB on the device, copied to the CPU), the preview images built by the consumer.

Seconds per step come from our run: the time between the first and the last step's preview,
divided by the steps in between. Ratio = ours / bare (target <= 1.05).

--repaint then times the repaint of part of a real photo (the first example's, its map with a pond
painted in the middle) the same way: bare, diffusers' StableDiffusionControlNetInpaintPipeline
built from the same models and called with the photo, the mask and the edited map; ours,
`logic.repaint_input` (the mask from the two maps) then `stream_repaint` (previews, paste-back).
Target: ours / bare <= 1.05.

--compile compiles the UNet and the ControlNet as the hub does with IAGEN_SEG2SAT_COMPILE
(spaces.seg2sat.pipeline.compile_denoiser, CUDA graphs) before both sides run; the first warm-up
call's time is the compilation's cost (target on an H100: 20 steps <= 0.5 s). --live then times
the live mode: images made back to back by `live_image` (the first variation's seed), in images per
second, on the distilled path as the tab runs it (4 steps, no guidance; target >= 4 on a GPU at
512 px) and on the reference's LIVE_STEPS (the tab's live mode where the LoRA is absent).

    python benchmarks/seg2sat.py --device cpu --steps 2 --repeats 1     # this 2-core CPU: ~33 s a step
    python benchmarks/seg2sat.py --device cpu --steps 10 --size 384 --repeats 1   # the CPU preset
    python benchmarks/seg2sat.py --device cuda --dtype float16 --steps 20 --compile --live
    python benchmarks/seg2sat.py --device cpu --architecture tiny --size 384 --steps 20 --repaint --repeats 5
    python benchmarks/seg2sat.py --device cpu --paths --threads 2     # the distilled path against the CPU preset
    python benchmarks/seg2sat.py --device cpu --tricks --size 384 --threads 2 [--cpu-compile]
    python benchmarks/seg2sat.py --quick   # the tiny architecture at 64 px, 2 steps, one call a side, repaint, paths, live: seconds

--paths replaces ours-against-bare by the two paths the tab offers, from a drawn map to the final
image, as /seg2sat_generate runs them (stream_generation, TAESD previews): today's CPU preset
(UniPC, guided, Stable Diffusion's VAE decode) against the distilled path at each image size (TCD,
4 steps, no guidance, TAESD decode). The distilled path's UNet is the reference's: the TCD LoRA
fused into it changes its values, not its layers nor its cost. Targets on a 2-core CPU: the final
image <= 30 s at 384 px and <= 60 s at 512 px, the first preview <= 10 s. --channels-last puts the
UNet's and the ControlNet's convolutions in channels-last memory order first. --tricks measures
such CPU tricks side by side on one distilled step: 1 thread against all, channels-last, and with
--cpu-compile torch.compile.

Imports torch, diffusers, transformers, numpy, Pillow and our Gradio-free modules only.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from common import machine_description, now, run_benchmark
from PIL import Image

from spaces.seg2sat import logic, palette  # noqa: E402 (the repository root is on the path via common)
from spaces.seg2sat.examples import EXAMPLES
from spaces.seg2sat.options import (
    CPU_PRESET,
    DISTILLED_STEPS,
    GUIDANCE_SCALE,
    IMAGE_SIZE,
    IMAGE_SIZES,
    STYLES,
    build_prompt,
)
from spaces.seg2sat.pipeline import (
    compile_denoiser,
    fit_prompt,
    generate,
    live_image,
    live_steps,
    side_by_side,
    stream_generation,
    stream_repaint,
    taesd_to_rgb,
)
from spaces.seg2sat.random_pipeline import SIZES, random_pipeline, taesd

SEED = 1234
TARGET_RATIO = 1.05
TARGET_DISTILLED_SECONDS = {384: 30, 512: 60}  # from the drawn map to the final image, 2-core CPU
TARGET_FIRST_PREVIEW_SECONDS = 10
# --quick's images, every part's: the tiny architecture's size in the tests. At the tab's 384 px
# even the tiny models took a minute and a half of a 2-core CPU (the VAE works at full resolution).
QUICK_SIZE = 64


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default=None,
        help="default: float16 on CUDA, float32 elsewhere (as the hub does)",
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each side")
    parser.add_argument(
        "--warmups",
        type=int,
        default=None,
        help="untimed calls of each side first (default: 1 on "
        "CUDA, where the first calls choose kernels; 0 on the CPU, where a call takes minutes)",
    )
    parser.add_argument("--variations", type=int, default=1, help="images per call (different seeds)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--architecture", choices=SIZES, default="full", help="tiny: a quick check of this script")
    parser.add_argument("--size", type=int, choices=IMAGE_SIZES, default=IMAGE_SIZE, help="image side, pixels")
    parser.add_argument("--compile", action="store_true", help="torch.compile the UNet and the ControlNet first")
    parser.add_argument("--repaint", action="store_true", help="then the repaint of a real photo, ours vs bare")
    parser.add_argument("--live", type=int, nargs="?", const=20, default=0, help="then N live images (default 20)")
    parser.add_argument(
        "--paths", action="store_true", help="instead: the CPU preset against the distilled path, map to final image"
    )
    parser.add_argument(
        "--channels-last", action="store_true", help="the UNet and the ControlNet in channels-last memory order"
    )
    parser.add_argument(
        "--tricks", action="store_true", help="instead: thread count and channels-last on a distilled step"
    )
    parser.add_argument("--cpu-compile", action="store_true", help="with --tricks: torch.compile too (minutes)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the tiny architecture at 64 px, 2 steps, one call a side, the repaint, paths and live mode too",
    )
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.architecture, arguments.steps, arguments.repeats, arguments.repaint = "tiny", 2, 1, True
        arguments.paths, arguments.live = True, 2
        arguments.size = QUICK_SIZE
    arguments.dtype = arguments.dtype or ("float16" if arguments.device.startswith("cuda") else "float32")
    if arguments.warmups is None:
        arguments.warmups = 1 if arguments.device.startswith("cuda") or arguments.compile else 0
    return arguments


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_bare(pipeline, sketch: Image.Image, prompt: str, seeds: list[int], steps: int) -> float:
    started = time.perf_counter()
    pipeline(
        prompt=prompt,
        image=sketch,
        num_inference_steps=steps,
        guidance_scale=GUIDANCE_SCALE.default,
        controlnet_conditioning_scale=1.0,
        num_images_per_prompt=len(seeds),
        generator=[torch.Generator("cpu").manual_seed(seed) for seed in seeds],
    )
    return time.perf_counter() - started


def run_ours(pipeline, sketch: Image.Image, prompt: str, seeds: list[int], steps: int) -> tuple[float, float | None]:
    """Total seconds, and seconds per step (None with fewer than 2 steps)."""
    arrivals = []  # (time, steps done) each time the consumer sees new previews
    started = time.perf_counter()
    for state in stream_generation(pipeline, sketch, prompt, seeds, steps):
        if state.previews and (not arrivals or arrivals[-1][1] < len(state.previews)):
            arrivals.append((time.perf_counter(), len(state.previews)))
            side_by_side(state.previews[-1])  # the tab's picture of the latest step
    total = time.perf_counter() - started
    (first_time, first_step), (last_time, last_step) = arrivals[0], arrivals[-1]
    per_step = (last_time - first_time) / (last_step - first_step) if last_step > first_step else None
    return total, per_step


def describe_device(device: str) -> str:
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


def main(argv: list[str] | None = None) -> dict[str, float]:
    from diffusers import UniPCMultistepScheduler
    from diffusers import __version__ as diffusers_version

    arguments = parse_arguments(argv)
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    warnings.filterwarnings("ignore", message="invalid value encountered in cast")  # random weights may give NaN
    dtype = getattr(torch, arguments.dtype)

    started = time.perf_counter()
    pipeline = random_pipeline(arguments.architecture, device=arguments.device, dtype=dtype)
    pipeline.scheduler = UniPCMultistepScheduler.from_config(pipeline.scheduler.config)  # as the hub loads it
    pipeline.set_progress_bar_config(disable=True)
    synchronize(arguments.device)
    build_seconds = time.perf_counter() - started
    parameters = {
        name: sum(p.numel() for p in getattr(pipeline, name).parameters()) / 1e6
        for name in ("unet", "controlnet", "vae", "text_encoder")
    }

    if arguments.compile:
        compile_denoiser(pipeline)
    if arguments.channels_last:
        pipeline.unet.to(memory_format=torch.channels_last)
        pipeline.controlnet.to(memory_format=torch.channels_last)
    sketch = palette.prepare_sketch(Image.open(EXAMPLES[0].path), arguments.size).image
    # Cut to 77 tokens, as the tab does: our stand-in tokenizer has a token per character.
    prompt, _ = fit_prompt(pipeline.tokenizer, build_prompt(EXAMPLES[0].place, STYLES[0]))
    seeds = [SEED + index for index in range(arguments.variations)]

    print(f"== Seg2Sat, {arguments.architecture} architecture with random weights — {now()}")
    print(f"machine: {machine_description()}")
    print(
        f"device: {describe_device(arguments.device)}, {arguments.dtype}; torch {torch.__version__}, "
        f"diffusers {diffusers_version}, {torch.get_num_threads()} CPU threads"
    )
    print(
        "parameters (M): "
        + ", ".join(f"{name} {count:.0f}" for name, count in parameters.items())
        + f"; built in {build_seconds:.0f} s"
        + ("; UNet and ControlNet channels-last" if arguments.channels_last else "")
    )
    if arguments.paths and not arguments.quick:
        return compare_paths(pipeline, prompt, arguments)
    if arguments.tricks:
        return compare_cpu_tricks(pipeline, prompt, arguments)
    print(
        f"{arguments.size}×{arguments.size}, {arguments.steps} steps, UniPC, guidance {GUIDANCE_SCALE.default} "
        f"(UNet + ControlNet on a batch of {2 * len(seeds)} per step), {len(seeds)} image(s) per call; "
        f"{arguments.warmups} warm-up and {arguments.repeats} timed call(s) per side, alternating"
        + ("; UNet and ControlNet compiled (mode reduce-overhead)" if arguments.compile else "")
    )

    for warmup in range(arguments.warmups):
        # Ours first: it runs in the denoising thread, where the hub's generations replay CUDA graphs.
        seconds, _ = run_ours(pipeline, sketch, prompt, seeds, arguments.steps)
        if warmup == 0 and arguments.compile:
            print(f"first call, compiling included : {seconds:.1f} s")
        run_bare(pipeline, sketch, prompt, seeds, arguments.steps)
    bare, ours, per_step = [], [], []
    for repeat in range(arguments.repeats):
        sides = ("bare", "ours") if repeat % 2 == 0 else ("ours", "bare")  # neither always goes first
        for side in sides:
            if side == "bare":
                bare.append(run_bare(pipeline, sketch, prompt, seeds, arguments.steps))
            else:
                total, step_seconds = run_ours(pipeline, sketch, prompt, seeds, arguments.steps)
                ours.append(total)
                if step_seconds is not None:
                    per_step.append(step_seconds)

    results = {"bare_s": statistics.median(bare), "ours_s": statistics.median(ours)}
    results["ratio"] = results["ours_s"] / results["bare_s"]
    print(
        f"bare pipeline call          : median {results['bare_s']:.3f} s  (runs: "
        + ", ".join(f"{seconds:.3f}" for seconds in bare)
        + ")"
    )
    print(
        f"our generate, with previews : median {results['ours_s']:.3f} s  (runs: "
        + ", ".join(f"{seconds:.3f}" for seconds in ours)
        + ")"
    )
    print(f"ratio ours / bare           : {results['ratio']:.3f}  (target <= {TARGET_RATIO})")
    if per_step:
        results["step_s"] = statistics.median(per_step)
        print(f"seconds per denoising step  : {results['step_s']:.4f} s at {arguments.size}²")
    if arguments.repaint:
        results.update(compare_repaints(pipeline, prompt, arguments))
    if arguments.paths:
        results.update(compare_paths(pipeline, prompt, arguments))
    if arguments.live:
        # The tab's live mode runs the distilled path (its 4 unguided steps) where the LoRA is here.
        for name, live_pipeline in (("distilled", distilled_pipeline(pipeline, arguments)), ("reference", pipeline)):
            per_s = run_live(live_pipeline, sketch, prompt, seeds[0], arguments.live)
            results[f"live_{name}_images_per_s"] = per_s
            target = "target >= 4 on a GPU" if name == "distilled" else "the reference's"
            print(
                f"live mode, {name} path, {live_steps(live_pipeline)} steps, {arguments.live} images back to back: "
                f"{per_s:.2f} images/s ({target})"
            )
    return results


def distilled_pipeline(pipeline, arguments: argparse.Namespace):
    """The distilled path around `pipeline`'s models, as spaces.seg2sat.pipeline builds it, with the
    same UNet: fusing the TCD LoRA changes its weights' values only."""
    from diffusers import StableDiffusionControlNetPipeline, TCDScheduler

    decoder = taesd(arguments.architecture).to(arguments.device, getattr(torch, arguments.dtype)).eval()
    return StableDiffusionControlNetPipeline(
        **{**pipeline.components, "vae": decoder, "scheduler": TCDScheduler.from_config(pipeline.scheduler.config)},
        requires_safety_checker=False,
    )


def compare_cpu_tricks(pipeline, prompt: str, arguments: argparse.Namespace) -> dict[str, float]:
    """What might make a CPU step cheaper, one after the other in this process on the distilled path
    at --size (3 steps, the steady step timed: the first also encodes the prompt): the thread count,
    channels-last convolutions, and with --cpu-compile torch.compile (Inductor's C++ kernels; its
    first call compiles, the second is timed)."""
    distilled = distilled_pipeline(pipeline, arguments)
    distilled.set_progress_bar_config(disable=True)
    sketch = palette.prepare_sketch(Image.open(EXAMPLES[0].path), arguments.size).image
    cores = torch.get_num_threads()

    def step_seconds() -> float:
        return generate(distilled, sketch, prompt, [SEED], 3).timing.step_seconds

    def channels_last() -> None:
        distilled.unet.to(memory_format=torch.channels_last)
        distilled.controlnet.to(memory_format=torch.channels_last)

    def compiled() -> None:
        distilled.unet = torch.compile(distilled.unet)
        distilled.controlnet = torch.compile(distilled.controlnet)
        started = time.perf_counter()
        step_seconds()
        print(f"  torch.compile's first call (compiling): {time.perf_counter() - started:.0f} s")

    variants = [
        (f"{cores} threads", lambda: torch.set_num_threads(cores)),
        ("1 thread", lambda: torch.set_num_threads(1)),
        (f"{cores} threads, channels-last", lambda: (torch.set_num_threads(cores), channels_last())),
    ]
    if arguments.cpu_compile:
        variants.append((f"{cores} threads, channels-last, torch.compile", compiled))
    print(f"distilled path, {arguments.size}², a steady step, one variant after the other:")
    results = {}
    for name, apply in variants:
        apply()
        seconds = step_seconds()
        results[f"step_s {name}"] = seconds
        print(f"  {name:<45}: {seconds:.2f} s a step")
    return results


def compare_paths(pipeline, prompt: str, arguments: argparse.Namespace) -> dict[str, float]:
    """From the map to the final image: the CPU preset, then the distilled path at each size, one
    call each (a call is minutes on a CPU), each step's TAESD preview made as the tab makes it."""
    distilled = distilled_pipeline(pipeline, arguments)
    decoder = distilled.vae
    distilled_steps = int(DISTILLED_STEPS.default)
    preset_size, sizes = (arguments.size, [arguments.size]) if arguments.quick else (CPU_PRESET.size, IMAGE_SIZES)
    runs = [("preset", pipeline, preset_size, CPU_PRESET.steps)]
    runs += [("distilled", distilled, size, distilled_steps) for size in sorted(sizes)]
    descriptions = {
        "preset": f"CPU preset: {CPU_PRESET.steps} UniPC steps, guidance {CPU_PRESET.guidance_scale}, VAE decode",
        "distilled": f"distilled: {distilled_steps} TCD steps, no guidance, TAESD decode",
    }
    results = {}
    for name, run_pipeline, size, steps in runs:
        sketch = palette.prepare_sketch(Image.open(EXAMPLES[0].path), size).image
        started, first_preview = time.perf_counter(), None
        states = stream_generation(
            run_pipeline, sketch, prompt, [SEED], steps, preview=lambda latents: taesd_to_rgb(decoder, latents)
        )
        for state in states:
            if state.previews and first_preview is None:
                first_preview = time.perf_counter() - started
        synchronize(arguments.device)
        total = time.perf_counter() - started
        results[f"{name}_{size}_s"], results[f"{name}_{size}_first_preview_s"] = total, first_preview
        target = (
            f" (targets <= {TARGET_DISTILLED_SECONDS[size]} s, first preview <= {TARGET_FIRST_PREVIEW_SECONDS} s)"
            if name == "distilled" and size in TARGET_DISTILLED_SECONDS
            else ""
        )
        print(f"{descriptions[name]}, {size}²: final image {total:.1f} s, first preview {first_preview:.1f} s{target}")
    return results


def repaint_inputs(size: int) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The first example's photo and map at `size`, and the map with a pond painted in its middle."""
    example = EXAMPLES[0]
    photo = Image.open(example.photo_path).convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    original = palette.prepare_sketch(Image.open(example.path), size).image
    edited = original.copy()
    edited.paste(palette.CLASS_BY_ENGLISH_NAME["water"].rgb, (size // 3, size // 3, size // 2, size // 2))
    return photo, original, edited


def compare_repaints(pipeline, prompt: str, arguments: argparse.Namespace) -> dict[str, float]:
    from diffusers import StableDiffusionControlNetInpaintPipeline

    photo, original, edited = repaint_inputs(arguments.size)
    mask = logic.repaint_input(photo, edited, original).mask  # the bare call's input, made once
    inpainting = StableDiffusionControlNetInpaintPipeline(**pipeline.components, requires_safety_checker=False)
    inpainting.set_progress_bar_config(disable=True)

    def bare() -> float:
        started = time.perf_counter()
        inpainting(
            prompt=prompt,
            image=photo,
            mask_image=mask,
            control_image=edited,
            num_inference_steps=arguments.steps,
            guidance_scale=GUIDANCE_SCALE.default,
            controlnet_conditioning_scale=1.0,
            generator=torch.Generator("cpu").manual_seed(SEED),
        )
        synchronize(arguments.device)
        return time.perf_counter() - started

    def ours() -> float:
        started = time.perf_counter()
        wanted = logic.repaint_input(photo, edited, original)
        for state in stream_repaint(
            pipeline, wanted.photo, wanted.control_map, wanted.mask, prompt, SEED, arguments.steps
        ):
            if state.previews:
                side_by_side(state.previews[-1])
        return time.perf_counter() - started

    for _ in range(arguments.warmups):
        ours(), bare()
    timed = {"bare": [], "ours": []}
    for repeat in range(arguments.repeats):
        for side in ("bare", "ours") if repeat % 2 == 0 else ("ours", "bare"):
            timed[side].append(bare() if side == "bare" else ours())
    results = {"repaint_bare_s": statistics.median(timed["bare"]), "repaint_ours_s": statistics.median(timed["ours"])}
    results["repaint_ratio"] = results["repaint_ours_s"] / results["repaint_bare_s"]
    for side, label in (("bare", "bare inpainting call"), ("ours", "our repaint, previews")):
        runs = ", ".join(f"{seconds:.3f}" for seconds in timed[side])
        print(f"{label:<28}: median {results[f'repaint_{side}_s']:.3f} s  (runs: {runs})")
    print(f"repaint ratio ours / bare   : {results['repaint_ratio']:.3f}  (target <= {TARGET_RATIO})")
    return results


def run_live(pipeline, sketch: Image.Image, prompt: str, seed: int, count: int) -> float:
    """Images per second of the live mode's generation, one after the other, never superseded."""
    live_image(pipeline, sketch, prompt, seed, lambda: False)  # its shapes are the default's: warm
    started = time.perf_counter()
    for _ in range(count):
        live_image(pipeline, sketch, prompt, seed, lambda: False)
    return count / (time.perf_counter() - started)


if __name__ == "__main__":
    run_benchmark(main)
