"""The Seg2Sat tab: draw a land-cover map, watch the noise turn into an aerial image.

The canvas works without any model; generating loads the pipeline on first use (spaces/seg2sat/
pipeline.py, imported inside the handlers: diffusers takes seconds to import).
"""

import html
import time

import gradio as gr
from PIL import Image

from shared.gallery_handoff import offer_to_gallery
from shared.gpu import GPU_CONCURRENCY_ID, gpu_task
from shared.hub import Hub
from shared.i18n import Texts, request_language
from shared.weights import WeightsUnavailable
from spaces.seg2sat import palette
from spaces.seg2sat.make_examples import EXAMPLES
from spaces.seg2sat.options import (
    CONDITIONING_SCALE,
    GUIDANCE_SCALE,
    IMAGE_SIZE,
    MAX_SEED,
    STEPS,
    STYLES,
    VARIATIONS,
    build_prompt,
    new_seed,
    variation_seeds,
)

TEXTS = Texts(
    fr={
        "seg2sat_tab": "Seg2Sat — dessiner une image aérienne",
        "seg2sat_about": "**Seg2Sat** — une carte d'occupation du sol dessinée devient une image aérienne : un ControlNet entraîné sur FLAIR (IGN) guide Stable Diffusion, et l'on voit le bruit devenir image étape par étape.",
        "seg2sat_intro": "**Seg2Sat** — dessinez une carte d'occupation du sol d'environ 100 m de côté : un *ControlNet* entraîné sur les paires carte / photo aérienne de FLAIR (IGN) guide *Stable Diffusion 2.1* pour en faire une image aérienne. Regardez le bruit devenir image, étape par étape.",
        "seg2sat_canvas": "Votre carte",
        "seg2sat_new_canvas": "Nouvelle carte (forêt)",
        "seg2sat_upload": "Importer un masque",
        "seg2sat_legend": "Légende : choisissez la couleur dans l'outil pinceau",
        "seg2sat_place": "Lieu (« Aerial view of … »)",
        "seg2sat_place_placeholder": "Vide : rue des Lilas, Toulouse, Haute-Garonne, France",
        "seg2sat_style": "Style",
        "seg2sat_free_style": "Style libre (remplace le style choisi ; en anglais de préférence)",
        "seg2sat_settings": "Réglages",
        "seg2sat_random_seed": "Graine aléatoire",
        "seg2sat_seed": "Graine (même graine + mêmes réglages = même image)",
        "seg2sat_steps": "Étapes de débruitage",
        "seg2sat_guidance": "Guidage par le texte (guidance)",
        "seg2sat_conditioning": "Poids du dessin (ControlNet)",
        "seg2sat_variations": "Variantes côte à côte (graines successives)",
        "seg2sat_generate": "Générer l'image aérienne",
        "seg2sat_results": "Image générée",
        "seg2sat_strip": "Diffusion pas à pas : du bruit à l'image",
        "seg2sat_examples": "Exemples (cliquez pour les charger)",
        "seg2sat_weights_missing": "Génération impossible : les poids du modèle manquent (le dessin, lui, fonctionne). {detail}",
        "seg2sat_not_an_image": "Ce fichier n'est pas une image lisible ({detail}).",
        "seg2sat_empty_canvas": "Carte vide : une carte toute en forêt (feuillu) est utilisée.",
        "seg2sat_cropped": "Image non carrée ({width} × {height} px) : seul le carré central est utilisé.",
        "seg2sat_transparent": "Les zones transparentes comptent comme « feuillu ».",
        "seg2sat_snapped": "{percent} % des pixels n'avaient pas une couleur de classe (bords des traits…) : chacun prend la plus proche.",
        "seg2sat_one_class": "Une seule classe sur la carte ({name}) : ajoutez-en d'autres pour un paysage plus riche.",
        "seg2sat_prompt_truncated": "Texte trop long pour l'encodeur de texte (77 tokens) : « {dropped} » est ignoré.",
        "seg2sat_prompt_used": "Texte envoyé au modèle : {prompt}",
        "seg2sat_denoising": "Débruitage : étape {step} / {total}",
        "seg2sat_step_caption": "étape {step} / {total}",
        "seg2sat_seed_caption": "graine {seed}",
        "seg2sat_send_to_search": "Ajouter à la recherche d'images",
        "seg2sat_sent_to_search": "{count} image(s) ajoutée(s) à la galerie de l'onglet Recherche par proximité.",
        "seg2sat_nothing_to_send": "Générez d'abord une image : elle pourra ensuite rejoindre la galerie de recherche.",
        "seg2sat_summary": "{steps} étapes en {seconds:.1f} s sur {device} ; graine(s) {seeds}.",
    },
    en={
        "seg2sat_tab": "Seg2Sat — draw an aerial image",
        "seg2sat_about": "**Seg2Sat** — a hand-drawn land-cover map becomes an aerial image: a ControlNet trained on FLAIR (IGN) guides Stable Diffusion, and you watch the noise turn into the image step by step.",
        "seg2sat_intro": "**Seg2Sat** — draw a land-cover map about 100 m across: a *ControlNet* trained on FLAIR's map / aerial photo pairs (IGN) guides *Stable Diffusion 2.1* to turn it into an aerial image. Watch the noise become an image, step by step.",
        "seg2sat_canvas": "Your map",
        "seg2sat_new_canvas": "New map (forest)",
        "seg2sat_upload": "Import a mask",
        "seg2sat_legend": "Legend: pick the colour in the brush tool",
        "seg2sat_place": "Place (“Aerial view of …”)",
        "seg2sat_place_placeholder": "Empty: rue des Lilas, Toulouse, Haute-Garonne, France",
        "seg2sat_style": "Style",
        "seg2sat_free_style": "Free style (replaces the chosen style)",
        "seg2sat_settings": "Settings",
        "seg2sat_random_seed": "Random seed",
        "seg2sat_seed": "Seed (same seed + same settings = same image)",
        "seg2sat_steps": "Denoising steps",
        "seg2sat_guidance": "Text guidance (guidance scale)",
        "seg2sat_conditioning": "Weight of the drawing (ControlNet)",
        "seg2sat_variations": "Variations side by side (successive seeds)",
        "seg2sat_generate": "Generate the aerial image",
        "seg2sat_results": "Generated image",
        "seg2sat_strip": "Diffusion step by step: from noise to image",
        "seg2sat_examples": "Examples (click to load)",
        "seg2sat_weights_missing": "Cannot generate: the model weights are missing (drawing still works). {detail}",
        "seg2sat_not_an_image": "This file is not a readable image ({detail}).",
        "seg2sat_empty_canvas": "Empty map: an all-forest (deciduous) map is used.",
        "seg2sat_cropped": "Not a square picture ({width} × {height} px): only its centre square is used.",
        "seg2sat_transparent": "Transparent areas count as “deciduous”.",
        "seg2sat_snapped": "{percent} % of the pixels had no class colour (stroke edges…): each takes the nearest one.",
        "seg2sat_one_class": "A single class on the map ({name}): add others for a richer landscape.",
        "seg2sat_prompt_truncated": "Text too long for the text encoder (77 tokens): “{dropped}” is ignored.",
        "seg2sat_prompt_used": "Text sent to the model: {prompt}",
        "seg2sat_denoising": "Denoising: step {step} / {total}",
        "seg2sat_step_caption": "step {step} / {total}",
        "seg2sat_seed_caption": "seed {seed}",
        "seg2sat_send_to_search": "Add to the image search",
        "seg2sat_sent_to_search": "{count} image(s) added to the gallery of the Search by similarity tab.",
        "seg2sat_nothing_to_send": "Generate an image first: it can then join the search gallery.",
        "seg2sat_summary": "{steps} steps in {seconds:.1f} s on {device}; seed(s) {seeds}.",
    },
)

# Upscaled for display only: a preview has the latents' size, 1/8 of the image.
PREVIEW_DISPLAY_SIZE = 256

CSS = """
.seg2sat-legend { display: grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap: 0.15rem 0.75rem;
                  font-size: 0.85em; margin: 0; padding: 0; list-style: none; }
.seg2sat-legend li { display: flex; align-items: center; gap: 0.4rem; }
.seg2sat-legend .swatch { width: 1.1rem; height: 1.1rem; border-radius: 3px; border: 1px solid #8888; flex: none; }
.seg2sat-legend i { opacity: 0.7; }
.seg2sat-status p { margin: 0.2rem 0; }
.seg2sat-status .notice { color: #a15c00; }
.seg2sat-status progress { width: 100%; height: 0.8rem; accent-color: var(--color-accent); }
/* Small square thumbnails, as many per row as fit, on a phone too (Gradio's are at least 100 px). */
#seg2sat-strip .grid-container { grid-template-columns: repeat(auto-fill, minmax(3.5rem, 1fr)); grid-auto-rows: auto; }
#seg2sat-strip .grid-wrap { min-height: 0; }
"""


class LandCoverCanvas(gr.ImageEditor):
    """gr.ImageEditor with its own front end (a template, like gr.Sketchpad), except that a file
    that is not an image reaches the handler as {"unreadable": reason} instead of failing in
    Gradio's preprocessing with a generic error (possible through the API only)."""

    is_template = True

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            return {"background": None, "layers": [], "composite": None, "unreadable": str(error)}


def land_cover_canvas(value: dict) -> LandCoverCanvas:
    """A square canvas whose brush paints FLAIR classes 1-16 only; no upload (the import button
    snaps an upload first), no crop or resize. Undo, zoom and brush sizes are the editor's own."""
    return LandCoverCanvas(
        # PNG, not Gradio's default lossy WebP, so that the canvas shows and returns exact colours.
        value=value,
        type="pil",
        image_mode="RGBA",
        format="png",
        sources=(),
        transforms=(),
        layers=False,
        canvas_size=(IMAGE_SIZE, IMAGE_SIZE),
        fixed_canvas=True,
        label=TEXTS.label("seg2sat_canvas"),
        brush=gr.Brush(
            colors=[land_cover.hex for land_cover in palette.DRAWING_CLASSES], color_mode="fixed", default_size=16
        ),
        height="min(560px, calc(100vw + 40px))",
        elem_id="seg2sat-canvas",
    )


def legend_html() -> str:
    """The brush's colours with their class names, in French and English (the brush shows no names)."""
    items = "".join(
        f'<li><span class="swatch" style="background:{land_cover.hex}"></span>{land_cover.number}&nbsp;'
        f"{html.escape(land_cover.french)} <i>{html.escape(land_cover.english)}</i></li>"
        for land_cover in palette.DRAWING_CLASSES
    )
    return f'<ul class="seg2sat-legend">{items}</ul>'


def canvas_value(sketch: Image.Image) -> dict:
    return {"background": sketch, "layers": [], "composite": sketch}


def sketch_with_notices(picture: Image.Image | None, language: str) -> tuple[Image.Image, list[str]]:
    """The sketch to generate from, and what was done to the picture to get it (messages)."""
    if picture is None:
        return palette.blank_sketch(IMAGE_SIZE), [TEXTS.get("seg2sat_empty_canvas", language)]
    prepared = palette.prepare_sketch(picture, IMAGE_SIZE)
    notices = []
    if prepared.cropped:
        width, height = prepared.original_size
        notices.append(TEXTS.get("seg2sat_cropped", language, width=width, height=height))
    if prepared.transparent:
        notices.append(TEXTS.get("seg2sat_transparent", language))
    if prepared.off_palette_fraction >= 0.001:
        notices.append(TEXTS.get("seg2sat_snapped", language, percent=f"{100 * prepared.off_palette_fraction:.1f}"))
    shares = palette.class_shares(prepared.image)
    if len(shares) == 1:
        land_cover = shares[0][0]
        name = land_cover.french if language == "fr" else land_cover.english
        notices.append(TEXTS.get("seg2sat_one_class", language, name=name))
    return prepared.image, notices


def picture_from_canvas(value: dict | None, language: str) -> Image.Image | None:
    """What was drawn: the composite (background + strokes), else the background alone (API calls)."""
    if not value:
        return None
    if value.get("unreadable"):
        raise gr.Error(TEXTS.get("seg2sat_not_an_image", language, detail=html.escape(value["unreadable"])))
    return value["composite"] if value.get("composite") is not None else value.get("background")


def status_html(
    lines: list[str], notices: list[str], progress: tuple[int, int] | None = None, language: str = "fr"
) -> str:
    """What the tab says about a generation: a bar of the steps done while it runs, the prompt sent,
    the timing at the end, and notices about the sketch or the prompt."""
    paragraphs = []
    if progress is not None:
        done, total = progress
        label = TEXTS.get("seg2sat_denoising", language, step=done, total=total)
        paragraphs.append(f'<p><progress max="{total}" value="{done}"></progress><br>{html.escape(label)}</p>')
    paragraphs += [f"<p>{html.escape(line)}</p>" for line in lines]
    paragraphs += [f'<p class="notice">{html.escape(notice)}</p>' for notice in notices]
    return f'<div class="seg2sat-status">{"".join(paragraphs)}</div>'


def enlarged(preview: Image.Image) -> Image.Image:
    return preview.resize((PREVIEW_DISPLAY_SIZE, PREVIEW_DISPLAY_SIZE), Image.Resampling.BILINEAR)


def results_gallery(state, seeds: list[int], language: str) -> list[tuple[Image.Image, str]]:
    """The final images with their seeds; meanwhile the latest step's previews, one per variation."""
    if state.done:
        return [
            (image, TEXTS.get("seg2sat_seed_caption", language, seed=seed))
            for image, seed in zip(state.images, seeds, strict=True)
        ]
    if not state.previews:
        return []
    caption = TEXTS.get("seg2sat_step_caption", language, step=len(state.previews), total=state.total_steps)
    return [(enlarged(Image.fromarray(rgb)), caption) for rgb in state.previews[-1]]


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): the ControlNet's .bin kept as safetensors."""
    from spaces.seg2sat import pipeline

    pipeline.controlnet_folder(hub)


def warm_up(hub: Hub) -> None:
    """Load the pipeline when the tab opens, if its weights are already on this machine: a first
    visit must not start a multi-gigabyte download nobody asked for."""
    from spaces.seg2sat import pipeline

    if pipeline.weights_cached(hub):
        pipeline.shared_pipeline(hub)


def build(hub: Hub) -> None:
    gr.Markdown(TEXTS.label("seg2sat_intro"))
    fresh_canvas = canvas_value(palette.blank_sketch(IMAGE_SIZE))
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            canvas = land_cover_canvas(fresh_canvas)
            with gr.Row():
                new_canvas = gr.Button(TEXTS.label("seg2sat_new_canvas"), size="sm")
                upload = gr.UploadButton(
                    TEXTS.label("seg2sat_upload"), file_types=["image"], type="filepath", size="sm"
                )
            examples = gr.Gallery(
                [(str(example.path), example.title) for example in EXAMPLES],
                label=TEXTS.label("seg2sat_examples"),
                columns=3,
                height="auto",
                allow_preview=False,
                buttons=[],
                interactive=False,
                elem_id="seg2sat-examples",
            )
            with gr.Accordion(TEXTS.label("seg2sat_legend"), open=True):
                gr.HTML(legend_html())
        with gr.Column(scale=1, min_width=320):
            place = gr.Textbox(
                label=TEXTS.label("seg2sat_place"),
                placeholder=TEXTS.label("seg2sat_place_placeholder"),
                max_lines=2,
                elem_id="seg2sat-place",
            )
            style = gr.Radio(list(STYLES), value=STYLES[0], label=TEXTS.label("seg2sat_style"))
            free_style = gr.Textbox(label=TEXTS.label("seg2sat_free_style"), max_lines=2)
            with gr.Accordion(TEXTS.label("seg2sat_settings"), open=False):
                random_seed = gr.Checkbox(value=True, label=TEXTS.label("seg2sat_random_seed"))
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label=TEXTS.label("seg2sat_seed"))
                steps = gr.Slider(
                    STEPS.minimum, STEPS.maximum, STEPS.default, step=1, label=TEXTS.label("seg2sat_steps")
                )
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
            generate_button = gr.Button(TEXTS.label("seg2sat_generate"), variant="primary", elem_id="seg2sat-generate")
            results = gr.Gallery(
                label=TEXTS.label("seg2sat_results"),
                columns=2,
                object_fit="contain",
                height="auto",
                preview=False,
                type="pil",
                elem_id="seg2sat-results",
            )
            status = gr.HTML(elem_id="seg2sat-status")
            # The finished images can join the image search's gallery, when that tab is mounted.
            send_to_search = gr.Button(
                TEXTS.label("seg2sat_send_to_search"), size="sm", visible="clip_search" in hub.settings.demos
            )
            prompt_used = gr.State("")  # set when a generation ends: the caption of the images sent
    steps_strip = gr.Gallery(
        label=TEXTS.label("seg2sat_strip"),
        height="auto",
        object_fit="contain",
        buttons=["download", "fullscreen"],
        elem_id="seg2sat-strip",
    )

    new_canvas.click(lambda: fresh_canvas, None, canvas, api_visibility="private", queue=False)

    def load_example(selected: gr.SelectData):
        example = EXAMPLES[selected.index]
        return canvas_value(Image.open(example.path).convert("RGB")), example.place

    examples.select(load_example, None, [canvas, place], api_visibility="private", queue=False)

    def import_mask(path: str, request: gr.Request):
        language = request_language(request)
        try:
            picture = palette.open_image(path)
        except palette.NotAnImage as error:
            raise gr.Error(TEXTS.get("seg2sat_not_an_image", language, detail=html.escape(str(error)))) from None
        sketch, notices = sketch_with_notices(picture, language)
        for notice in notices:
            gr.Info(notice)
        return canvas_value(sketch)

    upload.upload(import_mask, upload, canvas, api_visibility="private")

    @gpu_task(duration=120)
    def generate(
        drawn: dict | None,
        place_text: str,
        style_text: str,
        free_style_text: str,
        seed_value: float | None,
        seed_is_random: bool,
        step_count: float,
        guidance_scale: float,
        conditioning_scale: float,
        variation_count: float,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from shared.device import torch_runtime
        from spaces.seg2sat import pipeline as seg2sat

        language = request_language(request)
        sketch, notices = sketch_with_notices(picture_from_canvas(drawn, language), language)
        try:
            model = seg2sat.shared_pipeline(hub, progress, language)
        except WeightsUnavailable as missing:  # said in the status line, which stays, and in a toast
            message = TEXTS.get("seg2sat_weights_missing", language, detail=str(missing))
            gr.Warning(html.escape(message))
            yield [], [], status_html([], [message]), seed_value, ""
            return
        prompt, dropped = seg2sat.fit_prompt(
            model.tokenizer, build_prompt(place_text, (free_style_text or "").strip() or style_text)
        )
        if dropped:
            notices.append(TEXTS.get("seg2sat_prompt_truncated", language, dropped=dropped))
        seed_used = new_seed() if seed_is_random or seed_value is None else int(seed_value)
        seeds = variation_seeds(seed_used, int(variation_count))
        lines = [TEXTS.get("seg2sat_prompt_used", language, prompt=prompt)]
        started = time.perf_counter()
        for state in seg2sat.stream_generation(
            model, sketch, prompt, seeds, int(step_count), guidance_scale, conditioning_scale
        ):
            steps_done = None if state.done else (len(state.previews), state.total_steps)
            if state.done:
                lines.append(
                    TEXTS.get(
                        "seg2sat_summary",
                        language,
                        steps=len(state.previews),
                        seconds=time.perf_counter() - started,
                        seeds=", ".join(map(str, seeds)),
                        device=torch_runtime(hub.settings).describe(),
                    )
                )
            strip = [(seg2sat.side_by_side(rgb), str(step)) for step, rgb in enumerate(state.previews, start=1)]
            yield (
                results_gallery(state, seeds, language),
                strip,
                status_html(lines, notices, steps_done, language),
                seed_used,
                prompt if state.done else "",
            )

    generate_button.click(
        generate,
        [canvas, place, style, free_style, seed, random_seed, steps, guidance, conditioning, variations],
        [results, steps_strip, status, seed, prompt_used],
        api_name="seg2sat_generate",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )

    def send_results_to_search(images: list | None, prompt: str, request: gr.Request):
        language = request_language(request)
        if not images or not prompt:  # nothing generated yet, or only a generation's previews
            gr.Info(TEXTS.get("seg2sat_nothing_to_send", language))
            return
        for image, _seed_caption in images:
            offer_to_gallery(hub, image, prompt, source="seg2sat")
        gr.Info(TEXTS.get("seg2sat_sent_to_search", language, count=len(images)))

    send_to_search.click(send_results_to_search, [results, prompt_used], None, api_name="seg2sat_send_to_search")
