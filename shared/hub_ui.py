"""The hub's own panels: À propos (what each demo shows, a QR code, the models' states) and the
panel a tab shows when its demo failed to start."""

import html
import logging
import os
import socket

import gradio as gr

from shared.demo import DemoModule
from shared.hub import TEXTS, Hub
from shared.i18n import request_language
from shared.model_cache import LOADED
from shared.settings import Settings
from shared.weights import WeightsUnavailable

log = logging.getLogger(__name__)


def notice_html(text: str) -> str:
    """One sentence for a student about what works in a tab and what does not, shown in place
    (the same look in every tab: HUB_CSS in app.py)."""
    return f'<p class="hub-notice" role="status">{html.escape(text)}</p>' if text else ""


def public_address(settings: Settings, request_host: str | None) -> str | None:
    """The address a phone in the room can open, or None when the hub is served on loopback only."""
    if settings.public_url:
        return settings.public_url
    if os.environ.get("SPACE_HOST"):
        return "https://" + os.environ["SPACE_HOST"]
    if not settings.serves_beyond_loopback:
        return None
    host = (request_host or "").rsplit(":", 1)[0].strip("[]")
    if host and not host.startswith("127.") and host not in ("localhost", "::1", "0.0.0.0"):
        return f"http://{request_host}/"
    try:  # the speaker opened it on loopback: guess this machine's address on the local network
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return None if address.startswith("127.") else f"http://{address}:{settings.port}/"


def qr_code_svg(url: str) -> str:
    import qrcode  # imported here: only the À propos tab of a hub served on the network needs it
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    return image.to_string(encoding="unicode")


def build_about(hub: Hub, demos: dict[str, DemoModule], blocks) -> None:
    """The À propos tab: what each demo shows, a QR code of the hub, the models' states."""
    for name, module in demos.items():
        gr.Markdown(module.TEXTS.label(f"{name}_about"))
    gr.Markdown(TEXTS.label("about_language"))
    gr.Markdown(TEXTS.label("about_qr_heading"))
    qr_code = gr.HTML(elem_id="hub-qr-code")
    gr.Markdown(TEXTS.label("about_models_heading"))
    models_table = gr.HTML()
    refresh = gr.Button(TEXTS.label("about_models_refresh"), size="sm")

    def show_models(request: gr.Request):
        return models_html(hub, request_language(request))

    refresh.click(show_models, None, models_table, api_name="model_status")

    def on_load(request: gr.Request):
        language = request_language(request)
        address = public_address(hub.settings, request.headers.get("host"))
        if address is None:
            panel = f"<p>{html.escape(TEXTS.get('about_loopback_only', language))}</p>"
        else:
            panel = (
                f'<div class="hub-qr">{qr_code_svg(address)}'
                f'<p><a href="{html.escape(address)}">{html.escape(address)}</a></p></div>'
            )
        return panel, models_html(hub, language)

    blocks.load(on_load, None, [qr_code, models_table], api_visibility="private")


def models_html(hub: Hub, language: str) -> str:
    """Every catalogue model with the state of what was loaded from it. Cache keys are the
    catalogue key, optionally followed by ":part" (a tokenizer, a converted copy...)."""
    statuses = hub.models.statuses()
    columns = ("models_column_model", "models_column_state", "models_column_origin", "models_column_licence")
    rows = ["<tr>" + "".join(f"<th>{html.escape(TEXTS.get(c, language))}</th>" for c in columns) + "</tr>"]
    for key in hub.weights.catalogue:
        source = hub.weights.source(key)
        parts = [status for status in statuses if status.key.split(":")[0] == key]
        state = "; ".join(_describe(status, language) for status in parts) or _availability(hub, key, language)
        cells = (source.title, state, source.origin, source.licence)
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    return f'<table class="hub-models">{"".join(rows)}</table>'


def _availability(hub: Hub, key: str, language: str) -> str:
    """For a model nobody has used yet: on this machine (ready to load) or missing, and the remedy.
    Looking is cheap: a package's folder, or the local hub cache, never the network."""
    try:
        hub.weights.locate(key, download=False)
    except WeightsUnavailable as missing:
        return f"{TEXTS.get('state_missing', language)} — {missing}"
    return TEXTS.get("state_not_loaded", language)


def _describe(status, language: str) -> str:
    text = TEXTS.get(f"state_{status.state}", language)
    if ":" in status.key:
        text = f"{status.key.split(':', 1)[1]} {text}"
    if status.state == LOADED:  # tokenizers and tables have no measurable size: only the load time
        size = f"{status.size_bytes / 1e6:.0f} MB, " if status.size_bytes else ""
        text += f" ({size}{status.load_seconds:.1f} s)"
    return f"{text} — {status.reason}" if status.reason else text


def build_error_panel(name: str, error: BaseException) -> None:
    """What a tab shows when its demo failed to import or build; the hub stays up."""
    log.exception("demo %s failed to start", name, exc_info=error)
    detail = html.escape(f"{type(error).__name__}: {error}")
    gr.Markdown(TEXTS.label("demo_failed"), elem_classes=["hub-error-panel"])
    gr.HTML(f'<pre class="hub-error-detail">{detail}</pre>')
