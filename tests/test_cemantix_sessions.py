"""Players' sessions on the server: a browser's token finds its game again; anything else finds nothing."""

from spaces.cemantix.sessions import Sessions


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_finds_its_session_again():
    sessions = Sessions()
    session = sessions.new()
    session.nickname = "Alice"
    assert sessions.find(session.token) is session
    assert sessions.resume(session.token) == (session, True)
    assert len(session.token) >= 22  # 16 random bytes, URL-safe


def test_a_hand_edited_token_finds_nothing_and_starts_afresh():
    sessions = Sessions()
    real = sessions.new()
    one_off = real.token[:-1] + ("B" if real.token.endswith("A") else "A")
    for forged in (None, "", "x" * 22, one_off, {"token": real.token}, [real.token], 42):
        assert sessions.find(forged) is None
        fresh, found = sessions.resume(forged)
        assert not found and fresh is not real and fresh.game is None
    assert sessions.find(real.token) is real


def test_sessions_expire_unseen_and_are_bounded():
    clock = Clock()
    sessions = Sessions(max_sessions=3, idle_expiry=3600, clock=clock)
    first, second, third = sessions.new(), sessions.new(), sessions.new()
    sessions.find(first.token)  # seen: now the most recent
    fourth = sessions.new()  # one too many: the least recently seen (second) goes
    assert sessions.find(second.token) is None and len(sessions) == 3
    assert sessions.find(first.token) is first and sessions.find(fourth.token) is fourth
    clock.now += 3601
    assert sessions.find(third.token) is None
