"""Lecture rooms: joining, the board's ranking, limits, expiry, and no secret before the end."""

import pytest

from shared.rooms import (
    NICKNAME_EMPTY,
    NICKNAME_INVISIBLE,
    NICKNAME_REFUSED,
    NICKNAME_TAKEN,
    NICKNAME_TOO_LONG,
    NO_SUCH_ROOM,
    NOT_HOST,
    ROOM_ENDED,
    ROOM_FULL,
    TOO_MANY_ROOMS,
    RoomError,
)
from spaces.cemantix.rooms import Rooms


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def room_error(call) -> str:
    with pytest.raises(RoomError) as raised:
        call()
    return raised.value.reason


def test_players_join_with_a_code_and_get_the_rooms_game(clock):
    rooms = Rooms(clock=clock)
    code, _ = rooms.create("fr", "forêt", 695)
    ticket = rooms.join(f" {code.lower()} ", "  Alice  ", "player-1")  # codes are forgiving
    assert (ticket.code, ticket.words_language, ticket.secret, ticket.puzzle_number) == (code, "fr", "forêt", 695)
    assert rooms.board(code).rows[0].nickname == "Alice"
    assert room_error(lambda: rooms.join("ZZZZ", "Bob", "player-2")) == NO_SUCH_ROOM


def test_nicknames_are_checked_and_unique_in_a_room(clock):
    rooms = Rooms(clock=clock)
    code, _ = rooms.create("fr", "forêt", None)
    rooms.join(code, "Alice", "player-1")
    assert room_error(lambda: rooms.join(code, "alice", "player-2")) == NICKNAME_TAKEN
    rooms.record(code, "player-1", 3, 0, 20.0, None, found=False, gave_up=False)
    rooms.join(code, "Alicia", "player-1")  # the same browser may join again, under a new name
    assert [(row.nickname, row.guesses) for row in rooms.board(code).rows] == [("Alicia", 3)]
    for bad, reason in (
        ("", NICKNAME_EMPTY),
        ("   ", NICKNAME_EMPTY),
        ("x" * 21, NICKNAME_TOO_LONG),
        ("nul\x00", NICKNAME_INVISIBLE),
        ("a\u202eb", NICKNAME_INVISIBLE),  # a right-to-left override would turn the board's text around
    ):
        assert room_error(lambda bad=bad: rooms.join(code, bad, "player-3")) == reason
    rooms.join(code, "<b>Bob</b>", "player-3")  # markup is kept as text: the board escapes it
    assert len(rooms.board(code).rows) == 2
    # Characters as a person counts them: an emoji with its skin tone and joiner is one.
    rooms.join(code, "Zoé 🧑🏿‍🔬", "player-4")
    rooms.join(code, "🏴󠁧󠁢󠁳󠁣󠁴󠁿" * 20, "player-5")  # a region's flag: one character of 7 code points
    assert room_error(lambda: rooms.join(code, "🧑🏿‍🔬" * 21, "player-6")) == NICKNAME_TOO_LONG


def test_the_board_ranks_by_guesses_then_time_and_hides_the_word_until_the_end(clock):
    rooms = Rooms(clock=clock)
    code, host_key = rooms.create("fr", "forêt", 695)
    for number, name in enumerate(("Alice", "Bob", "Chloé", "Dan")):
        rooms.join(code, name, f"player-{number}")
    clock.now += 60
    rooms.record(code, "player-0", 12, 0, 100.0, 1000, found=True, gave_up=False)
    clock.now += 30
    rooms.record(code, "player-1", 12, 1, 100.0, 1000, found=True, gave_up=False)
    rooms.record(code, "player-2", 8, 0, 100.0, 1000, found=True, gave_up=False)
    rooms.record(code, "player-3", 30, 2, 55.2, 991, found=False, gave_up=False)
    board = rooms.board(code)
    assert [row.nickname for row in board.rows] == ["Chloé", "Alice", "Bob", "Dan"]
    assert [row.place for row in board.rows] == [1, 2, 3, 4]
    assert (board.players, board.found, board.rows[1].found_after) == (4, 3, 60)
    assert board.secret is None and "forêt" not in repr(board)
    assert room_error(lambda: rooms.end(code, "not-the-key")) == NOT_HOST
    ended = rooms.end(code, host_key)
    assert ended.ended and ended.secret == "forêt"
    assert room_error(lambda: rooms.join(code, "Eve", "player-9")) == ROOM_ENDED
    rooms.record(code, "player-3", 31, 2, 100.0, 1000, found=True, gave_up=False)  # too late: ignored
    assert rooms.board(code).found == 3


def test_rooms_are_bounded_in_number_and_players(clock):
    rooms = Rooms(max_rooms=2, max_players=2, clock=clock)
    code, _ = rooms.create("fr", "forêt", None)
    rooms.create("en", "forest", None)
    assert room_error(lambda: rooms.create("fr", "chat", None)) == TOO_MANY_ROOMS
    rooms.join(code, "A", "1")
    rooms.join(code, "B", "2")
    assert room_error(lambda: rooms.join(code, "C", "3")) == ROOM_FULL


def test_rooms_expire_when_idle_or_too_old(clock):
    rooms = Rooms(idle_expiry=3600, max_age=3 * 3600, clock=clock)
    idle, _ = rooms.create("fr", "forêt", None)
    busy, _ = rooms.create("fr", "chat", None)
    rooms.join(busy, "A", "1")
    for _ in range(3):
        clock.now += 3000
        rooms.record(busy, "1", 1, 0, 10.0, None, found=False, gave_up=False)
    assert rooms.is_ended(idle) and not rooms.is_ended(busy) and len(rooms) == 1
    clock.now += 3000  # 3 h 20 after creation: too old, however busy
    assert room_error(lambda: rooms.board(busy)) == NO_SUCH_ROOM and len(rooms) == 0


def test_nicknames_holding_a_refused_word_are_refused(clock):
    rooms = Rooms(refused_nickname_words=frozenset({"salope", "xxx"}), clock=clock)
    code, _ = rooms.create("fr", "forêt", None)
    for bad in ("Salope", "la salope du 3e", "XXX_Tueur", "Élève-xxx"):
        assert room_error(lambda bad=bad: rooms.join(code, bad, "player-1")) == NICKNAME_REFUSED
    rooms.join(code, "Salopette", "player-1")  # a word that only starts like one is fine


def test_the_rooms_words_are_counted_and_shown_only_at_the_end(clock):
    rooms = Rooms(clock=clock)
    code, host_key = rooms.create("fr", "forêt", None)
    for number in range(3):
        rooms.join(code, f"P{number}", f"player-{number}")
    for number, word in [(0, "arbre"), (1, "arbre"), (2, "arbre"), (0, "bois"), (1, "bois"), (2, "maison")]:
        rooms.record(code, f"player-{number}", 1, 0, 20.0, None, found=False, gave_up=False, tried_word=word)
    rooms.record(code, "player-0", 2, 1, 30.0, 950, found=False, gave_up=False)  # a hint: no word
    assert rooms.board(code).tried_words == ()
    assert rooms.end(code, host_key).tried_words == (("arbre", 3), ("bois", 2), ("maison", 1))
