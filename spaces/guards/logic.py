"""« Gardes-fous »: the game around the guards (Gradio-free). A player picks a level, writes a
prompt to an assistant whose system prompt holds a secret word, and proves the level by typing
the word; the guards of the level (guards.py) stop what they catch, and the page names them.

The secrets stay on the server: a player's game is found by an id (`Players`), a room's in its
record (`GuardRooms`); a secret reaches a phone only inside an answer that got past the guards.
A room plays prompt golf: per level, the shortest prompt whose shown answer revealed the secret,
counted once its player proved the level, shown once the host closes the level or ends the game.
"""

from __future__ import annotations

import secrets as random_source
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from shared.rooms import RoomError, RoomKeeper, clean_nickname
from spaces.guards.guards import (
    GUARD_STAGE,
    LEVELS,
    POST,
    Level,
    blocking_input_guard,
    blocking_output_guard,
    reveals_secret,
    system_prompt,
)

MAX_PROMPT_CHARACTERS = 500  # a Gandalf prompt is a few lines; a pasted page is refused, not cut
MAX_GUESS_CHARACTERS = 60
MAX_NEW_TOKENS = 60  # an answer's length: enough to leak a word, short enough for a room
ATTEMPTS_PER_MINUTE = 6  # and one at a time: a phone cannot flood the model the room shares
GOLF_SHOWN = 3  # per closed level, the board's shortest prompts
MAX_PLAYERS = 20_000  # solo games kept (the least recently seen dropped first): a few hundred bytes each
# A level's secret when IAGEN_GUARD_SECRETS sets none: French common nouns, none of them a word
# the blocklist refuses, all plain to type on a phone.
FRENCH_NOUNS = (
    "baleine",
    "citrouille",
    "parapluie",
    "girafe",
    "boussole",
    "lanterne",
    "tournesol",
    "escargot",
    "horloge",
    "papillon",
    "montagne",
    "cerise",
    "chocolat",
    "dauphin",
    "volcan",
    "grenouille",
    "trompette",
    "pingouin",
    "fromage",
    "nuage",
    "tortue",
    "framboise",
    "aquarelle",
    "hérisson",
    "ananas",
    "cactus",
    "toboggan",
    "moustache",
    "fusée",
    "igloo",
    "kangourou",
    "mandarine",
    "pélican",
    "violon",
    "marmotte",
    "crocodile",
    "coquillage",
    "bougie",
    "écureuil",
    "sablier",
)

# BadInput keys (texts.py has a sentence for each).
EMPTY_PROMPT, LONG_PROMPT, EMPTY_GUESS, LONG_GUESS, NO_SUCH_LEVEL, LOCKED_LEVEL, BUSY, TOO_MANY = (
    "guards_empty_prompt",
    "guards_long_prompt",
    "guards_empty_guess",
    "guards_long_guess",
    "guards_no_such_level",
    "guards_locked_level",
    "guards_busy",
    "guards_too_many",
)


class BadInput(ValueError):
    """What a player sent that cannot be used: `key` names the sentence that says why."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key = key
        self.values = values


def level_of(number) -> Level:
    """The level numbered `number` (from 1; whatever an API client sent), or BadInput."""
    try:
        value = float(number)
    except (TypeError, ValueError):
        raise BadInput(NO_SUCH_LEVEL, given=str(number)[:20], last=len(LEVELS)) from None
    if value != value or not value.is_integer() or not 1 <= value <= len(LEVELS):
        raise BadInput(NO_SUCH_LEVEL, given=str(number)[:20], last=len(LEVELS))
    return LEVELS[int(value) - 1]


def checked_prompt(prompt) -> str:
    prompt = "" if prompt is None else str(prompt)
    if not prompt.strip():
        raise BadInput(EMPTY_PROMPT)
    if len(prompt) > MAX_PROMPT_CHARACTERS:
        raise BadInput(LONG_PROMPT, count=len(prompt), limit=MAX_PROMPT_CHARACTERS)
    return prompt


def checked_guess(word) -> str:
    word = " ".join(("" if word is None else str(word)).split())
    if not word:
        raise BadInput(EMPTY_GUESS)
    if len(word) > MAX_GUESS_CHARACTERS:
        raise BadInput(LONG_GUESS, limit=MAX_GUESS_CHARACTERS)
    return word


def folded(word: str) -> str:
    """A word as a guess is compared: case and accents aside (« Hérisson » is « herisson »)."""
    decomposed = unicodedata.normalize("NFKD", " ".join(word.split()).casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def has_output_guard(level: Level) -> bool:
    """Whether the level reads the whole answer before showing it (it cannot stream it)."""
    return any(GUARD_STAGE[guard] == POST for guard in level.guards)


def level_secrets(setting: str, choose: Callable[[tuple[str, ...]], str] = random_source.choice) -> tuple[str, ...]:
    """One secret a level: IAGEN_GUARD_SECRETS' words (comma-separated, one a level, the last for
    the levels beyond), else a French noun drawn for each level, no two levels alike."""
    given = [word.strip() for word in setting.split(",") if word.strip()]
    if given:
        return tuple(given[min(index, len(given) - 1)] for index in range(len(LEVELS)))
    drawn: list[str] = []
    while len(drawn) < len(LEVELS):
        word = choose(FRENCH_NOUNS)
        if word not in drawn:
            drawn.append(word)
    return tuple(drawn)


class FloodGate:
    """One phone's attempts: one at a time, at most ATTEMPTS_PER_MINUTE in any minute."""

    def __init__(self, per_minute: int = ATTEMPTS_PER_MINUTE, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.busy = False
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def enter(self) -> None:
        """An attempt begins, or BadInput says why not (and, for the rate, when to try again)."""
        with self._lock:
            now = self.clock()
            while self._starts and now - self._starts[0] >= 60:
                self._starts.popleft()
            if self.busy:
                raise BadInput(BUSY)
            if len(self._starts) >= self.per_minute:
                raise BadInput(TOO_MANY, limit=self.per_minute, seconds=max(1, round(60 - (now - self._starts[0]))))
            self.busy = True
            self._starts.append(now)

    def leave(self) -> None:
        with self._lock:
            self.busy = False


@dataclass
class Player:
    """One browser's game, on the server (its id is all the browser's gr.State holds)."""

    id: str
    secrets: tuple[str, ...]  # solo play's, one a level
    passed: set[int] = field(default_factory=set)  # solo levels proved
    gate: FloodGate = field(default_factory=FloodGate)  # its attempts
    guess_gate: FloodGate = field(default_factory=FloodGate)  # its guesses: no trying a list of words
    room_code: str = ""  # the room it plays in, if any
    nickname: str = ""
    hosted: tuple[str, str] | None = None  # (code, host key) of the room it opened


class Players:
    """Every browser's game by id, bounded (the least recently seen goes first); thread-safe."""

    def __init__(self, secrets_setting: str = "", max_players: int = MAX_PLAYERS):
        self.secrets_setting = secrets_setting
        self.max_players = max_players
        self._players: OrderedDict[str, Player] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, player_id: str | None) -> Player:
        """The player of `player_id`, or (a first action, an unknown id) a new one."""
        with self._lock:
            player = self._players.get(player_id or "")
            if player is None:
                player = Player(random_source.token_urlsafe(16), level_secrets(self.secrets_setting))
                self._players[player.id] = player
                while len(self._players) > self.max_players:
                    self._players.popitem(last=False)
            self._players.move_to_end(player.id)
            return player


# A room's phones are sent an answer's growth four times a second, not at each token: each update
# is Gradio's work in the hub's process (its payload, its event to the phone), and at one token a
# phone the room's 33 players cost more of it than the model's passes (benchmarks/load_harness.py
# lecture_guards: half the attempts timed out).
SHOWN_EVERY_S = 0.25


@dataclass
class Shown:
    """What the page shows of an attempt, at each step."""

    answer: str = ""  # the answer as shown: empty while an output guard holds it back
    blocked_by: str | None = None  # the key of the guard that blocked the attempt
    tokens: int = 0  # written so far
    held_back: bool = False  # the level's output guard will read the answer before it is shown
    done: bool = False


def attempt(
    level: Level,
    prompt: str,
    secret: str,
    language: str,
    classifier,
    answer_stream: Callable[[str, str], Iterator[str]],
    shown_every_s: float = SHOWN_EVERY_S,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Shown]:
    """One attempt, step by step: the input guards first (a blocked prompt costs no model run),
    then the model's answer (`answer_stream(system prompt, prompt)`: its text as it grows), streamed
    or, at a level with an output guard, held back until the guard has read all of it. The answer
    so far is shown at its first token, then every `shown_every_s` at most, then whole."""
    guard = blocking_input_guard(level, prompt, classifier)
    if guard is not None:
        yield Shown(blocked_by=guard, done=True)
        return
    held_back = has_output_guard(level)
    text, tokens, shown_at = "", 0, None
    for tokens, text in enumerate(answer_stream(system_prompt(level, secret, language), prompt), start=1):
        now = clock()
        if shown_at is None or now - shown_at >= shown_every_s:
            shown_at = now
            yield Shown("" if held_back else text, None, tokens, held_back)
    blocked_by = blocking_output_guard(level, text, secret) if held_back else None
    yield Shown("" if blocked_by else text, blocked_by, tokens, held_back, done=True)


def answer_texts(tokenizer, tokens: Iterable[int | None]) -> Iterator[str]:
    """The answer's text after each item of a `shared.batching.GreedyTokens` stream (a token's id,
    or None for the end token): one text per item, so that an answer's tokens are counted. Half a
    character waits for the bytes that complete it."""
    ids: list[int] = []
    text = ""
    for token_id in tokens:
        if token_id is not None:
            ids.append(token_id)
            decoded = tokenizer.decode(ids, skip_special_tokens=True)
            if not decoded.endswith("\ufffd"):
                text = decoded
        yield text


def chat_prompt_ids(tokenizer, system: str, prompt: str) -> list[int]:
    """What the assistant reads: the system prompt and the player's message in its chat template,
    thinking off (Qwen3's template; others ignore the variable)."""
    encoded = tokenizer.apply_chat_template(
        [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        enable_thinking=False,
    )
    return list(encoded["input_ids"])


# ---- the room


@dataclass
class RoomPlayer:
    nickname: str
    joined_at: float
    passed: set[int] = field(default_factory=set)
    # level -> the shortest prompt whose shown answer revealed the secret (counted once proved)
    shortest: dict[int, str] = field(default_factory=dict)


@dataclass
class GuardRoom:
    code: str
    secrets: tuple[str, ...]
    host_key: str
    created_at: float
    last_activity: float
    players: dict[str, RoomPlayer] = field(default_factory=dict)  # by player id
    closed: set[int] = field(default_factory=set)  # levels whose prompt golf is shown
    ended: bool = False


@dataclass(frozen=True)
class BoardRow:
    nickname: str
    highest: int  # the highest level passed, 0 for none


@dataclass(frozen=True)
class LevelResult:
    number: int
    passed_by: int  # players who proved it
    shown: bool  # closed, or the game ended: its golf and its secret are on the board
    golf: tuple[tuple[str, str], ...] = ()  # (nickname, prompt), shortest first: only when shown
    secret: str | None = None  # only when shown


@dataclass(frozen=True)
class Board:
    code: str
    rows: tuple[BoardRow, ...]  # highest level first
    levels: tuple[LevelResult, ...]
    ended: bool


class GuardRooms(RoomKeeper[GuardRoom]):
    """Every guards-game room of this server; thread-safe (each method holds one lock briefly)."""

    def create(self, secrets: tuple[str, ...]) -> tuple[str, str]:
        """A new room playing `secrets` (one a level): its code and its host key."""
        with self._lock:
            return self._create(lambda code, host_key, now: GuardRoom(code, secrets, host_key, now, now))

    def join(self, code: str, nickname: str, player_id: str) -> tuple[str, str]:
        """The room's code and the nickname as the board shows it."""
        nickname = clean_nickname(nickname, self.refused_nickname_words)
        with self._lock:
            room = self._join(code, nickname, player_id, RoomPlayer)
            return room.code, nickname

    def secret(self, code: str, level: int) -> str:
        """A level's secret, for the attempt of a player of the room (server side only)."""
        with self._lock:
            return self._room(code).secrets[level - 1]

    def passed(self, code: str, player_id: str) -> set[int]:
        with self._lock:
            return set(self._player(code, player_id).passed)

    def record_attempt(self, code: str, player_id: str, level: int, prompt: str, shown_answer: str) -> None:
        """An attempt's prompt, kept for prompt golf if its shown answer revealed the secret."""
        with self._lock:
            room = self._room(code)
            player = self._player(code, player_id)
            room.last_activity = self.clock()
            if room.ended or not reveals_secret(shown_answer, room.secrets[level - 1]):
                return
            if level not in player.shortest or len(prompt) < len(player.shortest[level]):
                player.shortest[level] = prompt

    def prove(self, code: str, player_id: str, level: int, word: str) -> bool:
        """Whether `word` is the level's secret; the level is then passed."""
        with self._lock:
            room = self._room(code)
            player = self._player(code, player_id)
            room.last_activity = self.clock()
            right = folded(word) == folded(room.secrets[level - 1])
            if right and not room.ended:
                player.passed.add(level)
            return right

    def close_level(self, code: str, host_key: str, level: int) -> Board:
        """Show a level's prompt golf and its secret: only with the host key."""
        with self._lock:
            room = self._hosted(code, host_key)
            room.closed.add(level)
            return self._board(room)

    def _player(self, code: str, player_id: str) -> RoomPlayer:
        player = self._room(code).players.get(player_id)
        if player is None:  # the room expired and a new one took its code: play on alone
            raise RoomError("no_such_room", code=code)
        return player

    def _board(self, room: GuardRoom) -> Board:
        players = list(room.players.values())
        rows = tuple(
            sorted(
                (BoardRow(player.nickname, max(player.passed, default=0)) for player in players),
                key=lambda row: (-row.highest, row.nickname.casefold()),
            )
        )
        levels = []
        for level in LEVELS:
            number = level.number
            shown = room.ended or number in room.closed
            golf = ()
            if shown:
                proved = [
                    (player.nickname, player.shortest[number])
                    for player in players
                    if number in player.passed and number in player.shortest
                ]
                golf = tuple(sorted(proved, key=lambda entry: (len(entry[1]), entry[0].casefold()))[:GOLF_SHOWN])
            passed_by = sum(number in player.passed for player in players)
            secret = room.secrets[number - 1] if shown else None
            levels.append(LevelResult(number, passed_by, shown, golf, secret))
        return Board(room.code, rows, tuple(levels), room.ended)
