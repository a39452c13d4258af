"""The line regexes of the readers, transcripts and segments never backtrack quadratically (ReDoS).

No timing: :mod:`tests.redos` checks the shape of every compiled pattern (two unbounded quantifiers
that can split one run of characters, with only optional or same-class text between them), and the
check itself is tested on shapes known to be quadratic and on their linear rewrites.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import kasuhara_nlp.readers
from kasuhara_nlp.turns import match_turn

from .redos import ambiguous_runs

_MODULES = ["kasuhara_nlp.turns", "kasuhara_nlp.segments", "kasuhara_nlp.forms", "kasuhara_nlp.signatures"] + [
    f"kasuhara_nlp.readers.{m.name}" for m in pkgutil.iter_modules(kasuhara_nlp.readers.__path__)
]


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for name in _MODULES:
        module = importlib.import_module(name)
        for attr, value in sorted(vars(module).items()):
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{name}.{attr}", value))
    return found


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=[n for n, _ in _patterns()])
def test_no_quadratic_regex_shape(name: str, pattern: re.Pattern[str]) -> None:
    assert ambiguous_runs(pattern) == [], name


@pytest.mark.parametrize(
    ("pattern", "quadratic"),
    [
        (r"\s*[\[(]?\s*\d", True),  # the .txt reader's _TIMED_LINE before the fix
        (r"\d\s*(?:曜日)?\s*$", True),  # _DATE_LINE
        (r"\]\s*(?P<n>[^:]{1,24}?)\s*[:：]", True),  # a bounded name that may be blanks, between blank runs
        (r"<\s*[^<>\s]+@[^<>\s]+\s*>", True),  # "@@@@…" splits between the two runs
        (r"(?:\s*x?)*y", True),  # nested
        (r"[ \t]* [ \t]*x", True),  # a literal blank between two blank runs
        (r"\s*(?:[\[(]\s*)?\d", False),
        (r"\s*+[\[(]?\s*\d", False),
        (r"\d\s*(?:曜日\s*)?$", False),
        (r"\s*は書きました\s*[:：]", False),
        (r".*\bwrote\s*:", False),
        (r"(?:re\s*[:：]\s*)+", False),
    ],
)
def test_the_shape_check_itself(pattern: str, quadratic: bool) -> None:
    assert bool(ambiguous_runs(pattern)) is quadratic


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The linear TURN_RE keeps what the old one made of names that are only blanks, dashes or tabs.
        ("[10:15]  ：x", (10, "", "10:15")),
        ("[10:15]\t：x", None),
        ("10:15  ：x", (8, "", "10:15")),
        ("10:15 ：x", None),
        ("10:15 -  ：x", (10, "", "10:15")),
        ("10:15 - ：x", (9, "-", "10:15")),
        ("10:15 - \t：", (10, "-", "10:15")),
        ("10:15 AM  ：x", (11, "", "10:15 AM")),
        ("[10:15] 山田 太郎 ：x", (15, "山田 太郎", "10:15")),
        ("10:15 - 山田: x", (12, "山田", "10:15")),
        ("[10:15]" + " " * 5000 + "x", None),
    ],
)
def test_turn_lines_read_as_before(line: str, expected: tuple[int, str, str] | None) -> None:
    turn = match_turn(line)
    assert (None if turn is None else (turn.prefix_end, turn.speaker, turn.time)) == expected
