"""Find the line of a policy key in TOML source text, so that a policy error can name file *and* line.

:mod:`tomllib` gives positions only for syntax errors; the values it returns carry none.  This reads the
text once more, line by line, tracking ``[table]`` / ``[[array]]`` headers, and records where each key
path (as policy errors spell it: ``rules[2].min_severity``, ``destinations.mail.to``, ``staff.山田.manager``)
is first written.  It is best-effort: a key it cannot place (inside an inline table or a multi-line
value) falls back to its nearest enclosing key or table, and to None when there is none.

>>> text = 'state_dir = "s"\\n[[rules]]\\ndestinations = ["queue"]\\n[[rules]]\\nmin_severity = 5\\n'
>>> locate = key_locator(text)
>>> locate("rules[1].min_severity"), locate("rules[1]"), locate("state_dir"), locate("hours.start")
(5, 4, 1, None)
>>> key_locator('[staff."山田 花子"]\\nmanager = ""\\n')('staff."山田 花子".manager')
2
"""

from __future__ import annotations

import re
from typing import Callable

__all__ = ["key_locator", "split_key"]

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*(?P<name>[^\[\]]+?)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(r"""^\s*(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_PART = re.compile(r"""[A-Za-z0-9_-]+|"((?:[^"\\]|\\.)*)"|'([^']*)'""")
_ERROR_KEY = re.compile(r'^(?P<key>(?:[^\s:"]|"[^"]*")+):\s')


def _dotted(text: str) -> list[str]:
    """``staff."山田 花子".manager`` -> ['staff', '山田 花子', 'manager'] (TOML's dotted-key rules)."""
    parts = []
    for m in _PART.finditer(text):
        parts.append(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(0))
    return parts


def split_key(message: str) -> str | None:
    """The key a policy error message starts with (``rules[2].min_severity: must be 0-3``), or None.

    >>> split_key("rules[2].min_severity: must be 0-3, got 5"), split_key("not valid TOML")
    ('rules[2].min_severity', None)
    >>> split_key('staff."山田 花子".manager: give the manager')
    'staff."山田 花子".manager'

    """
    m = _ERROR_KEY.match(message)
    return m.group("key") if m else None


def _path_parts(key: str) -> list[str]:
    # "rules[2].min_severity" -> ["rules[2]", "min_severity"]; quoted parts keep their dots.
    out = []
    for m in re.finditer(r'"[^"]*"|[^.]+', key):
        part = m.group(0)
        out.append(part[1:-1] if part.startswith('"') else part)
    return out


def key_locator(text: str) -> Callable[[str], int | None]:
    """A function from an error's key path to the 1-based line it is written on (or its enclosing table's)."""
    where: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        m = _ARRAY_HEADER.match(line)
        if m:
            name = tuple(_dotted(m.group("name")))
            index = counts.get(name, 0)
            counts[name] = index + 1
            table = name[:-1] + (f"{name[-1]}[{index}]",)
            where.setdefault(table, n)
            continue
        m = _TABLE_HEADER.match(line)
        if m:
            table = tuple(_dotted(m.group("name")))
            where.setdefault(table, n)
            continue
        m = _KEY_LINE.match(line)
        if m:
            parts = table + tuple(_dotted(m.group("key")))
            for i in range(len(table) + 1, len(parts) + 1):  # a dotted key defines its prefixes too
                where.setdefault(parts[:i], n)

    def locate(key: str) -> int | None:
        parts = tuple(_path_parts(key))
        while parts:
            if parts in where:
                return where[parts]
            parts = parts[:-1]
        return None

    return locate
