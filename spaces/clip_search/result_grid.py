"""The search results: a grid of thumbnails a finger can tap, each under its score and caption.

Not gr.Gallery: Gradio's page downloads the code of every component type it holds, whatever tab
it opens, and the gallery's (with its video player and hls.js) costs every phone ~180 KB at the
first load. This is a gr.HTML whose script draws the grid from its value. Captions come from
users and datasets: the script sets them as text (textContent, alt), never as HTML, and the
template holds no value (gr.HTML evaluates a template as a JavaScript template literal).

Its value, for API clients too: [{"image": file, "caption": "0,31 · caption", "score": 0.31}], best
first; the thumbnails are served from their folders (gr.set_static_paths), never copied. A tap
fires `select` with the result's index (gr.SelectData.index).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData, GradioModel, GradioRootModel


class SearchResult(GradioModel):
    image: FileData
    caption: str  # as shown: "0,31 · caption", the score in the page's language
    score: float  # cosine similarity


class SearchResults(GradioRootModel):
    root: list[SearchResult]


CSS = """
#clip-search-results .clip-search-grid { display: grid; gap: 6px;
  grid-template-columns: repeat(auto-fill, minmax(5.5rem, 1fr)); }
#clip-search-results .clip-search-result { display: flex; flex-direction: column; gap: 2px; min-width: 0;
  padding: 0; border: 0; background: none; color: inherit; font: inherit; text-align: left; cursor: pointer; }
#clip-search-results .clip-search-result img { display: block; width: 100%; aspect-ratio: 1; object-fit: cover;
  border-radius: var(--radius-md); background: var(--background-fill-secondary); }
#clip-search-results .clip-search-result[aria-current="true"] img { outline: 3px solid var(--color-accent); outline-offset: -3px; }
#clip-search-results .clip-search-result span { font-size: 0.75rem; line-height: 1.25; overflow: hidden;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow-wrap: anywhere; }
"""

SCRIPT = """
const grid = element.querySelector(".clip-search-grid");
function draw() {
  const results = Array.isArray(props.value) ? props.value : [];
  grid.replaceChildren(...results.map((result, index) => {
    const tile = document.createElement("button");
    tile.type = "button";
    tile.className = "clip-search-result";
    const image = document.createElement("img");
    image.src = result.image.url;
    image.alt = result.caption;
    image.loading = "lazy";
    image.decoding = "async";
    const caption = document.createElement("span");
    caption.textContent = result.caption;
    tile.append(image, caption);
    tile.addEventListener("click", () => {
      for (const other of grid.children) other.removeAttribute("aria-current");
      tile.setAttribute("aria-current", "true"); // the one searched for, until its results come
      trigger("select", { index, value: result.caption });
    });
    return tile;
  }));
}
draw();
watch("value", draw);
"""


class ResultGrid(gr.HTML):
    """Output only; its value is set from (thumbnail path, caption as shown, score) triples."""

    def __init__(self, **kwargs):
        super().__init__(
            value=[],
            html_template='<div class="clip-search-grid"></div>',
            js_on_load=SCRIPT,
            apply_default_css=False,
            **kwargs,
        )

    def postprocess(self, value: list[tuple[Path, str, float]] | None) -> SearchResults:
        return SearchResults(
            root=[
                SearchResult(
                    image=FileData(path=str(path), orig_name=Path(path).name, mime_type="image/jpeg"),
                    caption=caption,
                    score=round(float(score), 4),
                )
                for path, caption, score in value or []
            ]
        )

    def api_info(self) -> dict:
        return SearchResults.model_json_schema()

    def example_payload(self) -> list:
        return []

    def example_value(self) -> list:
        return []
