"""The Seg2Sat tab: draw a land-cover map, watch the noise turn into an aerial image.

Wiring only: the texts are in texts.py, the CSS and HTML renderers in views.py, the canvas in
canvas.py, what happens between the canvas and the model in logic.py, the model in pipeline.py
(imported inside the handlers: diffusers takes seconds to import). The canvas works without any
model; generating loads the pipeline on first use.
"""

from __future__ import annotations

import html
import time

import gradio as gr

from shared.gallery_handoff import offer_to_gallery
from shared.gpu import GPU_CONCURRENCY_ID, gpu_task
from shared.hub import Hub
from shared.hub_ui import notice_html, set_first_values
from shared.i18n import LANGUAGES, format_number, request_language
from shared.weights import WeightsUnavailable
from spaces.seg2sat import canvas, image_grids, logic, palette, views
from spaces.seg2sat.examples import EXAMPLES
from spaces.seg2sat.options import (
    CONDITIONING_SCALE,
    CPU_PRESET,
    DEFAULT_STYLE,
    DISTILLED_PRESET,
    GUIDANCE_SCALE,
    IMAGE_SIZE,
    IMAGE_SIZES,
    MAX_SEED,
    PATHS,
    PRESETS,
    STEPS,
    STYLE_PRESETS,
    VARIATIONS,
    build_prompt,
    seed_to_use,
    style_prompt,
    variation_seeds,
)
from spaces.seg2sat.texts import TEXTS

CSS = views.CSS + canvas.CSS + image_grids.CSS
MODEL_KEYS = ("seg2sat_controlnet", "sd21_base")
PREVIEW_DISPLAY_SIZE = 256  # a preview is small (1/8 of the image, or TAESD's 128 px): upscaled to be seen
FIRST_NOISE_STEP = 500  # where « Comment ça marche » opens: half signal, half noise


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): the ControlNet as safetensors, converted from
    a .bin once if its revision has no safetensors."""
    from spaces.seg2sat import pipeline

    pipeline.controlnet_folder(hub)


def warm_up(hub: Hub) -> None:
    """Load and run the pipeline once when the tab opens (compiling it if the settings say so), if
    its weights are already on this machine: a first visit must not start a multi-gigabyte
    download nobody asked for."""
    if weights_cached(hub):  # checked before importing torch and diffusers: 3 s and 700 MB when absent
        from spaces.seg2sat import pipeline

        pipeline.warm_up(hub, logic.STEP_TIMES)


def weights_cached(hub: Hub) -> bool:
    """Whether both models are on this machine already (nothing is downloaded to find out)."""
    try:
        for key in MODEL_KEYS:
            hub.weights.locate(key, download=False)
    except WeightsUnavailable:
        return False
    return True


def missing_model(hub: Hub) -> WeightsUnavailable | None:
    """Why images cannot be made on this server (the server log gets the remedy once), or None."""
    return next((missing for key in MODEL_KEYS if (missing := hub.weights.unavailable(key))), None)


def distilled_available(hub: Hub) -> bool:
    """Whether the distilled path can run here: its LoRA is on this machine, or the hub will give it."""
    return hub.weights.unavailable("tcd_lora") is None


def path_choices() -> list:
    return [(TEXTS.label(f"seg2sat_path_{path}"), path) for path in PATHS]


def on_cpu(hub: Hub) -> bool:
    from shared.device import torch_runtime  # imports torch: only once the models are known present

    return torch_runtime(hub.settings).device.type == "cpu"


def search_takes_images(hub: Hub) -> bool:
    """Whether generated images can join the image search: its tab is mounted and its encoder here."""
    return "clip_search" in hub.settings.demos and hub.weights.unavailable("clip_encoder") is None


def style_choices() -> list:
    return [(TEXTS.label(f"seg2sat_style_{preset.key}"), preset.key) for preset in STYLE_PRESETS]


def enlarged(rgb) -> object:
    from PIL import Image

    return Image.fromarray(rgb).resize((PREVIEW_DISPLAY_SIZE, PREVIEW_DISPLAY_SIZE), Image.Resampling.BILINEAR)


def real_photo_item(index: int | None, language: str) -> list[dict]:
    """The chosen example's real photo, first in the results grid (at the generated images' size, so
    that what the model imagined and what is there compare at a glance); none without an example."""
    if index is None:
        return []
    example = EXAMPLES[index]
    caption = TEXTS.get("seg2sat_real_photo", language, town=example.town, year=example.year)
    return [{"image": example.photo_path, "caption": caption}]


def build(hub: Hub) -> None:
    gr.Markdown(TEXTS.label("seg2sat_intro"))
    availability = gr.HTML(visible=False, elem_id="seg2sat-availability")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            drawing = canvas.land_cover_canvas()
            upload = gr.UploadButton(TEXTS.label("seg2sat_upload"), file_types=["image"], type="filepath", size="sm")
        with gr.Column(scale=1, min_width=320):
            generate_button = gr.Button(TEXTS.label("seg2sat_generate"), variant="primary", elem_id="seg2sat-generate")
            # Which model makes the image: named on the page, the distilled one a CPU's default.
            path = gr.Radio(
                path_choices(), value="reference", label=TEXTS.label("seg2sat_path"), elem_id="seg2sat-path"
            )
            repaint_button = gr.Button(TEXTS.label("seg2sat_repaint"), visible=False, elem_id="seg2sat-repaint")
            cpu_preset = gr.Button(size="sm", visible=False, elem_id="seg2sat-cpu-preset")
            estimate = gr.HTML(elem_id="seg2sat-estimate")
            live = gr.Checkbox(False, label=TEXTS.label("seg2sat_live"), interactive=False, elem_id="seg2sat-live")
            results = image_grids.GeneratedImageGrid(elem_id="seg2sat-results")
            status = gr.HTML(elem_id="seg2sat-status", elem_classes=["hub-live"])  # a result is said once
            send_to_search = gr.Button(TEXTS.label("seg2sat_send_to_search"), size="sm", visible=False)
            compare_button = gr.Button(
                TEXTS.label("seg2sat_compare"), size="sm", visible=False, elem_id="seg2sat-compare"
            )
            style = gr.Radio(style_choices(), value=DEFAULT_STYLE, label=TEXTS.label("seg2sat_style"))
            place = gr.Textbox(
                label=TEXTS.label("seg2sat_place"),
                placeholder=TEXTS.label("seg2sat_place_placeholder"),
                max_lines=2,
                elem_id="seg2sat-place",
            )
            free_style = gr.Textbox(label=TEXTS.label("seg2sat_free_style"), max_lines=2)
            describe_classes = gr.Checkbox(
                False,
                label=TEXTS.label("seg2sat_describe_classes"),
                info=TEXTS.label("seg2sat_describe_classes_info"),
                elem_id="seg2sat-describe-classes",
            )
            with gr.Accordion(TEXTS.label("seg2sat_settings"), open=False):
                random_seed = gr.Checkbox(value=True, label=TEXTS.label("seg2sat_random_seed"))
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label=TEXTS.label("seg2sat_seed"))
                steps = gr.Slider(
                    STEPS.minimum, STEPS.maximum, STEPS.default, step=1, label=TEXTS.label("seg2sat_steps")
                )
                size = gr.Radio(list(IMAGE_SIZES), value=IMAGE_SIZE, label=TEXTS.label("seg2sat_size"))
                guidance = gr.Slider(
                    GUIDANCE_SCALE.minimum,
                    GUIDANCE_SCALE.maximum,
                    GUIDANCE_SCALE.default,
                    step=0.5,
                    label=TEXTS.label("seg2sat_guidance"),
                )
                conditioning = gr.Slider(
                    CONDITIONING_SCALE.minimum,
                    CONDITIONING_SCALE.maximum,
                    CONDITIONING_SCALE.default,
                    step=0.05,
                    label=TEXTS.label("seg2sat_conditioning"),
                )
                variations = gr.Slider(
                    VARIATIONS.minimum,
                    VARIATIONS.maximum,
                    VARIATIONS.default,
                    step=1,
                    label=TEXTS.label("seg2sat_variations"),
                )
    with gr.Accordion(TEXTS.label("seg2sat_how"), open=True, elem_id="seg2sat-how"):
        gr.Markdown(TEXTS.label("seg2sat_how_intro"))
        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                gr.Markdown(TEXTS.label("seg2sat_forward"))
                # What a phone sees first: the first example at the slider's step, noised once here
                # rather than for every phone opening the page (a QR rush: hundreds at once).
                first_example = str(EXAMPLES[0].photo_path)
                first_noised = logic.noised(palette.open_image(first_example), FIRST_NOISE_STEP)
                noised_image = gr.Image(
                    first_noised.image,
                    label=TEXTS.label("seg2sat_noised"),
                    # Gradio puts the image in a button (to enlarge it): its alt (what_works, noise) is
                    # the button's name.
                    interactive=False,
                    format="jpeg",
                    buttons=[],
                    height="auto",
                    elem_id="seg2sat-noised",
                )
                shares = gr.HTML(elem_id="seg2sat-shares")
                noise_step = gr.Slider(0, 1000, FIRST_NOISE_STEP, step=1, label=TEXTS.label("seg2sat_noise_step"))
                with gr.Row():
                    example_source = gr.Button(TEXTS.label("seg2sat_noise_example"), size="sm")
                    last_source = gr.Button(TEXTS.label("seg2sat_noise_last"), size="sm", elem_id="seg2sat-noise-last")
                    upload_source = gr.UploadButton(
                        TEXTS.label("seg2sat_noise_upload"), file_types=["image"], type="filepath", size="sm"
                    )
                noise_notice = gr.HTML()
                gr.Markdown(TEXTS.label("seg2sat_example_caption"))
                # The image being noised: hidden, an input of /diffusion_noise for API clients.
                source_image = gr.Image(first_example, type="pil", visible=False)
            with gr.Column(min_width=300, elem_id="seg2sat-reverse") as reverse_column:
                gr.Markdown(TEXTS.label("seg2sat_reverse"))
                steps_strip = image_grids.StepStrip(elem_id="seg2sat-strip")
    prompt_parts = (style, place, free_style, describe_classes)
    settings = (path, random_seed, seed, steps, size, guidance, conditioning, variations)
    last_images = gr.State([])  # this session's last finished images: what can join the image search
    last_prompt = gr.State("")
    live_session = gr.State(logic.LiveSession())
    example_index = gr.State(0)  # the example being noised
    chosen_example = gr.State(None)  # the example loaded in the canvas: its photo is shown and repainted
    # The chosen example's photo and map: hidden, inputs of /seg2sat_repaint for API clients.
    real_photo = gr.Image(type="pil", visible=False)
    original_map = gr.Image(type="pil", visible=False)
    estimate_timer = gr.Timer(5, active=False)  # on a CPU, until the warm-up has measured a step

    # --- As the hub starts: what this server can do, in the page (no event when a phone opens it) ---

    def what_works() -> None:
        everyone = {language: views.shares_html(first_noised, language) for language in LANGUAGES}
        shares.value = hub.page_texts.add("seg2sat_first_shares", **everyone)
        alts = {language: views.noised_alt(FIRST_NOISE_STEP, language) for language in LANGUAGES}
        noised_image.alt_text = hub.page_texts.add("seg2sat_first_noised_alt", **alts)
        missing = missing_model(hub)
        if missing is not None:  # the remedy (ids, commands) is in the server log and, for the host, À propos
            sentences = {language: notice_html(TEXTS.get("seg2sat_models_missing", language)) for language in LANGUAGES}
            availability.value = hub.page_texts.add("seg2sat_availability", **sentences)
            availability.visible = True
            # Only what works stays: drawing, the examples and their real photos, the noising of
            # those; what needs the model is greyed (the settings) or hidden (its results).
            for needs_the_model in (generate_button, repaint_button, live, *prompt_parts, *settings):
                needs_the_model.interactive = False
            for shows_its_results in (last_source, reverse_column, send_to_search):
                shows_its_results.visible = False
            return
        generate_button.interactive = repaint_button.interactive = True
        if not distilled_available(hub):  # the remedy is in the server log and À propos
            sentences = {
                language: notice_html(TEXTS.get("seg2sat_distilled_missing", language)) for language in LANGUAGES
            }
            availability.value = hub.page_texts.add("seg2sat_availability", **sentences)
            availability.visible = True
            path.visible = False
        else:
            compare_button.visible = True
        if distilled_available(hub) and on_cpu(hub):  # half a minute instead of minutes: what a CPU offers first
            path.value = "distilled"
            steps.value, size.value = DISTILLED_PRESET.steps, DISTILLED_PRESET.size
            guidance.interactive = False
        if on_cpu(hub) or not hub.settings.seg2sat_live:
            reason = "seg2sat_live_needs_gpu" if on_cpu(hub) else "seg2sat_live_switched_off"
            live.info = str(TEXTS.label(reason))  # translated in the browser, as the labels
            live.interactive, live.value = False, False
        else:
            live.interactive = True

    hub.at_start(what_works)

    def cpu_estimate(
        step_count: float,
        image_size: int,
        variation_count: float,
        guidance_scale: float,
        chosen_path: str,
        request: gr.Request,
    ):
        return estimate_values(
            step_count, image_size, variation_count, guidance_scale, chosen_path, request_language(request)
        )

    def seconds_for(
        step_count: float, image_size: int, variation_count: float, guidance_scale: float, chosen_path: str
    ):
        distilled = chosen_path == "distilled"
        guided = not distilled and guidance_scale > 1  # the distilled path runs without guidance
        decoder = "taesd" if distilled else "vae"
        return logic.STEP_TIMES.estimate(int(step_count), int(image_size), int(variation_count), guided, decoder)

    def other_choice(chosen_path: str, language: str) -> str:
        """The one-tap button's words: the other path and its time, or without the distilled path the
        quick guided settings."""
        if not distilled_available(hub):
            quick = CPU_PRESET
            seconds = seconds_for(quick.steps, quick.size, quick.variations, quick.guidance_scale, "reference")
            return TEXTS.get("seg2sat_cpu_preset", language, duration=views.duration_text(seconds, language))
        other = "reference" if chosen_path == "distilled" else "distilled"
        preset = PRESETS[other]
        seconds = seconds_for(preset.steps, preset.size, preset.variations, preset.guidance_scale, other)
        return TEXTS.get(f"seg2sat_to_{other}", language, duration=views.duration_text(seconds, language))

    def estimate_values(
        step_count: float, image_size: int, variation_count: float, guidance_scale: float, chosen_path: str, language
    ):
        """On a CPU, the time these settings will take, on the button and beside it, and the one tap to
        the other path (or to the quick settings) with its time."""
        if missing_model(hub) is not None or not on_cpu(hub):
            return gr.skip(), gr.update(visible=False), "", gr.update(active=False)
        seconds = seconds_for(step_count, image_size, variation_count, guidance_scale, chosen_path)
        if seconds is None:
            line = TEXTS.get("seg2sat_cpu_unmeasured", language)
            return gr.skip(), gr.update(visible=False), f"<p>{html.escape(line)}</p>", gr.update(active=True)
        duration = views.duration_text(seconds, language)
        preset = other_choice(chosen_path, language)
        line = TEXTS.get("seg2sat_cpu_estimate", language, duration=duration)
        return (
            TEXTS.get("seg2sat_generate_in", language, duration=duration),
            gr.update(value=preset, visible=True),
            f"<p>{html.escape(line)}</p>",
            gr.update(active=False),
        )

    estimate_inputs = [steps, size, variations, guidance, path]
    estimate_outputs = [generate_button, cpu_preset, estimate, estimate_timer]
    gr.on(
        [component.change for component in estimate_inputs],
        cpu_estimate,
        estimate_inputs,
        estimate_outputs,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )

    def first_estimate() -> None:
        """The first settings' estimate, in the page (on a CPU in a lecture hall, the warm-up has
        measured a step before the hub serves; elsewhere the timer asks until it has)."""
        first = [component.value for component in estimate_inputs]
        by_language = {
            language: dict(zip(estimate_outputs, estimate_values(*first, language), strict=True))
            for language in LANGUAGES
        }
        set_first_values(hub, "seg2sat_first", by_language)

    hub.at_start(first_estimate)
    estimate_timer.tick(cpu_estimate, estimate_inputs, estimate_outputs, api_visibility="private", queue=False)

    def path_settings(chosen_path: str):
        """The chosen path with its settings; guidance is greyed on the distilled one, which runs without."""
        preset = PRESETS[chosen_path]
        distilled = chosen_path == "distilled"
        return chosen_path, preset.steps, preset.size, preset.variations, gr.update(interactive=not distilled)

    def one_tap(chosen_path: str):
        """The other path and its settings, or without the distilled path the quick guided settings."""
        if not distilled_available(hub):
            return "reference", CPU_PRESET.steps, CPU_PRESET.size, CPU_PRESET.variations, CPU_PRESET.guidance_scale
        return path_settings("reference" if chosen_path == "distilled" else "distilled")

    path_outputs = [path, steps, size, variations, guidance]
    cpu_preset.click(one_tap, path, path_outputs, api_visibility="private", queue=False)
    path.input(path_settings, path, path_outputs, api_visibility="private", queue=False)

    # --- The drawing ----------------------------------------------------------------------------

    def choose_example(event: gr.EventData, request: gr.Request):
        """The canvas has drawn the example's map itself: its place, photo and map follow."""
        index = int(event.example)
        example = EXAMPLES[index]
        language = request_language(request)
        photo = real_photo_item(index, language)
        can_repaint = missing_model(hub) is None  # else the page says why at its top, once
        hint = views.status_html([TEXTS.get("seg2sat_repaint_hint", language)], [], language) if can_repaint else ""
        repaint_shown = gr.update(visible=can_repaint)
        return example.place, index, str(example.photo_path), str(example.path), photo, hint, repaint_shown

    drawing.select(
        choose_example,
        None,
        [place, chosen_example, real_photo, original_map, results, status, repaint_button],
        api_visibility="private",
        queue=False,
    )

    def import_mask(path: str, request: gr.Request):
        language = request_language(request)
        try:
            picture = palette.open_image(path)
        except palette.NotAnImage as error:
            message = TEXTS.get("seg2sat_not_an_image", language, detail=str(error))
            return gr.skip(), views.status_html([], [message], language), *[gr.skip()] * 5
        try:
            sketch, notices = logic.sketch_with_notices(picture)
        except logic.NotAMap as photo:  # the drawing stays as it was
            refusal = views.status_html([], [views.notice_text(photo.notice, language)], language)
            return gr.skip(), refusal, *[gr.skip()] * 5
        lines = [views.notice_text(n, language) for n in notices]
        # A map of somewhere else: the example's photo no longer shows what the map describes.
        hidden = gr.update(visible=False)
        return logic.data_url(sketch), views.status_html([], lines, language), None, None, None, [], hidden

    upload.upload(
        import_mask,
        upload,
        [drawing, status, chosen_example, real_photo, original_map, results, repaint_button],
        api_visibility="private",
    )

    # --- Generating -----------------------------------------------------------------------------

    def prepared(drawn: str | None, image_size: int, language: str):
        """The sketch at the size to generate, and its notices as texts; bad input → gr.Error."""
        try:
            picture = logic.drawing_from_data_url(drawn)
        except palette.NotAnImage as error:
            raise gr.Error(TEXTS.get("seg2sat_not_an_image", language, detail=str(error))) from None
        try:
            sketch, notices = logic.sketch_with_notices(picture, int(image_size))
        except logic.NotAMap as photo:
            raise gr.Error(views.notice_text(photo.notice, language)) from None
        return sketch, [views.notice_text(notice, language) for notice in notices]

    def prompt_for(
        model, place_text: str, style_key: str, free_style_text: str, language: str, notices: list, classes=()
    ):
        from spaces.seg2sat.pipeline import fit_prompt

        try:
            style_text = style_prompt(style_key, free_style_text)
        except ValueError:
            raise gr.Error(TEXTS.get("seg2sat_unknown_style", language, style=style_key)) from None
        prompt, dropped = fit_prompt(model.tokenizer, build_prompt(place_text, style_text, classes))
        if dropped:
            notices.append(TEXTS.get("seg2sat_prompt_truncated", language))
        return prompt

    def device_word(language: str) -> str:
        return TEXTS.get("seg2sat_on_cpu" if on_cpu(hub) else "seg2sat_on_gpu", language)

    def unavailable_status(language: str) -> str:
        return views.status_html([TEXTS.get("seg2sat_models_missing", language)], [], language)

    def shown_steps(
        stream, language: str, notices: list, photo: list, size: int, images: int, guided: bool, decoder: str = "vae"
    ):
        """A streamed denoising as the tab shows it: each state with the strip of steps so far (each
        preview encoded once) and, while it runs, the results (the real photo if any, then the latest
        previews) and the status (a bar, and on a CPU the time left)."""
        from spaces.seg2sat.pipeline import side_by_side

        cpu = on_cpu(hub)
        strip = []
        for state in stream:
            strip = strip + [
                image_grids.step_preview(side_by_side(rgb), timestep)
                for rgb, timestep in zip(state.previews[len(strip) :], state.timesteps[len(strip) :], strict=True)
            ]
            if state.done:
                yield state, strip, None, None
                return
            done = len(state.previews)
            remaining = None
            if cpu and done:
                remaining = logic.STEP_TIMES.estimate(state.total_steps - done, size, images, guided, decoder)
            previews = [] if not state.previews else [enlarged(rgb) for rgb in state.previews[-1]]
            caption = TEXTS.get("seg2sat_step_caption", language, step=done, total=state.total_steps)
            running = photo + [{"image": preview, "caption": caption, "step": done} for preview in previews]
            yield state, strip, running, views.status_html([], notices, language, (done, state.total_steps), remaining)

    @gpu_task(duration=120)
    def generate(
        drawn: str | None,
        place_text: str,
        style_key: str,
        free_style_text: str,
        seed_value: float | None,
        seed_is_random: bool,
        step_count: float,
        image_size: int,
        guidance_scale: float,
        conditioning_scale: float,
        variation_count: float,
        classes_described: bool,
        chosen_path: str,
        example: int | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.seg2sat import pipeline as seg2sat

        language = request_language(request)
        photo = real_photo_item(example, language)
        distilled = chosen_path == "distilled"
        refusal = logic.steps_refusal(step_count, distilled)
        if refusal is not None:  # before any model is loaded: the drawing and the settings stay
            raise gr.Error(views.notice_text(refusal, language))
        sketch, notices = prepared(drawn, image_size, language)
        try:
            model = seg2sat.shared_pipeline(hub, progress, language)
        except WeightsUnavailable:  # the log has the remedy (shared/weights.py)
            yield photo, [], unavailable_status(language), seed_value, gr.skip(), gr.skip(), gr.skip()
            return
        if distilled:
            try:
                model = seg2sat.shared_distilled_pipeline(hub, progress, language)
            except WeightsUnavailable:  # the reference with these steps, guided: slower, never wrong
                distilled = False
                notices.append(TEXTS.get("seg2sat_distilled_missing", language))
        guided = not distilled and guidance_scale > 1
        classes = (
            tuple(land_cover.english for land_cover, _ in palette.class_shares(sketch)) if classes_described else ()
        )
        prompt = prompt_for(model, place_text, style_key, free_style_text, language, notices, classes)
        seed_used = seed_to_use(seed_value, seed_is_random)
        seeds = variation_seeds(seed_used, int(variation_count))
        started = time.perf_counter()
        stream = seg2sat.stream_generation(
            model,
            sketch,
            prompt,
            seeds,
            int(step_count),
            guidance_scale,
            conditioning_scale,
            preview=seg2sat.preview_decoder(hub),
            times=logic.STEP_TIMES,
        )
        decoder = "taesd" if seg2sat.decodes_with_taesd(model) else "vae"
        steps_shown = shown_steps(stream, language, notices, photo, sketch.width, len(seeds), guided, decoder)
        for state, strip, running, running_status in steps_shown:
            if state.done:
                made_by = (
                    [TEXTS.get("seg2sat_made_distilled", language, steps=len(state.previews))] if distilled else []
                )
                summary = TEXTS.get(
                    "seg2sat_summary",
                    language,
                    steps=len(state.previews),
                    seconds=format_number(time.perf_counter() - started, language, decimals=1),
                    seeds=", ".join(map(str, seeds)),
                    device=device_word(language),
                )
                alt = views.map_alt("seg2sat_image_alt", sketch, language)
                finished = photo + [
                    {
                        "image": image,
                        "caption": TEXTS.get("seg2sat_seed_caption", language, seed=s),
                        "seed": s,
                        "alt": alt,
                    }
                    for image, s in zip(state.images, seeds, strict=True)
                ]
                yield (
                    finished,
                    strip,
                    views.status_html([*made_by, summary], notices, language, prompt=prompt),
                    seed_used,
                    state.images,
                    prompt,
                    gr.update(visible=search_takes_images(hub)),
                )
                return
            yield running, strip, running_status, seed_used, gr.skip(), gr.skip(), gr.update(visible=False)

    generation = generate_button.click(
        generate,
        [
            *[drawing, place, style, free_style, seed, random_seed, steps, size, guidance, conditioning, variations],
            describe_classes,
            path,
            chosen_example,
        ],
        [results, steps_strip, status, seed, last_images, last_prompt, send_to_search],
        api_name="seg2sat_generate",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )
    generation.then(cpu_estimate, estimate_inputs, estimate_outputs, api_visibility="private", queue=False)

    # --- The trade-off: the same map and seed, distilled then reference, side by side -------------

    @gpu_task(duration=120)
    def compare(
        drawn: str | None,
        place_text: str,
        style_key: str,
        free_style_text: str,
        seed_value: float | None,
        seed_is_random: bool,
        image_size: int,
        conditioning_scale: float,
        example: int | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.seg2sat import pipeline as seg2sat

        language = request_language(request)
        sketch, notices = prepared(drawn, image_size, language)
        seed_used = seed_to_use(seed_value, seed_is_random)
        distilled, reference = PRESETS["distilled"], PRESETS["reference"]
        runs = (  # (path, steps, guidance, decoder): each path's own settings, the size chosen
            ("distilled", distilled.steps, distilled.guidance_scale, "taesd"),
            ("reference", reference.steps, reference.guidance_scale, "vae"),
        )
        if on_cpu(hub):  # the time it will take comes first, before the first step's wait
            estimates = [seconds_for(steps, sketch.width, 1, guidance, path) for path, steps, guidance, _ in runs]
            line = TEXTS.get("seg2sat_cpu_unmeasured", language)
            if None not in estimates:
                line = TEXTS.get(
                    "seg2sat_compare_estimate", language, duration=views.duration_text(sum(estimates), language)
                )
            yield [], views.status_html([line], notices, language), seed_used
        try:
            models = {
                "reference": seg2sat.shared_pipeline(hub, progress, language),
                "distilled": seg2sat.shared_distilled_pipeline(hub, progress, language),
            }
        except WeightsUnavailable:
            yield [], unavailable_status(language), seed_value
            return
        prompt = prompt_for(models["reference"], place_text, style_key, free_style_text, language, notices)
        finished = []
        for path, steps, guidance, decoder in runs:
            stream = seg2sat.stream_generation(
                models[path],
                sketch,
                prompt,
                [seed_used],
                steps,
                guidance,
                conditioning_scale,
                preview=seg2sat.preview_decoder(hub),
                times=logic.STEP_TIMES,
            )
            guided = path == "reference"
            for state, _, running, running_status in shown_steps(
                stream, language, notices, [], sketch.width, 1, guided, decoder
            ):
                if not state.done:
                    yield finished + running, running_status, seed_used
                    continue
                caption = TEXTS.get(f"seg2sat_compare_{path}", language, steps=steps, seed=seed_used)
                alt = views.map_alt("seg2sat_image_alt", sketch, language)
                finished.append({"image": state.images[0], "caption": caption, "seed": seed_used, "alt": alt})
        line = TEXTS.get("seg2sat_compare_done", language, seed=seed_used)
        yield finished, views.status_html([line], notices, language, prompt=prompt), seed_used

    compare_button.click(
        compare,
        [drawing, place, style, free_style, seed, random_seed, size, conditioning, chosen_example],
        [results, status, seed],
        api_name="seg2sat_compare",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )

    # --- Repainting part of a real photo: the area whose class changed is redrawn ----------------

    @gpu_task(duration=120)
    def repaint(
        photo,
        drawn: str | None,
        original,
        place_text: str,
        style_key: str,
        seed_value: float | None,
        step_count: float,
        conditioning_scale: float,
        example: int | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.seg2sat import pipeline as seg2sat

        language = request_language(request)
        try:
            edited = logic.drawing_from_data_url(drawn)
        except palette.NotAnImage as error:
            raise gr.Error(TEXTS.get("seg2sat_not_an_image", language, detail=str(error))) from None
        try:  # before any model is loaded or run
            wanted = logic.repaint_input(photo, edited, original)
        except logic.RepaintRefused as refused:
            raise gr.Error(views.notice_text(refused.notice, language)) from None
        photo_item = real_photo_item(example, language)
        if missing_model(hub) is not None:  # the page says so at its top; the log has the remedy
            yield photo_item, [], unavailable_status(language), gr.skip(), gr.skip(), gr.skip()
            return
        guided = GUIDANCE_SCALE.default > 1
        if on_cpu(hub):  # the time it will take comes first, before the first step's wait
            seconds = logic.STEP_TIMES.estimate(int(step_count), wanted.photo.width, 1, guided)
            line = TEXTS.get("seg2sat_cpu_unmeasured", language)
            if seconds is not None:
                line = TEXTS.get("seg2sat_cpu_estimate", language, duration=views.duration_text(seconds, language))
            yield photo_item, [], views.status_html([line], [], language), gr.skip(), gr.skip(), gr.skip()
        try:
            model = seg2sat.shared_pipeline(hub, progress, language)
        except WeightsUnavailable:
            yield photo_item, [], unavailable_status(language), gr.skip(), gr.skip(), gr.skip()
            return
        notices = []
        prompt = prompt_for(model, place_text, style_key, "", language, notices)
        seed_used = 0 if seed_value is None else int(seed_value)
        started = time.perf_counter()
        stream = seg2sat.stream_repaint(
            model,
            wanted.photo,
            wanted.control_map,
            wanted.mask,
            prompt,
            seed_used,
            int(step_count),
            conditioning_scale=conditioning_scale,
            preview=seg2sat.preview_decoder(hub),
            times=logic.STEP_TIMES,
        )
        for state, strip, running, running_status in shown_steps(
            stream, language, notices, photo_item, wanted.photo.width, 1, guided
        ):
            if not state.done:
                yield running, strip, running_status, gr.skip(), gr.skip(), gr.update(visible=False)
                continue
            summary = TEXTS.get(
                "seg2sat_repaint_summary",
                language,
                percent=format_number(100 * wanted.changed_fraction, language, decimals=1),
                steps=len(state.previews),
                seconds=format_number(time.perf_counter() - started, language, decimals=1),
                seed=seed_used,
                device=device_word(language),
            )
            caption = TEXTS.get("seg2sat_repaint_caption", language, seed=seed_used)
            yield (
                photo_item
                + [
                    {
                        "image": state.images[0],
                        "caption": caption,
                        "seed": seed_used,
                        "lossless": True,
                        "alt": views.map_alt("seg2sat_repaint_alt", wanted.control_map, language),
                    }
                ],
                strip,
                views.status_html([summary], notices, language, prompt=prompt),
                state.images,
                prompt,
                gr.update(visible=search_takes_images(hub)),
            )

    repaint_button.click(
        repaint,
        [real_photo, drawing, original_map, place, style, seed, steps, conditioning, chosen_example],
        [results, steps_strip, status, last_images, last_prompt, send_to_search],
        api_name="seg2sat_repaint",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )

    # --- Live mode: each stroke, once the hand pauses, makes a quick image ------------------------

    def announce(session: logic.LiveSession) -> None:
        session.announce()  # outside the queue: an older live image still running stops at its next step

    @gpu_task(duration=30)
    def live_generate(
        drawn: str | None,
        place_text: str,
        style_key: str,
        free_style_text: str,
        seed_value: float | None,
        guidance_scale: float,
        conditioning_scale: float,
        session: logic.LiveSession,
        example: int | None,
        request: gr.Request,
    ):
        from spaces.seg2sat import pipeline as seg2sat

        language = request_language(request)
        ticket = session.ticket()
        sketch, notices = prepared(drawn, IMAGE_SIZE, language)
        try:  # the distilled path where its LoRA is here: the live mode is where speed matters most
            if seg2sat.distilled_weights_cached(hub):
                model = seg2sat.shared_distilled_pipeline(hub)
            else:
                model = seg2sat.shared_pipeline(hub)
        except WeightsUnavailable:
            return [], unavailable_status(language), gr.skip(), gr.skip(), gr.skip()
        prompt = prompt_for(model, place_text, style_key, free_style_text, language, notices)
        seed_used = 0 if seed_value is None else int(seed_value)
        started = time.perf_counter()
        image = seg2sat.live_image(
            model,
            sketch,
            prompt,
            seed_used,
            lambda: session.superseded(ticket),
            guidance_scale,
            conditioning_scale,
            times=logic.STEP_TIMES,
        )
        if image is None:  # a newer drawing came: its image is what the user wants
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        line = TEXTS.get(
            "seg2sat_live_status",
            language,
            steps=seg2sat.live_steps(model),
            seconds=format_number(time.perf_counter() - started, language, decimals=2),
            seed=seed_used,
        )
        return (
            real_photo_item(example, language)
            + [
                {
                    "image": image,
                    "caption": TEXTS.get("seg2sat_seed_caption", language, seed=seed_used),
                    "seed": seed_used,
                    "alt": views.map_alt("seg2sat_image_alt", sketch, language),
                }
            ],
            views.status_html([line], notices, language, prompt=prompt),
            [image],
            prompt,
            gr.update(visible=search_takes_images(hub)),
        )

    # The canvas fires `input` at a stroke's end (debounced) and when the live checkbox is ticked.
    drawing.input(announce, live_session, None, api_visibility="private", queue=False).then(
        live_generate,
        [drawing, place, style, free_style, seed, guidance, conditioning, live_session, chosen_example],
        [results, status, last_images, last_prompt, send_to_search],
        api_name="seg2sat_live",
        trigger_mode="always_last",  # one waits while one runs; more strokes meanwhile replace it
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
        show_progress="hidden",
    )

    # --- The image search -----------------------------------------------------------------------

    def send_results_to_search(images: list, prompt: str, request: gr.Request):
        language = request_language(request)
        if not images or not prompt:  # nothing generated yet in this session
            return views.status_html([TEXTS.get("seg2sat_nothing_to_send", language)], [], language), gr.skip()
        for image in images:
            offer_to_gallery(hub, image, prompt, source="seg2sat")
        line = TEXTS.get("seg2sat_sent_to_search", language, count=len(images))
        return views.status_html([line], [], language), gr.update(visible=False)

    send_to_search.click(
        send_results_to_search, [last_images, last_prompt], [status, send_to_search], api_name="seg2sat_send_to_search"
    )

    # --- How it works: noising any image to step t ----------------------------------------------

    def noise(picture, t: float, request: gr.Request):
        language = request_language(request)
        if picture is None:
            picture = palette.open_image(first_example)
        shown = logic.noised(picture, int(t))
        return shown.image, views.shares_html(shown, language)

    gr.on(
        [source_image.change, noise_step.change],  # not at page load: the first image was made at start
        noise,
        [source_image, noise_step],
        [noised_image, shares],
        api_name="diffusion_noise",
        trigger_mode="always_last",
        show_progress="hidden",
    )

    def noised_alt(t: float, request: gr.Request):
        return gr.update(alt_text=views.noised_alt(int(t), request_language(request)))

    # The image's alt follows its step (RGAA 1.3), apart from /diffusion_noise, whose answer stays the image.
    noise_step.change(
        noised_alt, noise_step, noised_image, api_visibility="private", queue=False, show_progress="hidden"
    )

    def next_example(index: int):
        index = (index + 1) % len(EXAMPLES)
        return str(EXAMPLES[index].photo_path), index, ""

    example_source.click(
        next_example, example_index, [source_image, example_index, noise_notice], api_visibility="private"
    )

    def last_result(images: list, request: gr.Request):
        if not images:
            return gr.skip(), notice_html(TEXTS.get("seg2sat_noise_no_result", request_language(request)))
        return images[0], ""

    last_source.click(last_result, last_images, [source_image, noise_notice], api_visibility="private")

    def uploaded_source(path: str, request: gr.Request):
        try:
            return palette.open_image(path), ""
        except palette.NotAnImage as error:
            message = TEXTS.get("seg2sat_not_an_image", request_language(request), detail=str(error))
            return gr.skip(), notice_html(message)

    upload_source.upload(uploaded_source, upload_source, [source_image, noise_notice], api_visibility="private")
