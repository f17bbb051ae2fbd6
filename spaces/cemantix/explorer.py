"""The « Explorer » sub-tab, the lecture's word2vec demo: a word's nearest neighbours, the
similarity of two words, analogies (roi − homme + femme ≈ reine). The secret of the player's game
in progress stays out of its lists."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from shared.i18n import format_number, request_language
from spaces.cemantix import logic, render
from spaces.cemantix.context import TabContext, WordsMissing
from spaces.cemantix.play import tap_button, words_language_choices
from spaces.cemantix.sessions import Session
from spaces.cemantix.texts import TEXTS
from spaces.cemantix.vocabulary import LANGUAGES

NEIGHBOURS_SHOWN = 20
ANALOGIES_SHOWN = 10
# The starting words: a word's neighbours, two words to compare, an analogy.
EXAMPLES = {
    "fr": ("forêt", "chat", "chien", "roi", "homme", "femme"),
    "en": ("forest", "cat", "dog", "king", "man", "woman"),
}


@dataclass
class ExplorerTab:
    words_language_choice: gr.Radio
    inputs: list[gr.Textbox]  # in EXAMPLES' order
    buttons: list[gr.Button]

    @property
    def load_outputs(self) -> list:
        """What the page opens with (load_updates): in the page since the hub started, or a saved session's."""
        return [self.words_language_choice, *self.inputs, *self.buttons]


def build_explorer(context: TabContext, session_state: gr.State) -> ExplorerTab:
    gr.Markdown(TEXTS.label("cemantix_explorer_intro"))
    words_language_choice = gr.Radio(words_language_choices(), value="fr", label=TEXTS.label("cemantix_words_language"))
    with gr.Accordion(TEXTS.label("cemantix_neighbours_heading"), open=True):
        neighbour_word = gr.Textbox(label=TEXTS.label("cemantix_first_word"), max_lines=1)
        neighbours_button = tap_button("cemantix_show")
        neighbours_view = gr.HTML()
    with gr.Accordion(TEXTS.label("cemantix_similarity_heading"), open=True):
        with gr.Row():
            similar_first = gr.Textbox(label=TEXTS.label("cemantix_first_word"), max_lines=1, min_width=120)
            similar_second = gr.Textbox(label=TEXTS.label("cemantix_second_word"), max_lines=1, min_width=120)
        similarity_button = tap_button("cemantix_show")
        similarity_view = gr.HTML()
    with gr.Accordion(TEXTS.label("cemantix_analogy_heading"), open=True):
        with gr.Row():
            analogy_words = [
                gr.Textbox(label=TEXTS.label(key), max_lines=1, min_width=90)
                for key in ("cemantix_first_word", "cemantix_second_word", "cemantix_third_word")
            ]
        analogy_button = tap_button("cemantix_show")
        analogy_view = gr.HTML()

    def explorer_words(words_language: str, texts: list[str], progress, language: str):
        """The vocabulary and the cleaned words, or a message saying what is wrong with one."""
        try:
            words = context.vocabulary(words_language if words_language in LANGUAGES else language, progress, language)
        except WordsMissing as missing:
            return None, None, render.paragraph(str(missing), "cx-problem")
        cleaned = []
        for text in texts:
            candidate, problem = logic.clean_guess(text)
            if problem is None and candidate not in words:
                problem = logic.UNKNOWN
            if problem is not None:
                reason = render.problem_message(logic.GuessResult(candidate, False, None, None, problem), language)
                return words, None, render.paragraph(reason, "cx-problem")
            cleaned.append(candidate)
        return words, cleaned, ""

    def hidden_words(session: Session | None, words_language: str) -> set[str]:
        """The secret of the session's game in progress stays out of the explorer's lists."""
        game = session.game if session else None
        return {game.secret} if game is not None and not game.over and game.words_language == words_language else set()

    def hidden_note(hidden: set[str], language: str) -> str:
        return render.paragraph(TEXTS.get("cemantix_hidden_secret", language), "cx-empty") if hidden else ""

    def neighbours(
        words_language: str, text: str, session: Session | None, request: gr.Request, progress=gr.Progress()
    ):
        language = request_language(request)
        words, cleaned, problem = explorer_words(words_language, [text], progress, language)
        if cleaned is None:
            return problem
        hidden = hidden_words(session, words.words_language)
        found = words.neighbours(cleaned[0], NEIGHBOURS_SHOWN, hidden)
        return render.word_list_html(found, language) + hidden_note(hidden, language)

    neighbours_inputs = [words_language_choice, neighbour_word, session_state]
    neighbours_button.click(neighbours, neighbours_inputs, [neighbours_view], api_name="cemantix_neighbours")
    neighbour_word.submit(neighbours, neighbours_inputs, [neighbours_view], api_visibility="private")

    def similarity(
        words_language: str,
        first: str,
        second: str,
        session: Session | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        language = request_language(request)
        words, cleaned, problem = explorer_words(words_language, [first, second], progress, language)
        if cleaned is None:
            return problem
        cosine = words.similarity(*cleaned)
        text = TEXTS.get(
            "cemantix_similarity_result",
            language,
            first=cleaned[0],
            second=cleaned[1],
            cosine=format_number(cosine, language, 3),
            temperature=render.format_temperature(cosine * 100, language),
        )
        return render.paragraph(text, "cx-good")

    similarity_button.click(
        similarity,
        [words_language_choice, similar_first, similar_second, session_state],
        [similarity_view],
        api_name="cemantix_similarity",
    )

    def analogy(
        words_language: str,
        positive: str,
        negative: str,
        added: str,
        session: Session | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        language = request_language(request)
        words, cleaned, problem = explorer_words(words_language, [positive, negative, added], progress, language)
        if cleaned is None:
            return problem
        hidden = hidden_words(session, words.words_language)
        found = words.analogy(*cleaned, ANALOGIES_SHOWN, hidden)
        title = TEXTS.get(
            "cemantix_analogy_result", language, positive=cleaned[0], negative=cleaned[1], added=cleaned[2]
        )
        return (
            render.paragraph(title, "cx-good") + render.word_list_html(found, language) + hidden_note(hidden, language)
        )

    analogy_button.click(
        analogy, [words_language_choice, *analogy_words, session_state], [analogy_view], api_name="cemantix_analogy"
    )

    inputs = [neighbour_word, similar_first, similar_second, *analogy_words]

    def examples(words_language: str):
        return [gr.Textbox(value=value) for value in EXAMPLES[words_language]]

    words_language_choice.input(examples, [words_language_choice], inputs, api_visibility="private", queue=False)
    return ExplorerTab(words_language_choice, inputs, [neighbours_button, similarity_button, analogy_button])


def load_updates(tab: ExplorerTab, language: str, playable: list[str]) -> dict:
    """The examples in the first words' language this server can play (the page's, when it can)."""
    words_language = (playable or [language])[0]
    values = {tab.words_language_choice: gr.Radio(value=words_language)}
    values.update(zip(tab.inputs, EXAMPLES[words_language], strict=True))
    values.update({button: gr.Button(interactive=bool(playable)) for button in tab.buttons})
    return values
