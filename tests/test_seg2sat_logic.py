"""Seg2Sat's Gradio-free, torch-free logic: the canvas's value, time estimates, the live mode's
tickets, and the forward noising of the diffusion principle."""

import base64
import threading

import numpy as np
import pytest
from PIL import Image, ImageFilter

from spaces.seg2sat import logic, palette
from spaces.seg2sat.examples import EXAMPLES
from spaces.seg2sat.options import CPU_PRESET, IMAGE_SIZE, STYLE_PRESETS, STYLES, style_prompt

# --- The drawing --------------------------------------------------------------------------------


def test_a_drawing_comes_back_from_its_data_url_with_exact_colours():
    example = Image.open(EXAMPLES[0].path).convert("RGB")
    value = logic.data_url(example)
    assert value.startswith("data:image/png;base64,")
    assert (np.asarray(logic.drawing_from_data_url(value).convert("RGB")) == np.asarray(example)).all()
    assert logic.drawing_from_data_url("") is None and logic.drawing_from_data_url(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "not a data url",
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png;base64,@@@@",
        "data:image/png;base64," + base64.b64encode(b"this is not a png").decode(),
        "data:image/png;base64," + "A" * (logic.MAX_DRAWING_CHARACTERS + 4),
    ],
    ids=["no-data-url", "not-an-image-type", "not-base64", "not-a-png", "too-large"],
)
def test_anything_else_is_not_an_image(value):
    with pytest.raises(palette.NotAnImage):
        logic.drawing_from_data_url(value)


def test_sketch_notices_say_what_was_done():
    sketch, notices = logic.sketch_with_notices(None, 64)
    assert sketch.size == (64, 64) and [notice.key for notice in notices] == ["seg2sat_empty_canvas"]
    water = palette.CLASS_BY_ENGLISH_NAME["water"]
    _, notices = logic.sketch_with_notices(Image.new("RGB", (300, 100), water.rgb), 64)
    assert [notice.key for notice in notices] == ["seg2sat_cropped", "seg2sat_one_class"]
    assert notices[0].values == {"width": 300, "height": 100} and notices[1].values == {"name": water}
    sketch, notices = logic.sketch_with_notices(Image.open(EXAMPLES[3].path), 384)
    assert sketch.size == (384, 384) and notices == []


def test_styles_are_keys_with_an_english_prompt_inside():
    assert [preset.key for preset in STYLE_PRESETS] == ["satellite", "lego", "pencil", "oil", "watercolour"]
    assert style_prompt("oil") == "Oil on canvas painting" and style_prompt("oil") in STYLES
    assert style_prompt("oil", "  Medieval   map ") == "Medieval map"
    with pytest.raises(ValueError, match="satellite"):
        style_prompt("Oil on canvas painting")


# --- Time ---------------------------------------------------------------------------------------


def test_nothing_is_estimated_before_a_measurement():
    times = logic.StepTimes()
    assert not times.measured and times.estimate(20, IMAGE_SIZE, 1, True) is None


def test_the_estimate_is_steps_times_the_measured_step_plus_the_decode():
    times = logic.StepTimes()
    times.record(logic.Timing(IMAGE_SIZE, 1, True, step_seconds=33.0, decode_seconds=33.0))
    assert times.measured
    assert times.estimate(20, IMAGE_SIZE, 1, True) == pytest.approx(20 * 33 + 33)  # the published settings: 11.5 min
    assert times.estimate(20, IMAGE_SIZE, 2, True) == pytest.approx(2 * (20 * 33 + 33))
    assert times.estimate(20, IMAGE_SIZE, 1, False) == pytest.approx(20 * 16.5 + 33)  # no guidance: half the batch
    smaller = times.estimate(CPU_PRESET.steps, CPU_PRESET.size, 1, True)
    assert smaller == pytest.approx((CPU_PRESET.steps * 33 + 33) * (CPU_PRESET.size / IMAGE_SIZE) ** 2)
    # Once a shape has run, its own measurement is used.
    times.record(logic.Timing(CPU_PRESET.size, 1, True, step_seconds=14.0, decode_seconds=12.0))
    assert times.estimate(10, CPU_PRESET.size, 1, True) == pytest.approx(10 * 14 + 12)
    assert times.estimate(20, IMAGE_SIZE, 1, True) == pytest.approx(20 * 33 + 33)


@pytest.mark.parametrize(
    "seconds, said", [(0.4, ("seconds", 5)), (42, ("seconds", 45)), (60, ("minutes", 1)), (61, ("minutes", 2))]
)
def test_durations_are_rounded_up_as_people_say_them(seconds, said):
    assert logic.rounded_duration(seconds) == said


# --- Live mode ----------------------------------------------------------------------------------


def test_each_announced_change_supersedes_the_generations_before_it():
    session = logic.LiveSession()
    first = session.ticket()
    assert not session.superseded(first)
    session.announce()
    assert session.superseded(first)
    second = session.ticket()
    assert not session.superseded(second)


def test_each_user_gets_a_fresh_live_session():
    import copy

    session = logic.LiveSession()
    session.announce()
    fresh = copy.deepcopy(session)  # what gr.State does with its first value for a new user
    assert fresh is not session and fresh.ticket() == 0 and session.ticket() == 1


def test_announcing_from_many_threads_counts_every_change():
    session = logic.LiveSession()
    threads = [threading.Thread(target=lambda: [session.announce() for _ in range(500)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert session.ticket() == 2000


# --- The diffusion principle --------------------------------------------------------------------


def test_the_noise_schedule_is_the_sd21_schedulers():
    from diffusers import DDPMScheduler, PNDMScheduler

    from spaces.seg2sat.random_pipeline import scheduler

    ours = logic.alphas_cumprod(logic.SD21_SCHEDULER_CONFIG)
    theirs = DDPMScheduler.from_config(logic.SD21_SCHEDULER_CONFIG).alphas_cumprod.numpy()
    assert ours.shape == (1000,) and np.allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    # The base model's own scheduler (PNDM, as in its scheduler_config.json) has the same ᾱ.
    assert isinstance(scheduler(), PNDMScheduler)
    assert np.allclose(ours, scheduler().alphas_cumprod.numpy(), rtol=1e-6, atol=1e-7)
    assert 0.99 < logic.signal_share(logic.SD21_SCHEDULER_CONFIG, 1) < 1
    assert logic.signal_share(logic.SD21_SCHEDULER_CONFIG, 1000) == pytest.approx(0.00466, abs=1e-5)
    linear = {**logic.SD21_SCHEDULER_CONFIG, "beta_schedule": "linear"}
    assert np.allclose(
        logic.alphas_cumprod(linear), DDPMScheduler.from_config(linear).alphas_cumprod.numpy(), 1e-5, 1e-6
    )
    with pytest.raises(ValueError, match="squaredcos"):
        logic.alphas_cumprod({**logic.SD21_SCHEDULER_CONFIG, "beta_schedule": "squaredcos_cap_v2"})


def test_at_t_0_the_image_is_itself():
    aerial = Image.open(EXAMPLES[0].photo_path)
    shown = logic.noised(aerial, 0)
    assert shown.signal == 1 and shown.noise == 0 and shown.steps == 1000
    assert (np.asarray(shown.image) == np.asarray(aerial.convert("RGB"))).all()


def test_at_t_T_almost_only_noise_is_left():
    grey = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (153, 153, 153))  # x0 = 0.2 in [-1, 1]
    shown = logic.noised(grey, 1000, seed=1)
    alpha_bar = logic.signal_share(logic.SD21_SCHEDULER_CONFIG, 1000)
    assert shown.signal == pytest.approx(alpha_bar) and shown.signal + shown.noise == pytest.approx(1)
    x = np.asarray(shown.image, dtype=np.float64) / 127.5 - 1
    # Gaussian noise of standard deviation √(1 − ᾱ_T) ≈ 0.998 around √ᾱ_T · 0.2, clipped to [−1, 1]
    # (then rounded to 8 bits): the mean of the clipped values, by symmetry, stays near that centre.
    assert abs(x.mean() - np.sqrt(alpha_bar) * 0.2) < 0.01
    assert 0.15 < (np.abs(x) >= 0.999).mean() < 0.5  # a third of the pixels beyond ±1, clipped


def test_in_between_the_image_and_the_noise_mix_in_the_schedules_shares():
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8))
    x0 = np.asarray(picture, dtype=np.float32) / 127.5 - 1
    epsilon = np.random.default_rng(3).standard_normal(x0.shape, dtype=np.float32)  # the seed's ε
    for t in (50, 300, 700):
        shown = logic.noised(picture, t, seed=3)
        alpha_bar = logic.alphas_cumprod(logic.SD21_SCHEDULER_CONFIG)[t - 1]
        assert shown.signal == pytest.approx(alpha_bar) and shown.noise == pytest.approx(1 - alpha_bar)
        expected = np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * epsilon
        shown_pixels = np.asarray(shown.image, dtype=np.int16)
        assert np.abs(shown_pixels - np.clip(np.rint((expected + 1) * 127.5), 0, 255)).max() <= 1, t
    assert logic.noised(picture, 300, seed=3).image.tobytes() != logic.noised(picture, 300, seed=4).image.tobytes()
    with pytest.raises(ValueError, match="between 0 and 1000"):
        logic.noised(picture, 1001)


def test_any_picture_is_noised_as_a_square():
    shown = logic.noised(Image.new("RGBA", (900, 300), (10, 20, 30, 0)), 10)
    assert shown.image.size == (IMAGE_SIZE, IMAGE_SIZE) and shown.image.mode == "RGB"


def test_the_examples_are_made_again_from_a_clone_of_the_reference(tmp_path, monkeypatch):
    """make_examples reads the reference's git objects: a repository laid out as it is, holding our
    own assets (the photos as the reference's PNG), gives back the same files and catalogue."""
    import json
    import subprocess

    from spaces.seg2sat import examples, make_examples

    reference = tmp_path / "Seg2Sat"
    validation = reference / make_examples.VALIDATION
    for folder in ("image", "mask", "json"):
        (validation / folder).mkdir(parents=True)
    for example in EXAMPLES:
        (validation / "mask" / example.path.name).write_bytes(example.path.read_bytes())
        Image.open(example.photo_path).save(validation / "image" / f"IMG_{example.name}.png")
        metadata = {"display_name": example.place, "date": example.date, "address": {"town": example.town}}
        (validation / "json" / f"MSK_{example.name}.json").write_text(json.dumps(metadata))
    git = ["git", "-C", str(reference), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(reference)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pairs"], check=True)
    made = tmp_path / "examples"
    monkeypatch.setattr(make_examples, "EXAMPLES_FOLDER", made)
    monkeypatch.setattr(make_examples, "CATALOGUE", made / "examples.json")
    make_examples.main(reference)
    assert examples.load_examples(made / "examples.json") == EXAMPLES
    for example in EXAMPLES:
        assert (made / example.path.name).read_bytes() == example.path.read_bytes()  # masks as they are
        again = np.asarray(Image.open(made / example.photo_path.name), dtype=np.int16)
        stored = np.asarray(Image.open(example.photo_path), dtype=np.int16)
        assert again.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and np.abs(again - stored).mean() < 2  # WebP twice


# --- Repainting a real place ----------------------------------------------------------------------

WATER = palette.CLASS_BY_ENGLISH_NAME["water"].rgb


def real_place(size: int = IMAGE_SIZE) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The first example's photo and map, and the map with a pond painted at (200-260, 300-340)."""
    photo = Image.open(EXAMPLES[0].photo_path).convert("RGB")
    original = Image.open(EXAMPLES[0].path).convert("RGB")
    edited = original.copy()
    edited.paste(WATER, (200, 300, 260, 340))
    return photo, edited, original


def test_the_repaint_mask_is_the_changed_area_dilated_and_feathered():
    photo, edited, original = real_place()
    wanted = logic.repaint_input(photo, edited, original)
    mask = np.asarray(wanted.mask)
    changed = (np.asarray(edited) != np.asarray(original)).any(axis=2)
    assert wanted.changed_fraction == pytest.approx(changed.mean()) and 0 < wanted.changed_fraction <= 60 * 40 / 512**2
    assert (mask[changed] == 255).all()  # every changed pixel is fully repainted
    reach = logic.REPAINT_DILATION + 3 * logic.REPAINT_FEATHER  # beyond this the Gaussian edge is 0
    assert mask[300 - reach - 2 :, :].any() and not mask[: 300 - reach - 2, :].any()
    assert not mask[:, 260 + reach + 2 :].any()
    assert 0 < mask[320, 260 + logic.REPAINT_DILATION + 1] < 255  # the feathered edge
    assert (np.asarray(wanted.control_map) == np.asarray(edited)).all()


def test_outside_the_mask_the_photo_is_pasted_back_pixel_for_pixel():
    photo, edited, original = real_place()
    wanted = logic.repaint_input(photo, edited, original)
    repainted = Image.new("RGB", photo.size, (255, 0, 255))
    result = np.asarray(logic.pasted_back(photo, repainted, wanted.mask))
    mask = np.asarray(wanted.mask)
    assert (result[mask == 0] == np.asarray(photo)[mask == 0]).all()
    assert (result[mask == 255] == (255, 0, 255)).all()


@pytest.mark.parametrize(
    "case, key",
    [
        ("no change", "seg2sat_repaint_no_change"),
        ("sizes", "seg2sat_repaint_sizes"),
        ("not the palette", "seg2sat_repaint_not_palette"),
        ("no photo", "seg2sat_repaint_no_photo"),
    ],
)
def test_what_cannot_be_repainted_is_refused_with_a_notice_in_both_languages(case, key):
    from spaces.seg2sat import views

    photo, edited, original = real_place()
    arguments = {
        "no change": (photo, original.copy(), original),
        "sizes": (photo.resize((384, 384)), edited, original),
        "not the palette": (photo, photo, original),  # the photo sent as the map
        "no photo": (None, edited, original),
    }[case]
    with pytest.raises(logic.RepaintRefused) as refused:
        logic.repaint_input(*arguments)
    assert refused.value.notice.key == key
    french, english = (views.notice_text(refused.value.notice, language) for language in ("fr", "en"))
    assert french != english and "{" not in french + english
    if case == "sizes":
        assert "384 × 384" in french and "512 × 512" in french


def test_each_decoder_has_its_own_decode_time():
    """The distilled path decodes with TAESD, the reference with the VAE: a step costs the same on
    either (one network), but the reference's estimate keeps the VAE's decode."""
    times = logic.StepTimes()
    times.record(logic.Timing(IMAGE_SIZE, 1, True, step_seconds=33.0, decode_seconds=33.0, decoder="vae"))
    times.record(logic.Timing(384, 1, False, step_seconds=7.5, decode_seconds=0.5, decoder="taesd"))
    assert times.estimate(4, 384, 1, False, "taesd") == pytest.approx(4 * 7.5 + 0.5)
    assert times.estimate(20, IMAGE_SIZE, 1, True, "vae") == pytest.approx(20 * 33 + 33)
    # A shape measured with the other decoder: its steps, this decoder's decode (scaled to the size).
    assert times.estimate(4, 384, 1, False, "vae") == pytest.approx(4 * 7.5 + 33 * (384 / IMAGE_SIZE) ** 2)


@pytest.mark.parametrize(
    "steps, distilled, refusal",
    [
        (4, True, None),
        (2, True, None),
        (8, True, None),
        (20, False, None),
        (1, True, ("seg2sat_steps_range", {"steps": 1, "low": 2, "high": 8, "path": "seg2sat_path_distilled"})),
        (9, True, ("seg2sat_steps_range", {"steps": 9, "low": 2, "high": 8, "path": "seg2sat_path_distilled"})),
        (0, False, ("seg2sat_steps_range", {"steps": 0, "low": 1, "high": 50, "path": "seg2sat_path_reference"})),
        (500, False, ("seg2sat_steps_range", {"steps": 500, "low": 1, "high": 50, "path": "seg2sat_path_reference"})),
        (4.5, True, ("seg2sat_steps_whole", {"steps": 4.5})),
    ],
)
def test_steps_are_checked_against_the_chosen_paths_range(steps, distilled, refusal):
    notice = logic.steps_refusal(steps, distilled)
    assert (notice if notice is None else (notice.key, notice.values)) == refusal


@pytest.mark.parametrize(
    "key, values, french, english",
    [
        ("seg2sat_steps_whole", {"steps": 4.5}, "(4,5 ne convient pas)", "(4.5 will not do)"),
        (
            "seg2sat_steps_range",
            {"steps": 9, "low": 2, "high": 8, "path": "seg2sat_path_distilled"},
            "Version distillée en 4 étapes, plus rapide, un peu moins détaillée : de 2 à 8 étapes (9 ne convient pas).",
            "Distilled version in 4 steps, faster, a little less detailed: from 2 to 8 steps (9 will not do).",
        ),
    ],
)
def test_a_refused_step_count_is_said_in_both_languages(key, values, french, english):
    from spaces.seg2sat import views

    notice = logic.Notice(key, values)
    assert french in views.notice_text(notice, "fr") and english in views.notice_text(notice, "en")


def test_a_photo_is_no_map():
    with pytest.raises(logic.NotAMap) as refused:
        logic.sketch_with_notices(Image.open(EXAMPLES[0].photo_path), 64)
    assert refused.value.notice.key == "seg2sat_not_a_map" and refused.value.notice.values["percent"] > 90
    # A map drawn by hand, its strokes' edges smoothed, is one.
    water, building = palette.CLASS_BY_ENGLISH_NAME["water"].rgb, palette.CLASS_BY_ENGLISH_NAME["building"].rgb
    drawn = Image.new("RGB", (64, 64), water)
    drawn.paste(building, (0, 0, 32, 64))
    _, notices = logic.sketch_with_notices(drawn.filter(ImageFilter.GaussianBlur(2)), 64)
    assert "seg2sat_snapped" in [notice.key for notice in notices]
