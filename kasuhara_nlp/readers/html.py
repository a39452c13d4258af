"""HTML mail bodies to plain text, dropping the DOM containers that hold quoted history.

Many Japanese business mails are HTML-only.  Mail clients wrap the quoted original in known
containers (Gmail ``gmail_quote``, Apple/Thunderbird ``blockquote type=cite``, Outlook
``divRplyFwdMsg``/``appendonsend``), which are removed before the text is taken, and so is a plain
``<blockquote>`` drawn as a quote (a left border) or placed after an attribution line.

>>> html_to_text('<div>返金しろ<br>今すぐ</div><div class="gmail_quote">引用</div>')
'返金しろ\\n今すぐ'
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

__all__ = ["html_to_text", "meta_charset"]

_QUOTE_SELECTORS = (
    "div.gmail_quote", "blockquote.gmail_quote", "div.gmail_attr", "blockquote[type=cite]",
    "div.moz-cite-prefix", "div#divRplyFwdMsg", "div.yahoo_quoted", "div.freshdesk_quote", "blockquote.freshdesk_quote",
    "div#mail-editor-reference-message-container",
)
# Outlook: everything after these markers is the quoted original.
_TAIL_SELECTORS = ("div#appendonsend",)
_OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)", re.IGNORECASE)
# A <blockquote> is quoted history when the mailer drew the quote bar (a left border that is not "none":
# Yahoo! JAPAN, webmail), gave it a cite, or put it right after an attribution line ("…wrote:",
# "…のメッセージ:", "…のメール:", "… <addr>:").  Gmail's "indent" button writes a blockquote with
# border:none: that is the customer's own indented text, and stays.
_QUOTE_BORDER = re.compile(r"border-left\s*:\s*(?!\s*(?:none|0(?:px)?)\s*(?:;|$))", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(?:wrote|schrieb|a écrit|書きました|のメッセージ|のメール|>)\s*[:：]\s*$", re.IGNORECASE)
_BLOCKS = ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)


def meta_charset(raw: bytes) -> str | None:
    """The charset a ``<meta>`` tag declares (used only when MIME gives none).

    >>> meta_charset(b'<meta charset="Shift_JIS">')
    'Shift_JIS'
    """
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii") if m else None


def _drop_tail(node) -> None:
    """Remove ``node`` and everything after it in document order (the quoted original)."""
    cur = node
    while cur is not None and cur.name not in ("body", "html", "[document]"):
        for sib in list(cur.next_siblings):
            sib.extract()
        cur = cur.parent
    node.extract()


def _is_quote_block(tag: Tag) -> bool:
    """True for a <blockquote> that holds quoted history (see _QUOTE_BORDER)."""
    if tag.get("cite") or _QUOTE_BORDER.search(str(tag.get("style") or "")):
        return True
    for text in tag.find_all_previous(string=True, limit=20):
        if text.strip():
            return bool(_ATTRIBUTION_END.search(text.strip()))
    return False


def html_to_text(html: str) -> str:
    """Convert an HTML body to text: quotes, style, script and head removed; blocks become lines.

    >>> html_to_text("<p>一</p><p>二&amp;三</p><style>p{}</style>")
    '一\\n二&三'
    """
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "head", "title"]):
        tag.decompose()
    for selector in _QUOTE_SELECTORS:
        for tag in soup.select(selector):
            tag.decompose()
    for tag in soup.find_all("blockquote"):
        if not tag.decomposed and _is_quote_block(tag):
            tag.decompose()
    for selector in _TAIL_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            _drop_tail(found)
    border = soup.find(style=_OUTLOOK_BORDER)
    if border is not None:
        _drop_tail(border)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_after("\n")
    text = soup.get_text()
    text = text.replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
