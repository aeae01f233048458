"""The bounded cache of recent values: made once while kept, the least recently read dropped past the budget."""

from __future__ import annotations

from asyncstt.recent import RecentValues


def test_a_value_is_made_once_while_it_is_kept() -> None:
    made: list[str] = []
    recent: RecentValues[str, bytes] = RecentValues(budget=100)

    def make(key: str) -> bytes:
        made.append(key)
        return key.encode() * 10

    assert recent.get("a", lambda: make("a"), len) == b"a" * 10
    assert recent.get("a", lambda: make("a"), len) == b"a" * 10
    assert made == ["a"]


def test_the_least_recently_read_go_first_once_the_budget_is_spent() -> None:
    made: list[str] = []
    recent: RecentValues[str, bytes] = RecentValues(budget=100)

    def get(key: str) -> bytes:
        def make() -> bytes:
            made.append(key)
            return b"x" * 25

        return recent.get(key, make, len)

    for key in "abcd":
        get(key)
    get("a")  # read again: "b" is now the least recent
    get("e")  # 125 bytes: one must go
    made.clear()
    for key in "acde":
        get(key)
    assert made == []
    get("b")
    assert made == ["b"]


def test_a_value_over_a_quarter_of_the_budget_is_made_each_time() -> None:
    made: list[int] = []
    recent: RecentValues[str, bytes] = RecentValues(budget=100)

    def make() -> bytes:
        made.append(1)
        return b"x" * 26

    for _ in range(2):
        recent.get("big", make, len)
    assert len(made) == 2
