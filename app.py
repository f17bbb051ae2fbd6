"""The demo hub of the course « Comprendre l'IA générative »: one tab per demo.

    python app.py [--profile lecture] [--help]

Builds one gr.Blocks with a tab per demo (each rendered by its `build(hub)`), an « À propos »
tab, the queue, and launches. A demo that fails to import or build gets an error panel in its
own tab; the others work. The demos a room's QR code opens (DEMO_PAGES) also get a page of their
own, `/<name>/`, served by the same process and sharing its models and rooms. Settings:
shared/settings.py and docs/settings.md.
"""

import contextlib
import gc
import html
import logging
import sys
import threading
import time
from dataclasses import dataclass

from shared.settings import Settings, SettingsError, apply_process_settings, load_settings

log = logging.getLogger("app")

# The demos with a page of their own at /<name>/, holding that demo alone: what a room's QR code,
# join link and board open. When a room of 100 phones scans the code at once, each phone downloads
# the page, its config and Gradio's code for every kind of component on it: the whole hub's ~100
# files a phone, a fraction of them for one demo (docs/performance.md).
DEMO_PAGES = ("guards", "cemantix")


@dataclass
class BuiltHub:
    blocks: object  # gr.Blocks
    texts: list  # every mounted demo's Texts
    css: str
    warm_ups: dict  # demo name -> its warm-up, for the demos whose tab was built and that have one
    opening_tab: str  # the tab a page without ?tab= opens on
    demos: list  # the names of the demos whose tab was built

    def i18n(self, hub):
        """The gr.I18n of the page: the demos' texts and what was computed for every visitor
        (by the demos as they were built, by get_ready: shared/i18n.py's PageTexts)."""
        from shared.i18n import merge_for_gradio

        return merge_for_gradio(*self.texts, hub.page_texts.texts())


def build_hub(hub, demo_modules: dict[str, str]) -> BuiltHub:
    """The Blocks of the hub, every mounted demo's texts and CSS, and the demos' warm-ups."""
    import gradio as gr

    from shared import hub_ui
    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.hub_page import PAGE_CSS

    all_texts = [HUB_TEXTS]
    css = [PAGE_CSS]
    built = {}  # demo name -> its module, for the demos whose tab was built
    warm_ups = {}  # demo name -> its warm-up
    default_tab = hub.settings.tab or next(iter(demo_modules), "about")
    with gr.Blocks(title="Comprendre l'IA générative — démos") as blocks:
        gr.Markdown(HUB_TEXTS.label("hub_title"), elem_id="hub-title")
        with gr.Tabs(selected=default_tab, overflow_behavior="wrap", elem_id="hub-tabs"):
            for name, module_name in demo_modules.items():
                module, failure = None, None
                try:  # a broken demo must not take the hub down: its tab shows what went wrong
                    module = import_demo(module_name)
                    all_texts.append(module.TEXTS)
                except Exception as error:
                    failure = error
                label = module.TEXTS.label(f"{name}_tab") if module and f"{name}_tab" in module.TEXTS else name
                with gr.Tab(label, id=name, elem_id=f"tab-{name}"):
                    if failure is None:
                        try:
                            module.build(hub)
                        except Exception as error:
                            failure = error
                    if failure is not None:
                        hub_ui.build_error_panel(name, failure)
                        continue
                built[name] = module
                css.append(module.CSS)
                if hasattr(module, "warm_up"):
                    warm_ups[name] = module.warm_up
            with gr.Tab(HUB_TEXTS.label("tab_about"), id="about", elem_id="tab-about"):
                gr.Markdown(HUB_TEXTS.label("hub_subtitle"))
                hub_ui.build_about(hub, built)
        if hub.settings.profile != "lecture":  # there, every demo is ready before the hub serves
            for name, warm_up in warm_ups.items():
                warm_up_when_tapped(name, warm_up, hub)
    return BuiltHub(blocks, all_texts, "\n".join(css), warm_ups, default_tab, list(built))


@dataclass
class DemoPage:
    name: str
    blocks: object  # gr.Blocks
    texts: list
    css: str


def build_demo_pages(hub, built: BuiltHub) -> list[DemoPage]:
    """A page of its own for each demo of DEMO_PAGES whose tab was built: its heading, a link back
    to the whole hub, the demo (its `build(hub, own_page=True)`)."""
    import gradio as gr

    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.hub_page import PAGE_CSS
    from shared.i18n import LANGUAGES

    pages = []
    for name in DEMO_PAGES:
        if name not in built.demos:
            continue
        module = import_demo(f"spaces.{name}.ui")
        heading = {language: f"# {module.TEXTS.get(f'{name}_tab', language)}" for language in LANGUAGES}
        # Not a Markdown link: Gradio opens those in a new tab.
        back = {
            language: f'<a href="../">{html.escape(HUB_TEXTS.get("page_back_to_hub", language))}</a>'
            for language in LANGUAGES
        }
        with gr.Blocks(title=f"{module.TEXTS.get(f'{name}_tab', 'fr')} — Comprendre l'IA générative") as blocks:
            gr.Markdown(hub.page_texts.add(f"{name}_page_heading", **heading), elem_id="hub-title")
            gr.HTML(hub.page_texts.add(f"{name}_page_back", **back), elem_id="hub-back")
            module.build(hub, own_page=True)
        pages.append(DemoPage(name, blocks, [HUB_TEXTS, module.TEXTS], PAGE_CSS + "\n" + module.CSS))
    return pages


def get_ready(hub, warm_ups: dict) -> None:
    """Every demo's warm-up, one after the other, before the hub serves: in a lecture hall no
    student's first action waits for a model to load. Each one's time goes to the log; what is
    missing stays missing (its tab says so) and À propos tells the host."""
    from shared import hub_ui

    started = time.perf_counter()
    for name, warm_up in warm_ups.items():
        began = time.perf_counter()
        _log_failure(warm_up, hub)
        log.info("ready: %s warmed up in %.1f s", name, time.perf_counter() - began)
    log.info("ready: every demo warmed up in %.1f s", time.perf_counter() - started)
    hub_ui.describe_readiness(hub, time.perf_counter() - started)


def warm_up_when_tapped(name: str, warm_up, hub) -> None:
    """A tab tapped warms its demo's models up; the tab a page opens on sends nothing (it was
    warmed up when the hub started, or its first action loads them). Gradio's select event would
    also fire for the tab a page opens on: the page's script (hub_page.WARM_UP_TAPPED_TAB_SCRIPT)
    taps this hidden button on a person's tap only."""
    import gradio as gr

    button = gr.Button(visible="hidden", elem_id=f"warm-up-{name}")
    button.click(_in_background(warm_up, hub), None, None, api_visibility="private", queue=False)


def _in_background(warm_up, hub):
    """Warm a demo's models up in a thread of its own (on a tap: without holding a queue slot)."""

    def start():
        threading.Thread(target=_log_failure, args=(warm_up, hub), daemon=True).start()

    return start


def _log_failure(warm_up, hub) -> None:
    try:
        warm_up(hub)
    except Exception:  # the model's status says what went wrong; the tab says it on use
        log.warning("warm-up failed", exc_info=True)


def launch(settings: Settings, prevent_thread_lock: bool = False):
    from shared.gpu import load_zerogpu

    load_zerogpu()  # before any demo is imported (see shared/gpu.py)

    import gradio as gr
    from starlette.middleware import Middleware

    from shared import hub_page
    from shared.compression import CompressPages, KeepAssets, KeepPages
    from shared.hub import Hub
    from shared.i18n import SAVED_LANGUAGE_SCRIPT, merge_for_gradio
    from shared.idle_queue import look_less_when_idle

    hub = Hub(settings)
    built = build_hub(hub, {name: f"spaces.{name}.ui" for name in settings.demos})
    pages = build_demo_pages(hub, built)
    page_paths = [f"/{page.name}" for page in pages]
    if settings.profile == "lecture":
        get_ready(hub, built.warm_ups)
    elif built.opening_tab in built.warm_ups:  # the other tabs warm up when tapped
        _in_background(built.warm_ups[built.opening_tab], hub)()
    hub.start()  # what every phone's page-load event computed, once, into the page
    blocks = built.blocks
    # status_update_rate: each queued call learns its place once a second. Gradio's default sends
    # every queued call its place each time any call starts: with 100 waiting, 100 messages per
    # start, a cost that grows as the queue does and kept a busy hub from catching up.
    for each in [blocks] + [page.blocks for page in pages]:
        each.queue(status_update_rate=1, default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
        look_less_when_idle(each)  # an idle queue looked for work every millisecond
    # What was imported and built lives as long as the hub: left out of Python's collections, as
    # the models are once loaded (shared/model_cache.py says why).
    gc.freeze()
    page_options = dict(
        theme=hub_page.theme(),
        max_file_size=f"{settings.max_upload_mb}mb",
        head=hub_page.head(),
        ssr_mode=False,
        show_error=True,  # an unexpected error's message reaches the user, not a generic one
        footer_links=["api", "settings"],  # the settings hold the language switch
    )

    @contextlib.asynccontextmanager
    async def serve_demo_pages(app):
        """Mount each demo's page on the hub's server as it starts, before it answers anyone, and
        start the page's queue (Gradio starts a mounted page's in a lifespan that already ran);
        then put KeepAssets in front of the app's every layer."""
        for page in pages:
            i18n = merge_for_gradio(*page.texts, hub.page_texts.texts())
            gr.mount_gradio_app(app, page.blocks, f"/{page.name}", i18n=i18n, css=page.css, **page_options)
            page.blocks.run_startup_events()
            await page.blocks.run_extra_startup_events()
        KeepAssets.ahead_of(app, page_paths)
        yield

    return blocks.launch(
        # When the whole room scans the QR code at once, every phone downloads the page, whose
        # HTML holds the config of every component (~500 KB, 45 KB compressed), and ~100 of
        # Gradio's files: Gradio would render the page and read and compress the files anew for
        # each phone (KeepAssets, in front of the app: serve_demo_pages). The first middleware is
        # the outermost.
        app_kwargs={
            "middleware": [
                Middleware(KeepPages, first_script=SAVED_LANGUAGE_SCRIPT, pages=page_paths),
                Middleware(CompressPages),
            ],
            "lifespan": serve_demo_pages,
            "exception_handlers": {404: hub_page.not_found},
        },
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        i18n=built.i18n(hub),
        css=built.css,
        prevent_thread_lock=prevent_thread_lock,
        **page_options,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(sys.argv[1:] if argv is None else argv)
    except SettingsError as error:
        sys.exit(f"Réglage invalide / invalid setting: {error}")
    apply_process_settings(settings)
    launch(settings)


if __name__ == "__main__":
    main()
