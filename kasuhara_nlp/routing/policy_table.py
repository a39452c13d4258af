"""Read typed keys from one table of a routing policy, so that every error names the key it is about.

policy_parse.py reads each table (``[hours]``, ``rules[2]``, ``destinations.mail`` ...) through a
:class:`Table`: a value of the wrong type or out of range, and a key that nothing read (a typo), are
errors that name the full key, e.g. ``hours.start: must be a time of day like "09:00", got '9時'``.

>>> t = Table({"attempts": 3, "atempts": 4}, "delivery", ValueError)
>>> t.number("attempts", 1, 1, 20)
3.0
>>> t.finish()
Traceback (most recent call last):
...
ValueError: delivery.atempts: unknown key; did you mean 'attempts'?
"""

from __future__ import annotations

import difflib
import re
from datetime import time
from typing import Any, Callable

from ..labels import SEVERITY_LEVELS

__all__ = ["Table", "clock", "severity", "toml_key"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(name: str) -> str:
    """A table name as the policy file writes it: bare, or quoted (``staff."山田 花子"``).

    >>> toml_key("mail"), toml_key("山田 花子")
    ('mail', '"山田 花子"')
    """
    return name if _BARE_KEY.match(name) else '"' + name.replace('"', '\\"') + '"'


class Table:
    """Read typed keys from one TOML table; unknown keys are errors with a suggestion.

    ``where`` is the table's key as errors spell it ("" for the top level); ``fail`` makes the exception
    to raise from a message (policy_parse's adds the file and line).
    """

    def __init__(self, data: Any, where: str, fail: Callable[[str], Exception]):
        self.where, self.fail, self.used = where, fail, set()
        if not isinstance(data, dict):
            raise fail(f"{where or 'policy'}: must be a table, got {type(data).__name__}")
        self.data = data

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a policy saying `attempts = true` is a mistake.
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"{self.key(name)}: must be {names}, got {value!r}")
        return value

    def number(self, name: str, default: float, lo: float, hi: float | None = None) -> float:
        value = float(self.get(name, (int, float), default))
        if value < lo or (hi is not None and value > hi):
            bound = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
            raise self.fail(f"{self.key(name)}: must be {bound}, got {value:g}")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name, (list, str), list(default))
        value = [value] if isinstance(value, str) else value
        if not all(isinstance(v, str) for v in value):
            raise self.fail(f"{self.key(name)}: must be a list of strings, got {value!r}")
        return tuple(value)

    def finish(self) -> None:
        for name in self.data:
            if name not in self.used:
                close = difflib.get_close_matches(name, sorted(self.used), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(self.used))}"
                raise self.fail(f"{self.key(name)}: unknown key{hint}")


def severity(t: Table, name: str, default: int) -> int:
    """A severity 0-3 from ``t``."""
    value = t.get(name, int, default)
    if value not in SEVERITY_LEVELS:
        raise t.fail(f"{t.key(name)}: must be 0-3, got {value}")
    return value


def clock(t: Table, name: str, default: time) -> time:
    """A time of day ("09:00", or a TOML local time) from ``t``; "24:00" is the end of the day.

    >>> clock(Table({"end": "24:00"}, "hours", ValueError), "end", time(18, 0))
    datetime.time(23, 59, 59, 999999)
    """
    value = t.get(name, (str, time), default)
    if isinstance(value, time):
        return value
    try:
        hh, mm = value.split(":")
        if hh == "24" and mm == "00":
            return time.max  # "24:00": until the end of the day
        return time(int(hh), int(mm))
    except ValueError:
        raise t.fail(f"{t.key(name)}: must be a time of day like \"09:00\", got {value!r}") from None
