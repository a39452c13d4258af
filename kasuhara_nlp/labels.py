"""The guideline's categories and severity levels: a public contract.

The category ids below are relied on by reports, routing policies and other
tools; never rename them.  Display names follow the wording of Japanese
company guidelines on customer harassment (カスタマーハラスメント).

>>> CATEGORIES
('abuse', 'demand', 'restraint', 'other_harassment')
>>> display_name("demand")
'過剰または不合理な要求'
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import LabelError


@dataclass(frozen=True)
class Category:
    """One harassment category of the guideline."""

    id: str
    name_ja: str
    name_en: str
    description: str


_CATEGORY_LIST: tuple[Category, ...] = (
    Category(
        "abuse",
        "暴力・暴言",
        "Violence and abusive language",
        "violence or threats of it, insults, 人格否定 (denying a person's worth), intimidation",
    ),
    Category(
        "demand",
        "過剰または不合理な要求",
        "Excessive or unreasonable demands",
        "土下座, money, compensation or service beyond what is owed, demands to punish staff, "
        "the same demand repeated after it was answered",
    ),
    Category(
        "restraint",
        "合理的範囲を超える時間的・場所的拘束",
        "Time or place restraint beyond reason",
        "hours-long calls or chats, summoning staff to a place, out-of-hours demands, floods of contact",
    ),
    Category(
        "other_harassment",
        "その他のハラスメント",
        "Other harassment",
        "セクハラ, requests for private contact, stalking, threats to expose staff on SNS, discrimination",
    ),
)

#: Category ids in their fixed order; model logits follow this order.
CATEGORIES: tuple[str, ...] = tuple(c.id for c in _CATEGORY_LIST)
CATEGORY_INFO: dict[str, Category] = {c.id: c for c in _CATEGORY_LIST}

#: Severity levels 0-3.  Severity >= 1 exactly when a category is flagged.
SEVERITY_NAMES_JA: dict[int, str] = {0: "なし", 1: "軽度", 2: "明確", 3: "重大"}
SEVERITY_NAMES_EN: dict[int, str] = {0: "none", 1: "mild", 2: "clear", 3: "severe"}
SEVERITY_LEVELS: tuple[int, ...] = (0, 1, 2, 3)


#: The label guide's subtype letters (A1-A6, B1-B7, C1-C5, D1-D4) and the category each belongs to.
SUBTYPE_CATEGORY: dict[str, str] = {"A": "abuse", "B": "demand", "C": "restraint", "D": "other_harassment"}


def subtype_categories(subtypes: list[str]) -> set[str]:
    """The categories a labelled record must carry for the subtypes it lists.

    B7 (a staff member's personal information) belongs to demand and, as the guide says, other_harassment.

    >>> sorted(subtype_categories(["A3", "B7"]))
    ['abuse', 'demand', 'other_harassment']
    """
    out = {SUBTYPE_CATEGORY[s[0]] for s in subtypes if s[:1] in SUBTYPE_CATEGORY}
    if "B7" in subtypes:
        out.add("other_harassment")
    return out


def _name_key(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


# Display names and ids in other case, which analysts type for ids, -> the id (for hints only).
_ID_BY_NAME: dict[str, str] = {_name_key(n): c.id for c in _CATEGORY_LIST for n in (c.id, c.name_ja, c.name_en)}


def display_name(category: str, lang: str = "ja") -> str:
    """Return the display name of a category id in Japanese ("ja") or English ("en").

    >>> display_name("abuse", "en")
    'Violence and abusive language'
    """
    info = CATEGORY_INFO.get(category)
    if info is None:
        raise LabelError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    return info.name_ja if lang == "ja" else info.name_en


def validate_labels(labels: list[str] | tuple[str, ...], severity: int | None = None) -> None:
    """Check that labels are known category ids and agree with the severity.

    A category's display name or an id in other case (``暴力・暴言``, ``Demand``) is refused with a hint
    naming the id to use.

    >>> validate_labels(["abuse"], 2)
    >>> validate_labels([], 0)
    >>> validate_labels(["暴力・暴言"], 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kasuhara_nlp.errors.LabelError: unknown label(s) ['暴力・暴言']; expected ids from ... (use 'abuse' for '暴力・暴言')
    """
    if isinstance(labels, str):  # "restraint" would otherwise be checked letter by letter
        raise LabelError(f'labels must be a list of category ids, e.g. ["abuse"], not the string {labels!r}')
    unknown = [label for label in labels if label not in CATEGORY_INFO]
    if unknown:
        hints = [f"{_ID_BY_NAME[_name_key(label)]!r} for {label!r}" for label in unknown
                 if isinstance(label, str) and _name_key(label) in _ID_BY_NAME]
        hint = f" (use {', '.join(hints)})" if hints else ""
        raise LabelError(f"unknown label(s) {unknown}; expected ids from {', '.join(CATEGORIES)}{hint}")
    if severity is None:
        return
    if severity not in SEVERITY_LEVELS:
        raise LabelError(f"severity must be one of 0, 1, 2, 3, got {severity!r}")
    if bool(labels) != (severity >= 1):
        raise LabelError(
            f"severity {severity} does not agree with labels {list(labels)}: "
            "severity >= 1 exactly when at least one category is present"
        )
