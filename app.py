"""The demo hub of the course « Comprendre l'IA générative »: one tab per demo.

    python app.py [--profile lecture] [--help]

Builds one gr.Blocks with a tab per demo (each rendered by its `build(hub)`), an « À propos »
tab, the queue, and launches. A demo that fails to import or build gets an error panel in its
own tab; the others work. Settings: shared/settings.py and the README.
"""

import gc
import logging
import sys
import threading

from shared.settings import Settings, SettingsError, apply_process_settings, load_settings

log = logging.getLogger("app")


def build_hub(hub, demo_modules: dict[str, str]):
    """The Blocks of the hub, the gr.I18n holding every mounted demo's texts, and their CSS."""
    import gradio as gr

    from shared import hub_ui
    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.hub_page import PAGE_CSS
    from shared.i18n import merge_for_gradio

    all_texts = [HUB_TEXTS]
    css = [PAGE_CSS]
    built = {}  # demo name -> its module, for the demos whose tab was built
    warm_ups = {}  # demo name -> its warm-up, started in the background when its tab is shown
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
                with gr.Tab(label, id=name, elem_id=f"tab-{name}") as tab:
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
                    warm_ups[name] = _in_background(module.warm_up, hub)
                    tab.select(warm_ups[name], None, None, api_visibility="private", queue=False)
            with gr.Tab(HUB_TEXTS.label("tab_about"), id="about", elem_id="tab-about"):
                gr.Markdown(HUB_TEXTS.label("hub_subtitle"))
                hub_ui.build_about(hub, built, blocks)

        def warm_up_opening_tab(request: gr.Request):
            # The tab a page opens on gets no select event (hub_page.OPEN_REQUESTED_TAB_SCRIPT chose it
            # before the page was drawn): warm it up here; later taps warm theirs on select.
            wanted = request.query_params.get("tab")
            opening = wanted if wanted in (*demo_modules, "about") else default_tab
            if opening in warm_ups:
                warm_ups[opening]()

        blocks.load(warm_up_opening_tab, None, None, api_visibility="private", queue=False)
    return blocks, merge_for_gradio(*all_texts), "\n".join(css)


def _in_background(warm_up, hub):
    """Warm a demo's models up when its tab is selected, without holding a queue slot."""

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

    from starlette.middleware import Middleware

    from shared import hub_page
    from shared.compression import CompressPages, KeepAssets, KeepPages
    from shared.hub import Hub

    hub = Hub(settings)
    blocks, i18n, css = build_hub(hub, {name: f"spaces.{name}.ui" for name in settings.demos})
    # status_update_rate: each queued call learns its place once a second. Gradio's default sends
    # every queued call its place each time any call starts: with 100 waiting, 100 messages per
    # start, a cost that grows as the queue does and kept a busy hub from catching up.
    blocks.queue(status_update_rate=1, default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    # What was imported and built lives as long as the hub: left out of Python's collections, as
    # the models are once loaded (shared/model_cache.py says why).
    gc.freeze()
    return blocks.launch(
        # When the whole room scans the QR code at once, every phone downloads the page, whose
        # HTML holds the config of every component (~500 KB, 45 KB compressed), and ~100 of
        # Gradio's files: Gradio would render the page and read and compress the files anew for
        # each phone. The first middleware is the outermost.
        app_kwargs={"middleware": [Middleware(KeepPages), Middleware(KeepAssets), Middleware(CompressPages)]},
        theme=hub_page.theme(),
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        max_file_size=f"{settings.max_upload_mb}mb",
        i18n=i18n,
        head=hub_page.head(),
        css=css,
        ssr_mode=False,
        show_error=True,  # an unexpected error's message reaches the user, not a generic one
        footer_links=["api", "settings"],  # the settings hold the language switch
        prevent_thread_lock=prevent_thread_lock,
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
