"""The « Recherche par proximité » tab: a text or an image finds the nearest aerial images.

The search itself is Gradio-free (encoder.py, gallery.py, collection.py), and so are its texts
(texts.py) and its status line and result values (render.py); this module turns them into
components and named endpoints. Searches do not join the GPU group: a query is one small forward
pass (tens of milliseconds on a CPU core), and waiting behind a Seg2Sat diffusion in the one-slot
group would cost seconds. Problems a user can meet (empty query, unreadable image, missing model)
are said in the status line, in the user's language, with the results left empty.
"""

import html
import logging

import gradio as gr

from shared.hub import Hub
from shared.hub_ui import notice_html
from shared.i18n import LANGUAGES, format_number, request_language
from shared.weights import WeightsUnavailable
from spaces.clip_search import logic
from spaces.clip_search.encoder import EncoderSettingError, get_encoder
from spaces.clip_search.gallery import gallery_loader
from spaces.clip_search.images import UnreadableImage, load_image
from spaces.clip_search.render import result_grid_value, shorten, status_html
from spaces.clip_search.result_grid import CSS as RESULT_GRID_CSS
from spaces.clip_search.result_grid import ResultGrid
from spaces.clip_search.texts import TEXTS

log = logging.getLogger(__name__)

# The lecture's own example first, in the page's language (the default encoder reads both).
EXAMPLE_KEYS = ("clip_search_example_clearing", "clip_search_example_pools", "clip_search_example_river")
DEFAULT_TOP_K = 12
MAX_TOP_K = 48

CSS = (
    """
#clip-search-status p { margin: 0.2rem 0; }
#clip-search-status .clip-search-notice { color: var(--hub-notice-text-color); }
#clip-search-status .clip-search-error { color: var(--error-text-color); }
.clip-search-results-heading p { margin: 0; font-size: 0.9em; color: var(--body-text-color-subdued); }
"""
    + RESULT_GRID_CSS
)


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): the default gallery fetched and indexed."""
    from spaces.clip_search.gallery import build_base

    build_base(hub, get_encoder(hub), lambda done, total, stage: None)


def warm_up(hub: Hub) -> None:
    """On tab select: load the encoder and open (or start building) the gallery, in the background;
    in a lecture hall, before the hub serves (app.get_ready), waiting until the gallery is open."""
    if hub.settings.profile != "lecture":
        gallery_loader(hub).start()
    elif logic.encoder_unavailable(hub) is None:  # a missing encoder is said in the tab and on À propos
        gallery_loader(hub).gallery()


def build(hub: Hub) -> None:
    gr.Markdown(TEXTS.label("clip_search_intro"))
    availability = gr.HTML(elem_id="clip-search-availability")
    query = gr.Textbox(
        label=TEXTS.label("clip_search_query"),
        placeholder=TEXTS.label("clip_search_placeholder"),
        lines=1,
        max_lines=3,
        elem_id="clip-search-query",
    )
    search_button = gr.Button(TEXTS.label("clip_search_search"), variant="primary", elem_id="clip-search-button")
    gr.Markdown(TEXTS.label("clip_search_examples"), elem_classes=["clip-search-examples-heading"])
    with gr.Row(elem_classes=["clip-search-examples"]):
        example_buttons = {
            key: gr.Button(TEXTS.label(key), size="sm", variant="secondary", min_width=0) for key in EXAMPLE_KEYS
        }
    with gr.Accordion(TEXTS.label("clip_search_by_image"), open=False):
        # A file rather than gr.Image: no browser preview of TIFFs, and our own decoder (bounded
        # memory, every mode) is the one that reads it; the image searched is shown below.
        upload = gr.File(
            label=TEXTS.label("clip_search_upload"),
            file_types=["image"],
            type="filepath",
            height=110,
            elem_id="clip-search-upload",
        )
        add_to_gallery = gr.Checkbox(label=TEXTS.label("clip_search_add"), value=False)
        image_button = gr.Button(TEXTS.label("clip_search_search_image"), elem_id="clip-search-image-button")
    status = gr.HTML(elem_id="clip-search-status", elem_classes=["hub-live"])  # « Pour « chat » : 12 images… »
    query_image = gr.Image(
        label=TEXTS.label("clip_search_query_image"),
        interactive=False,
        visible=False,
        height=160,
        elem_id="clip-search-query-image",
    )
    gr.Markdown(TEXTS.label("clip_search_results"), elem_classes=["clip-search-results-heading"])
    results = ResultGrid(elem_id="clip-search-results")
    with gr.Accordion(TEXTS.label("clip_search_options"), open=False):
        top_k = gr.Slider(1, MAX_TOP_K, value=DEFAULT_TOP_K, step=1, label=TEXTS.label("clip_search_top_k"))
    shown_keys = gr.State([])  # the item behind each result, for "more like this"
    served_folders: set = set()  # thumbnail folders already declared to Gradio
    search_buttons = [search_button, image_button, *example_buttons.values()]

    def say_what_works():
        """As the hub starts, for every visitor: one sentence on what cannot work here, and those
        buttons disabled (in the page: no event when a phone opens it)."""
        if logic.encoder_unavailable(hub) is not None:
            notice, usable = "clip_search_model_missing", False
        elif logic.gallery_unavailable(hub) is not None:
            notice, usable = "clip_search_gallery_not_installed", True
        else:
            notice, usable = None, True
        if notice is not None:
            sentences = {language: notice_html(TEXTS.get(notice, language)) for language in LANGUAGES}
            if not usable and "cemantix" in hub.settings.demos:  # what works here instead
                for language in LANGUAGES:
                    link = html.escape(TEXTS.get("clip_search_same_idea_with_words", language))
                    sentences[language] += f'<p class="hub-notice"><a href="?tab=cemantix">{link}</a></p>'
            availability.value = hub.page_texts.add("clip_search_availability", **sentences)
        for button in search_buttons:
            button.interactive = usable

    hub.at_start(say_what_works)

    def nothing(language: str, message_key: str, error: bool = False, **values):
        message = TEXTS.get(message_key, language, **values)
        text = status_html([], error=message) if error else status_html([message])
        return [], text, [], gr.Image(visible=False)

    def progress_shown(progress, language: str):
        """What the gallery says while it opens, in the page's language."""
        encoder_shown = False

        def show(status: tuple[int, int, str]) -> None:
            nonlocal encoder_shown
            done, total, stage = status
            if stage == "index" and total:
                progress((done, total), desc=TEXTS.get("clip_search_stage_index", language, done=done, total=total))
            elif stage == "download":
                progress(None, desc=TEXTS.get("clip_search_stage_download", language))
            elif not encoder_shown:
                progress(None, desc=TEXTS.get("clip_search_stage_encoder", language))
                encoder_shown = True

        return show

    def shown(outcome: logic.SearchOutcome, heading: str, language: str, query_preview=None, notices=()):
        """The results of a search, and its status line: the heading, the figures, the notices."""
        gallery = outcome.gallery
        new_folders = set(gallery.thumbnail_folders()) - served_folders
        if new_folders:  # served as they are, never copied into Gradio's cache at each query
            gr.set_static_paths(sorted(new_folders))
            served_folders.update(new_folders)
        notices = list(notices)
        if outcome.added:
            notices.append(TEXTS.get("clip_search_added", language))
        if gallery.base_problem:  # the detail is the host's: in the log
            log.warning("image search gallery: %s", gallery.base_problem)
            notices.append(TEXTS.get("clip_search_gallery_missing", language))
        if gallery.unreadable:
            notices.append(TEXTS.get("clip_search_unreadable", language, count=len(gallery.unreadable)))
        if not len(gallery):
            return (
                [],
                status_html([], notices, TEXTS.get("clip_search_gallery_empty", language)),
                [],
                gr.Image(visible=False),
            )

        def milliseconds(seconds: float) -> str:
            return format_number(seconds * 1000, language, 1 if seconds < 0.01 else 0)

        summary = TEXTS.get(
            "clip_search_summary",
            language,
            count=len(outcome.results),
            total=format_number(len(gallery), language),
            total_ms=milliseconds(outcome.total_s),
            encode_ms=milliseconds(outcome.encode_s),
            search_ms=milliseconds(outcome.search_s),
        )
        preview = gr.Image(value=query_preview, visible=True) if query_preview is not None else gr.Image(visible=False)
        return (
            result_grid_value(outcome.results, language),
            status_html([heading, summary], notices),
            [result.item.key for result in outcome.results],
            preview,
        )

    def guarded(run, language: str):
        """Run a search; a missing model or a bad setting becomes one sentence in the status line
        (the detail, with its remedy, goes to the server log), not a crash."""
        try:
            return run()
        except WeightsUnavailable as missing:
            log.warning("image search: %s", missing)
            return nothing(language, "clip_search_model_missing", error=True)
        except EncoderSettingError as wrong:
            log.warning("image search: %s", wrong)
            return nothing(language, "clip_search_bad_setting", error=True)

    def search_text(query_text: str, top_k_value: float, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        query_text = (query_text or "").strip()
        if not query_text:
            return nothing(language, "clip_search_empty_query")

        def run():
            encoder = get_encoder(hub, progress, language)
            outcome = logic.search_by_text(
                hub, query_text, int(top_k_value or DEFAULT_TOP_K), encoder, progress_shown(progress, language)
            )
            heading = TEXTS.get("clip_search_for_text", language, query=shorten(outcome.query.text, 120))
            cut = outcome.query.truncated  # the encoder reads only the beginning: say which part
            notices = [
                TEXTS.get("clip_search_truncated", language, tokens=encoder.context_length, kept=outcome.query.kept)
            ]
            return shown(outcome, heading, language, notices=notices if cut else ())

        return guarded(run, language)

    def search_image(path: str | None, top_k_value: float, add: bool, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        if not path:
            return nothing(language, "clip_search_no_image")
        name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
        try:
            image = load_image(path)
        except UnreadableImage as unreadable:
            return nothing(language, f"clip_search_unreadable_{unreadable.kind}", error=True, **unreadable.values)

        def run():
            encoder = get_encoder(hub, progress, language)
            outcome = logic.search_by_image(
                hub,
                image,
                name,
                path,
                int(top_k_value or DEFAULT_TOP_K),
                add,
                encoder,
                progress_shown(progress, language),
            )
            return shown(outcome, TEXTS.get("clip_search_for_image", language, name=shorten(name, 80)), language, image)

        return guarded(run, language)

    def more_like_this(
        keys: list[str], top_k_value: float, selected: gr.SelectData, request: gr.Request, progress=gr.Progress()
    ):
        language = request_language(request)
        index = selected.index  # from the browser: any value may come
        if not isinstance(index, int) or not 0 <= index < len(keys or []):
            return nothing(language, "clip_search_item_gone")

        def run():
            found = logic.search_like_item(
                hub, keys[index], int(top_k_value or DEFAULT_TOP_K), progress_shown(progress, language)
            )
            if found is None:  # dropped from the added images since it was shown
                return nothing(language, "clip_search_item_gone")
            item, thumbnail, outcome = found
            caption = logic.caption_in(language, item.caption) or TEXTS.get("clip_search_no_caption", language)
            heading = TEXTS.get("clip_search_for_item", language, caption=shorten(caption, 80))
            return shown(outcome, heading, language, str(thumbnail))

        return guarded(run, language)

    outputs = [results, status, shown_keys, query_image]
    gr.on([search_button.click, query.submit], search_text, [query, top_k], outputs, api_name="clip_search_text")

    def example_in_the_pages_language(key: str):
        def example(request: gr.Request) -> str:
            return TEXTS.get(key, request_language(request))

        return example

    for key, button in example_buttons.items():
        # The example fills the query, then is searched like a typed one.
        button.click(example_in_the_pages_language(key), None, query, api_visibility="private", queue=False).then(
            search_text, [query, top_k], outputs, api_visibility="private"
        )
    gr.on(
        [upload.upload, image_button.click],
        search_image,
        [upload, top_k, add_to_gallery],
        outputs,
        api_name="clip_search_image",
    )
    results.select(more_like_this, [shown_keys, top_k], outputs, api_visibility="private")
