"""Signature blocks at the end of a mail's new text: a delimiter, then names, titles and contact lines.

Part of :mod:`kasuhara_nlp.segments`.  A customer's signature is PII and not their message; an agent's is
boilerplate.  But a rule or ``--`` line is also what customers draw above their own words, and a
postscript comes after the signature, so a block counts as a signature only when its first lines look like one
(no sentences; a rule needs two real contact lines: 〒, TEL, a phone number, a mail address, a URL, a company
name, and not the words 電話 or 担当, which nearly every complaint holds) and it ends at a ``P.S.``/``追伸``.

>>> lines = [(0, "返金しろ。", 0), (0, "-- ", 0), (0, "山田", 0), (0, "TEL 03-1234-5678", 0), (0, "P.S. 今日中だ。", 0)]
>>> kinds = ["new"] * 5
>>> mark_signatures(lines, kinds, 5); kinds
['new', 'signature', 'signature', 'signature', 'new']
"""

from __future__ import annotations

import re

from .forms import has_form_text_field_in

__all__ = ["mark_signatures"]

# Signature delimiters.  `-- ` is the RFC 3676 delimiter; the rules are Japanese business styles.
_SIG_DASHES = re.compile(r"--[ \t]?$")
_SIG_RULE = re.compile(
    r"[ \t\u3000]*(?:━{3,}|─{3,}|―{3,}|＝{3,}|={4,}|\*{4,}|(?:■□){2,}■?|(?:□■){2,}□?|＿{3,}|-{6,}|～{4,}|〜{4,})"
    r".{0,40}$"
)
# Contact lines of a signature block: postal code, phone/fax labels and numbers, mail, web, company names.
# Not the bare words 電話 or 担当, which nearly every complaint holds ("昨日電話でもお伝えしましたが", "担当者様"):
# only as a field label (電話：, 担当：).
_CONTACT = re.compile(
    r"〒|\b(?:TEL|FAX|Mobile|Phone|Mail|E-?mail)\b|(?:電話|携帯|直通)(?:番号)?[\s:：]*[0-9０-９(（+＋]|担当\s*[:：]|@|＠|https?://|www\."
    r"|\bURL\b|株式会社|有限会社|合同会社|（株）|\(株\)|㈱|\d{2,4}-[\dX]{2,4}-[\dX]{3,4}|部\s|課\s",
    re.IGNORECASE,
)
# A line that is a sentence (the customer writing), not a signature's name, title or contact line.
_SENTENCE = re.compile(r"[。！？!?]")
# A postscript below a signature is the customer writing again.
_POSTSCRIPT = re.compile(r"[ \t\u3000]*(?:P\.\s?S\.?|PS|ＰＳ|Ｐ．Ｓ．|追伸|二伸)(?![A-Za-z0-9])", re.IGNORECASE)
# A signature delimiter counts only near the end of the new text it closes.
_SIG_WINDOW = 15


def _is_sentence(content: str) -> bool:
    """A line of running text: sentence punctuation outside a contact line (a URL may hold '?')."""
    return bool(_SENTENCE.search(content)) and not _CONTACT.search(content)


def _signature_end(lines: list[tuple[int, str, int]], after: list[int], block_end: int) -> int:
    """Where a signature that opens before ``after[0]`` ends: at a P.S., or at text after a closing rule.

    A signature block is names, titles and contact lines to the end of the message.  A postscript
    (``P.S.``, ``追伸``) below it, or sentences after the rule that closes a framed block, are the
    customer writing again.
    """
    for pos, m in enumerate(after):
        content = lines[m][1]
        if _POSTSCRIPT.match(content):
            return m
        if (_SIG_RULE.match(content) or _SIG_DASHES.match(content)) and pos + 1 < len(after):
            nxt = lines[after[pos + 1]][1]
            if _POSTSCRIPT.match(nxt) or _is_sentence(nxt):
                return after[pos + 1]
    return block_end


def mark_signatures(lines: list[tuple[int, str, int]], kinds: list[str], stop: int) -> None:
    """Mark a signature block: a delimiter near the end of a new block, then contact lines.

    The lines right after the delimiter must look like a signature (no sentences; a rule needs two contact
    lines), so a rule or ``--`` that the customer put above their own words ("------\n担当者様\n昨日電話で…")
    is no delimiter.
    """
    # Find the new lines before `stop`; the window is the last _SIG_WINDOW of them.
    block_end = stop
    # The signature closes the last run of new text before a quote/forward tail or the end.
    new_idx = [k for k in range(block_end) if kinds[k] == "new" and lines[k][1].strip()]
    if not new_idx:
        return
    window = new_idx[-_SIG_WINDOW:]
    for k in window:
        content = lines[k][1]
        dashes = bool(_SIG_DASHES.match(content))
        rule = not dashes and bool(_SIG_RULE.match(content))
        if not (dashes or rule):
            continue
        after = [m for m in range(k + 1, block_end) if lines[m][1].strip()]
        if not after:
            continue
        # The signature's own lines: those before the first sentence or postscript.
        lead = []
        for m in after:
            if _is_sentence(lines[m][1]) or _POSTSCRIPT.match(lines[m][1]):
                break
            lead.append(m)
        if not lead:
            continue
        contacts = sum(1 for m in lead[:8] if _CONTACT.search(lines[m][1]))
        if dashes and contacts < 1 and len(after) > 6:
            continue
        if rule and contacts < 2:
            continue
        if rule and has_form_text_field_in(lines, k + 1, block_end):
            # A web form's field block (お名前/電話番号/メールアドレス, then お問い合わせ内容)
            # between rules: contact lines, but the customer's message follows them.
            continue
        # From the lead's last line on: it may be the rule that closes a framed block.
        end = _signature_end(lines, after[len(lead) - 1 :], block_end) if len(lead) < len(after) else block_end
        for m in range(k, end):
            if kinds[m] == "new":
                kinds[m] = "signature"
        return
