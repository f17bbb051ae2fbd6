"""The Échantillonnage tab: a language model's next-token probabilities, filter by filter; then
step by step, in a streamed generation, and in a chat (spaces/sampling/logic.py does the work).

Concurrency: the next-token view and its step buttons run one forward pass on a short text
(~0.1-0.4 s on a laptop CPU) and follow every slider release, so they keep the default
per-event limit: were they queued behind generations, the sliders would feel dead in a full
room. Generation and chat run one forward pass per token for up to a minute: they join the hub's
heavy-call group (GPU_CONCURRENCY_ID, `gpu_concurrency` at once, Seg2Sat included), on a CPU as
on a GPU, since two of them at once would only share the same cores.
"""

import html
import time

import gradio as gr

from shared.gpu import GPU_CONCURRENCY_ID, gpu_task
from shared.hub import Hub
from shared.i18n import Texts, format_number, request_language
from shared.language_models import LANGUAGE_MODELS, load_model, shared_model, shared_tokenizer
from shared.weights import WeightsUnavailable

TEXTS = Texts(
    fr={
        "sampling_tab": "Échantillonnage",
        "sampling_about": "**Échantillonnage** — un modèle de langage donne une probabilité à chaque token suivant ; température, top-k, top-p et min-p remodèlent ces probabilités avant le tirage. Token par token, en génération continue ou en conversation.",
        "sampling_intro": "Un modèle de langage ne choisit pas directement un mot : il donne une **probabilité à chaque token** de son vocabulaire. Des filtres — température, top-k, top-p, min-p — remodèlent ces probabilités, puis le token suivant est **tiré au sort**. Voyez chaque étape, puis laissez le modèle écrire.",
        "sampling_settings": "Réglages de l'échantillonnage",
        "sampling_model": "Modèle",
        "sampling_temperature": "Température",
        "sampling_temperature_info": "0 = glouton (toujours le plus probable) ; < 1 plus prévisible, > 1 plus varié",
        "sampling_top_k": "Top-k",
        "sampling_top_k_info": "garder les k tokens les plus probables (0 = désactivé)",
        "sampling_top_p": "Top-p",
        "sampling_top_p_info": "garder les plus probables jusqu'à cumuler p (1 = désactivé)",
        "sampling_min_p": "Min-p",
        "sampling_min_p_info": "écarter ce qui est moins probable que min-p × le meilleur (0 = désactivé)",
        "sampling_repetition_penalty": "Pénalité de répétition",
        "sampling_repetition_penalty_info": "rend moins probables les tokens déjà écrits (1 = désactivée)",
        "sampling_seed": "Graine (même graine + mêmes réglages = même tirage)",
        "sampling_next_heading": "### 1. Le token suivant, pas à pas",
        "sampling_prompt": "Début du texte",
        "sampling_show": "📊 Probabilités",
        "sampling_draw": "🎲 Tirer au sort",
        "sampling_undo": "↩ Annuler",
        "sampling_top_n": "Candidats affichés",
        "sampling_choose": "… ou choisissez vous-même le token suivant",
        "sampling_column_token": "Token",
        "sampling_stage_raw": "Modèle",
        "sampling_stage_repetition_penalty": "Pénalité",
        "sampling_stage_temperature": "Temp.",
        "sampling_stage_top_k": "Top-k",
        "sampling_stage_top_p": "Top-p",
        "sampling_stage_min_p": "Min-p",
        "sampling_stage_off": "désactivé",
        "sampling_row_kept": "Tokens gardés",
        "sampling_row_entropy": "Entropie (bits)",
        "sampling_chart_raw": "probabilité donnée par le modèle",
        "sampling_chart_final": "après les filtres (celle du tirage)",
        "sampling_steps_legend": "En bleu, les tokens tirés au sort ; en orange, ceux que vous avez choisis.",
        "sampling_empty_prompt": "Tapez un début de texte : le modèle en prédit la suite.",
        "sampling_truncated": "Texte trop long pour le contexte ({limit} tokens) : ses {dropped} premiers tokens sont ignorés.",
        "sampling_adjusted": "{setting} = {given} hors limites : {used} utilisé à la place.",
        "sampling_weights_missing": "Modèle indisponible (les autres onglets fonctionnent). {detail}",
        "sampling_generate_heading": "### 2. Générer un texte",
        "sampling_generate_prompt": "Début du texte",
        "sampling_max_tokens": "Tokens à générer (au plus)",
        "sampling_stop_sequences": "Séquences d'arrêt (une par ligne ; \\n = retour à la ligne)",
        "sampling_generate": "Générer",
        "sampling_stop": "⏹ Arrêter",
        "sampling_generate_legend": "Chaque token est coloré selon la probabilité que lui donnait le modèle (vert : probable, rouge : improbable). Touchez-en un pour voir les autres candidats.",
        "sampling_alternatives": "Le modèle proposait :",
        "sampling_end_of_text": "fin",
        "sampling_finish_length": "{count} tokens en {seconds} s ({speed} tokens/s) : longueur maximale atteinte.",
        "sampling_finish_end_of_text": "{count} tokens en {seconds} s ({speed} tokens/s) : le modèle a choisi de s'arrêter (token de fin).",
        "sampling_finish_stop_sequence": "{count} tokens en {seconds} s ({speed} tokens/s) : séquence d'arrêt rencontrée.",
        "sampling_generating": "{count} tokens…",
        "sampling_chat_heading": "### 3. Discuter avec un assistant",
        "sampling_chat_intro": "Un tout petit assistant conversationnel (135 millions de paramètres) répond avec les mêmes réglages. Il parle surtout anglais.",
        "sampling_system_prompt": "Consigne système (system prompt)",
        "sampling_message": "Votre message",
        "sampling_send": "Envoyer",
        "sampling_empty_message": "Tapez un message.",
        "sampling_no_chat_template": "{model} n'a pas de modèle de conversation (chat template) : le chat demande un modèle « Instruct ».",
        "sampling_messages_dropped": "Conversation trop longue pour le contexte : les {count} plus anciens messages sont oubliés.",
    },
    en={
        "sampling_tab": "Sampling",
        "sampling_about": "**Sampling** — a language model gives a probability to every possible next token; temperature, top-k, top-p and min-p reshape them before the draw. Token by token, in a full generation or in a chat.",
        "sampling_intro": "A language model does not pick a word directly: it gives a **probability to every token** of its vocabulary. Filters — temperature, top-k, top-p, min-p — reshape these probabilities, then the next token is **drawn at random**. See each stage, then let the model write.",
        "sampling_settings": "Sampling settings",
        "sampling_model": "Model",
        "sampling_temperature": "Temperature",
        "sampling_temperature_info": "0 = greedy (always the most likely); < 1 more predictable, > 1 more varied",
        "sampling_top_k": "Top-k",
        "sampling_top_k_info": "keep the k most likely tokens (0 = off)",
        "sampling_top_p": "Top-p",
        "sampling_top_p_info": "keep the most likely until they add up to p (1 = off)",
        "sampling_min_p": "Min-p",
        "sampling_min_p_info": "drop what is less likely than min-p × the best (0 = off)",
        "sampling_repetition_penalty": "Repetition penalty",
        "sampling_repetition_penalty_info": "makes tokens already written less likely (1 = off)",
        "sampling_seed": "Seed (same seed + same settings = same draw)",
        "sampling_next_heading": "### 1. The next token, step by step",
        "sampling_prompt": "Start of the text",
        "sampling_show": "📊 Probabilities",
        "sampling_draw": "🎲 Draw at random",
        "sampling_undo": "↩ Undo",
        "sampling_top_n": "Candidates shown",
        "sampling_choose": "… or choose the next token yourself",
        "sampling_column_token": "Token",
        "sampling_stage_raw": "Model",
        "sampling_stage_repetition_penalty": "Penalty",
        "sampling_stage_temperature": "Temp.",
        "sampling_stage_top_k": "Top-k",
        "sampling_stage_top_p": "Top-p",
        "sampling_stage_min_p": "Min-p",
        "sampling_stage_off": "off",
        "sampling_row_kept": "Tokens kept",
        "sampling_row_entropy": "Entropy (bits)",
        "sampling_chart_raw": "probability given by the model",
        "sampling_chart_final": "after the filters (the one drawn from)",
        "sampling_steps_legend": "In blue, the tokens drawn at random; in orange, those you chose.",
        "sampling_empty_prompt": "Type the start of a text: the model predicts what comes next.",
        "sampling_truncated": "Text too long for the context ({limit} tokens): its first {dropped} tokens are ignored.",
        "sampling_adjusted": "{setting} = {given} out of range: {used} used instead.",
        "sampling_weights_missing": "Model unavailable (the other tabs work). {detail}",
        "sampling_generate_heading": "### 2. Generate a text",
        "sampling_generate_prompt": "Start of the text",
        "sampling_max_tokens": "Tokens to generate (at most)",
        "sampling_stop_sequences": "Stop sequences (one per line; \\n = line break)",
        "sampling_generate": "Generate",
        "sampling_stop": "⏹ Stop",
        "sampling_generate_legend": "Each token is coloured by the probability the model gave it (green: likely, red: unlikely). Tap one to see the other candidates.",
        "sampling_alternatives": "The model offered:",
        "sampling_end_of_text": "end",
        "sampling_finish_length": "{count} tokens in {seconds} s ({speed} tokens/s): maximum length reached.",
        "sampling_finish_end_of_text": "{count} tokens in {seconds} s ({speed} tokens/s): the model chose to stop (end token).",
        "sampling_finish_stop_sequence": "{count} tokens in {seconds} s ({speed} tokens/s): stop sequence reached.",
        "sampling_generating": "{count} tokens…",
        "sampling_chat_heading": "### 3. Chat with an assistant",
        "sampling_chat_intro": "A very small chat assistant (135 million parameters) answers with the same settings. It mostly speaks English.",
        "sampling_system_prompt": "System prompt",
        "sampling_message": "Your message",
        "sampling_send": "Send",
        "sampling_empty_message": "Type a message.",
        "sampling_no_chat_template": "{model} has no chat template: the chat needs an “Instruct” model.",
        "sampling_messages_dropped": "Conversation too long for the context: its {count} oldest messages are forgotten.",
    },
)

COMPLETION_MODEL = "gemma3_270m"  # fluent French, a base model: it continues a text
CHAT_MODEL = "smollm2_135m_instruct"  # has a chat template
GENERATE_PROMPT = "Il était une fois, dans une petite ville de montagne,"
SYSTEM_PROMPT = "You are a helpful virtual assistant. Answer in one or two sentences."
DEFAULT_SEED = 42
VISIBLE_WHITESPACE = {" ": "␣", "\n": "↵", "\t": "⇥"}

CSS = """
.sampling-status p { margin: 0.2rem 0; }
.sampling-status .notice { color: #a15c00; }
.sampling-text { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.8; }
.sampling-text .drawn, .sampling-text .chosen { border-radius: 3px; color: #111; }
.sampling-text .drawn { background: #c7e4ff; }
.sampling-text .chosen { background: #ffd9a8; }
.sampling-legend { font-size: 0.85em; opacity: 0.8; margin: 0.2rem 0; }
.sampling-table-wrap { overflow-x: auto; max-width: 100%; }
.sampling-stages { font-size: 0.85em; width: 100%; border-collapse: collapse; }
.sampling-stages th, .sampling-stages td { padding: 3px 5px !important; text-align: right; white-space: nowrap; }
.sampling-stages th:first-child, .sampling-stages td:first-child { text-align: left; position: sticky; left: 0;
                                                                  background: var(--background-fill-primary); }
.sampling-stages .off { opacity: 0.45; }
.sampling-stages .off small { display: block; font-weight: normal; }
.sampling-stages td.removed { opacity: 0.35; }
.sampling-stages tr.removed code { opacity: 0.45; text-decoration: line-through; }
.sampling-stages tfoot th, .sampling-stages tfoot td { border-top: 1px solid var(--border-color-primary); }
.sampling-chart { display: grid; grid-template-columns: minmax(3rem, max-content) 1fr max-content; gap: 3px 8px;
                  align-items: center; font-size: 0.85em; }
.sampling-chart .track { position: relative; height: 1.1em; background: var(--background-fill-secondary); border-radius: 3px; }
.sampling-chart .track span { position: absolute; left: 0; border-radius: 3px; }
.sampling-chart .raw { top: 0; height: 100%; background: #9ec5f8; }
.sampling-chart .final { top: 30%; height: 40%; background: #1f5fbf; }
.sampling-chart .removed { opacity: 0.35; }
.sampling-chart .removed code { text-decoration: line-through; }
.sampling-chart-legend { font-size: 0.8em; display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; margin-bottom: 0.3rem; }
.sampling-chart-legend i { display: inline-block; width: 1.4em; height: 0.7em; margin-right: 0.3em; border-radius: 2px; }
.sampling-generated { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.9; }
.sampling-generated .prompt { opacity: 0.75; }
.sampling-token { position: relative; border-radius: 3px; color: #111; cursor: pointer; outline: none; }
.sampling-token.partial { display: inline-block; min-width: 0.3em; height: 1em; vertical-align: middle; }
.sampling-token.end { font-size: 0.8em; padding: 0 3px; }
.sampling-token .alternatives { display: none; position: absolute; left: 0; top: 1.7em; z-index: 20; min-width: 9rem;
                                max-width: 70vw; white-space: normal; background: var(--background-fill-primary);
                                color: var(--body-text-color); border: 1px solid var(--border-color-primary);
                                border-radius: 6px; padding: 4px 8px; font-size: 0.85em; line-height: 1.4;
                                box-shadow: 0 2px 8px #0003; }
.sampling-token:hover .alternatives, .sampling-token:focus .alternatives { display: block; }
.sampling-token .alternatives b { font-weight: 600; }
"""


# --- models ------------------------------------------------------------------------------------


def model_title(hub: Hub, key: str) -> str:
    """The model's name, or the hub id / folder that replaces it (IAGEN_MODEL_<KEY>)."""
    return hub.settings.model_overrides.get(key) or LANGUAGE_MODELS[key].label


def language_model(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model and its tokenizer through the shared cache (the tokenizer tab shows the same copy)."""
    from spaces.sampling import logic

    tokenizer = shared_tokenizer(hub, key, progress, language)
    return logic.LanguageModel(shared_model(hub, key, progress, language), tokenizer)


def loaded_model(hub: Hub, key: str, progress, language: str):
    try:
        return language_model(hub, key, progress, language)
    except WeightsUnavailable as missing:
        raise gr.Error(TEXTS.get("sampling_weights_missing", language, detail=str(missing))) from None


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): both models converted from GGUF, once."""
    for key in LANGUAGE_MODELS:
        load_model(hub, key)


def warm_up(hub: Hub) -> None:
    """Load the completion model, the first one the tab needs (the first time, converting its GGUF
    takes a minute or two); the chat model loads on the first message."""
    try:
        language_model(hub, COMPLETION_MODEL)
    except WeightsUnavailable:
        pass  # the tab says what is missing, and how to get it, when it is used


# --- HTML --------------------------------------------------------------------------------------


def percent(probability: float, language: str) -> str:
    if probability == 0:
        return "—"
    if probability < 0.001:
        return "< " + format_number(0.1, language, 1) + " %"
    return format_number(100 * probability, language, 1) + " %"


def visible_whitespace(text: str) -> str:
    """A token as a label: " lit" becomes "␣lit", so that its leading space shows."""
    return "".join(VISIBLE_WHITESPACE.get(character, character) for character in text)


def visible(text: str) -> str:
    return html.escape(visible_whitespace(text))


def status_html(lines: list[str], notices: list[str] = ()) -> str:
    paragraphs = [f"<p>{html.escape(line)}</p>" for line in lines]
    paragraphs += [f'<p class="notice">{html.escape(notice)}</p>' for notice in notices]
    return f'<div class="sampling-status">{"".join(paragraphs)}</div>'


def stages_table_html(next_token, language: str) -> str:
    """Candidates × stages: the probability after each stage, "—" once a stage removed it."""
    header = [f"<th>{html.escape(TEXTS.get('sampling_column_token', language))}</th>"]
    off = html.escape(TEXTS.get("sampling_stage_off", language))
    for stage in next_token.stages:
        name = html.escape(TEXTS.get(f"sampling_stage_{stage.name}", language))
        header.append(f"<th>{name}</th>" if stage.active else f'<th class="off">{name}<small>{off}</small></th>')
    rows = []
    for candidate in next_token.candidates:
        cells = [f"<td><code>{visible(candidate.label)}</code></td>"]
        for stage, probability in zip(next_token.stages, candidate.probabilities, strict=True):
            classes = [name for name, applies in (("off", not stage.active), ("removed", probability == 0)) if applies]
            class_attribute = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{class_attribute}>{html.escape(percent(probability, language))}</td>")
        rows.append(f"<tr{'' if candidate.kept else ' class=removed'}>{''.join(cells)}</tr>")
    kept = "".join(f"<td>{format_number(stage.kept, language)}</td>" for stage in next_token.stages)
    entropy = "".join(f"<td>{format_number(stage.entropy_bits, language, 2)}</td>" for stage in next_token.stages)
    footer = (
        f"<tr><th>{html.escape(TEXTS.get('sampling_row_kept', language))}</th>{kept}</tr>"
        f"<tr><th>{html.escape(TEXTS.get('sampling_row_entropy', language))}</th>{entropy}</tr>"
    )
    return (
        f'<div class="sampling-table-wrap"><table class="sampling-stages"><thead><tr>{"".join(header)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{footer}</tfoot></table></div>"
    )


def chart_html(next_token, language: str) -> str:
    """One bar per candidate: the model's probability, and the one drawn from after the filters."""
    legend = (
        f'<div class="sampling-chart-legend"><span><i class="raw" style="background:#9ec5f8"></i>'
        f'{html.escape(TEXTS.get("sampling_chart_raw", language))}</span><span><i style="background:#1f5fbf"></i>'
        f"{html.escape(TEXTS.get('sampling_chart_final', language))}</span></div>"
    )
    rows = []
    for candidate in next_token.candidates:
        raw, final = candidate.probabilities[0], candidate.probabilities[-1]
        removed = "" if candidate.kept else " removed"
        rows.append(
            f'<span class="label{removed}"><code>{visible(candidate.label)}</code></span>'
            f'<span class="track{removed}"><span class="raw" style="width:{100 * raw:.1f}%"></span>'
            f'<span class="final" style="width:{100 * final:.1f}%"></span></span>'
            f'<span class="value{removed}">{html.escape(percent(final, language))}</span>'
        )
    return f'{legend}<div class="sampling-chart">{"".join(rows)}</div>'


def steps_text_html(lm, steps) -> str:
    """The prompt, then each appended token, coloured by how it came (drawn or chosen)."""
    from spaces.sampling import logic

    stream = logic.TextStream(lm.tokenizer)
    pieces = [html.escape(steps.prompt)]
    last = len(steps.token_ids) - 1
    for index, (token_id, drawn) in enumerate(zip(steps.token_ids, steps.drawn, strict=True)):
        piece = stream.add(token_id, last=index == last)
        if piece:
            pieces.append(f'<span class="{"drawn" if drawn else "chosen"}">{html.escape(piece)}</span>')
    return f'<div class="sampling-text">{"".join(pieces)}</div>'


def token_colour(probability: float) -> str:
    """Red for an unlikely token, through yellow (25 %), to green for a sure one. The square root
    spreads the usual range (a few % to 50 %) over the colours instead of leaving it all red."""
    return f"hsl({120 * probability**0.5:.0f}, 75%, 82%)"


def generated_token_html(token, language: str) -> str:
    """One generated token, coloured by its probability, with the model's favourites in a popup
    shown on hover or tap (tabindex makes a tap focus it)."""
    favourite = token.alternatives[0][0]
    alternatives = "".join(
        f"<br>{'<b>' if label == favourite else ''}<code>{visible(label)}</code> "
        f"{html.escape(percent(probability, language))}{'</b>' if label == favourite else ''}"
        for label, probability in token.alternatives
    )
    popup = (
        f'<span class="alternatives" role="tooltip">{html.escape(TEXTS.get("sampling_alternatives", language))}'
        f"{alternatives}</span>"
    )
    attributes = (
        f'tabindex="0" style="background:{token_colour(token.probability)}" '
        f'title="{html.escape(percent(token.probability, language))}"'
    )
    if token.finish == "end_of_text":
        end = html.escape(TEXTS.get("sampling_end_of_text", language))
        return f'<span class="sampling-token end" {attributes}>⏹ {end}{popup}</span>'
    if not token.text:  # the first bytes of a character that a later token completes
        return f'<span class="sampling-token partial" {attributes}>{popup}</span>'
    return f'<span class="sampling-token" {attributes}>{html.escape(token.text)}{popup}</span>'


def progress_line(count: int, finish: str | None, seconds: float, language: str) -> str:
    """ "12 tokens…" while it streams; at the end, the speed and why it stopped."""
    if finish is None:
        return TEXTS.get("sampling_generating", language, count=format_number(count, language))
    return TEXTS.get(
        f"sampling_finish_{finish}",
        language,
        count=format_number(count, language),
        seconds=format_number(seconds, language, 1),
        speed=format_number(count / max(seconds, 1e-9), language, 1),
    )


def notices_for(adjustments, context, lm, language: str) -> list[str]:
    """What the user should know about the settings clamped and the text cut to fit the context."""
    notices = [
        TEXTS.get(
            "sampling_adjusted",
            language,
            setting=TEXTS.get(f"sampling_{adjusted.setting}", language),
            given=adjusted.given,
            used=format_number(adjusted.used, language, 2),
        )
        for adjusted in adjustments
    ]
    if context.dropped_tokens:
        notices.append(
            TEXTS.get(
                "sampling_truncated",
                language,
                limit=format_number(lm.context_limit, language),
                dropped=format_number(context.dropped_tokens, language),
            )
        )
    return notices


def message_text(content) -> str:
    """A Gradio chat message's text: a string, or a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


# --- the tab -----------------------------------------------------------------------------------


def build(hub: Hub) -> None:
    from spaces.sampling.options import (
        FRENCH_PROMPT,
        MIN_P_RANGE,
        REPETITION_PENALTY_RANGE,
        SEED_RANGE,
        TEMPERATURE_RANGE,
        TOP_P_RANGE,
        SamplingSettings,
    )

    # Some filters on at first, so that the table shows tokens removed, and some off.
    defaults = SamplingSettings(temperature=0.8, top_k=5, top_p=0.9)

    gr.Markdown(TEXTS.label("sampling_intro"))
    with gr.Accordion(TEXTS.label("sampling_settings"), open=True, elem_id="sampling-settings"):
        with gr.Row():
            model = gr.Dropdown(
                [(model_title(hub, key), key) for key in LANGUAGE_MODELS],
                value=COMPLETION_MODEL,
                label=TEXTS.label("sampling_model"),
                elem_id="sampling-model",
            )
            seed = gr.Number(
                DEFAULT_SEED,
                precision=0,
                minimum=SEED_RANGE[0],
                maximum=SEED_RANGE[1],
                label=TEXTS.label("sampling_seed"),
                elem_id="sampling-seed",
            )
        with gr.Row():
            temperature = gr.Slider(
                *TEMPERATURE_RANGE,
                value=defaults.temperature,
                step=0.05,
                label=TEXTS.label("sampling_temperature"),
                info=TEXTS.label("sampling_temperature_info"),
                elem_id="sampling-temperature",
            )
            top_k = gr.Slider(
                0,
                200,
                value=defaults.top_k,
                step=1,
                label=TEXTS.label("sampling_top_k"),
                info=TEXTS.label("sampling_top_k_info"),
                elem_id="sampling-top-k",
            )
            top_p = gr.Slider(
                *TOP_P_RANGE,
                value=defaults.top_p,
                step=0.01,
                label=TEXTS.label("sampling_top_p"),
                info=TEXTS.label("sampling_top_p_info"),
                elem_id="sampling-top-p",
            )
        with gr.Row():
            min_p = gr.Slider(
                *MIN_P_RANGE,
                value=defaults.min_p,
                step=0.01,
                label=TEXTS.label("sampling_min_p"),
                info=TEXTS.label("sampling_min_p_info"),
                elem_id="sampling-min-p",
            )
            repetition_penalty = gr.Slider(
                *REPETITION_PENALTY_RANGE,
                value=defaults.repetition_penalty,
                step=0.05,
                label=TEXTS.label("sampling_repetition_penalty"),
                info=TEXTS.label("sampling_repetition_penalty_info"),
                elem_id="sampling-repetition-penalty",
            )
    filters = [temperature, top_k, top_p, min_p, repetition_penalty]

    gr.Markdown(TEXTS.label("sampling_next_heading"))
    steps = gr.State(None)  # this user's logic.Steps: prompt, appended tokens, generator state
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            prompt = gr.Textbox(
                FRENCH_PROMPT, label=TEXTS.label("sampling_prompt"), lines=2, max_lines=8, elem_id="sampling-prompt"
            )
            with gr.Row():
                show = gr.Button(
                    TEXTS.label("sampling_show"), variant="primary", size="sm", min_width=90, elem_id="sampling-show"
                )
                draw = gr.Button(TEXTS.label("sampling_draw"), size="sm", min_width=90, elem_id="sampling-draw")
                undo = gr.Button(TEXTS.label("sampling_undo"), size="sm", min_width=90, elem_id="sampling-undo")
            text_so_far = gr.HTML(elem_id="sampling-text")
            gr.Markdown(TEXTS.label("sampling_steps_legend"), elem_classes=["sampling-legend"])
        with gr.Column(scale=1, min_width=300):
            chart = gr.HTML(elem_id="sampling-chart")
            candidates = gr.Radio([], label=TEXTS.label("sampling_choose"), elem_id="sampling-candidates")
    table = gr.HTML(elem_id="sampling-table")
    top_n = gr.Slider(3, 30, value=10, step=1, label=TEXTS.label("sampling_top_n"), elem_id="sampling-top-n")
    next_status = gr.HTML(elem_id="sampling-next-status")
    next_data = gr.JSON(visible=False)

    def next_token_view(
        action: str,
        model_key: str,
        prompt_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        top_n_value: float,
        current,
        request: gr.Request,
        progress,
        seed_value: float | None = None,
        token_id: int | None = None,
    ):
        """Apply `action` ("show", "draw", "choose" or "undo") to this user's steps, then show the
        distribution of the token that follows them."""
        from spaces.sampling import logic

        language = request_language(request)
        prompt_text = prompt_text or ""
        if current is None or current.prompt != prompt_text or current.model != model_key:
            current = logic.Steps(prompt_text, DEFAULT_SEED, model=model_key)  # a new text: start again
        if not prompt_text:
            return (
                current,
                "",
                "",
                "",
                gr.Radio(choices=[], value=None),
                {"stages": [], "candidates": []},
                status_html([TEXTS.get("sampling_empty_prompt", language)]),
            )
        lm = loaded_model(hub, model_key, progress, language)
        settings, adjustments = logic.checked_settings(
            temperature_value, top_k_value, top_p_value, min_p_value, penalty_value, lm.vocabulary_size
        )
        if action == "draw":
            current = logic.draw_step(
                lm, current.reseeded(DEFAULT_SEED if seed_value is None else int(seed_value)), settings
            )
        elif action == "choose" and token_id is not None:
            current = logic.choose_step(current, int(token_id))
        elif action == "undo":
            current = current.undone()
        context = logic.steps_context(lm, current)
        next_token = logic.next_token_stages(lm, context, settings, int(top_n_value))
        choices = [
            (
                f"{visible_whitespace(candidate.label)} · {percent(candidate.probabilities[-1], language)}",
                candidate.token_id,
            )
            for candidate in next_token.candidates
        ]
        data = {
            "stages": [
                {
                    "name": stage.name,
                    "active": stage.active,
                    "kept": stage.kept,
                    "entropy_bits": round(stage.entropy_bits, 4),
                }
                for stage in next_token.stages
            ],
            "candidates": [
                {
                    "token_id": candidate.token_id,
                    "token": candidate.label,
                    "probabilities": [round(p, 6) for p in candidate.probabilities],
                }
                for candidate in next_token.candidates
            ],
            "appended_token_ids": list(current.token_ids),
        }
        return (
            current,
            steps_text_html(lm, current),
            chart_html(next_token, language),
            stages_table_html(next_token, language),
            gr.Radio(choices=choices, value=None),
            data,
            status_html([], notices_for(adjustments, context, lm, language)),
        )

    @gpu_task(duration=30)
    def show_next_token(
        model_key: str,
        prompt_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        top_n_value: float,
        current,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        return next_token_view(
            "show",
            model_key,
            prompt_text,
            temperature_value,
            top_k_value,
            top_p_value,
            min_p_value,
            penalty_value,
            top_n_value,
            current,
            request,
            progress,
        )

    @gpu_task(duration=30)
    def draw_token(
        model_key: str,
        prompt_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        top_n_value: float,
        seed_value: float | None,
        current,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        return next_token_view(
            "draw",
            model_key,
            prompt_text,
            temperature_value,
            top_k_value,
            top_p_value,
            min_p_value,
            penalty_value,
            top_n_value,
            current,
            request,
            progress,
            seed_value=seed_value,
        )

    @gpu_task(duration=30)
    def choose_token(
        token_id: int,
        model_key: str,
        prompt_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        top_n_value: float,
        current,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        return next_token_view(
            "choose",
            model_key,
            prompt_text,
            temperature_value,
            top_k_value,
            top_p_value,
            min_p_value,
            penalty_value,
            top_n_value,
            current,
            request,
            progress,
            token_id=token_id,
        )

    @gpu_task(duration=30)
    def undo_token(
        model_key: str,
        prompt_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        top_n_value: float,
        current,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        return next_token_view(
            "undo",
            model_key,
            prompt_text,
            temperature_value,
            top_k_value,
            top_p_value,
            min_p_value,
            penalty_value,
            top_n_value,
            current,
            request,
            progress,
        )

    view_inputs = [model, prompt, *filters, top_n]
    view_outputs = [steps, text_so_far, chart, table, candidates, next_data, next_status]
    # The distribution follows every change of the text, the model or a slider (on release).
    gr.on(
        [show.click, prompt.submit, model.change, top_n.release, *(slider.release for slider in filters)],
        show_next_token,
        [*view_inputs, steps],
        view_outputs,
        api_name="next_token",
        trigger_mode="always_last",
    )
    draw.click(draw_token, [*view_inputs, seed, steps], view_outputs, api_name="draw_token")
    undo.click(undo_token, [*view_inputs, steps], view_outputs, api_name="undo_token")
    candidates.input(choose_token, [candidates, *view_inputs, steps], view_outputs, api_name="choose_token")

    gr.Markdown(TEXTS.label("sampling_generate_heading"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            generate_prompt = gr.Textbox(
                GENERATE_PROMPT,
                label=TEXTS.label("sampling_generate_prompt"),
                lines=3,
                max_lines=12,
                elem_id="sampling-generate-prompt",
            )
            max_new_tokens = gr.Slider(
                1, 200, value=40, step=1, label=TEXTS.label("sampling_max_tokens"), elem_id="sampling-max-tokens"
            )
            stop_sequences = gr.Textbox(
                "",
                label=TEXTS.label("sampling_stop_sequences"),
                lines=1,
                max_lines=4,
                elem_id="sampling-stop-sequences",
            )
            with gr.Row():
                generate_button = gr.Button(
                    TEXTS.label("sampling_generate"), variant="primary", elem_id="sampling-generate"
                )
                stop_generation = gr.Button(TEXTS.label("sampling_stop"), elem_id="sampling-stop-generation")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown(TEXTS.label("sampling_generate_legend"), elem_classes=["sampling-legend"])
            generated = gr.HTML(elem_id="sampling-generated", elem_classes=["sampling-generated"])
            generate_status = gr.HTML(elem_id="sampling-generate-status")
            generated_data = gr.JSON(visible=False)

    @gpu_task(duration=120)
    def generate(
        model_key: str,
        prompt_text: str,
        token_limit: float,
        stop_text: str,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        seed_value: float | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.sampling import logic

        language = request_language(request)
        if not prompt_text:
            yield "", {"text": "", "tokens": []}, status_html([TEXTS.get("sampling_empty_prompt", language)])
            return
        lm = loaded_model(hub, model_key, progress, language)
        settings, adjustments = logic.checked_settings(
            temperature_value, top_k_value, top_p_value, min_p_value, penalty_value, lm.vocabulary_size
        )
        token_limit = int(token_limit)
        context = logic.fit_context(lm, logic.encode(lm, prompt_text), room_for_new_tokens=token_limit)
        notices = notices_for(adjustments, context, lm, language)
        # Append-only HTML: Gradio then streams each new token, not the whole text again.
        shown = f'<span class="prompt">{html.escape(prompt_text)}</span>'
        tokens, text = [], ""
        started = time.perf_counter()
        for token in logic.generate(
            lm,
            context,
            settings,
            token_limit,
            DEFAULT_SEED if seed_value is None else int(seed_value),
            logic.parse_stop_sequences(stop_text),
        ):
            tokens.append(
                {
                    "token_id": token.token_id,
                    "text": token.text,
                    "probability": round(token.probability, 6),
                    "alternatives": [[label, round(p, 6)] for label, p in token.alternatives],
                }
            )
            shown += generated_token_html(token, language)
            text += token.text
            line = progress_line(len(tokens), token.finish, time.perf_counter() - started, language)
            yield shown, {"text": text, "tokens": tokens, "finish": token.finish}, status_html([line], notices)

    generate_event = generate_button.click(
        generate,
        [model, generate_prompt, max_new_tokens, stop_sequences, *filters, seed],
        [generated, generated_data, generate_status],
        api_name="generate",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )
    stop_generation.click(None, None, None, cancels=[generate_event], api_visibility="private", queue=False)

    gr.Markdown(TEXTS.label("sampling_chat_heading"))
    gr.Markdown(TEXTS.label("sampling_chat_intro"))
    with gr.Accordion(TEXTS.label("sampling_system_prompt"), open=False):
        system_prompt = gr.Textbox(
            SYSTEM_PROMPT, show_label=False, lines=2, max_lines=6, elem_id="sampling-system-prompt"
        )
    conversation = gr.Chatbot(label=model_title(hub, CHAT_MODEL), height=360, elem_id="sampling-chat")
    message = gr.Textbox(label=TEXTS.label("sampling_message"), max_lines=6, elem_id="sampling-message")
    with gr.Row():
        send = gr.Button(TEXTS.label("sampling_send"), variant="primary", min_width=90, elem_id="sampling-send")
        stop_chat = gr.Button(TEXTS.label("sampling_stop"), min_width=90, elem_id="sampling-stop-chat")
    chat_status = gr.HTML(elem_id="sampling-chat-status")

    @gpu_task(duration=120)
    def chat(
        message_value: str,
        history: list,
        system_text: str,
        token_limit: float,
        temperature_value: float,
        top_k_value: float,
        top_p_value: float,
        min_p_value: float,
        penalty_value: float,
        seed_value: float | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        from spaces.sampling import logic

        language = request_language(request)
        if not (message_value or "").strip():
            yield history, message_value, status_html([TEXTS.get("sampling_empty_message", language)])
            return
        lm = loaded_model(hub, CHAT_MODEL, progress, language)
        if not lm.has_chat_template:
            raise gr.Error(TEXTS.get("sampling_no_chat_template", language, model=model_title(hub, CHAT_MODEL)))
        settings, adjustments = logic.checked_settings(
            temperature_value, top_k_value, top_p_value, min_p_value, penalty_value, lm.vocabulary_size
        )
        messages = [{"role": m["role"], "content": message_text(m["content"])} for m in history or []]
        messages.append({"role": "user", "content": message_value})
        token_limit = int(token_limit)
        context, dropped = logic.fit_conversation(lm, system_text or "", messages, room_for_new_tokens=token_limit)
        notices = notices_for(adjustments, context, lm, language)
        if dropped:
            notices.insert(0, TEXTS.get("sampling_messages_dropped", language, count=dropped))
        yield messages, "", status_html([], notices)
        reply, count = "", 0
        started = time.perf_counter()
        for token in logic.generate(
            lm, context, settings, token_limit, DEFAULT_SEED if seed_value is None else int(seed_value)
        ):
            reply += token.text
            count += 1
            line = progress_line(count, token.finish, time.perf_counter() - started, language)
            yield messages + [{"role": "assistant", "content": reply}], "", status_html([line], notices)

    chat_event = gr.on(
        [send.click, message.submit],
        chat,
        [message, conversation, system_prompt, max_new_tokens, *filters, seed],
        [conversation, message, chat_status],
        api_name="chat",
        concurrency_id=GPU_CONCURRENCY_ID,
        concurrency_limit=hub.settings.gpu_concurrency,
    )
    stop_chat.click(None, None, None, cancels=[chat_event], api_visibility="private", queue=False)
