"""The Cémantix tab through its API endpoints (gradio_client against an in-process hub): the
secret never reaches a browser before the end, bad input gets a clear message, sessions and
rooms stay apart."""

import html
import re
from datetime import date, timedelta

import pytest
from hub_server import hub_in_process

from spaces.cemantix import logic
from spaces.cemantix.ui import TEXTS
from spaces.cemantix.vocabulary import read_blocklist

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

# /cemantix_guess answers: header, status, history, share, reveal, state (JSON), word box.
HEADER, STATUS, HISTORY, SHARE, REVEAL, STATE = range(6)


def quiet_day(french) -> date:
    """A day whose French daily word appears in none of the tab's texts, so that finding it as a
    word in an answer can only mean a leak."""
    texts = " ".join(" ".join(by_language.values()) for by_language in TEXTS.by_language.values()).lower()
    day = date(2026, 5, 1)
    while re.search(rf"\b{logic.daily_secret(french, day)}\b", texts):
        day += timedelta(days=1)
    return day


@pytest.fixture(scope="module")
def hub_url(cemantix_hub, french, english):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logic, "puzzle_day", lambda now=None: quiet_day(french))
        with hub_in_process(cemantix_hub, {"cemantix": "spaces.cemantix.ui"}) as url:
            yield url


@pytest.fixture
def secret(french):
    return logic.daily_secret(french, quiet_day(french))


@pytest.fixture
def client(hub_url):
    return Client(hub_url, verbose=False)  # a new client is a new browser session


def assert_secret_absent(outputs, secret: str) -> None:
    shown = " ".join(map(str, outputs if isinstance(outputs, (tuple, list)) else [outputs]))
    assert not re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", shown), f"the secret {secret!r} leaked: {shown[:500]}"


def test_the_secret_stays_on_the_server_until_the_end(client, secret, french):
    guess = lambda text: client.predict(text, api_name="/cemantix_guess")  # noqa: E731
    for word in (
        "arbre",
        "Forêt",
        "",
        "deux mots",
        "123",
        "x" * 10_000,
        "<img src=x onerror=alert(1)>",
        "🌲",
        "xqzwv",
        "arbre",
        "maison",
    ):
        assert_secret_absent(guess(word), secret)
    for _ in range(3):
        assert_secret_absent(client.predict(api_name="/cemantix_hint"), secret)
    nearest = french.words[logic.Game("fr", secret, french).ranking.nearest[1]]
    assert_secret_absent(client.predict("fr", nearest, api_name="/cemantix_neighbours"), secret)
    assert_secret_absent(client.predict("fr", nearest, "forêt", "arbre", api_name="/cemantix_analogy"), secret)
    created = client.predict("fr", "daily", api_name="/cemantix_create_room")
    code = re.search(r'class="cx-code">(\w+)<', created[0] if isinstance(created, (tuple, list)) else created).group(1)
    assert_secret_absent(created, secret)
    assert_secret_absent(client.predict(code, api_name="/cemantix_board"), secret)

    answer = client.predict(api_name="/cemantix_give_up")
    assert answer[STATE]["over"] and answer[STATE]["secret"] == secret
    assert secret in answer[REVEAL] and "<svg" in answer[REVEAL]
    assert answer[SHARE]["value"].startswith(
        f"Cémantix #{logic.puzzle_number(quiet_day(french))} — abandon après 3 coups 🏳️ (3 indices)"
    )
    # After the end, the explorer shows every word again.
    neighbours = client.predict("fr", nearest, api_name="/cemantix_neighbours")
    assert re.search(rf">{re.escape(secret)}<", neighbours)


def test_the_secret_scores_100_degrees_through_the_api(client, secret):
    answer = client.predict(secret.upper(), api_name="/cemantix_guess")
    state = answer[STATE]
    assert (state["temperature"], state["permille"], state["counted"], state["outcome"]) == (100.0, 1000, True, "found")
    assert "1000" in answer[HISTORY] and "🥳" in answer[HISTORY]
    assert answer[SHARE]["value"].splitlines()[0].endswith("trouvé en 1 coup 🥳")
    late = client.predict("arbre", api_name="/cemantix_guess")
    assert not late[STATE]["counted"] and "La partie est finie" in late[STATUS]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Tapez un mot."),
        ("   ", "Tapez un mot."),
        ("deux mots", "Un seul mot à la fois"),
        ("42", "Pas de chiffres"),
        ("x" * 10_000, "30 lettres au plus"),
        ("<img src=x onerror=alert(1)>", "Un seul mot à la fois"),
        ("<b>gras</b>", "Seulement des lettres"),
        ("🌲", "Seulement des lettres"),
        ("xqzwv", "Je ne connais pas « xqzwv »"),
        ("chevals", "Essayez « cheval »"),
    ],
)
def test_bad_input_gets_a_clear_message_and_costs_nothing(client, text, message):
    first = client.predict("arbre", api_name="/cemantix_guess")
    answer = client.predict(text, api_name="/cemantix_guess")
    assert message in answer[STATUS] and "Traceback" not in answer[STATUS]
    assert not answer[STATE]["counted"] and answer[STATE]["guesses"] == first[STATE]["guesses"] == 1
    assert answer[HISTORY] == first[HISTORY]
    for output in answer[:STATE]:
        assert "<img" not in str(output) and "<b>gras" not in str(output)  # escaped wherever shown


def test_forêt_is_normalised_and_a_repeat_does_not_count(client):
    first = client.predict("  Forêt ", api_name="/cemantix_guess")
    assert first[STATE]["word"] == "forêt" and first[STATE]["counted"] and first[-1] == ""
    again = client.predict("FORÊT", api_name="/cemantix_guess")
    assert not again[STATE]["counted"] and "déjà dans la liste (coup n°1)" in again[STATUS]
    assert again[STATE]["guesses"] == 1


def test_two_browsers_never_see_each_others_game(hub_url):
    alice, bob = Client(hub_url, verbose=False), Client(hub_url, verbose=False)
    alice.predict("en", "random", api_name="/cemantix_new_game")
    alice_answer = alice.predict("forest", api_name="/cemantix_guess")
    bob_answer = bob.predict("maison", api_name="/cemantix_guess")
    assert "forest" not in bob_answer[HISTORY] and "maison" not in alice_answer[HISTORY]
    assert (alice_answer[STATE]["words_language"], alice_answer[STATE]["puzzle"]) == ("en", None)
    assert (bob_answer[STATE]["words_language"], bob_answer[STATE]["guesses"]) == ("fr", 1)
    alice_end = alice.predict(api_name="/cemantix_give_up")
    assert_secret_absent(bob.predict("arbre", api_name="/cemantix_guess"), alice_end[STATE]["secret"])


def room_code(created) -> str:
    return re.search(r'class="cx-code">(\w+)<', created[0] if isinstance(created, (tuple, list)) else created).group(1)


def test_a_lecture_room_from_creation_to_reveal(hub_url, secret):
    teacher, student, other = (Client(hub_url, verbose=False) for _ in range(3))
    created = teacher.predict("fr", "daily", api_name="/cemantix_create_room")  # the daily word, on purpose
    code = room_code(created)
    assert "mot du jour" in created

    assert "Pas de salle" in student.predict("ZZZZ", "Élève", api_name="/cemantix_join_room")[0]
    assert "Choisissez un autre pseudo" in html.unescape(
        student.predict(code, "Grosse salope", api_name="/cemantix_join_room")[0]
    )
    joined = student.predict(code.lower(), "<i>Élève</i>", api_name="/cemantix_join_room")
    assert f"salle {code}" in joined[0] and joined[1 + STATE]["room"] == code
    other.predict(code, "Bob", api_name="/cemantix_join_room")
    for word in ("arbre", "maison"):
        student.predict(word, api_name="/cemantix_guess")
    again = student.predict(code, "<i>Élève</i>", api_name="/cemantix_join_room")  # a second tap on « Rejoindre »
    assert again[1 + STATE]["guesses"] == 2  # the game goes on
    other.predict("arbre", api_name="/cemantix_guess")
    other.predict(secret, api_name="/cemantix_guess")
    board = teacher.predict(code, api_name="/cemantix_board")
    assert "&lt;i&gt;Élève&lt;/i&gt;" in board and "<i>" not in board and ">2<" in board
    assert "2 joueurs" in board and "1 a trouvé" in board and "<svg" in board
    assert_secret_absent(board, secret)
    for word in ("arbre", "maison"):  # no word before the end
        assert not re.search(rf"(?<!\w){word}(?!\w)", board)
    assert "Pas de salle" in student.predict("ZZZZ", api_name="/cemantix_board")

    assert "Créez d'abord une salle" in html.unescape(student.predict(api_name="/cemantix_end_room"))
    ended = teacher.predict(api_name="/cemantix_end_room")
    assert f"Le mot était <b>{secret}</b>" in ended
    # The final ranking: who found it, in how many guesses; the closest of the others, and theirs.
    ranking = re.findall(r'<td class="cx-word">([^<]+)</td><td>([^<]*)</td><td>(\d+)</td>', ended)
    assert [(nickname, found.startswith("🥳 trouvé"), guesses) for nickname, found, guesses in ranking] == [
        ("Bob", True, "2"),
        ("&lt;i&gt;Élève&lt;/i&gt;", False, "2"),
    ]
    cloud = re.search(r'<div class="cx-cloud">(.*?)</div>', ended).group(1)
    assert re.findall(r">(\w+)</span>", cloud) == [
        "arbre",
        "maison",
    ]  # the room's words (the secret is the map's centre)
    assert 'title="arbre × 2"' in cloud and 'class="cx-map"' in ended
    assert f"Le mot était <b>{secret}</b>" in teacher.predict(code, api_name="/cemantix_board")
    # A word typed as the room ended: kept in the history and answered with the end, not « abandon ».
    after = student.predict("voiture", api_name="/cemantix_guess")
    assert after[STATE]["over"] and after[STATE]["outcome"] == logic.ROOM_ENDED
    assert f"La salle {code} est terminée" in after[STATUS] and "voiture" in after[HISTORY]
    assert f"La partie est terminée : le mot était <b>{secret}</b>" in after[REVEAL]
    share = after[SHARE]["value"]  # an update: the share box shows at the end
    assert "partie terminée après 3 coups" in share and "abandon" not in share


def test_a_room_plays_a_random_word_unless_the_host_picks_the_daily_one(hub_url, secret):
    """The daily word is public: a student who gave it up in « Jouer » would know the room's."""
    for _ in range(3):
        host, student = Client(hub_url, verbose=False), Client(hub_url, verbose=False)
        code = room_code(host.predict("fr", "random", api_name="/cemantix_create_room"))
        student.predict(code, "Alice", api_name="/cemantix_join_room")
        answer = student.predict(secret, api_name="/cemantix_guess")
        assert not answer[STATE]["over"] and answer[STATE]["puzzle"] is None
        ended = host.predict(api_name="/cemantix_end_room")
        assert f"Le mot était <b>{secret}</b>" not in ended


def test_the_explorer(client):
    assert ">reine<" in client.predict("fr", "roi", "homme", "femme", api_name="/cemantix_analogy")
    assert ">queen<" in client.predict("en", "king", "man", "woman", api_name="/cemantix_analogy")
    assert "cos(« chat », « chien »)" in client.predict("fr", "Chat", "chien", api_name="/cemantix_similarity")
    assert "Je ne connais pas" in client.predict("fr", "xqzwv", api_name="/cemantix_neighbours")
    # An adult word may be typed, but its neighbours shown are clean.
    blocked = read_blocklist("fr")
    for word in ("coquine", "chat"):
        shown = re.findall(r'class="cx-word">(\w+)<', client.predict("fr", word, api_name="/cemantix_neighbours"))
        assert len(shown) == 20 and not set(shown) & blocked, sorted(set(shown) & blocked)


def test_an_english_browser_gets_english_messages(hub_url):
    english_client = Client(hub_url, verbose=False, headers={"Accept-Language": "en-GB,en;q=0.9"})
    answer = english_client.predict("12", api_name="/cemantix_guess")
    assert "No digits" in answer[STATUS] and answer[STATE]["words_language"] == "en"


def test_a_refused_nickname_says_why_in_the_pages_language():
    from shared.rooms import RoomError, clean_nickname
    from spaces.cemantix.board import room_error_message

    def said(nickname: str, language: str) -> str:
        with pytest.raises(RoomError) as refused:
            clean_nickname(nickname)
        return room_error_message(refused.value, language)

    assert said("🧑🏿‍🔬" * 23, "fr") == "Ce pseudo a 23 caractères : 20 au plus."
    assert said("x" * 21, "en") == "This nickname has 21 characters: 20 at most."
    assert said("Zoé\u200b", "fr") == "Ce pseudo contient un caractère invisible ou de contrôle : retirez-le."
    assert said("  ", "en") == "Choose a nickname of 1 to 20 characters."
    assert clean_nickname(" Zoé  🧑🏿‍🔬 ") == "Zoé 🧑🏿‍🔬"


def test_finding_a_saved_game_again_draws_no_spinner_over_the_word_box(settings):
    from app import build_hub
    from shared.hub import Hub

    blocks = build_hub(Hub(settings), {"cemantix": "spaces.cemantix.ui"}).blocks
    resume = next(block for block in blocks.blocks.values() if getattr(block, "elem_id", None) == "cemantix-resume")
    events = [fn for fn in blocks.fns.values() if any(target[0] == resume._id for target in fn.targets)]
    assert events and [fn.show_progress for fn in events] == ["hidden"] * len(events)
