"""The tab's two grids of images: the generated images, and the reverse strip of the last generation.

Not gr.Gallery: Gradio's page downloads the code of every component type it holds, whatever tab
it opens, and the gallery's (with its video player and hls.js) costs every phone ~180 KB at the
first load. These are gr.HTML whose scripts draw the images from the value; captions are set as
text (textContent), never as HTML, and the templates hold no value (gr.HTML evaluates a template
as a JavaScript template literal). Their labels are drawn in both languages, the page's shown
(views.bilingual).

Their values, for API clients too:
* GeneratedImages: [{"image": file, "caption": "graine 42", "seed": 42, "alt": "Image générée d'après
  une carte : feuillu 60 %, eau 40 %"}], each image with a download link, its alt its map's classes; while a generation runs, its latest previews: [{"image", "caption": "étape 3 / 10", "step": 3}].
  After an example was chosen, its real photo comes first: {"image", "caption": "La vraie photo : …"}.
  A repainted photo is PNG ({"lossless": True} in Python): outside the repainted area, its pixels
  are the photo's, which WebP's compression would not keep.
* StepStrip: [{"t": 981, "preview": "data:image/webp;base64,…"}], one per step, noisiest first. The
  previews are a few KB each and sent inline: no request per step, and a stream sends each once
  (Gradio sends a generator's later outputs as differences from the previous ones).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import gradio as gr
from gradio import processing_utils
from gradio.data_classes import FileData, GradioModel, GradioRootModel

from spaces.seg2sat.views import bilingual

IMAGE_FORMAT = "webp"  # as gr.Gallery saved them: Pillow's default quality (80)


class GeneratedImage(GradioModel):
    image: FileData
    caption: str
    seed: int | None = None  # a finished image: the seed that makes it again
    step: int | None = None  # a preview while the generation runs: the steps done
    alt: str | None = None  # what a screen reader says of a finished image: its map (else the caption)


class GeneratedImages(GradioRootModel):
    root: list[GeneratedImage]


class StepPreview(GradioModel):
    t: int  # the scheduler's timestep after this step (999 … 0)
    preview: str  # the variations side by side, a data: URL


class StepPreviews(GradioRootModel):
    root: list[StepPreview]


CSS = """
.seg2sat-grid .label { margin: 0 0 4px; font-size: var(--block-label-text-size); color: var(--block-label-text-color); }
.seg2sat-grid figure { margin: 0; min-width: 0; }
.seg2sat-grid figcaption { display: flex; align-items: center; justify-content: space-between; gap: 6px; }
.seg2sat-images { display: grid; gap: 8px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 10rem), 1fr)); }
.seg2sat-images img { display: block; width: 100%; max-width: 512px; aspect-ratio: 1; object-fit: contain;
  margin: 0 auto; border-radius: var(--radius-md); background: var(--background-fill-secondary); }
.seg2sat-images figcaption { font-size: 0.85rem; min-height: 42px; }
.seg2sat-images a { display: inline-flex; align-items: center; min-height: 40px; padding: 0 0.7rem;
  border-radius: var(--radius-md); border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); text-decoration: none; }
.seg2sat-images a[hidden] { display: none; }
.seg2sat-steps { display: flex; flex-wrap: wrap; gap: 4px; }
.seg2sat-steps img { display: block; height: 2.8rem; width: auto; max-width: 100%; border-radius: 3px; }
.seg2sat-steps figcaption { justify-content: center; font-size: 0.65rem; opacity: 0.8; }
"""

# Each script keeps its figures and changes what differs: an image being replaced stays shown
# until its successor has loaded (no flicker from one step to the next).
GENERATED_SCRIPT = """
const label = element.querySelector(".label");
const grid = element.querySelector(".seg2sat-images");
const downloadText = element.querySelector("template.download");
function figure() {
  const made = document.createElement("figure");
  const link = document.createElement("a");
  link.append(downloadText.content.cloneNode(true));
  const text = document.createElement("span");
  text.className = "caption";
  const caption = document.createElement("figcaption");
  caption.append(text, link);
  made.append(document.createElement("img"), caption);
  return made;
}
function draw() {
  const images = Array.isArray(props.value) ? props.value : [];
  label.hidden = images.length === 0;
  while (grid.children.length > images.length) grid.lastElementChild.remove();
  images.forEach((item, index) => {
    const shown = grid.children[index] || grid.appendChild(figure());
    const image = shown.querySelector("img");
    if (image.getAttribute("src") !== item.image.url) image.src = item.image.url;
    image.alt = item.alt || item.caption;
    shown.querySelector(".caption").textContent = item.caption;
    const link = shown.querySelector("a");
    link.hidden = item.seed == null; // previews are not offered for download
    link.href = item.image.url;
    link.download = item.image.orig_name || "";
  });
}
draw();
watch("value", draw);
"""

STRIP_SCRIPT = """
const label = element.querySelector(".label");
const strip = element.querySelector(".seg2sat-steps");
function figure() {
  const made = document.createElement("figure");
  made.append(document.createElement("img"), document.createElement("figcaption"));
  return made;
}
function draw() {
  const steps = Array.isArray(props.value) ? props.value : [];
  label.hidden = steps.length === 0;
  while (strip.children.length > steps.length) strip.lastElementChild.remove();
  steps.forEach((step, index) => {
    const shown = strip.children[index] || strip.appendChild(figure());
    const image = shown.querySelector("img");
    if (image.getAttribute("src") !== step.preview) image.src = step.preview;
    image.alt = "t = " + step.t;
    shown.querySelector("figcaption").textContent = String(step.t);
  });
}
draw();
watch("value", draw);
"""


def _template(label_key: str, grid_class: str, extra: str = "") -> str:
    return (
        f'<div class="seg2sat-grid seg2sat-bilingual"><p class="label" hidden>{bilingual(label_key)}</p>'
        f'<div class="{grid_class}"></div>{extra}</div>'
    )


class GeneratedImageGrid(gr.HTML):
    """Output only; its value is set from dicts {"image": PIL image, "caption", "seed" or "step"}, or
    {"image": path, "caption"} for a picture already in a file (an example's real photo)."""

    def __init__(self, **kwargs):
        super().__init__(
            value=[],
            html_template=_template(
                "seg2sat_results",
                "seg2sat-images",
                f'<template class="download">{bilingual("seg2sat_download")}</template>',
            ),
            js_on_load=GENERATED_SCRIPT,
            apply_default_css=False,
            **kwargs,
        )

    def postprocess(self, value: list[dict] | None) -> GeneratedImages:
        return GeneratedImages(root=[self._saved(**item) for item in value or []])

    def _saved(
        self,
        image,
        caption: str,
        seed: int | None = None,
        step: int | None = None,
        lossless: bool = False,
        alt: str | None = None,
    ) -> GeneratedImage:
        if isinstance(image, Path):  # Gradio copies it into its cache once (by content), not per yield
            file = FileData(path=str(image), orig_name=image.name, mime_type=f"image/{image.suffix[1:]}")
            return GeneratedImage(image=file, caption=caption)
        name = f"seg2sat-{seed}" if seed is not None else "seg2sat-preview"
        image_format = "png" if lossless else IMAGE_FORMAT
        path = processing_utils.save_pil_to_cache(image, cache_dir=self.GRADIO_CACHE, name=name, format=image_format)
        file = FileData(path=path, orig_name=f"{name}.{image_format}", mime_type=f"image/{image_format}")
        return GeneratedImage(image=file, caption=caption, seed=seed, step=step, alt=alt)

    def api_info(self) -> dict:
        return GeneratedImages.model_json_schema()

    def example_payload(self) -> list:
        return []

    def example_value(self) -> list:
        return []


def step_preview(image, t: int) -> StepPreview:
    """One step of the strip: its preview encoded once, inline."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format=IMAGE_FORMAT)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return StepPreview(t=int(t), preview=f"data:image/{IMAGE_FORMAT};base64,{data}")


class StepStrip(gr.HTML):
    """Output only; its value is set from step_preview()s, noisiest first."""

    def __init__(self, **kwargs):
        super().__init__(
            value=[],
            html_template=_template("seg2sat_strip", "seg2sat-steps"),
            js_on_load=STRIP_SCRIPT,
            apply_default_css=False,
            **kwargs,
        )

    def postprocess(self, value: list[StepPreview] | None) -> StepPreviews:
        return StepPreviews(root=list(value or []))

    def api_info(self) -> dict:
        return StepPreviews.model_json_schema()

    def example_payload(self) -> list:
        return []

    def example_value(self) -> list:
        return []
