"""A structural check for regexes that backtrack quadratically (ReDoS), without timing anything.

The shape that makes Python's backtracking engine quadratic on a run of n characters is two unbounded
quantifiers that can share that run, with nothing between them that must consume a character outside
it: ``\\s*[(]?\\s*\\d`` on n blanks tries every split of the blanks between the two ``\\s*`` before
failing at ``\\d``.  Likewise a quantified group whose body itself holds an unbounded quantifier.
:func:`ambiguous_runs` walks the parsed pattern and reports each such pair; possessive quantifiers
(``\\s*+``) and atomic groups never give back what they took, so they are never part of a pair.

Character classes are compared on a sample of characters (ASCII, Latin-1, general punctuation,
CJK symbols, kana, some kanji, full-width forms), enough for the classes readers use.

>>> ambiguous_runs(r"\\s*[(]?\\s*\\d")
['\\\\s* then \\\\s* can split the same run']
>>> ambiguous_runs(r"\\s*(?:[(]\\s*)?\\d"), ambiguous_runs(r"\\s*+[(]?\\s*\\d")
([], [])
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

__all__ = ["ambiguous_runs"]

_SAMPLE = "".join(
    chr(c)
    for lo, hi in ((0, 0x250), (0x2000, 0x2070), (0x3000, 0x3100), (0x4E00, 0x4E40), (0x9000, 0x9010),
                   (0xFF00, 0xFFF0))
    for c in range(lo, hi)
)
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT}
_CHAR_OPS = {C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY, C.CATEGORY}
_CATEGORY = {
    C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_DIGIT: r"\d",
    C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
}


def _chars(op: Any, av: Any, flags: int) -> frozenset[str]:
    """The sample characters one single-character node matches."""
    key = (int(op), repr(av), flags)
    if key not in _CACHE:
        _CACHE[key] = _chars_uncached(op, av, flags)
    return _CACHE[key]


_CACHE: dict[tuple[int, str, int], frozenset[str]] = {}


def _chars_uncached(op: Any, av: Any, flags: int) -> frozenset[str]:
    def one(op: Any, av: Any) -> frozenset[str]:
        if op is C.LITERAL:
            ch = chr(av)
            return frozenset(c for c in {ch, ch.lower(), ch.upper()} if len(c) == 1 and _eq(c, ch))
        if op is C.NOT_LITERAL:
            return frozenset(ch for ch in _SAMPLE if not _eq(ch, chr(av)))
        if op is C.ANY:
            return frozenset(ch for ch in _SAMPLE if ch != "\n" or flags & re.DOTALL)
        if op is C.CATEGORY:
            return frozenset(re.findall(_CATEGORY[av], _SAMPLE))
        if op is C.RANGE:
            return frozenset(ch for ch in _SAMPLE if av[0] <= ord(ch) <= av[1]
                             or (flags & re.IGNORECASE and len(ch.lower()) == 1 and av[0] <= ord(ch.lower()) <= av[1]))
        if op is C.IN:
            negate = bool(av) and av[0][0] is C.NEGATE
            got = frozenset().union(*(one(o, a) for o, a in av[negate:]))
            return frozenset(_SAMPLE) - got if negate else got
        raise ValueError(f"not a character node: {op}")

    def _eq(a: str, b: str) -> bool:
        return a == b or bool(flags & re.IGNORECASE and a.lower() == b.lower())

    return one(op, av)


def _nullable(op: Any, av: Any) -> bool:
    return P.SubPattern(P.State(), [(op, av)]).getwidth()[0] == 0


def _runs(op: Any, av: Any, flags: int, edge: int) -> list[tuple[str, frozenset[str]]]:
    """Unbounded single-class repeats at the start (edge 0) or end (edge -1) of a node: (text, chars)."""
    if op in _REPEATS:
        lo, hi, body = av
        if hi == C.MAXREPEAT and len(body) == 1 and body[0][0] in _CHAR_OPS:
            return [(_show(body[0]) + ("*" if lo == 0 else "+"), _chars(*body[0], flags))]
        return _seq_runs(list(body), flags, edge)
    if op is C.SUBPATTERN:
        return _seq_runs(list(av[-1]), flags, edge)
    if op is C.BRANCH:
        return [r for alt in av[1] for r in _seq_runs(list(alt), flags, edge)]
    return []


def _seq_runs(items: list[tuple[Any, Any]], flags: int, edge: int) -> list[tuple[str, frozenset[str]]]:
    out: list[tuple[str, frozenset[str]]] = []
    for op, av in (items if edge == 0 else reversed(items)):
        out += _runs(op, av, flags, edge)
        if not _nullable(op, av):
            break
    return out


def _show(node: tuple[Any, Any]) -> str:
    op, av = node
    if op is C.CATEGORY:
        return _CATEGORY[av]
    if op is C.LITERAL:
        return re.escape(chr(av))
    if op is C.IN and len(av) == 1 and av[0][0] is C.CATEGORY:
        return _CATEGORY[av[0][1]]
    return "[...]" if op is C.IN else "."


def _inside(op: Any, av: Any, chars: frozenset[str], flags: int) -> frozenset[str]:
    """The characters of ``chars`` of which the node can match a run (all of them when it can match nothing)."""
    if _nullable(op, av):
        return chars
    if op in _CHAR_OPS:
        return chars & _chars(op, av, flags)
    if op in _REPEATS:
        return _inside_seq(list(av[2]), chars, flags)
    if op is C.SUBPATTERN:
        return _inside_seq(list(av[-1]), chars, flags)
    if op is C.BRANCH:
        return frozenset().union(*(_inside_seq(list(alt), chars, flags) for alt in av[1]))
    return frozenset()


def _inside_seq(items: list[tuple[Any, Any]], chars: frozenset[str], flags: int) -> frozenset[str]:
    for op, av in items:
        chars = _inside(op, av, chars, flags)
    return chars


def _check_seq(items: list[tuple[Any, Any]], flags: int, found: list[str]) -> None:
    for i, (op, av) in enumerate(items):
        for name, chars in _runs(op, av, flags, -1):
            # The run shrinks to what every character-consuming node between the two can also match.
            for op2, av2 in items[i + 1:]:
                clash = [n2 for n2, c2 in _runs(op2, av2, flags, 0) if c2 & chars]
                if clash:
                    found.append(f"{name} then {clash[0]} can split the same run")
                    break
                chars = _inside(op2, av2, chars, flags)
                if not chars:
                    break
        _check_node(op, av, flags, found)


def _check_node(op: Any, av: Any, flags: int, found: list[str]) -> None:
    if op in _REPEATS:
        lo, hi, body = av
        if hi == C.MAXREPEAT and not (len(body) == 1 and body[0][0] in _CHAR_OPS):
            # One pass's trailing run meeting the next pass's leading run splits like two adjacent ones.
            first, last = _seq_runs(list(body), flags, 0), _seq_runs(list(body), flags, -1)
            if P.SubPattern(P.State(), list(body)).getwidth()[0] == 0 or any(a & b for _, a in last for _, b in first):
                found.append("an unbounded quantifier over a group that has one inside")
        _check_seq(list(body), flags, found)
    elif op is C.SUBPATTERN:
        _check_seq(list(av[-1]), flags, found)
    elif op is C.BRANCH:
        for alt in av[1]:
            _check_seq(list(alt), flags, found)
    elif op in (C.ASSERT, C.ASSERT_NOT):
        _check_seq(list(av[1]), flags, found)
    elif op is C.ATOMIC_GROUP:
        _check_seq(list(av), flags, found)
    elif op is C.POSSESSIVE_REPEAT:
        _check_seq(list(av[2]), flags, found)


def ambiguous_runs(pattern: str | re.Pattern[str], flags: int = 0) -> list[str]:
    """The quadratic shapes in ``pattern`` (empty when it has none); see the module doc."""
    if isinstance(pattern, re.Pattern):
        pattern, flags = pattern.pattern, pattern.flags
    parsed = P.parse(pattern, flags)
    found: list[str] = []
    _check_seq(list(parsed), parsed.state.flags, found)
    return found
