"""The hub's own panels: À propos (what each demo shows, a QR code, the models' states) and the
panel a tab shows when its demo failed to start."""

import functools
import html
import logging
import os
import socket

import gradio as gr

from shared.demo import DemoModule
from shared.hub import TEXTS, Hub, is_host, model_name
from shared.i18n import LANGUAGES, format_number, request_language
from shared.model_cache import LOADED
from shared.settings import Settings
from shared.weights import WeightsUnavailable

log = logging.getLogger(__name__)


# For the endpoints a room calls most: Gradio runs each input's preprocess and each output's
# postprocess in a worker thread of its own, one hand-over each way (14 for a next-token view), for
# steps of a microsecond (a slider's number, a text, HTML); under a room's load the hand-overs cost
# the event loop more than the steps. An event given these takes its inputs as the page sends them
# and checks them itself (`sent_text`, the sampling tab's `logic.clamped`).
UNPROCESSED = dict(preprocess=False, postprocess=False)


def sent_text(value) -> str:
    """A text box's value as the page (or an API client) sends it to an UNPROCESSED event."""
    return "" if value is None else str(value)


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


def join_url(settings: Settings, request, page: str, code: str) -> str | None:
    """The address a phone opens to join a room (`page`: the demo's page of its own, `cemantix/`),
    or None when the hub is served on this computer only."""
    host = request.headers.get("host") if request is not None else None
    address = public_address(settings, host)
    return None if address is None else f"{address.rstrip('/')}/{page}?room={code}"


def fill_room_code_js(box: str) -> str:
    """Browser code (inside a page-load function where `room` holds a join link's code) that
    writes the code into the text box `box` (a CSS selector of its input), once it is drawn."""
    return """const fill = (triesLeft) => {  // a folded section's boxes are drawn once it is open
    const box = document.querySelector("BOX");
    if (box) {
      box.value = room;
      box.dispatchEvent(new Event("input", {bubbles: true}));
    } else if (triesLeft > 0) {
      setTimeout(() => fill(triesLeft - 1), 50);
    }
  };
  fill(100);""".replace("BOX", box)


@functools.lru_cache(maxsize=32)  # a room's board asks every few seconds: draw each code once
def qr_code_svg(url: str, language: str) -> str:
    """The QR code of `url`, named by it for a screen reader (« QR code vers https://… »)."""
    import qrcode  # imported here: only the À propos tab of a hub served on the network needs it
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    name = html.escape(TEXTS.get("qr_code_name", language, url=url))
    return image.to_string(encoding="unicode").replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def build_about(hub: Hub, demos: dict[str, DemoModule]) -> None:
    """The À propos tab: what each demo shows, a QR code of the hub, the models' states.

    All of it is the same for every visitor, computed as the hub starts (models' states again once
    the lecture profile has made them ready): a phone opening the page asks the server nothing. The
    host taps « Actualiser » for the ids and the remedies of what is missing."""
    for name, module in demos.items():
        gr.Markdown(module.TEXTS.label(f"{name}_about"))
    gr.Markdown(TEXTS.label("about_language"))
    qr_panels = {language: qr_panel(hub, language) for language in LANGUAGES}
    gr.HTML(hub.page_texts.add("about_qr_panel", **qr_panels), elem_id="hub-qr-code")
    gr.Markdown(TEXTS.label("about_models_heading"))
    on_first_use = {language: notice_html(TEXTS.get("about_models_on_first_use", language)) for language in LANGUAGES}
    gr.HTML(hub.page_texts.add("about_readiness", **on_first_use), elem_id="hub-readiness")  # see describe_readiness
    models_table = gr.HTML(describe_models(hub), elem_id="hub-models")
    refresh = gr.Button(TEXTS.label("about_models_refresh"), size="sm")

    def show_models(request: gr.Request):
        return models_html(hub, request_language(request), for_host=is_host(request))

    refresh.click(show_models, None, models_table, api_name="model_status")
    gr.Markdown(TEXTS.label("about_accessibility"), elem_id="hub-accessibility")  # docs/accessibility-declaration.md


def set_first_values(hub: Hub, prefix: str, by_language: dict[str, dict]) -> None:
    """Make what a page-load event answered every visitor (the same but for its language) the
    components' first values, in the page: `by_language` maps each language to {component: value
    or component update (gr.Button(interactive=False), gr.skip()...)}, as the event returned them. A
    text that differs by language goes into the page in every language (PageTexts), translated in
    the browser; gr.State values are left alone. To call before the page is served (Hub.at_start)."""
    for component in by_language[LANGUAGES[0]]:
        if isinstance(component, (gr.State, gr.BrowserState)):  # one person's: never in the page
            continue
        updates = {language: _as_properties(by_language[language][component]) for language in LANGUAGES}
        for name, value in updates[LANGUAGES[0]].items():
            values = {language: updates[language][name] for language in LANGUAGES}
            if isinstance(value, str) and len(set(values.values())) > 1:
                value = hub.page_texts.add(f"{prefix}_{component._id}_{name}", **values)
            setattr(component, name, value)


def _as_properties(answer) -> dict:
    if isinstance(answer, gr.blocks.Block):  # gr.Button(interactive=False) as an event's answer
        return dict(answer.constructor_args)
    if isinstance(answer, dict) and answer.get("__type__") == "update":  # gr.update(...)
        return {name: value for name, value in answer.items() if name != "__type__"}
    return {"value": answer}


def qr_panel(hub: Hub, language: str) -> str:
    """The heading and QR code of the address phones open; on a hub that listens on loopback only,
    for the host: why no phone can reach it, and what to do."""
    heading = f"<h3>{html.escape(TEXTS.get('about_qr_heading', language))}</h3>"
    address = public_address(hub.settings, None)
    if address is not None:
        return (
            f'{heading}<div class="hub-qr">{qr_code_svg(address, language)}'
            f'<p><a href="{html.escape(address)}">{html.escape(address)}</a></p></div>'
        )
    if not hub.settings.serves_beyond_loopback:  # shown to a browser on this computer only (hub_page.py)
        sentence = html.escape(TEXTS.get("about_loopback_only", language, host=hub.settings.host))
        return f'<div class="hub-host-only">{heading}<p>{sentence}</p></div>'
    return ""


def describe_models(hub: Hub) -> str:
    """The models' table as it is now, in every language, for the page (shared/i18n.py's PageTexts)."""
    return hub.page_texts.add("about_models_table", **{language: models_html(hub, language) for language in LANGUAGES})


def describe_readiness(hub: Hub, seconds: float) -> None:
    """Once the lecture profile has warmed every demo up: « prêt », or what is missing, on À propos,
    and the models' table as it now is."""
    missing = [key for key in hub.weights.catalogue if hub.weights.unavailable(key)]
    readiness = {}
    for language in LANGUAGES:
        took = format_number(seconds, language, 1)
        names = ", ".join(model_name(key, language) for key in missing)
        text = TEXTS.get("about_ready_but", language, seconds=took, missing=names) if missing else None
        readiness[language] = notice_html(text or TEXTS.get("about_ready", language, seconds=took))
    hub.page_texts.add("about_readiness", **readiness)
    describe_models(hub)


def models_html(hub: Hub, language: str, for_host: bool = False) -> str:
    """Every catalogue model with its licence and the state of what was loaded from it, in two
    columns that fit a phone; the host (for_host) also gets where each comes from and, for a
    missing one, the remedy. Cache keys are the catalogue key, optionally followed by ":part"."""
    statuses = hub.models.statuses()
    header = "".join(
        f"<th>{html.escape(TEXTS.get(c, language))}</th>" for c in ("models_column_model", "models_column_state")
    )
    rows = [f"<tr>{header}</tr>"]
    for key in hub.weights.catalogue:
        source = hub.weights.source(key)
        parts = [status for status in statuses if status.key.split(":")[0] == key]
        if parts:
            states = [_describe(status, language) for status in parts]
            remedies = [remedy(status.missing, language) if status.missing else status.reason for status in parts]
        else:
            missing = hub.weights.unavailable(key)
            states = [TEXTS.get("state_missing" if missing else "state_not_loaded", language)]
            remedies = [remedy(missing, language)] if missing else []
        about = [source.licence] + ([source.origin] if for_host else [])
        model_cell = f"<b>{html.escape(model_name(key, language))}</b><small>{html.escape(' · '.join(about))}</small>"
        state_cell = "".join(f"<span>{html.escape(state)}</span>" for state in states)
        if for_host:
            state_cell += "".join(f'<small class="hub-remedy">{html.escape(text)}</small>' for text in remedies if text)
        rows.append(f"<tr><td>{model_cell}</td><td>{state_cell}</td></tr>")
    return f'<table class="hub-models">{"".join(rows)}</table>'


def remedy(missing: WeightsUnavailable, language: str) -> str:
    """What the host can do about a missing model, in the page's language (the server log has the
    English message, with its technical reason)."""
    commands = [missing.install, missing.prefetch and TEXTS.get("remedy_online", language, command=missing.prefetch)]
    fetch = TEXTS.get("remedy_or", language).join(filter(None, commands))
    return TEXTS.get("remedy", language, commands=fetch, variable=missing.variable)


def _describe(status, language: str) -> str:
    """One cached part in words: « tokeniseur chargé (0,4 s) », « modèle manquant »…"""
    text = TEXTS.get(f"state_{status.state}", language)
    part = status.key.split(":", 1)[1] if ":" in status.key else None
    if part is not None:
        name = TEXTS.get(f"part_{part}", language) if f"part_{part}" in TEXTS else part
        text = TEXTS.get("part_state", language, part=name, state=text)
    if status.state == LOADED:  # tokenizers and tables have no measurable size: only the load time
        megabytes = TEXTS.get("megabytes", language, size=format_number(status.size_bytes / 1e6, language))
        size = f"{megabytes}, " if status.size_bytes else ""
        text += f" ({size}{format_number(status.load_seconds, language, 1)} s)"
    return text


def build_error_panel(name: str, error: BaseException) -> None:
    """What a tab shows when its demo failed to import or build; the hub stays up."""
    log.exception("demo %s failed to start", name, exc_info=error)
    detail = html.escape(f"{type(error).__name__}: {error}")
    gr.Markdown(TEXTS.label("demo_failed"), elem_classes=["hub-error-panel"])
    gr.HTML(f'<pre class="hub-error-detail">{detail}</pre>')
