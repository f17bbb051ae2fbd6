"""Seg2Sat's pipeline and endpoints, on a tiny random pipeline of the real architecture.

The tiny models are saved into the test HF cache under the real repository ids, laid out as the
real repositories are (the ControlNet's safetensors at main; an older revision with only a
pickled .bin; TAESD's diffusers files; the TCD LoRA's one file of kohya-style keys), so the
production loading code runs: locate with the hub offline, the .bin fetched and converted once for
the older revision, UniPC, TAESD previews, the LoRA fused into the distilled path's UNet. They
are removed at the end of this module, so that other modules' hubs see no Seg2Sat weights.
"""

import base64
import html
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SEG2SAT_CONTROLNET_ID, seed_hub_cache, seed_seg2sat_models
from gradio_client import Client
from hub_server import hub_in_process
from PIL import Image, ImageFilter

from shared.hub import Hub
from shared.settings import load_settings
from shared.weights import WeightsUnavailable
from spaces.seg2sat import logic, options, palette, ui
from spaces.seg2sat import pipeline as seg2sat
from spaces.seg2sat.examples import EXAMPLES
from spaces.seg2sat.random_pipeline import save_controlnet

PICKLED_REVISION = "1" * 40  # a revision from before the repository's safetensors: a .bin only
CONFIG_ONLY_REVISION = "2" * 40  # a revision whose weights were never fetched
SIZE = 64  # the tiny pipeline's images: 2 steps in well under a second


def save_config_only(folder: Path) -> None:
    save_controlnet(folder)
    (folder / "diffusion_pytorch_model.safetensors").unlink()


@pytest.fixture(scope="module", autouse=True)
def tiny_weights_in_the_hub_cache():
    torch.set_num_threads(1)
    # refs/main follows the last one seeded: the ControlNet's main is its safetensors.
    seed_hub_cache(SEG2SAT_CONTROLNET_ID, lambda folder: save_controlnet(folder, safetensors=False), PICKLED_REVISION)
    seed_hub_cache(SEG2SAT_CONTROLNET_ID, save_config_only, CONFIG_ONLY_REVISION)
    snapshots = seed_seg2sat_models()
    yield
    for snapshot in snapshots:
        shutil.rmtree(snapshot.parent.parent)  # models--org--name


def make_hub(tmp_path: Path, **environ: str) -> Hub:
    return Hub(
        load_settings(
            [],
            {"IAGEN_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "IAGEN_TORCH_THREADS": "1", **environ},
        )
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    return make_hub(tmp_path_factory.mktemp("seg2sat"))


@pytest.fixture(scope="module")
def model(hub):
    return seg2sat.shared_pipeline(hub)


@pytest.fixture(scope="module")
def sketch():
    return palette.prepare_sketch(Image.open(EXAMPLES[0].path), SIZE).image


# --- Loading ------------------------------------------------------------------------------------


def test_loading_reads_the_hubs_safetensors_as_they_are(hub, model):
    from safetensors.torch import load_file

    assert type(model).__name__ == "StableDiffusionControlNetPipeline"
    assert type(model.scheduler).__name__ == "UniPCMultistepScheduler"
    assert model.unet.dtype == torch.float32 and model.device.type == "cpu"
    folder = seg2sat.controlnet_folder(hub)
    assert folder == hub.weights.locate("seg2sat_controlnet")  # no conversion
    assert not hub.weights.converted_dir("seg2sat_controlnet", "safetensors").exists()
    original = load_file(folder / "diffusion_pytorch_model.safetensors")
    loaded = model.controlnet.state_dict()
    assert all(torch.equal(loaded[name], original[name]) for name in original)
    assert seg2sat.shared_pipeline(hub) is model  # loaded once, then shared
    assert hub.models.status(seg2sat.PIPELINE_CACHE_KEY).state == "loaded"


def test_an_older_revision_has_its_bin_converted_once(tmp_path, monkeypatch):
    from safetensors.torch import load_file

    older = make_hub(tmp_path, IAGEN_REVISION_SEG2SAT_CONTROLNET=PICKLED_REVISION)
    snapshot = older.weights.locate("seg2sat_controlnet")
    assert snapshot.name == PICKLED_REVISION and not (snapshot / "diffusion_pytorch_model.safetensors").exists()
    folder = seg2sat.controlnet_folder(older)
    assert folder == older.weights.converted_dir("seg2sat_controlnet", "safetensors")
    original = torch.load(snapshot / "diffusion_pytorch_model.bin", weights_only=True)
    copy = load_file(folder / "diffusion_pytorch_model.safetensors")
    assert copy.keys() == original.keys() and all(torch.equal(copy[name], original[name]) for name in original)
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: pytest.fail("converted again"))
    assert seg2sat.controlnet_folder(older) == folder
    assert seg2sat.load_pipeline(older).controlnet.dtype == torch.float32  # and it loads


def test_a_revision_without_either_file_says_so(tmp_path):
    bare = make_hub(tmp_path, IAGEN_REVISION_SEG2SAT_CONTROLNET=CONFIG_ONLY_REVISION)
    with pytest.raises(
        WeightsUnavailable,
        match="has no diffusion_pytorch_model.safetensors, and diffusion_pytorch_model.bin of .* is not in the local hub cache",
    ):
        seg2sat.controlnet_folder(bare)


def test_a_local_folder_with_a_bin_is_converted(tmp_path):
    folder = tmp_path / "controlnet"
    save_controlnet(folder, safetensors=False)
    local = make_hub(tmp_path, IAGEN_MODEL_SEG2SAT_CONTROLNET=str(folder))
    converted = seg2sat.controlnet_folder(local)
    assert (converted / "diffusion_pytorch_model.safetensors").exists() and (converted / "config.json").exists()


def test_missing_weights_say_what_and_how(tmp_path):
    absent = make_hub(tmp_path, IAGEN_MODEL_SD21_BASE="example-org/no-such-model")
    assert not ui.weights_cached(absent)
    with pytest.raises(WeightsUnavailable) as raised:
        seg2sat.shared_pipeline(absent)
    message = str(raised.value)
    assert "Stable Diffusion 2.1 base" in message and "example-org/no-such-model" in message
    assert "python -m shared.prefetch sd21_base" in message and "IAGEN_MODEL_SD21_BASE" in message
    assert absent.models.status(seg2sat.PIPELINE_CACHE_KEY).state == "missing"


def test_an_empty_controlnet_folder_is_reported(tmp_path):
    empty = tmp_path / "controlnet"
    empty.mkdir()
    with pytest.raises(WeightsUnavailable, match="holds no config.json"):
        seg2sat.controlnet_folder(make_hub(tmp_path, IAGEN_MODEL_SEG2SAT_CONTROLNET=str(empty)))


def test_weights_cached_reports_the_seeded_cache(hub):
    assert ui.weights_cached(hub)


def test_previews_come_from_taesd_when_its_weights_are_here(hub, model, sketch, tmp_path):
    decoder = seg2sat.preview_decoder(hub)
    assert decoder is not seg2sat.latents_to_rgb
    states = list(seg2sat.stream_generation(model, sketch, "Aerial view", [1, 2], steps=2, preview=decoder))
    preview = states[-1].previews[0]
    assert preview.shape == (2, seg2sat.TAESD_PREVIEW_SIZE, seg2sat.TAESD_PREVIEW_SIZE, 3) and preview.dtype == np.uint8
    assert hub.models.status("taesd").state == "loaded"
    without = make_hub(tmp_path, IAGEN_MODEL_TAESD="example-org/no-taesd")
    assert seg2sat.preview_decoder(without) is seg2sat.latents_to_rgb  # the linear map, nothing downloaded


def test_compiling_wraps_the_unet_and_the_controlnet_only_on_cuda(tmp_path, caplog):
    from diffusers.utils.torch_utils import is_compiled_module

    compiling = make_hub(tmp_path, IAGEN_SEG2SAT_COMPILE="1")
    with caplog.at_level("WARNING", logger="spaces.seg2sat.pipeline"):
        eager = seg2sat.load_pipeline(compiling)
    assert not is_compiled_module(eager.unet) and "the UNet is not compiled" in caplog.text
    seg2sat.compile_denoiser(eager)  # what CUDA gets: lazy, nothing is compiled until a call
    assert is_compiled_module(eager.unet) and is_compiled_module(eager.controlnet)
    assert eager.unet._orig_mod.config.cross_attention_dim == 32
    # A generation's fresh pipeline object keeps the compiled modules.
    run = type(eager)(**eager.components, requires_safety_checker=False)
    assert run.unet is eager.unet and run.controlnet is eager.controlnet


@pytest.mark.slow
def test_the_compiled_warm_up_leaves_no_shape_to_compile(tmp_path, monkeypatch, caplog):
    """The warm-up's calls make batch, size and conditioning scale dynamic for PyTorch's compiler,
    so the shapes a student can ask for afterwards compile nothing new. Checked with the compiler's
    front end (Dynamo, which decides what to compile) and its "eager" back end: the CPU has no CUDA
    graphs, and the guards that decide recompilations are the same."""
    from torch._dynamo.utils import counters

    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda module, mode: real_compile(module, backend="eager"))
    torch._dynamo.reset()
    counters.clear()
    compiling = make_hub(tmp_path, IAGEN_MODEL_TCD_LORA="example-org/absent")  # the reference path's shapes only
    model = seg2sat.load_pipeline(compiling)
    seg2sat.compile_denoiser(model)
    monkeypatch.setattr(seg2sat, "shared_pipeline", lambda hub: model)
    with caplog.at_level("INFO", logger="spaces.seg2sat.pipeline"):
        seg2sat.warm_up(compiling, logic.StepTimes())
    assert caplog.text.count("Seg2Sat warm-up (compiling the UNet and the ControlNet)") == 3
    after_warm_up = counters["stats"]["unique_graphs"]
    for size, variations, conditioning, guidance in ((384, 1, 1.0, 7.5), (512, 3, 1.3, 7.5), (512, 4, 0.2, 12.0)):
        sketch = palette.blank_sketch(size)
        seg2sat.DENOISING_THREAD.submit(
            seg2sat.generate, model, sketch, "Aerial view", list(range(variations)), 2, guidance, conditioning
        ).result()
    assert counters["stats"]["unique_graphs"] == after_warm_up
    torch._dynamo.reset()


def test_the_warm_up_measures_a_step_once(hub, model, distilled, monkeypatch):
    times = logic.StepTimes()
    calls = {"reference": [], "distilled": []}
    for path, pipeline in (("reference", model), ("distilled", distilled)):
        forward = pipeline.unet.forward
        counted = lambda *args, forward=forward, path=path, **kwargs: calls[path].append(1) or forward(*args, **kwargs)  # noqa: E731
        monkeypatch.setattr(pipeline.unet, "forward", counted)
    seg2sat.warm_up(hub, times)
    # One step of one guided image (one batch of two); two distilled steps, the fewest it makes.
    assert len(calls["reference"]) == 1 and len(calls["distilled"]) == 2
    assert times.estimate(20, options.IMAGE_SIZE, 1, True) > 0
    assert times.estimate(4, options.DISTILLED_PRESET.size, 1, False, "taesd") > 0
    seg2sat.warm_up(hub, times)
    assert len(calls["reference"]) == 1 and len(calls["distilled"]) == 2


# --- Generation ---------------------------------------------------------------------------------


def test_same_seed_same_image_and_each_variation_is_its_seed(model, sketch):
    first = seg2sat.generate(model, sketch, "Aerial view of Saumur", [7, 8], steps=2).images
    again = seg2sat.generate(model, sketch, "Aerial view of Saumur", [7, 8], steps=2).images
    alone = seg2sat.generate(model, sketch, "Aerial view of Saumur", [8], steps=2).images
    assert [image.size for image in first] == [(SIZE, SIZE)] * 2
    pixels = [np.asarray(image) for image in first]
    assert all((a == np.asarray(b)).all() for a, b in zip(pixels, again, strict=True))
    assert not (pixels[0] == pixels[1]).all()
    # Batched or alone, a seed gives its image (up to rounding: batches take other kernels).
    assert np.abs(pixels[1].astype(int) - np.asarray(alone[0], dtype=int)).max() <= 2


def test_previews_come_one_per_step_and_grow(model, sketch):
    states = list(seg2sat.stream_generation(model, sketch, "Aerial view", [1, 2], steps=3))
    assert [len(state.previews) for state in states] == sorted(len(state.previews) for state in states)
    final = states[-1]
    assert final.done and len(final.images) == 2 and not any(state.done for state in states[:-1])
    assert final.total_steps == 3 and len(final.previews) == 3
    assert all(
        preview.shape == (2, SIZE // 8, SIZE // 8, 3) and preview.dtype == np.uint8 for preview in final.previews
    )
    assert seg2sat.side_by_side(final.previews[0]).size == (2 * SIZE // 8, SIZE // 8)
    assert len(final.timesteps) == 3 and list(final.timesteps) == sorted(final.timesteps, reverse=True)
    assert 0 <= final.timesteps[-1] < final.timesteps[0] < 1000


def test_a_finished_generation_records_what_it_cost(model, sketch):
    times = logic.StepTimes()
    generation = seg2sat.generate(model, sketch, "Aerial view", [1, 2], steps=3, guidance_scale=1.0, times=times)
    timing = generation.timing
    assert (timing.size, timing.images, timing.guided) == (SIZE, 2, False)
    assert timing.step_seconds > 0 and timing.decode_seconds > 0
    assert times.estimate(3, SIZE, 2, False) == pytest.approx(3 * timing.step_seconds + timing.decode_seconds)


# --- The distilled path -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distilled(hub, model):
    return seg2sat.shared_distilled_pipeline(hub)


def test_the_distilled_path_fuses_the_lora_into_a_copy_of_the_unet(hub, model, distilled):
    from safetensors.torch import load_file

    assert type(distilled.scheduler).__name__ == "TCDScheduler" and seg2sat.is_distilled(distilled)
    assert type(model.scheduler).__name__ == "UniPCMultistepScheduler" and not seg2sat.is_distilled(model)
    # The ControlNet and the text encoder are the reference's objects; the UNet is a copy.
    assert distilled.controlnet is model.controlnet and distilled.text_encoder is model.text_encoder
    assert distilled.unet is not model.unet
    assert seg2sat.decodes_with_taesd(distilled) and not seg2sat.decodes_with_taesd(model)
    lora = load_file(hub.weights.locate("tcd_lora") / seg2sat.TCD_LORA_FILE)
    base = load_file(hub.weights.locate("sd21_base") / "unet" / "diffusion_pytorch_model.safetensors")
    fused, reference = distilled.unet.state_dict(), model.unet.state_dict()
    assert set(fused) == set(reference)  # the LoRA's own layers were removed once fused
    adapted = 0
    for key in (name for name in lora if name.endswith(".alpha")):
        layer = key.removesuffix(".alpha")
        up, down = lora[f"{layer}.lora_up.weight"].float(), lora[f"{layer}.lora_down.weight"].float()
        scale = lora[key].float() / down.shape[0]  # alpha / rank
        delta = (up.flatten(1) @ down.flatten(1)).reshape(up.shape[0], *down.shape[1:]) * scale
        weight = next(
            name
            for name in fused
            if name.endswith(".weight") and "lora_unet_" + name.removesuffix(".weight").replace(".", "_") == layer
        )
        assert torch.allclose(fused[weight], base[weight] + delta, atol=1e-5), weight
        assert torch.equal(reference[weight], base[weight])  # the reference path keeps the base weights
        adapted += 1
    assert adapted == len(lora) // 3 > 100  # every layer of the file: attention, feed-forward, convolutions
    assert seg2sat.shared_distilled_pipeline(hub) is distilled  # fused once, then shared


def test_the_distilled_path_runs_one_batch_per_step_without_guidance(distilled, sketch, monkeypatch):
    batches = {"unet": [], "controlnet": []}
    for name in batches:
        module = getattr(distilled, name)
        forward = module.forward

        def counted(sample, *args, forward=forward, name=name, **kwargs):
            batches[name].append(sample.shape[0])
            return forward(sample, *args, **kwargs)

        monkeypatch.setattr(module, "forward", counted)
    generation = seg2sat.generate(distilled, sketch, "Aerial view", [3], steps=options.DISTILLED_STEPS.default)
    assert batches["unet"] == [1] * 4 and batches["controlnet"] == [1] * 4  # a guided step would be [2]
    assert generation.timing.guided is False and generation.timing.decoder == "taesd"


def test_the_live_mode_follows_the_pen_on_the_distilled_path(distilled, model, sketch, monkeypatch):
    """On a GPU the live mode makes each image in the distilled path's 4 unguided steps (the
    reference's LIVE_STEPS where its LoRA is absent)."""
    batches = []
    forward = distilled.unet.forward

    def counted(sample, *args, **kwargs):
        batches.append(sample.shape[0])
        return forward(sample, *args, **kwargs)

    monkeypatch.setattr(distilled.unet, "forward", counted)
    image = seg2sat.live_image(distilled, sketch, "Aerial view", 5, lambda: False)
    assert image is not None and batches == [1] * 4 == [1] * seg2sat.live_steps(distilled)
    assert seg2sat.live_steps(model) == options.LIVE_STEPS


def test_the_distilled_path_gives_the_same_image_twice_for_a_seed(distilled, sketch):
    first, again, other = (
        seg2sat.generate(distilled, sketch, "Aerial view of Saumur", [seed], steps=4).images[0] for seed in (7, 7, 8)
    )
    assert first.size == (SIZE, SIZE)
    assert (np.asarray(first) == np.asarray(again)).all()
    assert not (np.asarray(first) == np.asarray(other)).all()


@pytest.mark.parametrize("steps", [1, 9])
def test_the_distilled_path_refuses_steps_outside_its_range(distilled, sketch, steps):
    with pytest.raises(ValueError, match="steps must be between 2 and 8"):
        seg2sat.generate(distilled, sketch, "Aerial view", [1], steps=steps)


def test_without_the_lora_the_distilled_path_says_what_is_missing(tmp_path):
    absent = make_hub(tmp_path, IAGEN_MODEL_TCD_LORA="example-org/no-lora")
    assert not seg2sat.distilled_weights_cached(absent)
    with pytest.raises(WeightsUnavailable, match="python -m shared.prefetch tcd_lora"):
        seg2sat.shared_distilled_pipeline(absent)


# --- Live mode ----------------------------------------------------------------------------------


def test_live_mode_runs_the_latest_request_only(model, sketch, monkeypatch):
    """Request 1 is running when a new stroke is announced: it stops at its next step and gives
    nothing; request 2, the latest, gives its image; a request announced over before it starts
    does not touch the device."""
    session = logic.LiveSession()
    unet_calls = []
    forward = model.unet.forward

    def counted_forward(*args, **kwargs):
        unet_calls.append(1)
        if len(unet_calls) == 2:
            session.announce()  # the user drew on while request 1 was at its second step
        return forward(*args, **kwargs)

    monkeypatch.setattr(model.unet, "forward", counted_forward)
    first = session.ticket()
    assert seg2sat.live_image(model, sketch, "Aerial view", 5, lambda: session.superseded(first)) is None
    assert len(unet_calls) == 2 < options.LIVE_STEPS

    second = session.ticket()
    image = seg2sat.live_image(model, sketch, "Aerial view", 5, lambda: session.superseded(second))
    assert image is not None and image.size == (SIZE, SIZE)
    assert len(unet_calls) == 2 + options.LIVE_STEPS

    stale = session.ticket()
    session.announce()
    assert seg2sat.live_image(model, sketch, "Aerial view", 5, lambda: session.superseded(stale)) is None
    assert len(unet_calls) == 2 + options.LIVE_STEPS  # never started


def test_closing_the_stream_stops_the_denoising(model, sketch, monkeypatch):
    unet_calls = []
    forward = model.unet.forward
    monkeypatch.setattr(model.unet, "forward", lambda *args, **kwargs: unet_calls.append(1) or forward(*args, **kwargs))
    stream = seg2sat.stream_generation(model, sketch, "Aerial view", [1], steps=50)
    next(stream)
    stream.close()
    assert len(unet_calls) < 50  # close() returns once the worker has stopped


def test_errors_reach_the_consumer(model, sketch):
    with pytest.raises(ValueError, match="steps must be between 1 and 50"):
        list(seg2sat.stream_generation(model, sketch, "Aerial view", [1], steps=0))


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(steps=51), "steps"),
        (dict(guidance_scale=0.5), "guidance_scale"),
        (dict(guidance_scale=21), "guidance_scale"),
        (dict(conditioning_scale=-0.1), "conditioning_scale"),
        (dict(seeds=[1, 2, 3, 4, 5]), "number of seeds"),
    ],
)
def test_settings_out_of_range_are_refused(model, sketch, settings, message):
    arguments = dict(seeds=[1], steps=2) | settings
    with pytest.raises(ValueError, match=message):
        seg2sat.generate(model, sketch, "Aerial view", **arguments)


def test_latents_to_rgb_is_a_cheap_linear_preview():
    assert (seg2sat.latents_to_rgb(torch.zeros(2, 4, 8, 8)) == 127).all()  # zero latents: mid grey
    water_ish = seg2sat.latents_to_rgb(torch.tensor([0.0, 0.0, 0.0, -2.0]).view(1, 4, 1, 1))[0, 0, 0]
    assert water_ish[2] == 255 and water_ish[0] < 255  # the 4th channel drives blue most


# --- Prompt -------------------------------------------------------------------------------------


def test_prompt_as_published():
    assert options.build_prompt("  Saumur, Maine-et-Loire ", "Oil on canvas painting") == (
        "Aerial view of Saumur, Maine-et-Loire. Oil on canvas painting"
    )
    assert options.build_prompt("", "") == f"Aerial view of {options.DEFAULT_PLACE}"


def test_the_training_captions_form_lists_the_classes_before_the_style():
    classes = ("plowed land", "impervious surface")
    assert options.build_prompt("Mourenx", "", classes) == "Aerial view of Mourenx. plowed land, impervious surface."
    assert options.build_prompt("Mourenx", "Watercolor painting", classes) == (
        "Aerial view of Mourenx. plowed land, impervious surface. Watercolor painting"
    )


def test_describing_the_classes_drawn_sends_them_largest_first(endpoint):
    arguments = generate_arguments(EXAMPLES[0].path, place="Mourenx", steps=1, describe_classes=True)
    _, _, status, _ = endpoint.predict(*arguments, api_name="/seg2sat_generate")
    shares = palette.class_shares(palette.prepare_sketch(Image.open(EXAMPLES[0].path), SIZE).image)
    names = ", ".join(land_cover.english for land_cover, _ in shares)
    # The tiny tokenizer has a token per character: the prompt is cut at 75, after the classes' start.
    assert f"Aerial view of Mourenx. {names}"[:75] in html.unescape(status)
    _, _, status, _ = call(endpoint, EXAMPLES[0].path, place="Mourenx", steps=1)  # the default: as published
    assert "Aerial view of Mourenx. High resolution" in html.unescape(status)


def test_a_long_prompt_is_cut_to_77_tokens(model):
    prompt = options.build_prompt("Toulouse " * 111, options.STYLES[0])  # about 1 000 characters
    kept, dropped = seg2sat.fit_prompt(model.tokenizer, prompt)
    assert len(model.tokenizer(kept).input_ids) <= 77 < len(model.tokenizer(prompt, verbose=False).input_ids)
    assert prompt.startswith(kept) and prompt.endswith(dropped) and dropped
    assert seg2sat.fit_prompt(model.tokenizer, "Aerial view of Saumur") == ("Aerial view of Saumur", "")


def test_seeds():
    assert options.variation_seeds(options.MAX_SEED, 2) == [options.MAX_SEED, 0]
    assert 0 <= options.new_seed() <= options.MAX_SEED
    assert options.seed_to_use(42.0, False) == 42 and 0 <= options.seed_to_use(42.0, True) <= options.MAX_SEED
    assert 0 <= options.seed_to_use(None, False) <= options.MAX_SEED


# --- The endpoint -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint_hub(tmp_path_factory):
    return make_hub(tmp_path_factory.mktemp("endpoint"))


@pytest.fixture(scope="module")
def endpoint(endpoint_hub):
    """The hub with the Seg2Sat tab alone, served in-process; canvas and generation at 64 px."""
    from gradio_client import Client

    from spaces.seg2sat import ui

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ui, "IMAGE_SIZE", SIZE)
        patch.setattr(ui, "IMAGE_SIZES", (SIZE,))
        with hub_in_process(endpoint_hub, {"seg2sat": "spaces.seg2sat.ui"}) as url:
            yield Client(url, verbose=False)


def drawing_of(picture_path) -> str:
    """What the canvas sends: the drawing as a PNG data: URL (here the file as it is)."""
    return "data:image/png;base64," + base64.b64encode(Path(picture_path).read_bytes()).decode()


def generate_arguments(
    picture_path,
    place="Saumur",
    steps=2,
    variations=1,
    seed=42,
    random_seed=False,
    free_style="",
    guidance=7.5,
    style="satellite",
    describe_classes=False,
    path="reference",
) -> tuple:
    """The arguments of /seg2sat_generate, in its order."""
    return (
        drawing_of(picture_path),
        place,
        style,
        free_style,
        seed,
        random_seed,
        steps,
        SIZE,
        guidance,
        1.0,
        variations,
        describe_classes,
        path,
    )


def call(client, picture_path, **settings):
    return client.predict(*generate_arguments(picture_path, **settings), api_name="/seg2sat_generate")


def image_bytes(result) -> bytes:
    return np.asarray(Image.open(result["image"]).convert("RGB")).tobytes()


def decoded(data_url: str) -> Image.Image:
    header, data = data_url.split(",", 1)
    assert header == "data:image/webp;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_the_endpoint_generates_and_reproduces(endpoint):
    named = endpoint.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [name for name in named if "seg2sat" in name or "diffusion" in name] == [
        "/seg2sat_generate",
        "/seg2sat_compare",
        "/seg2sat_repaint",
        "/seg2sat_live",
        "/seg2sat_send_to_search",
        "/diffusion_noise",
    ]
    results, strip, status, seed = call(endpoint, EXAMPLES[2].path, variations=2)
    assert seed == 42 and len(results) == 2 and len(strip) == 2
    assert [(item["caption"], item["seed"]) for item in results] == [("graine 42", 42), ("graine 43", 43)]
    assert results[0]["alt"].startswith("Image générée d'après une carte : ")  # its map, said (RGAA 1.3)
    timesteps = [step["t"] for step in strip]  # each step's timestep t, noisiest first
    assert timesteps == sorted(timesteps, reverse=True) and all(0 <= t < 1000 for t in timesteps)
    preview = decoded(strip[0]["preview"])  # the two variations side by side
    assert preview.width == 2 * preview.height
    assert "Aerial view of Saumur. High resolution satellite image" in status  # folded, for the curious
    assert "<details>" in status and "sur processeur (sans GPU)" in status
    assert Image.open(results[0]["image"]).size == (SIZE, SIZE)
    assert Path(results[0]["image"]).name == "seg2sat-42.webp"  # the name a download gets
    again, _, _, _ = call(endpoint, EXAMPLES[2].path, variations=1)
    assert image_bytes(again[0]) == image_bytes(results[0])


def test_a_generation_streams_previews_then_its_images(endpoint):
    """While it runs: the latest previews (a step, no seed: nothing to download) and a strip that
    only grows; at the end, the images with their seeds and the whole strip."""
    job = endpoint.submit(*generate_arguments(EXAMPLES[1].path, steps=6, variations=2), api_name="/seg2sat_generate")
    job.result()
    updates = job.outputs()
    assert len(updates) >= 2, "no preview was streamed before the images"
    strips = [strip for _, strip, _, _ in updates]
    for shorter, longer in zip(strips, strips[1:], strict=False):
        assert longer[: len(shorter)] == shorter  # a step, once shown, stays as it was
    for results, strip, _, _ in updates[:-1]:
        assert results and all(item["seed"] is None and item["step"] == len(strip) for item in results)
        assert all(item["caption"] == f"étape {len(strip)} / 6" for item in results)
    results, strip, _, _ = updates[-1]
    assert [item["seed"] for item in results] == [42, 43] and len(strip) == 6


def test_finished_images_join_the_image_search_gallery(endpoint, endpoint_hub):
    from gradio_client import Client

    from shared.gallery_handoff import list_offers

    fresh_session = Client(endpoint.src, verbose=False)
    status = fresh_session.predict(api_name="/seg2sat_send_to_search")  # nothing generated yet: a message only
    assert "Générez d'abord une image" in html.unescape(status) and list_offers(endpoint_hub.settings.cache_dir) == []
    call(fresh_session, EXAMPLES[1].path, variations=2)
    status = fresh_session.predict(api_name="/seg2sat_send_to_search")
    assert "2 image(s) ajoutée(s)" in status
    offers = list_offers(endpoint_hub.settings.cache_dir)
    assert len(offers) == 2 and {offer.source for offer in offers} == {"seg2sat"}
    assert all(offer.caption.startswith("Aerial view of Saumur") for offer in offers)


def test_free_style_text_replaces_the_preset(endpoint):
    _, _, status, _ = call(endpoint, EXAMPLES[0].path, free_style="  Medieval   map ", steps=1)
    assert "Aerial view of Saumur. Medieval map" in status


def test_each_style_is_asked_by_its_key(endpoint):
    from gradio_client.exceptions import AppError

    _, _, status, _ = call(endpoint, EXAMPLES[0].path, style="lego", steps=1)
    assert "Aerial view of Saumur. Colorful lego bricks" in status
    with pytest.raises(AppError):
        call(endpoint, EXAMPLES[0].path, style="Colorful lego bricks", steps=1)  # the prompt is not a choice


def test_a_random_seed_is_shown(endpoint):
    results, _, status, seed = call(endpoint, EXAMPLES[0].path, seed=0, random_seed=True, steps=1)
    assert results[0]["caption"] == f"graine {seed}" and str(seed) in status


def blurred_map() -> Image.Image:
    """Two classes side by side, their edge smoothed as a brush's is."""
    picture = Image.new("RGB", (64, 64), (0x15, 0x53, 0xAE))
    picture.paste((0xDB, 0x0E, 0x9A), (0, 0, 32, 64))
    return picture.filter(ImageFilter.GaussianBlur(2))


@pytest.mark.parametrize(
    "picture, notice",
    [
        (Image.new("RGBA", (40, 40), (0, 0, 0, 0)), "transparentes"),
        (blurred_map(), "couleur de classe"),
        (Image.new("RGB", (3, 3), (0xDB, 0x0E, 0x9A)), "Une seule classe sur la carte (bâtiment)"),
        (Image.new("RGB", (2000, 600), (0x15, 0x53, 0xAE)), "non carrée (2000 × 600"),
    ],
)
def test_odd_pictures_still_generate_with_a_notice(endpoint, tmp_path, picture, notice):
    picture.save(tmp_path / "picture.png")
    results, _, status, _ = call(endpoint, tmp_path / "picture.png", steps=1)
    assert len(results) == 1 and notice in status


def test_a_long_place_is_truncated_with_a_notice(endpoint):
    _, _, status, _ = call(endpoint, EXAMPLES[0].path, place="Toulouse " * 111, steps=1)
    assert "77 tokens" in status


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(steps=500), "maximum"),
        (dict(steps=0), "minimum"),
        (dict(guidance=25), "maximum"),
        (dict(variations=9), "maximum"),
    ],
)
def test_out_of_range_settings_are_refused_clearly(endpoint, arguments, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        call(endpoint, EXAMPLES[0].path, **arguments)


def test_a_drawing_that_is_not_an_image_is_refused_clearly(endpoint, tmp_path):
    from gradio_client.exceptions import AppError

    arguments = ("Saumur", "satellite", "", 42, False, 1, SIZE, 7.5, 1.0, 1, False, "reference")
    with pytest.raises(AppError, match="pas une image lisible"):
        endpoint.predict("data:image/png;base64,bm90IGFuIGltYWdl", *arguments, api_name="/seg2sat_generate")
    _, _, status, _ = endpoint.predict("", *arguments, api_name="/seg2sat_generate")  # an empty canvas
    assert "Carte vide" in status


def test_the_live_endpoint_makes_a_quick_image_at_the_seed_shown(endpoint):
    (
        results,
        status,
    ) = endpoint.predict(
        drawing_of(EXAMPLES[3].path), "Saint-Émilion", "satellite", "", 7, 7.5, 1.0, api_name="/seg2sat_live"
    )
    assert len(results) == 1 and (results[0]["caption"], results[0]["seed"]) == ("graine 7", 7)
    # the distilled path's 4 steps: the test hub has the TCD LoRA
    assert f"{options.DISTILLED_STEPS.default} étapes" in status and "graine 7" in status
    again, _ = endpoint.predict(
        drawing_of(EXAMPLES[3].path), "Saint-Émilion", "satellite", "", 7, 7.5, 1.0, api_name="/seg2sat_live"
    )
    assert image_bytes(again[0]) == image_bytes(results[0])


def test_the_diffusion_noise_endpoint_needs_no_model(tmp_path):
    import json
    import urllib.request

    from gradio_client import Client, handle_file

    no_models = make_hub(tmp_path, IAGEN_MODEL_SD21_BASE="example-org/absent", IAGEN_MODEL_TAESD="example-org/absent")
    with hub_in_process(no_models, {"seg2sat": "spaces.seg2sat.ui"}) as url:
        client = Client(url, verbose=False)
        source = EXAMPLES[0].photo_path
        clean, shares = client.predict(handle_file(str(source)), 0, api_name="/diffusion_noise")
        assert "t = 0 / 1\u202f000" in shares and "100,0 %" in shares
        difference = np.abs(
            np.asarray(Image.open(clean), dtype=int) - np.asarray(Image.open(source).convert("RGB"), dtype=int)
        )
        assert difference.mean() < 3  # the image itself, through a JPEG
        noisy, shares = client.predict(handle_file(str(source)), 1000, api_name="/diffusion_noise")
        assert "0,5 %" in shares and "99,5 %" in shares
        english = Client(url, verbose=False, headers={"Accept-Language": "en"})
        _, shares = english.predict(handle_file(str(source)), 500, api_name="/diffusion_noise")
        assert "the image keeps 27.8 %" in shares
        # Opening the page noises nothing: its first image was made when the hub started.
        with urllib.request.urlopen(url + "config") as response:
            config = json.load(response)
        noise = next(event for event in config["dependencies"] if event["api_name"] == "diffusion_noise")
        assert "load" not in {trigger for _, trigger in noise["targets"]}
        noised = next(c for c in config["components"] if c["props"].get("elem_id") == "seg2sat-noised")
        assert noised["props"]["value"]["path"].endswith(".jpeg")


def test_without_weights_the_tab_renders_and_says_so_in_one_sentence(tmp_path):
    import json
    import urllib.request

    from gradio_client import Client

    hub = make_hub(tmp_path, IAGEN_MODEL_SEG2SAT_CONTROLNET="example-org/absent-controlnet")
    with hub_in_process(hub, {"seg2sat": "spaces.seg2sat.ui"}) as url:
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            components = json.load(response)["components"]
        assert "seg2sat-canvas" in {component.get("props", {}).get("elem_id") for component in components}
        by_id = {component["props"].get("elem_id"): component["props"] for component in components}
        # Only what works is offered: the canvas, the examples, the noising; the rest is greyed or hidden.
        assert by_id["seg2sat-generate"]["interactive"] is False and by_id["seg2sat-repaint"]["interactive"] is False
        assert by_id["seg2sat-place"]["interactive"] is False
        assert by_id["seg2sat-reverse"]["visible"] is False and by_id["seg2sat-noise-last"]["visible"] is False
        assert by_id["seg2sat-noised"]["visible"] is not False
        results, strip, status, _ = call(Client(url, verbose=False), EXAMPLES[0].path)
        assert results == [] and strip == []
        assert "Le modèle de génération n'est pas installé sur ce serveur" in html.unescape(status)
        assert "example-org" not in status and "prefetch" not in status  # ids and commands: the log only


def test_a_cpu_makes_the_distilled_image_by_default_and_names_it(endpoint):
    named = endpoint.view_api(return_format="dict", print_info=False)["named_endpoints"]["/seg2sat_generate"]
    path = next(parameter for parameter in named["parameters"] if parameter["parameter_name"] == "chosen_path")
    assert path["parameter_default"] == "distilled"
    arguments = generate_arguments(EXAMPLES[2].path, steps=4, path="distilled")
    results, strip, status, _ = endpoint.predict(*arguments, api_name="/seg2sat_generate")
    assert len(strip) == 4 and results[0]["seed"] == 42
    assert "Version distillée en 4 étapes (plus rapide, un peu moins détaillée)" in html.unescape(status)
    again, _, _, _ = endpoint.predict(*arguments, api_name="/seg2sat_generate")
    assert image_bytes(again[0]) == image_bytes(results[0])
    english = Client(endpoint.src, verbose=False, headers={"Accept-Language": "en"})
    _, _, status, _ = english.predict(*arguments, api_name="/seg2sat_generate")
    assert "Distilled version in 4 steps (faster, a little less detailed)" in html.unescape(status)


@pytest.mark.parametrize(
    "steps, path, french, english",
    [
        (4.5, "distilled", "(4,5 ne convient pas)", "(4.5 will not do)"),
        (4.5, "reference", "doit être un nombre entier", "must be a whole number"),
        (20, "distilled", "de 2 à 8 étapes (20 ne convient pas)", "from 2 to 8 steps (20 will not do)"),
    ],
)
def test_a_step_count_the_path_cannot_run_is_refused_in_the_pages_language(
    endpoint, monkeypatch, steps, path, french, english
):
    from gradio_client.exceptions import AppError

    monkeypatch.setattr(seg2sat, "shared_pipeline", lambda *a, **k: pytest.fail("the model was asked for"))
    arguments = generate_arguments(EXAMPLES[0].path, steps=steps, path=path)
    with pytest.raises(AppError, match=re.escape(french)):
        endpoint.predict(*arguments, api_name="/seg2sat_generate")
    with pytest.raises(AppError, match=re.escape(english)):
        Client(endpoint.src, verbose=False, headers={"Accept-Language": "en"}).predict(
            *arguments, api_name="/seg2sat_generate"
        )


def test_the_comparison_shows_the_same_map_and_seed_on_both_paths(endpoint):
    """Each image is the one its path gives alone for that map and seed; on a CPU the comparison's
    time is said before it starts."""
    distilled, _, _, _ = call(endpoint, EXAMPLES[2].path, steps=4, path="distilled")
    reference, _, _, _ = call(endpoint, EXAMPLES[2].path, steps=20, path="reference")
    job = endpoint.submit(
        drawing_of(EXAMPLES[2].path), "Saumur", "satellite", "", 42, False, SIZE, 1.0, api_name="/seg2sat_compare"
    )
    results, status, seed = job.result()
    assert seed == 42 and [item["caption"] for item in results] == [
        "version distillée, 4 étapes, graine 42",
        "version de référence, 20 étapes, graine 42",
    ]
    assert image_bytes(results[0]) == image_bytes(distilled[0]) and image_bytes(results[1]) == image_bytes(reference[0])
    assert "la distillation apprend au modèle à faire en 4 étapes" in html.unescape(status)
    first_status = job.outputs()[0][1]
    assert "Sans GPU, la comparaison prend environ" in html.unescape(first_status)


def test_a_photo_instead_of_a_map_is_refused_clearly(endpoint):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="ressemble à une photo, pas à une carte"):
        call(endpoint, EXAMPLES[0].photo_path, steps=4, path="distilled")


def test_without_the_lora_the_page_says_so_and_the_reference_path_is_used(tmp_path):
    import json
    import urllib.request

    hub = make_hub(tmp_path, IAGEN_MODEL_TCD_LORA="example-org/absent-lora")
    with hub_in_process(hub, {"seg2sat": "spaces.seg2sat.ui"}) as url:
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            components = json.load(response)["components"]
        by_id = {component["props"].get("elem_id"): component["props"] for component in components}
        assert by_id["seg2sat-path"]["visible"] is False and by_id["seg2sat-path"]["value"] == "reference"
        assert by_id["seg2sat-generate"]["interactive"] is True
        arguments = generate_arguments(EXAMPLES[0].path, steps=2, path="distilled")  # as an API client may ask
        results, strip, status, _ = Client(url, verbose=False).predict(*arguments, api_name="/seg2sat_generate")
        assert len(results) == 1 and len(strip) == 2
        assert "La version distillée (rapide) n'est pas installée" in html.unescape(status)
        assert "Version distillée en" not in html.unescape(status)


# --- Repainting part of a real photo ----------------------------------------------------------------

WATER = palette.CLASS_BY_ENGLISH_NAME["water"].rgb


def small_real_place(size: int = SIZE) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The first example's photo and map at the tiny pipeline's size, and the map with a pond."""
    photo = Image.open(EXAMPLES[0].photo_path).convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    original = palette.prepare_sketch(Image.open(EXAMPLES[0].path), size).image
    edited = original.copy()
    edited.paste(WATER, (28, 28, 34, 34))
    return photo, edited, original


def test_a_repaint_changes_pixels_inside_the_mask_and_none_outside(model):
    photo, edited, original = small_real_place()
    wanted = logic.repaint_input(photo, edited, original)
    states = list(seg2sat.stream_repaint(model, wanted.photo, wanted.control_map, wanted.mask, "Aerial view", 3, 2))
    assert [len(state.previews) for state in states if not state.done][-1] == 2 and states[-1].done
    repainted = np.asarray(states[-1].images[0], dtype=np.int16)
    mask, before = np.asarray(wanted.mask), np.asarray(photo, dtype=np.int16)
    assert 0 < (mask > 0).mean() < 0.5 and (mask == 255).any()
    assert (repainted[mask == 0] == before[mask == 0]).all()  # 0 pixels changed outside the mask
    assert np.abs(repainted[mask == 255] - before[mask == 255]).mean() > 5  # the random model paints noise


def repaint_arguments(tmp_path, photo, edited, original) -> tuple:
    """The arguments of /seg2sat_repaint, in its order: photo, edited map, original map, place,
    style, seed, steps, conditioning scale."""
    from gradio_client import handle_file

    photo.save(tmp_path / "photo.png")
    original.save(tmp_path / "original.png")
    edited_url = logic.data_url(edited)
    return (
        handle_file(str(tmp_path / "photo.png")),
        edited_url,
        handle_file(str(tmp_path / "original.png")),
        "Mourenx",
        "satellite",
        7,
        2,
        0.5,
    )


def test_the_repaint_endpoint_streams_steps_then_the_photo_repainted_as_png(endpoint, tmp_path):
    photo, edited, original = small_real_place()
    job = endpoint.submit(*repaint_arguments(tmp_path, photo, edited, original), api_name="/seg2sat_repaint")
    results, strip, status = job.result()[:3]
    assert len(strip) == 2 and len(results) == 1  # no example chosen through the API: no real photo first
    assert results[0]["image"].endswith(".png") and results[0]["seed"] == 7
    mask = np.asarray(logic.repaint_input(photo, edited, original).mask)
    repainted = np.asarray(Image.open(results[0]["image"]).convert("RGB"))
    assert (repainted[mask == 0] == np.asarray(photo)[mask == 0]).all()
    assert "Ailleurs, la photo est intacte" in html.unescape(status) and "graine 7" in html.unescape(status)


@pytest.mark.parametrize(
    "case, french, english",
    [
        ("sizes", "doivent avoir la même taille", "must have the same size"),
        ("no change", "La carte n'a pas changé", "The map has not changed"),
        ("not the palette", "pas faite des couleurs de la légende FLAIR", "not made of the FLAIR legend's colours"),
    ],
)
def test_bad_repaint_input_is_refused_in_the_pages_language_before_any_model_runs(
    endpoint, tmp_path, monkeypatch, case, french, english
):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    def no_model(*arguments, **keywords):
        raise AssertionError("the model was asked for")

    monkeypatch.setattr(seg2sat, "shared_pipeline", no_model)  # the tab's handler runs in this process
    photo, edited, original = small_real_place()
    photo, edited, original = {
        "sizes": (photo.resize((SIZE // 2, SIZE // 2)), edited, original),
        "no change": (photo, original, original),
        "not the palette": (photo, photo, original),
    }[case]
    arguments = repaint_arguments(tmp_path, photo, edited, original)
    with pytest.raises(AppError, match=french):
        endpoint.predict(*arguments, api_name="/seg2sat_repaint")
    in_english = Client(endpoint.src, verbose=False, headers={"Accept-Language": "en"})
    with pytest.raises(AppError, match=english):
        in_english.predict(*arguments, api_name="/seg2sat_repaint")
