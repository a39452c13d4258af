"""What a vendor adapter hands to :func:`kasuhara_nlp.readers.vendors.vendor_records`, and the helpers to walk lists.

An adapter (one per vendor, in :mod:`.vendors` and :mod:`.chat_exports`) yields ``(locator, message)``: the JSON
pointer of the message and either a message dict or, for a part that cannot be read, the item itself or an
:class:`Unreadable` saying why, which becomes an error record.  A message dict holds ``id``, ``conversation``,
``text``, ``html`` (True, False, or None: look), ``role`` and ``basis`` (the vendor field that gave the role),
``time`` as ``(value, vendor field name)`` (the name goes into ``timestamp-unreadable:<field>``), and optionally
``visibility``, ``channel``, ``subject`` and ``author``.

>>> [(loc, m) for loc, m in each([{"id": 1}, 7], "/value", lambda d: {"id": d["id"]})]
[('/value/0', {'id': 1}), ('/value/1', 7)]
>>> list(each({"id": 1}, "/value", dict))
[('/value', 'expected a list of messages, got dict')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Unreadable", "dicts", "each", "not_a"]


class Unreadable(str):
    """Why a message, or a list or conversation of them, cannot be read: its JSON type is wrong."""


def not_a(expected: str, value: Any) -> Unreadable:
    """The reason for a value of the wrong JSON type (its type only, never its content).

    >>> not_a("a list of messages", "返金しろ")
    'expected a list of messages, got str'
    """
    return Unreadable(f"expected {expected}, got {type(value).__name__}")


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list; nothing when ``value`` is no list.

    >>> dicts([{"a": 1}, 2, None]), dicts({"a": 1})
    ([{'a': 1}], [])
    """
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def each(items: Any, prefix: str, message: Callable[[dict[str, Any]], dict[str, Any]]
         ) -> Iterator[tuple[str, Any]]:
    """``(f"{prefix}/{i}", message(item))`` for each item of a vendor's list of messages (None: no messages).

    An item that is no object is passed on as it is, and a list that is no list as an :class:`Unreadable`, for
    ``vendor_records`` to make an error record of: one broken item neither stops the file nor is lost.
    """
    if items is None:
        return
    if not isinstance(items, list):
        yield prefix, not_a("a list of messages", items)
        return
    for i, item in enumerate(items):
        yield f"{prefix}/{i}", message(item) if isinstance(item, dict) else item
