"""The Cémantix tab: guess the secret word by the warmth of its vector; a lecture room with a
board for the projector; an explorer of the embedding space (neighbours, similarity, analogies).

The game lives in a gr.State (server side): the secret reaches the browser only once the game is
over. URL parameters: `?tab=cemantix&room=CODE` fills in the code to join a room,
`?tab=cemantix&board=CODE` shows the room's board (refreshed every few seconds).
"""

import functools
import html
import math
import secrets
from dataclasses import dataclass, field

import gradio as gr

from shared.hub import Hub
from shared.hub_ui import public_address, qr_code_svg
from shared.i18n import Texts, format_number, request_language
from shared.weights import WeightsUnavailable
from spaces.cemantix import logic
from spaces.cemantix import rooms as room_rules
from spaces.cemantix.vocabulary import FREQUENCY_SOURCE, LANGUAGES, VECTOR_SOURCES, load_vocabulary

TEXTS = Texts(
    fr={
        "cemantix_tab": "Cémantix",
        "cemantix_about": "**Cémantix** — devinez un mot secret : chaque proposition est notée par la proximité de son vecteur avec celui du secret. Des sens proches, des vecteurs proches ; avec un mode salle de cours et un explorateur des plongements (voisins, analogies).",
        "cemantix_intro": "Trouvez le **mot secret**. Chaque mot proposé reçoit une **température** : plus son vecteur est proche de celui du secret, plus il fait chaud.",
        "cemantix_play_tab": "Jouer",
        "cemantix_room_tab": "Salle",
        "cemantix_explorer_tab": "Explorer",
        "cemantix_word": "Votre mot",
        "cemantix_word_placeholder": "Un mot…",
        "cemantix_hint": "💡 Indice",
        "cemantix_give_up": "🏳️ Abandonner",
        "cemantix_share": "Partager",
        "cemantix_new_game_heading": "Nouvelle partie",
        "cemantix_words_language": "Langue des mots",
        "cemantix_mode": "Mot à trouver",
        "cemantix_mode_daily": "Mot du jour",
        "cemantix_mode_random": "Mot au hasard",
        "cemantix_start": "Commencer",
        "cemantix_rules_heading": "Règles et échelle",
        "cemantix_rules": "La **température** est la similarité cosinus entre le vecteur de votre mot et celui du secret, × 100 (en °C). Les 1 000 mots les plus proches du secret ont aussi un rang en **‰** : 1000 pour le secret, 999 pour le plus proche, 1 pour le millième.\n\n🧊 sous 0 °C · 🥶 hors des 1 000 · 😎 1 à 899 ‰ · 🥵 900 ‰ et plus · 🔥 990 ‰ et plus · 😱 999 ‰ · 🥳 trouvé\n\nLes vecteurs viennent de fastText (spaCy `fr_core_news_md`) en français et de GloVe 6B 50d en anglais : des mots employés dans les mêmes contextes ont des vecteurs proches — les contraires aussi ! Le mot du jour change à minuit (heure de Paris) ; un mot inconnu ou déjà proposé ne compte pas.",
        "cemantix_header_daily": "Cémantix n°{number}",
        "cemantix_header_random": "Cémantix — mot au hasard",
        "cemantix_header_room": "salle {code}",
        "cemantix_header_pending": "tapez un mot pour commencer",
        "cemantix_guess_count_one": "{count} coup",
        "cemantix_guess_count_many": "{count} coups",
        "cemantix_hint_count_one": "{count} indice",
        "cemantix_hint_count_many": "{count} indices",
        "cemantix_column_number": "N°",
        "cemantix_column_word": "Mot",
        "cemantix_column_progress": "Progression",
        "cemantix_history_empty": "Vos mots s'afficheront ici, du plus chaud au plus froid.",
        "cemantix_problem_empty": "Tapez un mot.",
        "cemantix_problem_too_long": "Un mot de {max} lettres au plus, s'il vous plaît.",
        "cemantix_problem_several_words": "Un seul mot à la fois, sans espace.",
        "cemantix_problem_digits": "Pas de chiffres : un mot écrit en lettres.",
        "cemantix_problem_not_letters": "Seulement des lettres : ni symboles, ni émojis, ni trait d'union, ni apostrophe.",
        "cemantix_problem_unknown": "Je ne connais pas « {word} » : il ne compte pas.",
        "cemantix_suggestion": "Essayez « {word} ».",
        "cemantix_problem_repeated": "« {word} » est déjà dans la liste ({where}) : il ne compte pas deux fois.",
        "cemantix_problem_game_over": "La partie est finie : lancez-en une nouvelle (« Nouvelle partie »).",
        "cemantix_as_hint": "indice",
        "cemantix_as_guess": "coup n°{number}",
        "cemantix_found": "🥳 Bravo ! « {word} » trouvé en {guesses}.",
        "cemantix_gave_up": "Le mot était « {word} ».",
        "cemantix_room_ended": "La salle {code} est terminée : le mot était « {word} ».",
        "cemantix_hint_given": "💡 « {word} » est plus proche que votre meilleur mot.",
        "cemantix_no_hint": "Pas d'indice : votre meilleur mot est déjà le plus proche (ou la partie est finie).",
        "cemantix_new_daily": "Nouvelle partie : le mot du jour n°{number}, en {words_language}.",
        "cemantix_new_random": "Nouvelle partie : un mot au hasard, en {words_language}.",
        "cemantix_language_fr": "français",
        "cemantix_language_en": "anglais",
        "cemantix_share_title_daily": "Cémantix #{number}",
        "cemantix_share_title_daily_en": "Cémantix (anglais) #{number}",
        "cemantix_share_title_random": "Cémantix (mot au hasard)",
        "cemantix_share_found": "{title} — trouvé en {guesses} 🥳",
        "cemantix_share_gave_up": "{title} — abandon après {guesses} 🏳️",
        "cemantix_reveal_found": "🥳 Trouvé : <b>{word}</b>",
        "cemantix_reveal_secret": "Le mot était <b>{word}</b>",
        "cemantix_map_heading": "La carte de vos mots autour du secret",
        "cemantix_map_caption": "Au centre, le secret ; la distance au centre vaut 1 − cosinus (les cercles : 75, 50, 25, 0 °C). La direction vient des deux axes principaux (ACP) de ce qui distingue les mots du secret : des mots voisins tombent souvent du même côté. Points gris : les 100 plus proches.",
        "cemantix_nearest_heading": "Les 100 mots les plus proches",
        "cemantix_build_reading_vectors": "Lecture des vecteurs ({words_language})…",
        "cemantix_build_tagging_words": "Choix des mots secrets ({words_language})…",
        "cemantix_build_writing": "Enregistrement du vocabulaire ({words_language})…",
        "cemantix_missing": "Cémantix ne peut pas démarrer : {reason}",
        "cemantix_room_intro": "Toute la salle cherche le même mot ; le tableau (pour le vidéoprojecteur) classe les joueurs sans jamais montrer de mot avant la fin.",
        "cemantix_join_heading": "#### Rejoindre une salle",
        "cemantix_room_code": "Code de la salle",
        "cemantix_nickname": "Pseudo",
        "cemantix_join": "Rejoindre",
        "cemantix_create_heading": "Créer une salle (enseignant)",
        "cemantix_create": "Créer la salle",
        "cemantix_end_room": "Terminer et révéler le mot",
        "cemantix_joined": "Vous jouez dans la salle {code} sous le nom « {nickname} » : à vous, dans l'onglet Jouer !",
        "cemantix_created": 'Salle <b class="cx-code">{code}</b> créée ({words_language}, {word}).',
        "cemantix_board_link": "Ouvrir le tableau (vidéoprojecteur)",
        "cemantix_join_link": "Lien pour rejoindre",
        "cemantix_host_hint": "Gardez cet onglet ouvert : c'est d'ici que vous terminerez la salle.",
        "cemantix_room_error_no_such_room": "Pas de salle « {code} » : vérifiez le code (elle a peut-être expiré).",
        "cemantix_room_error_room_full": "La salle {code} est pleine ({max} joueurs).",
        "cemantix_room_error_too_many_rooms": "Trop de salles ouvertes sur ce serveur : réessayez plus tard.",
        "cemantix_room_error_nickname_taken": "Le pseudo « {nickname} » est déjà pris dans cette salle : choisissez-en un autre.",
        "cemantix_room_error_bad_nickname": "Choisissez un pseudo de 1 à {max} caractères.",
        "cemantix_room_error_not_host": "Seul l'onglet qui a créé la salle {code} peut la terminer.",
        "cemantix_room_error_room_ended": "La salle {code} est terminée.",
        "cemantix_no_hosted_room": "Créez d'abord une salle.",
        "cemantix_board_heading": "Salle {code}",
        "cemantix_board_how_to_join": "Pour jouer : onglet Cémantix → Salle → code <b>{code}</b>",
        "cemantix_board_counts": "{players} joueur(s) · trouvé : {found}",
        "cemantix_board_empty": "En attente des joueurs…",
        "cemantix_board_place": "#",
        "cemantix_board_player": "Joueur",
        "cemantix_board_guesses": "Coups",
        "cemantix_board_time": "Temps",
        "cemantix_board_best": "Meilleur",
        "cemantix_board_found": "trouvé",
        "cemantix_board_gave_up": "abandon",
        "cemantix_board_secret": "Le mot était « {word} »",
        "cemantix_explorer_intro": "La démo word2vec du cours : les mots sont des vecteurs ; des sens proches donnent des vecteurs proches, et des différences de vecteurs portent des relations (roi − homme + femme ≈ reine).",
        "cemantix_neighbours_heading": "Plus proches voisins",
        "cemantix_similarity_heading": "Similarité de deux mots",
        "cemantix_analogy_heading": "Analogie : A − B + C",
        "cemantix_show": "Voir",
        "cemantix_first_word": "Mot A",
        "cemantix_second_word": "Mot B",
        "cemantix_third_word": "Mot C",
        "cemantix_similarity_result": "cos(« {first} », « {second} ») = {cosine} → {temperature}",
        "cemantix_analogy_result": "{positive} − {negative} + {added} ≈",
        "cemantix_hidden_secret": "Le secret de votre partie en cours est caché ici jusqu'à la fin.",
    },
    en={
        "cemantix_tab": "Cémantix",
        "cemantix_about": "**Cémantix** — guess a secret word: each guess is scored by how near its vector is to the secret's. Near meanings, near vectors; with a lecture-room mode and an embedding explorer (neighbours, analogies).",
        "cemantix_intro": "Find the **secret word**. Each guess gets a **temperature**: the nearer its vector is to the secret's, the warmer.",
        "cemantix_play_tab": "Play",
        "cemantix_room_tab": "Room",
        "cemantix_explorer_tab": "Explore",
        "cemantix_word": "Your word",
        "cemantix_word_placeholder": "A word…",
        "cemantix_hint": "💡 Hint",
        "cemantix_give_up": "🏳️ Give up",
        "cemantix_share": "Share",
        "cemantix_new_game_heading": "New game",
        "cemantix_words_language": "Language of the words",
        "cemantix_mode": "Word to find",
        "cemantix_mode_daily": "Word of the day",
        "cemantix_mode_random": "Random word",
        "cemantix_start": "Start",
        "cemantix_rules_heading": "Rules and scale",
        "cemantix_rules": "The **temperature** is the cosine similarity between your word's vector and the secret's, × 100 (in °C). The 1,000 words nearest the secret also get a rank in **‰**: 1000 for the secret, 999 for the nearest, 1 for the thousandth.\n\n🧊 below 0 °C · 🥶 outside the 1,000 · 😎 1 to 899 ‰ · 🥵 900 ‰ and up · 🔥 990 ‰ and up · 😱 999 ‰ · 🥳 found\n\nThe vectors come from fastText (spaCy `fr_core_news_md`) in French and GloVe 6B 50d in English: words used in the same contexts get near vectors — opposites too! The word of the day changes at midnight (Paris time); an unknown or repeated word does not count.",
        "cemantix_header_daily": "Cémantix #{number}",
        "cemantix_header_random": "Cémantix — random word",
        "cemantix_header_room": "room {code}",
        "cemantix_header_pending": "type a word to start",
        "cemantix_guess_count_one": "{count} guess",
        "cemantix_guess_count_many": "{count} guesses",
        "cemantix_hint_count_one": "{count} hint",
        "cemantix_hint_count_many": "{count} hints",
        "cemantix_column_number": "#",
        "cemantix_column_word": "Word",
        "cemantix_column_progress": "Progress",
        "cemantix_history_empty": "Your words will show here, warmest first.",
        "cemantix_problem_empty": "Type a word.",
        "cemantix_problem_too_long": "A word of at most {max} letters, please.",
        "cemantix_problem_several_words": "One word at a time, without spaces.",
        "cemantix_problem_digits": "No digits: a word spelt in letters.",
        "cemantix_problem_not_letters": "Letters only: no symbols, emoji, hyphens or apostrophes.",
        "cemantix_problem_unknown": "I don't know “{word}”: it does not count.",
        "cemantix_suggestion": "Try “{word}”.",
        "cemantix_problem_repeated": "“{word}” is already in the list ({where}): it does not count twice.",
        "cemantix_problem_game_over": "The game is over: start a new one (“New game”).",
        "cemantix_as_hint": "hint",
        "cemantix_as_guess": "guess #{number}",
        "cemantix_found": "🥳 Well done! “{word}” found in {guesses}.",
        "cemantix_gave_up": "The word was “{word}”.",
        "cemantix_room_ended": "Room {code} has ended: the word was “{word}”.",
        "cemantix_hint_given": "💡 “{word}” is nearer than your best word.",
        "cemantix_no_hint": "No hint: your best word is already the nearest one (or the game is over).",
        "cemantix_new_daily": "New game: word of the day #{number}, in {words_language}.",
        "cemantix_new_random": "New game: a random word, in {words_language}.",
        "cemantix_language_fr": "French",
        "cemantix_language_en": "English",
        "cemantix_share_title_daily": "Cémantix (French) #{number}",
        "cemantix_share_title_daily_en": "Cémantix #{number}",
        "cemantix_share_title_random": "Cémantix (random word)",
        "cemantix_share_found": "{title} — found in {guesses} 🥳",
        "cemantix_share_gave_up": "{title} — gave up after {guesses} 🏳️",
        "cemantix_reveal_found": "🥳 Found: <b>{word}</b>",
        "cemantix_reveal_secret": "The word was <b>{word}</b>",
        "cemantix_map_heading": "The map of your words around the secret",
        "cemantix_map_caption": "The secret is at the centre; the distance from the centre is 1 − cosine (circles: 75, 50, 25, 0 °C). The direction comes from the two main axes (PCA) of what sets the words apart from the secret: neighbouring words often fall on the same side. Grey dots: the 100 nearest.",
        "cemantix_nearest_heading": "The 100 nearest words",
        "cemantix_build_reading_vectors": "Reading the vectors ({words_language})…",
        "cemantix_build_tagging_words": "Choosing the secret words ({words_language})…",
        "cemantix_build_writing": "Saving the vocabulary ({words_language})…",
        "cemantix_missing": "Cémantix cannot start: {reason}",
        "cemantix_room_intro": "The whole room looks for the same word; the board (for the projector) ranks the players and never shows a word before the end.",
        "cemantix_join_heading": "#### Join a room",
        "cemantix_room_code": "Room code",
        "cemantix_nickname": "Nickname",
        "cemantix_join": "Join",
        "cemantix_create_heading": "Create a room (teacher)",
        "cemantix_create": "Create the room",
        "cemantix_end_room": "End and reveal the word",
        "cemantix_joined": "You are playing in room {code} as “{nickname}”: your turn, in the Play tab!",
        "cemantix_created": 'Room <b class="cx-code">{code}</b> created ({words_language}, {word}).',
        "cemantix_board_link": "Open the board (projector)",
        "cemantix_join_link": "Link to join",
        "cemantix_host_hint": "Keep this tab open: this is where you will end the room.",
        "cemantix_room_error_no_such_room": "No room “{code}”: check the code (it may have expired).",
        "cemantix_room_error_room_full": "Room {code} is full ({max} players).",
        "cemantix_room_error_too_many_rooms": "Too many rooms open on this server: try again later.",
        "cemantix_room_error_nickname_taken": "The nickname “{nickname}” is taken in this room: choose another one.",
        "cemantix_room_error_bad_nickname": "Choose a nickname of 1 to {max} characters.",
        "cemantix_room_error_not_host": "Only the tab that created room {code} can end it.",
        "cemantix_room_error_room_ended": "Room {code} has ended.",
        "cemantix_no_hosted_room": "Create a room first.",
        "cemantix_board_heading": "Room {code}",
        "cemantix_board_how_to_join": "To play: Cémantix tab → Room → code <b>{code}</b>",
        "cemantix_board_counts": "{players} player(s) · found: {found}",
        "cemantix_board_empty": "Waiting for players…",
        "cemantix_board_place": "#",
        "cemantix_board_player": "Player",
        "cemantix_board_guesses": "Guesses",
        "cemantix_board_time": "Time",
        "cemantix_board_best": "Best",
        "cemantix_board_found": "found",
        "cemantix_board_gave_up": "gave up",
        "cemantix_board_secret": "The word was “{word}”",
        "cemantix_explorer_intro": "The word2vec demo of the lecture: words are vectors; near meanings give near vectors, and differences of vectors carry relations (king − man + woman ≈ queen).",
        "cemantix_neighbours_heading": "Nearest neighbours",
        "cemantix_similarity_heading": "Similarity of two words",
        "cemantix_analogy_heading": "Analogy: A − B + C",
        "cemantix_show": "Show",
        "cemantix_first_word": "Word A",
        "cemantix_second_word": "Word B",
        "cemantix_third_word": "Word C",
        "cemantix_similarity_result": "cos(“{first}”, “{second}”) = {cosine} → {temperature}",
        "cemantix_analogy_result": "{positive} − {negative} + {added} ≈",
        "cemantix_hidden_secret": "The secret of your game in progress is hidden here until it ends.",
    },
)

BOARD_REFRESH_SECONDS = 3
NEIGHBOURS_SHOWN = 20
ANALOGIES_SHOWN = 10
MAP_LABELS = 20  # the warmest guesses get a label on the map; the others a tooltip
# The explorer's starting words: a word's neighbours, two words to compare, an analogy.
EXPLORER_EXAMPLES = {
    "fr": ("forêt", "chat", "chien", "roi", "homme", "femme"),
    "en": ("forest", "cat", "dog", "king", "man", "woman"),
}
FLAGS = {"fr": "🇫🇷", "en": "🇬🇧"}
# Colours of the emoji scale, for the map and the board.
HEAT_COLOURS = {
    "🥳": "#d4a017",
    "😱": "#d7191c",
    "🔥": "#f0592b",
    "🥵": "#fb8c3c",
    "😎": "#f5b841",
    "🥶": "#6fa8dc",
    "🧊": "#3f6fb5",
}

CSS = """
.cx-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.2rem 0.8rem; }
.cx-header .cx-title { font-size: 1.3em; font-weight: 700; }
.cx-header .cx-counts { opacity: 0.75; }
.cx-status:not(:has(p)) { display: none; }  /* no message, no gap */
.cx-status p { margin: 0.2rem 0; padding: 0.45rem 0.7rem; border-radius: 8px; background: var(--background-fill-secondary); }
.cx-status .cx-good { border-left: 4px solid #2e9d4f; }
.cx-status .cx-problem { border-left: 4px solid #d9822b; }
/* Gradio's prose styles draw a grid around every cell: rows only, as on Cémantix. */
table.cx-table, table.cx-table tr, table.cx-table th, table.cx-table td { border: none !important; }
table.cx-table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0; }
table.cx-table th { font-size: 0.75em; text-transform: uppercase; opacity: 0.65; text-align: left; padding: 0.2rem 0.3rem; }
table.cx-table td { padding: 0.3rem 0.3rem; border-top: 1px solid var(--border-color-primary) !important; }
table.cx-table .cx-number { width: 2.2em; text-align: right; opacity: 0.65; }
table.cx-table td.cx-word { font-weight: 600; }
table.cx-table .cx-temperature { text-align: right; white-space: nowrap; }
table.cx-table td.cx-emoji { width: 1.5em; text-align: center; padding: 0.3rem 0; }
table.cx-table td.cx-progress { width: 30%; min-width: 5em; }
table.cx-table tr.cx-latest td { background: var(--color-accent-soft); border-top: none !important; }
table.cx-table tr.cx-separator td { padding: 0; height: 0.6rem; border-top: none !important; }
table.cx-table tr.cx-hint td.cx-word { font-style: italic; font-weight: 500; }
.cx-nearest { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: 0 0.9rem;
              font-variant-numeric: tabular-nums; font-size: 0.85em; }
.cx-nearest div { display: flex; gap: 0.4rem; padding: 0.15rem 0; border-bottom: 1px solid var(--border-color-primary); }
.cx-nearest .cx-rank { width: 2.2em; text-align: right; opacity: 0.65; }
.cx-nearest .cx-word { flex: 1; font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
.cx-nearest .cx-guessed .cx-word::after { content: " ✓"; color: #2e9d4f; }
.cx-bar { display: flex; align-items: center; gap: 0.35rem; font-size: 0.85em; }
.cx-bar span.cx-track { flex: 1; height: 0.7rem; border-radius: 0.35rem; background: var(--background-fill-secondary); overflow: hidden; }
.cx-bar span.cx-fill { display: block; height: 100%; background: linear-gradient(90deg, #f5b841, #f0592b); }
.cx-empty { opacity: 0.7; }
.cx-reveal .cx-secret { font-size: 1.4em; text-align: center; margin: 0.6rem 0; }
.cx-reveal svg { width: 100%; max-width: 560px; height: auto; display: block; margin: 0 auto; }
.cx-reveal .cx-caption { font-size: 0.8em; opacity: 0.75; }
.cx-reveal details summary { cursor: pointer; font-weight: 600; margin: 0.6rem 0; }
/* The board is read from the back of a lecture hall. */
.cx-board { font-size: 1.5em; line-height: 1.4; }
.cx-board h2 { margin: 0.2rem 0; font-size: 1.6em; }
.cx-board .cx-join { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; }
.cx-board .cx-join svg { width: 9rem; height: 9rem; background: white; }
.cx-board .cx-secret { font-size: 1.6em; font-weight: 700; }
.cx-code { font-family: ui-monospace, monospace; letter-spacing: 0.15em; font-size: 1.3em; }
.cx-host a { font-weight: 600; }
.cx-host svg { width: 10rem; height: 10rem; background: white; }
#cemantix-word textarea, #cemantix-word input { font-size: 1.15em; }
"""


@dataclass
class Session:
    """What one browser session holds on the server (a gr.State, never sent to the browser)."""

    player_id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    game: logic.Game | None = None
    hosted_room: tuple[str, str] | None = None  # (code, host key) of the room this session created


# --- formatting ------------------------------------------------------------------------------


def escape(text: object) -> str:
    return html.escape(str(text))


def format_temperature(value: float, language: str) -> str:
    return f"{format_number(value, language, 2)}\u202f°C"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def counted(key: str, count: int, language: str) -> str:
    """« 1 coup », « 42 coups »: French uses the singular for 0 and 1."""
    singular = count <= 1 if language == "fr" else count == 1
    return TEXTS.get(f"{key}_{'one' if singular else 'many'}", language, count=count)


def language_name(lang: str, language: str) -> str:
    return TEXTS.get(f"cemantix_language_{lang}", language)


def paragraph(message: str, css_class: str) -> str:
    return f'<p class="{css_class}">{escape(message)}</p>' if message else ""


# --- the game's views ------------------------------------------------------------------------


def header_html(game: logic.Game | None, language: str, pending_lang: str = "fr") -> str:
    lang = game.lang if game else pending_lang
    number = game.puzzle_number if game else logic.puzzle_number(logic.puzzle_day())
    title = (
        TEXTS.get("cemantix_header_daily", language, number=number)
        if number is not None
        else TEXTS.get("cemantix_header_random", language)
    )
    tags = [FLAGS[lang]]
    if game and game.room_code:
        tags.append(TEXTS.get("cemantix_header_room", language, code=game.room_code))
    if game is None:
        counts = TEXTS.get("cemantix_header_pending", language)
    else:
        counts = counted("cemantix_guess_count", game.guesses, language)
        if game.hints:
            counts += " · " + counted("cemantix_hint_count", game.hints, language)
    return (
        f'<div class="cx-header"><span class="cx-title">{escape(title)}</span>'
        f'<span>{escape(" · ".join(tags))}</span><span class="cx-counts">{escape(counts)}</span></div>'
    )


def progress_cell(permille: int | None) -> str:
    if not permille:
        return ""
    return (
        f'<div class="cx-bar"><span class="cx-track"><span class="cx-fill" style="width:{permille / 10:.1f}%">'
        f"</span></span><span>{permille}</span></div>"
    )


def entry_row(entry: logic.Entry, language: str, css_class: str = "") -> str:
    classes = " ".join(filter(None, (css_class, "cx-hint" if entry.is_hint else "")))
    number = "💡" if entry.is_hint else str(entry.number)
    return (
        f'<tr class="{classes}"><td class="cx-number">{number}</td><td class="cx-word">{escape(entry.word)}</td>'
        f'<td class="cx-temperature">{format_temperature(entry.temperature, language)}</td>'
        f'<td class="cx-emoji">{entry.emoji}</td><td class="cx-progress">{progress_cell(entry.permille)}</td></tr>'
    )


def table_head(language: str) -> str:
    return (
        f'<tr><th class="cx-number">{escape(TEXTS.get("cemantix_column_number", language))}</th><th>{escape(TEXTS.get("cemantix_column_word", language))}</th>'
        f"<th>°C</th><th></th><th>{escape(TEXTS.get('cemantix_column_progress', language))}</th></tr>"
    )


def history_html(game: logic.Game | None, language: str) -> str:
    """The latest entry on top, then every entry from the warmest, as on Cémantix."""
    if game is None or not game.entries:
        return paragraph(TEXTS.get("cemantix_history_empty", language), "cx-empty")
    rows = [entry_row(game.latest, language, "cx-latest"), '<tr class="cx-separator"><td colspan="5"></td></tr>']
    rows += [entry_row(entry, language) for entry in game.history()]
    return f'<table class="cx-table">{table_head(language)}{"".join(rows)}</table>'


def share_text(game: logic.Game, language: str) -> str:
    if game.puzzle_number is None:
        title = TEXTS.get("cemantix_share_title_random", language)
    else:
        # The game's language is named only when it differs from the reader's.
        key = "cemantix_share_title_daily_en" if game.lang == "en" else "cemantix_share_title_daily"
        title = TEXTS.get(key, language, number=game.puzzle_number)
    guesses = counted("cemantix_guess_count", game.guesses, language)
    key = "cemantix_share_found" if game.outcome == logic.FOUND else "cemantix_share_gave_up"
    first_line = TEXTS.get(key, language, title=title, guesses=guesses)
    if game.hints:
        first_line += f" ({counted('cemantix_hint_count', game.hints, language)})"
    scale = [entry.emoji for entry in game.entries if not entry.is_hint]
    counts = " ".join(f"{emoji}{scale.count(emoji)}" for emoji in HEAT_COLOURS)
    return f"{first_line}\n{counts}"


def heat_colour(temperature: float, permille: int | None) -> str:
    return HEAT_COLOURS[logic.heat_emoji(temperature, permille)]


def map_svg(game: logic.Game, language: str) -> str:
    """The guesses around the secret (logic.project_around), as an SVG drawn here: light, sharp
    on a phone, and each point's word in a tooltip."""
    points = game.map_points()
    size, margin = 400, 36
    reach = max((math.hypot(point.x, point.y) for point in points), default=1.0) or 1.0
    scale = (size / 2 - margin) / reach
    centre = size / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return centre + x * scale, centre - y * scale

    parts = [
        f'<svg viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'font-family="sans-serif" font-size="11">'
    ]
    for temperature in (75, 50, 25, 0):
        radius = (1 - temperature / 100) * scale
        if radius <= size / 2 - margin / 2:
            parts.append(
                f'<circle cx="{centre}" cy="{centre}" r="{radius:.1f}" fill="none" stroke="currentColor" '
                f'stroke-opacity="0.18" stroke-dasharray="3 3"/>'
            )
            parts.append(
                f'<text x="{centre + 3}" y="{centre - radius - 3:.1f}" fill="currentColor" '
                f'fill-opacity="0.45" font-size="9">{temperature}\u202f°C</text>'
            )
    guesses = [point for point in points if point.kind in ("guess", "hint")]
    labelled = {point.word for point in sorted(guesses, key=lambda point: -point.temperature)[:MAP_LABELS]}
    if game.latest is not None:
        labelled.add(game.latest.word)
    for point in sorted(points, key=lambda point: point.kind != "neighbour"):  # neighbours underneath
        x, y = at(point.x, point.y)
        tooltip = f"<title>{escape(point.word)} {format_temperature(point.temperature, language)}</title>"
        if point.kind == "neighbour":
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#999" fill-opacity="0.5">{tooltip}</circle>')
        elif point.kind == "secret":
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{HEAT_COLOURS["🥳"]}">{tooltip}</circle>')
            parts.append(
                f'<text x="{x:.1f}" y="{y + 20:.1f}" text-anchor="middle" font-weight="700" font-size="13" '
                f'fill="currentColor">{escape(point.word)}</text>'
            )
        else:
            permille = game.score(point.word)[1]
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{heat_colour(point.temperature, permille)}" '
                f'stroke="white" stroke-width="0.8">{tooltip}</circle>'
            )
            if point.word in labelled:
                style = ' font-style="italic"' if point.kind == "hint" else ""
                parts.append(
                    f'<text x="{x + 6:.1f}" y="{y + 4:.1f}" fill="currentColor"{style}>{escape(point.word)}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def nearest_html(game: logic.Game, language: str) -> str:
    """The 100 nearest words in columns (two on a phone): ‰, word (✓ if guessed), °C."""
    guessed = {entry.word for entry in game.entries}
    items = [
        f'<div class="{"cx-guessed" if entry.word in guessed else ""}"><span class="cx-rank">{entry.permille}</span>'
        f'<span class="cx-word">{escape(entry.word)}</span>'
        f'<span class="cx-temperature">{format_temperature(entry.temperature, language)}</span></div>'
        for entry in game.nearest()
    ]
    return f'<div class="cx-nearest">{"".join(items)}</div>'


def reveal_html(game: logic.Game | None, language: str) -> str:
    """What the end of a game shows: the word, the map, the 100 nearest. Empty before the end:
    the secret must not reach the browser while the game is on."""
    if game is None or not game.over:
        return ""
    key = "cemantix_reveal_found" if game.outcome == logic.FOUND else "cemantix_reveal_secret"
    title = TEXTS.get(key, language, word=escape(game.secret))  # the text has markup: escape the word only
    return (
        f'<div class="cx-reveal"><p class="cx-secret">{title}</p>'
        f"<h4>{escape(TEXTS.get('cemantix_map_heading', language))}</h4>{map_svg(game, language)}"
        f'<p class="cx-caption">{escape(TEXTS.get("cemantix_map_caption", language))}</p>'
        f"<details open><summary>{escape(TEXTS.get('cemantix_nearest_heading', language))}</summary>"
        f"{nearest_html(game, language)}</details></div>"
    )


def problem_message(result: logic.GuessResult, language: str) -> str:
    if result.problem == logic.UNKNOWN:
        message = TEXTS.get("cemantix_problem_unknown", language, word=result.word)
        if result.suggestion:
            message += " " + TEXTS.get("cemantix_suggestion", language, word=result.suggestion)
        return message
    if result.problem == logic.REPEATED:
        entry = result.entry
        where = (
            TEXTS.get("cemantix_as_hint", language)
            if entry.is_hint
            else TEXTS.get("cemantix_as_guess", language, number=entry.number)
        )
        return TEXTS.get("cemantix_problem_repeated", language, word=result.word, where=where)
    return TEXTS.get(f"cemantix_problem_{result.problem}", language, max=logic.MAX_WORD_LENGTH)


def end_message(game: logic.Game, language: str) -> str:
    if game.outcome == logic.FOUND:
        return TEXTS.get(
            "cemantix_found",
            language,
            word=game.secret,
            guesses=counted("cemantix_guess_count", game.guesses, language),
        )
    return TEXTS.get("cemantix_gave_up", language, word=game.secret)


def game_state(game: logic.Game | None, **action) -> dict:
    """The machine-readable side of every game answer (for API clients and tests)."""
    if game is None:
        return action
    state = {
        "lang": game.lang,
        "puzzle": game.puzzle_number,
        "room": game.room_code,
        "guesses": game.guesses,
        "hints": game.hints,
        "over": game.over,
        "outcome": game.outcome,
        **action,
    }
    if game.over:
        state["secret"] = game.secret
    return state


# --- rooms -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def cached_qr_code(url: str) -> str:
    return qr_code_svg(url)  # the board asks every few seconds: draw each code once


def join_url(hub: Hub, request: gr.Request | None, code: str) -> str | None:
    """The address a phone opens to join, or None when the hub is served on this computer only."""
    host = request.headers.get("host") if request is not None else None
    address = public_address(hub.settings, host)
    return None if address is None else f"{address.rstrip('/')}/?tab=cemantix&room={code}"


def room_error_message(error: room_rules.RoomError, language: str) -> str:
    return TEXTS.get(f"cemantix_room_error_{error.reason}", language, **error.values)


def board_html(board: room_rules.Board, language: str, join_address: str | None) -> str:
    counts = TEXTS.get("cemantix_board_counts", language, players=board.players, found=board.found)
    puzzle = (
        TEXTS.get("cemantix_header_daily", language, number=board.puzzle_number)
        if board.puzzle_number is not None
        else TEXTS.get("cemantix_header_random", language)
    )
    how_to_join = TEXTS.get(
        "cemantix_board_how_to_join", language, code=f'<span class="cx-code">{escape(board.code)}</span>'
    )
    join = f"<div>{how_to_join}" + (
        f'<br><a href="{escape(join_address)}">{escape(join_address)}</a>' if join_address else ""
    )
    join += "</div>" + (cached_qr_code(join_address) if join_address else "")
    parts = [
        f'<div class="cx-board"><h2>{escape(TEXTS.get("cemantix_board_heading", language, code=board.code))} '
        f"{FLAGS[board.lang]}</h2><p>{escape(puzzle)} · {escape(counts)}</p>"
    ]
    if board.ended:
        parts.append(
            f'<p class="cx-secret">{escape(TEXTS.get("cemantix_board_secret", language, word=board.secret))}</p>'
        )
    else:
        parts.append(f'<div class="cx-join">{join}</div>')
    if not board.rows:
        parts.append(paragraph(TEXTS.get("cemantix_board_empty", language), "cx-empty"))
    else:
        head = "".join(
            f"<th>{escape(TEXTS.get(key, language))}</th>"
            for key in (
                "cemantix_board_place",
                "cemantix_board_player",
                "cemantix_board_guesses",
                "cemantix_board_time",
                "cemantix_board_best",
            )
        )
        rows = []
        for row in board.rows:
            if row.found_after is not None:
                best = f"🥳 {escape(TEXTS.get('cemantix_board_found', language))}"
            elif row.best_temperature is None:
                best = ""
            else:
                emoji = logic.heat_emoji(row.best_temperature, row.best_permille)
                best = f"{emoji} " + (
                    f"{row.best_permille} ‰"
                    if row.best_permille
                    else format_temperature(row.best_temperature, language)
                )
                if row.gave_up:
                    best += f" · 🏳️ {escape(TEXTS.get('cemantix_board_gave_up', language))}"
            guesses = str(row.guesses) + (f" (+{row.hints} 💡)" if row.hints else "")
            rows.append(
                f'<tr><td>{row.place}</td><td class="cx-word">{escape(row.nickname)}</td><td>{guesses}</td>'
                f"<td>{format_seconds(row.found_after)}</td><td>{best}</td></tr>"
            )
        parts.append(f'<table class="cx-table"><tr>{head}</tr>{"".join(rows)}</table>')
    parts.append("</div>")
    return "".join(parts)


def host_panel_html(code: str, language: str, lang: str, daily: bool, join_address: str | None) -> str:
    word = TEXTS.get("cemantix_mode_daily" if daily else "cemantix_mode_random", language)
    created = TEXTS.get(
        "cemantix_created",
        language,
        code=escape(code),
        words_language=escape(language_name(lang, language)),
        word=escape(word),
    )
    links = [
        f'<a href="?tab=cemantix&board={escape(code)}" target="_blank">'
        f"{escape(TEXTS.get('cemantix_board_link', language))} ↗</a>"
    ]
    if join_address:
        links.append(
            f"{escape(TEXTS.get('cemantix_join_link', language))} : "
            f'<a href="{escape(join_address)}">{escape(join_address)}</a>{cached_qr_code(join_address)}'
        )
    return (
        f'<div class="cx-host"><p>{created}</p><p>{"</p><p>".join(links)}</p>'
        f"<p>{escape(TEXTS.get('cemantix_host_hint', language))}</p></div>"
    )


# --- explorer --------------------------------------------------------------------------------


def word_list_html(pairs: list[tuple[str, float]], language: str) -> str:
    rows = "".join(
        f'<tr><td class="cx-number">{rank}</td><td class="cx-word">{escape(word)}</td>'
        f'<td class="cx-temperature">{format_number(cosine, language, 3)}</td>'
        f'<td class="cx-temperature">{format_temperature(cosine * 100, language)}</td></tr>'
        for rank, (word, cosine) in enumerate(pairs, start=1)
    )
    head = (
        f'<tr><th class="cx-number">#</th><th>{escape(TEXTS.get("cemantix_column_word", language))}</th>'
        "<th>cos</th><th>°C</th></tr>"
    )
    return f'<table class="cx-table">{head}{rows}</table>'


# --- the tab ---------------------------------------------------------------------------------


def prepare(hub: Hub) -> None:
    """The night before (python -m shared.prefetch): both vocabularies built into the cache."""
    for lang in LANGUAGES:
        load_vocabulary(hub, lang)


def warm_up(hub: Hub) -> None:
    """Build or load both vocabularies and rank today's words, so the first guesses answer at once."""
    for lang in LANGUAGES:
        vocabulary = load_vocabulary(hub, lang)
        vocabulary.ranking(logic.daily_secret(vocabulary, logic.puzzle_day()))


def missing_sources(hub: Hub) -> list[str]:
    """What keeps the game from starting, as remedies (finding a package folder is instant)."""
    missing = []
    for key in (*VECTOR_SOURCES.values(), FREQUENCY_SOURCE):
        try:
            hub.weights.locate(key)
        except WeightsUnavailable as unavailable:
            missing.append(str(unavailable))
    return missing


def build(hub: Hub) -> None:
    rooms = room_rules.Rooms()

    def vocabulary(lang: str, progress, language: str):
        """The vocabulary, telling the user while it is built (first use on this machine)."""
        words_language = language_name(lang, language)

        def report(fraction: float, step: str) -> None:
            progress(fraction, desc=TEXTS.get(f"cemantix_build_{step}", language, words_language=words_language))

        try:
            return load_vocabulary(hub, lang, report)
        except WeightsUnavailable as missing:
            raise gr.Error(TEXTS.get("cemantix_missing", language, reason=str(missing))) from None

    def record_in_room(session: Session) -> None:
        game = session.game
        if game is not None and game.room_code:
            best = game.best
            rooms.record(
                game.room_code,
                session.player_id,
                game.guesses,
                game.hints,
                best.temperature if best else None,
                best.permille if best else None,
                game.outcome == logic.FOUND,
                game.outcome == logic.GAVE_UP,
            )

    def close_if_room_ended(session: Session, language: str) -> str:
        """A room's game ends for everyone when its creator reveals the word."""
        game = session.game
        if game is not None and game.room_code and not game.over and rooms.is_ended(game.room_code):
            game.give_up()
            return TEXTS.get("cemantix_room_ended", language, code=game.room_code, word=game.secret)
        return ""

    def game_view(session: Session, language: str, message: str, good: bool, **action):
        game = session.game
        share = (
            gr.Textbox(value=share_text(game, language), visible=True)
            if game and game.over
            else gr.Textbox(value="", visible=False)
        )
        status = paragraph(message, "cx-good" if good else "cx-problem")
        return (
            session,
            header_html(game, language),
            status,
            history_html(game, language),
            share,
            reveal_html(game, language),
            game_state(game, **action),
        )

    # ---- layout
    gr.Markdown(TEXTS.label("cemantix_intro"))
    notice = gr.HTML(elem_classes=["cx-status"])
    session_state = gr.State(None)
    with gr.Column(visible=False) as board_panel:
        board_code = gr.Textbox(visible=False)
        board = gr.HTML(elem_id="cemantix-board")
        board_timer = gr.Timer(BOARD_REFRESH_SECONDS, active=False)
    with gr.Tabs(elem_id="cemantix-sections") as sections:
        with gr.Tab(TEXTS.label("cemantix_play_tab"), id="play"):
            header = gr.HTML(elem_id="cemantix-header")
            word = gr.Textbox(
                label=TEXTS.label("cemantix_word"),
                show_label=False,
                placeholder=TEXTS.label("cemantix_word_placeholder"),
                max_lines=1,
                submit_btn=True,
                elem_id="cemantix-word",
                html_attributes=gr.InputHTMLAttributes(
                    autocapitalize="off", autocorrect="off", spellcheck=False, autocomplete="off"
                ),
            )
            status = gr.HTML(elem_classes=["cx-status"], elem_id="cemantix-status")
            history = gr.HTML(elem_id="cemantix-history")
            with gr.Row():
                hint_button = gr.Button(TEXTS.label("cemantix_hint"), size="sm", min_width=100, elem_id="cemantix-hint")
                give_up_button = gr.Button(
                    TEXTS.label("cemantix_give_up"), size="sm", min_width=100, elem_id="cemantix-give-up"
                )
            share = gr.Textbox(
                label=TEXTS.label("cemantix_share"),
                visible=False,
                interactive=False,
                lines=2,
                buttons=["copy"],
                elem_id="cemantix-share",
            )
            reveal = gr.HTML(elem_id="cemantix-reveal")
            result = gr.JSON(visible=False)
            with gr.Accordion(TEXTS.label("cemantix_new_game_heading"), open=False):
                language_choice = gr.Radio(
                    [("Français", "fr"), ("English", "en")], value="fr", label=TEXTS.label("cemantix_words_language")
                )
                mode_choice = gr.Radio(
                    [(TEXTS.label("cemantix_mode_daily"), "daily"), (TEXTS.label("cemantix_mode_random"), "random")],
                    value="daily",
                    label=TEXTS.label("cemantix_mode"),
                )
                start_button = gr.Button(TEXTS.label("cemantix_start"), variant="primary", elem_id="cemantix-start")
            with gr.Accordion(TEXTS.label("cemantix_rules_heading"), open=False):
                gr.Markdown(TEXTS.label("cemantix_rules"))
        with gr.Tab(TEXTS.label("cemantix_room_tab"), id="room"):
            gr.Markdown(TEXTS.label("cemantix_room_intro"))
            gr.Markdown(TEXTS.label("cemantix_join_heading"))
            with gr.Group():
                room_code = gr.Textbox(
                    label=TEXTS.label("cemantix_room_code"), max_lines=1, max_length=12, elem_id="cemantix-room-code"
                )
                nickname = gr.Textbox(
                    label=TEXTS.label("cemantix_nickname"),
                    max_lines=1,
                    max_length=room_rules.MAX_NICKNAME_LENGTH,
                    elem_id="cemantix-nickname",
                )
            join_button = gr.Button(TEXTS.label("cemantix_join"), variant="primary", elem_id="cemantix-join")
            room_status = gr.HTML(elem_classes=["cx-status"])
            with gr.Accordion(TEXTS.label("cemantix_create_heading"), open=False):
                room_language = gr.Radio(
                    [("Français", "fr"), ("English", "en")], value="fr", label=TEXTS.label("cemantix_words_language")
                )
                room_mode = gr.Radio(
                    [(TEXTS.label("cemantix_mode_daily"), "daily"), (TEXTS.label("cemantix_mode_random"), "random")],
                    value="daily",
                    label=TEXTS.label("cemantix_mode"),
                )
                create_button = gr.Button(TEXTS.label("cemantix_create"), elem_id="cemantix-create")
                host_panel = gr.HTML()
                end_button = gr.Button(
                    TEXTS.label("cemantix_end_room"), variant="stop", visible=False, elem_id="cemantix-end-room"
                )
        with gr.Tab(TEXTS.label("cemantix_explorer_tab"), id="explorer"):
            gr.Markdown(TEXTS.label("cemantix_explorer_intro"))
            explorer_language = gr.Radio(
                [("Français", "fr"), ("English", "en")], value="fr", label=TEXTS.label("cemantix_words_language")
            )
            with gr.Accordion(TEXTS.label("cemantix_neighbours_heading"), open=True):
                neighbour_word = gr.Textbox(label=TEXTS.label("cemantix_first_word"), max_lines=1)
                neighbours_button = gr.Button(TEXTS.label("cemantix_show"), size="sm")
                neighbours_view = gr.HTML()
            with gr.Accordion(TEXTS.label("cemantix_similarity_heading"), open=True):
                with gr.Row():
                    similar_first = gr.Textbox(label=TEXTS.label("cemantix_first_word"), max_lines=1, min_width=120)
                    similar_second = gr.Textbox(label=TEXTS.label("cemantix_second_word"), max_lines=1, min_width=120)
                similarity_button = gr.Button(TEXTS.label("cemantix_show"), size="sm")
                similarity_view = gr.HTML()
            with gr.Accordion(TEXTS.label("cemantix_analogy_heading"), open=True):
                with gr.Row():
                    analogy_words = [
                        gr.Textbox(label=TEXTS.label(key), max_lines=1, min_width=90)
                        for key in ("cemantix_first_word", "cemantix_second_word", "cemantix_third_word")
                    ]
                analogy_button = gr.Button(TEXTS.label("cemantix_show"), size="sm")
                analogy_view = gr.HTML()

    game_outputs = [session_state, header, status, history, share, reveal, result]

    # ---- the game
    def guess(text: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = session or Session()
        if session.game is None:  # the first word starts the daily game, in the page's language
            session.game = logic.daily_game(vocabulary(language, progress, language))
        ended_message = close_if_room_ended(session, language)
        if ended_message:
            return *game_view(session, language, ended_message, False, word=None, counted=False), gr.skip()
        game = session.game
        outcome = game.guess(text)
        record_in_room(session)
        if outcome.found:
            message, good = end_message(game, language), True
        elif outcome.counted:
            message, good = "", True
        else:
            message, good = problem_message(outcome, language), False
        view = game_view(
            session,
            language,
            message,
            good,
            word=outcome.word,
            counted=outcome.counted,
            temperature=outcome.temperature,
            permille=outcome.permille,
            problem=outcome.problem,
        )
        # A counted word leaves the box for the next one; a refused one stays, to be corrected.
        return *view, ("" if outcome.counted or outcome.problem == logic.REPEATED else gr.skip())

    gr.on(
        [word.submit],
        guess,
        [word, session_state],
        [*game_outputs, word],
        api_name="cemantix_guess",
        show_progress="full",
        show_progress_on=[status],
    )

    def hint(session: Session | None, request: gr.Request):
        language = request_language(request)
        session = session or Session()
        game = session.game
        ended_message = close_if_room_ended(session, language)
        given = game.hint() if game is not None and not ended_message else None
        record_in_room(session)
        if ended_message:
            message = ended_message
        elif given is None:
            message = TEXTS.get("cemantix_no_hint", language)
        else:
            message = TEXTS.get("cemantix_hint_given", language, word=given.word)
        hint_fields = {} if given is None else {"temperature": given.temperature, "permille": given.permille}
        return game_view(
            session, language, message, given is not None, hint=given.word if given else None, **hint_fields
        )

    hint_button.click(hint, [session_state], game_outputs, api_name="cemantix_hint", show_progress="hidden")

    def give_up(session: Session | None, request: gr.Request):
        language = request_language(request)
        session = session or Session()
        game = session.game
        if game is None or game.over:
            return game_view(session, language, TEXTS.get("cemantix_problem_game_over", language), False)
        message = close_if_room_ended(session, language)
        game.give_up()
        record_in_room(session)
        return game_view(session, language, message or end_message(game, language), True)

    give_up_button.click(give_up, [session_state], game_outputs, api_name="cemantix_give_up", show_progress="hidden")

    def new_game(lang: str, mode: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = session or Session()
        lang = lang if lang in LANGUAGES else language
        words = vocabulary(lang, progress, language)
        if mode == "random":
            session.game = logic.Game(lang, logic.random_secret(words), words)
            message = TEXTS.get("cemantix_new_random", language, words_language=language_name(lang, language))
        else:
            session.game = logic.daily_game(words)
            message = TEXTS.get(
                "cemantix_new_daily",
                language,
                number=session.game.puzzle_number,
                words_language=language_name(lang, language),
            )
        return game_view(session, language, message, True)

    start_button.click(
        new_game,
        [language_choice, mode_choice, session_state],
        game_outputs,
        api_name="cemantix_new_game",
        show_progress_on=[status],
    )

    # ---- rooms
    def join_room(code: str, name: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = session or Session()
        try:
            ticket = rooms.join(code, name, session.player_id)
        except room_rules.RoomError as error:
            return (
                session,
                paragraph(room_error_message(error, language), "cx-problem"),
                gr.skip(),
                *[gr.skip()] * (len(game_outputs) - 1),
            )
        words = vocabulary(ticket.lang, progress, language)
        session.game = logic.Game(ticket.lang, ticket.secret, words, ticket.puzzle_number, ticket.code)
        joined = TEXTS.get("cemantix_joined", language, code=ticket.code, nickname=room_rules.clean_nickname(name))
        view = game_view(session, language, joined, True)
        return view[0], paragraph(joined, "cx-good"), gr.Tabs(selected="play"), *view[1:]

    join_button.click(
        join_room,
        [room_code, nickname, session_state],
        [session_state, room_status, sections, *game_outputs[1:]],
        api_name="cemantix_join_room",
    )

    def create_room(lang: str, mode: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        session = session or Session()
        lang = lang if lang in LANGUAGES else language
        words = vocabulary(lang, progress, language)
        daily = mode != "random"
        day = logic.puzzle_day()
        secret = logic.daily_secret(words, day) if daily else logic.random_secret(words)
        try:
            code, host_key = rooms.create(lang, secret, logic.puzzle_number(day) if daily else None)
        except room_rules.RoomError as error:
            return session, paragraph(room_error_message(error, language), "cx-problem"), gr.skip()
        session.hosted_room = (code, host_key)
        panel = host_panel_html(code, language, lang, daily, join_url(hub, request, code))
        return session, panel, gr.Button(visible=True)

    create_button.click(
        create_room,
        [room_language, room_mode, session_state],
        [session_state, host_panel, end_button],
        api_name="cemantix_create_room",
    )

    def end_room(session: Session | None, request: gr.Request):
        language = request_language(request)
        if session is None or session.hosted_room is None:
            return paragraph(TEXTS.get("cemantix_no_hosted_room", language), "cx-problem")
        code, host_key = session.hosted_room
        try:
            ended = rooms.end(code, host_key)
        except room_rules.RoomError as error:
            return paragraph(room_error_message(error, language), "cx-problem")
        return board_html(ended, language, None)

    end_button.click(end_room, [session_state], [host_panel], api_name="cemantix_end_room")

    def show_board(code: str, request: gr.Request):
        language = request_language(request)
        try:
            current = rooms.board(code)
        except room_rules.RoomError as error:
            return paragraph(room_error_message(error, language), "cx-problem")
        return board_html(current, language, None if current.ended else join_url(hub, request, current.code))

    board_timer.tick(show_board, [board_code], [board], api_name="cemantix_board", show_progress="hidden")

    # ---- explorer
    def explorer_words(lang: str, texts: list[str], progress, language: str):
        """The vocabulary and the cleaned words, or a message saying what is wrong with one."""
        words = vocabulary(lang if lang in LANGUAGES else language, progress, language)
        cleaned = []
        for text in texts:
            candidate, problem = logic.clean_guess(text)
            if problem is None and candidate not in words:
                problem = logic.UNKNOWN
            if problem is not None:
                reason = problem_message(logic.GuessResult(candidate, False, None, None, problem), language)
                return words, None, paragraph(reason, "cx-problem")
            cleaned.append(candidate)
        return words, cleaned, ""

    def hidden_words(session: Session | None, lang: str) -> set[str]:
        """The secret of the session's game in progress stays out of the explorer's lists."""
        game = session.game if session else None
        return {game.secret} if game is not None and not game.over and game.lang == lang else set()

    def hidden_note(hidden: set[str], language: str) -> str:
        return paragraph(TEXTS.get("cemantix_hidden_secret", language), "cx-empty") if hidden else ""

    def neighbours(lang: str, text: str, session: Session | None, request: gr.Request, progress=gr.Progress()):
        language = request_language(request)
        words, cleaned, problem = explorer_words(lang, [text], progress, language)
        if cleaned is None:
            return problem
        hidden = hidden_words(session, words.lang)
        found = words.neighbours(cleaned[0], NEIGHBOURS_SHOWN, hidden)
        return word_list_html(found, language) + hidden_note(hidden, language)

    neighbours_button.click(
        neighbours,
        [explorer_language, neighbour_word, session_state],
        [neighbours_view],
        api_name="cemantix_neighbours",
    )
    neighbour_word.submit(
        neighbours, [explorer_language, neighbour_word, session_state], [neighbours_view], api_visibility="private"
    )

    def similarity(
        lang: str, first: str, second: str, session: Session | None, request: gr.Request, progress=gr.Progress()
    ):
        language = request_language(request)
        words, cleaned, problem = explorer_words(lang, [first, second], progress, language)
        if cleaned is None:
            return problem
        cosine = words.similarity(*cleaned)
        text = TEXTS.get(
            "cemantix_similarity_result",
            language,
            first=cleaned[0],
            second=cleaned[1],
            cosine=format_number(cosine, language, 3),
            temperature=format_temperature(cosine * 100, language),
        )
        return paragraph(text, "cx-good")

    similarity_button.click(
        similarity,
        [explorer_language, similar_first, similar_second, session_state],
        [similarity_view],
        api_name="cemantix_similarity",
    )

    def analogy(
        lang: str,
        positive: str,
        negative: str,
        added: str,
        session: Session | None,
        request: gr.Request,
        progress=gr.Progress(),
    ):
        language = request_language(request)
        words, cleaned, problem = explorer_words(lang, [positive, negative, added], progress, language)
        if cleaned is None:
            return problem
        hidden = hidden_words(session, words.lang)
        found = words.analogy(*cleaned, ANALOGIES_SHOWN, hidden)
        title = TEXTS.get(
            "cemantix_analogy_result", language, positive=cleaned[0], negative=cleaned[1], added=cleaned[2]
        )
        return paragraph(title, "cx-good") + word_list_html(found, language) + hidden_note(hidden, language)

    analogy_button.click(
        analogy, [explorer_language, *analogy_words, session_state], [analogy_view], api_name="cemantix_analogy"
    )

    explorer_inputs = [neighbour_word, similar_first, similar_second, *analogy_words]

    def explorer_examples(lang: str):
        return [gr.Textbox(value=value) for value in EXPLORER_EXAMPLES[lang]]

    explorer_language.input(
        explorer_examples, [explorer_language], explorer_inputs, api_visibility="private", queue=False
    )

    # ---- on page load (no inputs: a pure load event)
    def on_load(request: gr.Request):
        language = request_language(request)
        parameters = request.query_params
        board_wanted = room_rules.clean_code(parameters.get("board"))
        missing = missing_sources(hub)
        message = " ".join(TEXTS.get("cemantix_missing", language, reason=reason) for reason in missing)
        return (
            paragraph(message, "cx-problem"),
            header_html(None, language, pending_lang=language),
            history_html(None, language),
            *[gr.Radio(value=language)] * 3,  # the words' language follows the page's at first
            gr.Column(visible=bool(board_wanted)),
            gr.Tabs(visible=not board_wanted, selected="room" if parameters.get("room") else "play"),
            board_wanted,
            show_board(board_wanted, request) if board_wanted else "",
            gr.Timer(active=bool(board_wanted)),
            room_rules.clean_code(parameters.get("room")),
            *explorer_examples(language),
        )

    gr.on(
        None,
        on_load,
        None,
        [
            notice,
            header,
            history,
            language_choice,
            room_language,
            explorer_language,
            board_panel,
            sections,
            board_code,
            board,
            board_timer,
            room_code,
            *explorer_inputs,
        ],
        api_visibility="private",
        queue=False,
    )
