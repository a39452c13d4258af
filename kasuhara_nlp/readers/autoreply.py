"""Is a mail automatic (auto-reply, bounce, list mail, helpdesk acknowledgement)?  Decided by the mail's own
headers, its sender, the start of its own subject and its NEW text, never by quoted history.

A customer who answers the helpdesk's "お問い合わせを受け付けました" mail keeps its subject behind ``Re:`` and its
text behind ``>``: that reply is the customer's second message, often the angrier one, and must be scored.  So
the subject counts only when it *starts* with an automatic marker (``自動返信:``, ``【自動送信】``,
``Automatic reply:``, ``Undeliverable:``), never behind a reply or forward prefix, and never for a word that a
customer's own subject may hold (``メールが配信不能になる件``).  The body counts only through the segments that
are new text (:func:`kasuhara_nlp.segments.text_to_score`).

>>> auto_subject("【自動送信】お問い合わせを受け付けました"), auto_subject("Re: 【自動送信】お問い合わせを受け付けました")
(True, False)
>>> auto_subject("メールが配信不能になる件"), auto_subject("不在通知"), auto_subject("不在時の再配達について")
(False, True, False)
"""

from __future__ import annotations

import re
from email.message import Message

from ..forms import has_form_text_field
from ..segments import text_to_score

__all__ = ["SUBJECT_PREFIX", "auto_reason", "auto_subject", "header_str", "raw_header"]

#: Reply and forward prefixes, repeated (``Re: Fwd:``): a subject behind one of them is the subject of the mail
#: being answered.  :func:`kasuhara_nlp.readers.mime.normalise_subject` strips them with the same pattern.
SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|antw|返信|転送|答复)\s*(?:(?:\[\d+\]|\(\d+\))\s*)?[:：]\s*)+", re.IGNORECASE
)
# What automatic mail puts at the very start of its subject.  The marker must be followed by the end, a
# bracket, a colon or a space, so a customer's "自動返信が来ない件" or "不在時の再配達" is not one.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:[【\[［(（〔<＜]\s*)?"
    r"(?:自動返信|自動応答|自動返答|自動送信|自動配信|不在通知|不在のお知らせ|不在連絡|不在|配信不能|配信エラー|配信失敗"
    r"|Automatic reply|Auto(?:matic)?[- ]?(?:Reply|Response)|Out of (?:the )?Office|Undeliver(?:able|ed)"
    r"|Mail Delivery (?:Failure|Failed|Subsystem)|Delivery Status Notification|Delivery Failure|Returned mail"
    r"|Failure Notice)"
    r"\s*(?:(?:メール|のお知らせ|通知)\s*)?(?:$|[】\]］)）〕>＞:：(（\-－]|\s)",
    re.IGNORECASE,
)
# A helpdesk's acknowledgement in the mail's own (new) text.  "受付番号：" alone is not one: customers quote
# their reception number in their own complaints.  The phrase inside 「」 or before "という" is the customer
# reporting the ack ("お問い合わせを受け付けましたというメールが来たきり"), not the ack.
_SYSTEM_BODY = re.compile(
    r"(?<![「『\"“])(?:お問い?合わ?せを(?:受け付け|受付(?:いた|致)?し|承り)ました(?![」』\"”]|\s*(?:と|って))"
    r"|(?:本|この)メールは(?:送信専用|自動(?:送信|返信|配信))"
    r")"
)
# Senders that are machines: bounces and no-reply senders.
_BOUNCE_LOCAL = re.compile(r"^(?:mailer-daemon|postmaster)$", re.IGNORECASE)
_NOREPLY_LOCAL = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply)(?:[-_.+].*)?$", re.IGNORECASE)


def header_str(msg: Message, name: str) -> str:
    """A header as ``str``, whatever ``compat32`` made of it.

    ``compat32`` returns an ``email.header.Header`` (not a ``str``) for a value with 8-bit bytes, so
    ``msg.get(name).lower()`` raises; ``str()`` gives its text (surrogate escapes kept) or ``""``.
    """
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a damaged header reads as absent, it must not lose the mail
        return ""


def raw_header(msg: Message, name: str) -> str:
    """A header's raw text, 8-bit bytes kept as surrogate escapes (``get()`` would make them U+FFFD); ``""``
    when absent."""
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return value if isinstance(value, str) else header_str(msg, name)
    return ""


def auto_subject(subject: str) -> bool:
    """True when ``subject`` starts with an automatic marker (not behind ``Re:``/``Fwd:``/``返信:``)."""
    return not SUBJECT_PREFIX.match(subject) and bool(_AUTO_SUBJECT.match(subject))


def auto_reason(msg: Message, subject: str, from_addr: str, body: str) -> str | None:
    """Why ``msg`` is automatic, or None when a person wrote it.

    The reason names the evidence (a header, the sender, the subject, the new text); readers set the role
    to ``system`` when it says bounce, report or system.
    """
    auto = header_str(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"auto-generated (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if header_str(msg, name).strip():
            return f"auto-generated ({name})"
    suppress = header_str(msg, "X-Auto-Response-Suppress").lower()
    if "oof" in suppress or "all" in suppress:
        return "auto-generated (X-Auto-Response-Suppress)"
    precedence = header_str(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk or list mail (Precedence: {precedence})"
    if header_str(msg, "List-Id") or header_str(msg, "List-Unsubscribe"):
        return "mailing-list mail (List-Id/List-Unsubscribe)"
    if msg.get_content_type() == "multipart/report":
        return "delivery report (multipart/report)"
    if header_str(msg, "Return-Path").strip() == "<>":
        return "bounce (empty Return-Path)"
    local = from_addr.split("@")[0]
    if _BOUNCE_LOCAL.match(local):
        return f"bounce (From {local.lower()})"
    if _NOREPLY_LOCAL.match(local) and not has_form_text_field(body):
        # Web-form notifications come from no-reply senders too, with the visitor's words in a field.
        return f"system mail (From {local.lower()})"
    if auto_subject(subject):
        return "auto-reply or bounce (subject)"
    # Cheap check on the whole body first; only then segment it, and look at the new text alone.
    if _SYSTEM_BODY.search(body) and not has_form_text_field(body):
        # A form's notification says お問い合わせを受け付けました too, but carries the customer's words.
        if _SYSTEM_BODY.search(text_to_score(body).text[:2000]):
            return "helpdesk acknowledgement (system mail)"
    return None
