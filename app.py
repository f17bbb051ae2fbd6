"""The demo hub of the course « Comprendre l'IA générative »: one tab per demo.

    python app.py [--profile lecture] [--help]

Builds one gr.Blocks with a tab per demo (each rendered by its `build(hub)`), an « À propos »
tab, the queue, and launches. A demo that fails to import or build gets an error panel in its
own tab; the others work. Settings: shared/settings.py and the README.
"""

import logging
import sys
import threading

from shared.settings import Settings, SettingsError, apply_process_settings, load_settings

log = logging.getLogger("app")

HUB_CSS = """
.hub-error-detail { white-space: pre-wrap; font-size: 0.85em; }
.hub-qr svg { width: min(320px, 80vw); height: auto; background: white; }
.hub-models { font-size: 0.85em; width: 100%; table-layout: fixed; }
.hub-models td, .hub-models th { padding: 4px 6px !important; vertical-align: top; overflow-wrap: break-word; }
.hub-models small, .hub-models span { display: block; }
.hub-models small { opacity: 0.75; }
.hub-models .hub-remedy { font-family: ui-monospace, monospace; font-size: 0.8em; margin-top: 0.2rem; }
#hub-title h1 { font-size: 1.4em; margin: 0.2em 0; }
.hub-notice { margin: 0.3rem 0; padding: 0.5rem 0.75rem; border-left: 4px solid #d08a00; border-radius: 4px;
              background: color-mix(in srgb, #d08a00 12%, transparent); }
"""

SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
SYSTEM_MONOSPACE_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

# ?tab=<demo> opens that demo, so a QR code can lead straight to it. Gradio runs this script with
# the page's config at hand and before it draws the page: the tab is the one shown from the first
# paint, and nothing changes the tab afterwards (an answer of the server that selected it seconds
# later, on a busy server, would undo the tap of a user who had chosen another tab meanwhile).
OPEN_REQUESTED_TAB_SCRIPT = """<script>
(function () {
  const wanted = new URLSearchParams(window.location.search).get("tab");
  const components = (window.gradio_config && window.gradio_config.components) || [];
  const tabs = components.find((component) => component.props && component.props.elem_id === "hub-tabs");
  const known = components.some((component) => component.props && component.props.elem_id === `tab-${wanted}`);
  if (tabs && wanted && known) tabs.props.selected = wanted;
})();
</script>"""


def build_hub(hub, demo_modules: dict[str, str]):
    """The Blocks of the hub, the gr.I18n holding every mounted demo's texts, and their CSS."""
    import gradio as gr

    from shared import hub_ui
    from shared.demo import import_demo
    from shared.hub import TEXTS as HUB_TEXTS
    from shared.i18n import merge_for_gradio

    all_texts = [HUB_TEXTS]
    css = [HUB_CSS]
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
            # The tab a page opens on gets no select event (OPEN_REQUESTED_TAB_SCRIPT chose it
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

    import gradio as gr
    from starlette.middleware import Middleware

    from shared.compression import CompressPages
    from shared.hub import Hub
    from shared.hub_ui import BUSY_CSS, busy_script
    from shared.i18n import LANGUAGE_SCRIPT

    hub = Hub(settings)
    blocks, i18n, css = build_hub(hub, {name: f"spaces.{name}.ui" for name in settings.demos})
    blocks.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    # When the whole room scans the QR code at once, every phone downloads the page: its HTML holds
    # the config of every component (~400 KB, 45 KB compressed: shared/compression.py), and the
    # theme's web fonts cost ~140 KB where a phone has good fonts of its own.
    return blocks.launch(
        app_kwargs={"middleware": [Middleware(CompressPages)]},
        theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONOSPACE_FONTS),
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        max_file_size=f"{settings.max_upload_mb}mb",
        i18n=i18n,
        head=LANGUAGE_SCRIPT + OPEN_REQUESTED_TAB_SCRIPT + busy_script(),
        css=css + BUSY_CSS,
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
