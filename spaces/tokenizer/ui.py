"""The Tokenisation tab: text → coloured tokens → ids, and what French costs against English."""

from __future__ import annotations

import html
import json
import unicodedata

import gradio as gr

from shared.hub import Hub
from shared.hub_ui import UNPROCESSED, notice_html, sent_text
from shared.i18n import LANGUAGES, Texts, format_number, request_language
from shared.language_models import LANGUAGE_MODELS, load_tokenizer, shared_tokenizer
from shared.weights import WeightsUnavailable
from spaces.tokenizer import logic

TEXTS = Texts(
    fr={
        "tokenizer_tab": "Tokenisation",
        "tokenizer_about": "**Tokenisation** — du texte aux tokens puis aux identifiants, pour GPT-3, GPT-4, GPT-4o et nos modèles : le français coûte plus de tokens que l'anglais.",
        "tokenizer_intro": "Un modèle de langage ne lit pas des lettres mais des **tokens** : des morceaux de texte fréquents, chacun remplacé par un identifiant. Tapez un texte pour voir comment il est découpé.",
        "tokenizer_text": "Texte",
        "tokenizer_placeholder": "Tapez ou collez un texte…",
        "tokenizer_encoding": "Tokeniseur",
        "tokenizer_show_ids": "Afficher les identifiants",
        "tokenizer_show_whitespace": "Montrer les espaces",
        "tokenizer_examples": "Exemples du cours",
        "tokenizer_compare_heading": "Comparer deux textes",
        "tokenizer_compare_intro": "Le même sens, deux langues : combien de tokens pour chacune, avec chaque tokeniseur ?",
        "tokenizer_text_a": "Texte A",
        "tokenizer_text_b": "Texte B",
        "tokenizer_column_a": "A",
        "tokenizer_column_b": "B",
        "tokenizer_tokens": "tokens",
        "tokenizer_token": "token",
        "tokenizer_characters": "caractères",
        "tokenizer_character": "caractère",
        "tokenizer_words": "mots",
        "tokenizer_word": "mot",
        "tokenizer_chars_per_token": "caractères / token",
        "tokenizer_truncated": "Texte long : seuls les {shown} premiers tokens sont affichés ; les comptes portent sur tout le texte.",
        "tokenizer_surrogates": "{count} caractère(s) invalide(s) (demi-paire UTF-16) remplacé(s) par « \ufffd » avant le découpage.",
        "tokenizer_unknown_encoding": "Tokeniseur inconnu « {name} ». Choix possibles : {choices}.",
        "tokenizer_empty": "Tapez un texte pour voir ses tokens.",
        "tokenizer_column_encoding": "Tokeniseur",
        "tokenizer_column_ratio": "B / A",
        "tokenizer_our_model": "notre modèle",
        "tokenizer_model_missing": "Le tokeniseur de {model} n'est pas installé sur ce serveur : choisissez-en un autre.",
        "tokenizer_invisible_VS16": "U+FE0F, sélecteur de variante 16 : un caractère invisible qui demande d'afficher le symbole qui le précède en emoji coloré.",
        "tokenizer_invisible_VS15": "U+FE0E, sélecteur de variante 15 : un caractère invisible qui demande d'afficher le symbole qui le précède en texte, sans couleur.",
        "tokenizer_invisible_ZWJ": "U+200D, liant sans chasse : un caractère invisible qui soude deux emoji en un seul (👩 + ZWJ + 💻 = 👩‍💻).",
        "tokenizer_invisible_other": "{code} ({name}, son nom Unicode) : un caractère invisible.",
        "tokenizer_spoken_tokens": "Les tokens, chacun suivi de son identifiant :",
        "tokenizer_spoken_shown": "(les {shown} premiers)",
    },
    en={
        "tokenizer_tab": "Tokenization",
        "tokenizer_about": "**Tokenization** — text to tokens to ids, for GPT-3, GPT-4, GPT-4o and our models: French costs more tokens than English.",
        "tokenizer_intro": "A language model does not read letters but **tokens**: frequent pieces of text, each replaced by an id. Type a text to see how it is split.",
        "tokenizer_text": "Text",
        "tokenizer_placeholder": "Type or paste a text…",
        "tokenizer_encoding": "Tokenizer",
        "tokenizer_show_ids": "Show token ids",
        "tokenizer_show_whitespace": "Show whitespace",
        "tokenizer_examples": "Examples from the lecture",
        "tokenizer_compare_heading": "Compare two texts",
        "tokenizer_compare_intro": "Same meaning, two languages: how many tokens does each take, with each tokenizer?",
        "tokenizer_text_a": "Text A",
        "tokenizer_text_b": "Text B",
        "tokenizer_column_a": "A",
        "tokenizer_column_b": "B",
        "tokenizer_tokens": "tokens",
        "tokenizer_token": "token",
        "tokenizer_characters": "characters",
        "tokenizer_character": "character",
        "tokenizer_words": "words",
        "tokenizer_word": "word",
        "tokenizer_chars_per_token": "characters / token",
        "tokenizer_truncated": "Long text: only the first {shown} tokens are shown; the counts cover the whole text.",
        "tokenizer_surrogates": "{count} invalid character(s) (half a UTF-16 pair) replaced by “\ufffd” before tokenizing.",
        "tokenizer_unknown_encoding": "Unknown tokenizer “{name}”. Choices: {choices}.",
        "tokenizer_empty": "Type a text to see its tokens.",
        "tokenizer_column_encoding": "Tokenizer",
        "tokenizer_column_ratio": "B / A",
        "tokenizer_our_model": "our model",
        "tokenizer_model_missing": "The {model} tokenizer is not installed on this server: choose another one.",
        "tokenizer_invisible_VS16": "U+FE0F, variation selector 16: an invisible character asking for the symbol before it to be drawn as a colour emoji.",
        "tokenizer_invisible_VS15": "U+FE0E, variation selector 15: an invisible character asking for the symbol before it to be drawn as plain text.",
        "tokenizer_invisible_ZWJ": "U+200D, zero width joiner: an invisible character that welds two emoji into one (👩 + ZWJ + 💻 = 👩‍💻).",
        "tokenizer_invisible_other": "{code} ({name}, its Unicode name): an invisible character.",
        "tokenizer_spoken_tokens": "The tokens, each followed by its id:",
        "tokenizer_spoken_shown": "(the first {shown})",
    },
)

DEFAULT_ENCODING = "cl100k_base"
EMPTY_IDS = {"ids": [], "tokens": 0, "characters": 0}
# Pastel backgrounds, cycled, so neighbouring tokens stay distinct (as on OpenAI's tokenizer page).
TOKEN_COLOURS = ("#c7e4ff", "#ffe0b3", "#d4f5c9", "#f9cfe0", "#e6d9ff", "#fff5a8")
# Between two neighbours (1.04–1.20:1 apart), a line that is seen (3:1 against every pastel, RGAA
# 3.3): the boundary is not told by colour alone (tests/test_contrast.py).
TOKEN_BOUNDARY_COLOUR = "#5f6b7a"
VISIBLE_WHITESPACE = {" ": "·", "\n": "↵\n", "\t": "→\t"}
# A token made only of invisible characters would be an empty chip: it shows their short names
# instead, each explained under the tokens. The three that emoji use get a sentence of their own.
INVISIBLE_NAMES = {"\ufe0f": "VS16", "\ufe0e": "VS15", "\u200d": "ZWJ"}
# A browser draws 👍 + 🏽 (or e + ◌́) as one glyph even across two spans; a zero-width non-joiner
# before a segment that starts with such a modifier shows the split the tokenizer made.
ZERO_WIDTH_NON_JOINER = "\u200c"


def starts_with_modifier(text: str) -> bool:
    first = text[:1]
    return bool(first) and (
        unicodedata.category(first) in ("Mn", "Mc", "Me", "Sk")
        or "\U0001f3fb" <= first <= "\U0001f3ff"
        or first in "\u200d\ufe0f"
    )


def is_invisible(character: str) -> bool:
    """A format character (zero width joiner, soft hyphen...) or a variation selector: nothing drawn."""
    return unicodedata.category(character) == "Cf" or "VARIATION SELECTOR" in unicodedata.name(character, "")


def invisible_name(character: str) -> str:
    return INVISIBLE_NAMES.get(character, f"U+{ord(character):04X}")


def invisible_legend(characters: list[str], language: str) -> str:
    """One line per invisible character shown as a name, in the page's language."""
    lines = []
    for character in characters:
        name = INVISIBLE_NAMES.get(character)
        explanation = (
            TEXTS.get(f"tokenizer_invisible_{name}", language)
            if name
            else TEXTS.get(
                "tokenizer_invisible_other",
                language,
                code=invisible_name(character),
                name=unicodedata.name(character, "?"),
            )
        )
        lines.append(f"<li><b>⟨{invisible_name(character)}⟩</b> {html.escape(explanation)}</li>")
    return f'<ul class="tokenizer-invisible">{"".join(lines)}</ul>' if lines else ""


CSS = (
    """
.tokenizer-stats { display: flex; flex-wrap: wrap; gap: 0.5rem 1.2rem; }
.tokenizer-stats b { font-size: 1.5em; display: block; }
.tokenizer-comparison { font-size: 0.9em; width: 100%; }
.tokenizer-comparison td, .tokenizer-comparison th { padding: 4px 6px !important; }
.tokenizer-comparison td:not(:first-child) { text-align: right; }
.tokenizer-tokens { font-family: ui-monospace, monospace; line-height: 1.9; white-space: pre-wrap; word-break: break-word; }
.tokenizer-tokens > span, .tokenizer-tokens ruby > span { border-radius: 3px; padding: 1px 0; color: #111;
  border-right: 1px solid """
    + TOKEN_BOUNDARY_COLOUR
    + """; }
.tokenizer-tokens.with-ids { line-height: 2.6; }
.tokenizer-tokens ruby { ruby-position: under; margin-right: 2px; }
/* An id is one word (« 11410 » never splits across two lines), with room on each side so that two
   neighbouring ids never touch. */
.tokenizer-tokens rt { font-size: 0.7em; opacity: 0.75; white-space: nowrap; word-break: keep-all; padding: 0 0.3em; }
.tokenizer-tokens .invisible { font-style: italic; outline: 1px dashed #555; }
.tokenizer-invisible { font-size: 0.9em; margin-top: 0.5em; }
.tokenizer-notice { color: var(--hub-notice-text-color); }
"""
)


# The lecture's English examples are said in English by a screen reader (RGAA 8.7): gr.Examples
# gives no way to mark one example, so the page marks the ones whose text is English.
ENGLISH_EXAMPLES_SCRIPT = (
    """() => {
  const english = new Set("""
    + json.dumps(logic.ENGLISH_EXAMPLES)
    + """);
  const mark = () => {
    for (const example of document.querySelectorAll("#tokenizer-examples td, #tokenizer-examples button")) {
      if (english.has(example.textContent.trim()) && !example.hasAttribute("lang")) example.setAttribute("lang", "en");
    }
  };
  new MutationObserver(mark).observe(document.body, {subtree: true, childList: true});
  mark();
}"""
)


def register_model_tokenizers(hub: Hub) -> None:
    for key, model in LANGUAGE_MODELS.items():
        if key not in logic.list_encodings():
            logic.register_tokenizer(key, model.label, lambda key=key: shared_tokenizer(hub, key))


def encoding_choices() -> list[tuple[str, str]]:
    return [
        (f"{label} ({name})" if name in logic.ENCODINGS else label, name)
        for name, label in logic.list_encodings().items()
    ]


def tokens_html(tokenization: logic.Tokenization, show_ids: bool, show_whitespace: bool, language: str) -> str:
    """The text as coloured tokens; with show_ids, each token's id(s) under it (a ruby annotation),
    so the ids and the visible whitespace can be shown together. A token of invisible characters
    only shows their names, explained under the tokens."""
    pieces, invisible = [], []
    for index, segment in enumerate(tokenization.segments):
        colour = TOKEN_COLOURS[index % len(TOKEN_COLOURS)]
        ids = " ".join(map(str, segment.token_ids))
        shown, kind = segment.text, ""
        if segment.text and all(map(is_invisible, segment.text)):
            shown, kind = "".join(f"⟨{invisible_name(character)}⟩" for character in segment.text), ' class="invisible"'
            invisible = list(dict.fromkeys([*invisible, *segment.text]))  # each named once, in order
        elif show_whitespace:
            shown = "".join(VISIBLE_WHITESPACE.get(character, character) for character in shown)
        if index and starts_with_modifier(segment.text) and not kind:
            shown = ZERO_WIDTH_NON_JOINER + shown
        piece = f'<span{kind} style="background:{colour}" title="{html.escape(ids)}">{html.escape(shown)}</span>'
        pieces.append(f"<ruby>{piece}<rt>{ids}</rt></ruby>" if show_ids else piece)
    view = "tokenizer-tokens with-ids" if show_ids else "tokenizer-tokens"
    # A screen reader hears the list of the tokens and their ids, not the coloured text (it would
    # hear the plain sentence, the ids only in titles).
    return (
        f'<div class="{view}" aria-hidden="true">{"".join(pieces)}</div>'
        f"{spoken_tokens(tokenization, language)}{invisible_legend(invisible, language)}"
    )


def spoken_tokens(tokenization: logic.Tokenization, language: str) -> str:
    """The tokens as a list a screen reader says and the eye does not see: « « Bonjour » 82681 »,
    each token's spaces and line breaks shown (· ↵), as « Montrer les espaces » does."""
    items = "".join(
        f"<li>« {html.escape(spoken_text(segment.text))} » {' '.join(map(str, segment.token_ids))}</li>"
        for segment in tokenization.segments
    )
    heading = TEXTS.get("tokenizer_spoken_tokens", language)
    if tokenization.truncated:
        shown = format_number(len(tokenization.segments), language)
        heading += " " + TEXTS.get("tokenizer_spoken_shown", language, shown=shown)
    return f'<div class="hub-spoken"><p>{html.escape(heading)}</p><ul>{items}</ul></div>'


def spoken_text(text: str) -> str:
    """A token as it is listed: its invisible characters named, its whitespace shown (on one line)."""
    if text and all(map(is_invisible, text)):
        return "".join(f"⟨{invisible_name(character)}⟩" for character in text)
    return "".join(VISIBLE_WHITESPACE.get(character, character).strip("\n\t") for character in text)


def stats_html(tokenization: logic.Tokenization, language: str) -> str:
    def figure(count: int, singular: str, plural: str) -> str:
        is_singular = count < 2 if language == "fr" else count == 1  # « 0 token », "0 tokens"
        unit = TEXTS.get(singular if is_singular else plural, language)
        return f"<div><b>{format_number(count, language)}</b>{html.escape(unit)}</div>"

    cells = (
        figure(tokenization.n_tokens, "tokenizer_token", "tokenizer_tokens")
        + figure(tokenization.n_chars, "tokenizer_character", "tokenizer_characters")
        + figure(tokenization.n_words, "tokenizer_word", "tokenizer_words")
        + f"<div><b>{format_number(tokenization.chars_per_token, language, 2)}</b>"
        f"{html.escape(TEXTS.get('tokenizer_chars_per_token', language))}</div>"
    )
    notices = []
    if tokenization.truncated:
        notices.append(
            TEXTS.get("tokenizer_truncated", language, shown=format_number(len(tokenization.segments), language))
        )
    if tokenization.replaced_surrogates:
        notices.append(TEXTS.get("tokenizer_surrogates", language, count=tokenization.replaced_surrogates))
    notice_html = "".join(f'<p class="tokenizer-notice">{html.escape(notice)}</p>' for notice in notices)
    return f'<div class="tokenizer-stats">{cells}</div>{notice_html}'


def comparison_html(comparisons: list[logic.EncodingComparison], language: str) -> str:
    header = (
        TEXTS.get("tokenizer_column_encoding", language),
        TEXTS.get("tokenizer_column_a", language),
        TEXTS.get("tokenizer_column_b", language),
        TEXTS.get("tokenizer_column_ratio", language),
    )
    rows = ["<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>"]
    for comparison in comparisons:
        ratio = "—" if comparison.ratio is None else f"× {format_number(comparison.ratio, language, 2)}"
        counts = (format_number(count, language) for count in comparison.token_counts)
        cells = (comparison.label, *counts, ratio)
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    return f'<table class="tokenizer-comparison">{"".join(rows)}</table>'


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): our models' tokenizers, converted from GGUF."""
    for key in LANGUAGE_MODELS:
        load_tokenizer(hub, key)


def warm_up(hub: Hub) -> None:
    """Make the OpenAI encodings ready when the tab is tapped, so that the first keystroke is
    instant; in a lecture hall our models' tokenizers too, before the hub serves (a private copy of
    Gemma's 262 144-token tokenizer takes ~2.5 s to build; elsewhere, on first use)."""
    for name in logic.ENCODINGS:
        logic.encode("", name)
    if hub.settings.profile == "lecture":
        for key in LANGUAGE_MODELS:
            try:
                logic.encode("", key)
            except WeightsUnavailable:
                pass  # its choice says so when picked; À propos tells the host


def compared_encodings() -> list[str]:
    """The comparison's tokenizers: the OpenAI encodings, and our models' once ready (in a lecture
    hall from the start; elsewhere once picked above): the comparison never waits for a load."""
    return list(logic.ENCODINGS) + [key for key in LANGUAGE_MODELS if logic.is_loaded(key)]


def build(hub: Hub) -> None:
    register_model_tokenizers(hub)
    gr.Markdown(TEXTS.label("tokenizer_intro"))
    # As on OpenAI's tokenizer page: the tokenizer, the text, then at once its counts and tokens
    # (on a phone, the keyboard hides everything lower), then how to show them, then examples.
    encoding = gr.Dropdown(
        encoding_choices(),
        value=DEFAULT_ENCODING,
        label=TEXTS.label("tokenizer_encoding"),
        elem_id="tokenizer-encoding",
    )
    text = gr.Textbox(
        label=TEXTS.label("tokenizer_text"),
        placeholder=TEXTS.label("tokenizer_placeholder"),
        lines=3,
        max_lines=12,
        value=logic.FRENCH_SENTENCE,
        elem_id="tokenizer-text",
    )
    stats = gr.HTML(elem_id="tokenizer-stats", elem_classes=["hub-live"])
    tokens = gr.HTML(elem_id="tokenizer-tokens")
    with gr.Row():
        show_ids = gr.Checkbox(label=TEXTS.label("tokenizer_show_ids"), value=False, elem_id="tokenizer-show-ids")
        show_whitespace = gr.Checkbox(
            label=TEXTS.label("tokenizer_show_whitespace"), value=False, elem_id="tokenizer-show-whitespace"
        )
    gr.Examples(
        [[example] for example in logic.EXAMPLES],
        inputs=[text],
        label=TEXTS.label("tokenizer_examples"),
        elem_id="tokenizer-examples",
    )
    ids = gr.JSON(visible=False)
    gr.on(None, None, None, None, js=ENGLISH_EXAMPLES_SCRIPT)

    def tokenize(
        text_value: str,
        encoding_name: str,
        ids_shown: bool,
        whitespace_shown: bool,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        language = request_language(request)
        if not isinstance(encoding_name, str) or encoding_name not in logic.list_encodings():
            raise gr.Error(
                TEXTS.get(
                    "tokenizer_unknown_encoding",
                    language,
                    name=encoding_name,
                    choices=", ".join(logic.list_encodings()),
                )
            )
        try:
            if encoding_name in LANGUAGE_MODELS:  # a first use loads it, with a progress message
                shared_tokenizer(hub, encoding_name, progress, language)
            tokenization = logic.tokenize(sent_text(text_value), encoding_name)
        except WeightsUnavailable:  # the host finds the remedy in the log and in À propos
            label = logic.list_encodings()[encoding_name]
            return notice_html(TEXTS.get("tokenizer_model_missing", language, model=label)), "", EMPTY_IDS
        if not tokenization.n_tokens:
            return f"<p>{html.escape(TEXTS.get('tokenizer_empty', language))}</p>", "", EMPTY_IDS
        return (
            stats_html(tokenization, language),
            tokens_html(tokenization, ids_shown, whitespace_shown, language),
            {"ids": tokenization.ids, "tokens": tokenization.n_tokens, "characters": tokenization.n_chars},
        )

    inputs = [text, encoding, show_ids, show_whitespace]
    outputs = [stats, tokens, ids]
    # Typing updates live; the first text's tokens are in the page (first_values), no page-load event.
    triggers = [component.change for component in inputs]
    # UNPROCESSED: seven hand-overs a call for a room typing at once (the handler checks the encoding).
    gr.on(
        triggers,
        tokenize,
        inputs,
        outputs,
        api_name="tokenize",
        trigger_mode="always_last",
        show_progress="minimal",
        **UNPROCESSED,
    )

    with gr.Accordion(TEXTS.label("tokenizer_compare_heading"), open=True):
        gr.Markdown(TEXTS.label("tokenizer_compare_intro"))
        with gr.Row():
            text_a = gr.Textbox(  # the English text (RGAA 8.7: its language said, shared/hub_page.py)
                label=TEXTS.label("tokenizer_text_a"),
                value=logic.DEFAULT_COMPARISON[0],
                lines=2,
                elem_id="tokenizer-text-a",
                elem_classes=["hub-lang-en"],
            )
            text_b = gr.Textbox(label=TEXTS.label("tokenizer_text_b"), value=logic.DEFAULT_COMPARISON[1], lines=2)
        comparison = gr.HTML(elem_id="tokenizer-comparison")

    def compare(first: str, second: str, request: gr.Request):
        language = request_language(request)
        return comparison_html(logic.compare((first or "", second or ""), compared_encodings()), language)

    comparing = [text_a.change, text_b.change]
    gr.on(comparing, compare, [text_a, text_b], comparison, api_name="tokenize_compare", trigger_mode="always_last")

    def first_values():
        """What every phone sees first, computed once as the hub starts: the first text's tokens
        and counts, the comparison of the two first texts."""
        tokenization = logic.tokenize(logic.FRENCH_SENTENCE, DEFAULT_ENCODING)
        stats.value = hub.page_texts.add(
            "tokenizer_first_stats", **{language: stats_html(tokenization, language) for language in LANGUAGES}
        )
        tokens.value = hub.page_texts.add(
            "tokenizer_first_tokens",
            **{language: tokens_html(tokenization, False, False, language) for language in LANGUAGES},
        )
        ids.value = {"ids": tokenization.ids, "tokens": tokenization.n_tokens, "characters": tokenization.n_chars}
        compared = logic.compare(logic.DEFAULT_COMPARISON, compared_encodings())
        comparison.value = hub.page_texts.add(
            "tokenizer_first_comparison", **{language: comparison_html(compared, language) for language in LANGUAGES}
        )

    hub.at_start(first_values)
