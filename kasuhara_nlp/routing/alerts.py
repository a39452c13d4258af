"""Alerts: what one routed (message, category, severity) says, in Japanese by default or English.

An :class:`Alert` carries only what the response team needs: category and severity, scores, the evidence
spans (PII masked again with :func:`kasuhara_nlp.pii.mask_text`, whatever the results file holds), the
staff member and manager, ids and a ticket link, and a message of care.  The message body is left out
unless the policy sets ``message.include_body = true``.

Wording comes from the tables below; a policy may override the subject, the title or the whole plain
text with :class:`string.Template` strings (placeholders: policy.TEMPLATE_FIELDS).

>>> a = Alert(key="k", message_id="m1", category="abuse", severity=3, score=0.97,
...           evidence=({"label": "abuse", "text": "殺すぞ", "score": 0.97},))
>>> print(render_text(a, MessageSettings()).splitlines()[0])
【カスハラ検知】暴力・暴言（深刻度3・重大）
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ..labels import SEVERITY_NAMES_EN, SEVERITY_NAMES_JA, display_name
from ..pii import mask_text
from ..records import message_ref
from .policy import JST, MessageSettings

__all__ = ["Alert", "alert_key", "jst_time", "message_ref", "parse_time", "render_subject", "render_text",
           "render_title", "slack_payload", "slack_link", "CARE_MESSAGES", "CHANNEL_NAMES"]

MAX_EVIDENCE = 3
MAX_EVIDENCE_CHARS = 200
MAX_BODY_CHARS = 2000

#: The built-in message of care for the staff member, per language.
CARE_MESSAGES = {
    "ja": "一人で抱え込まないでください。会社はあなたを守ります。対応はチームで行います。",
    "en": "You do not have to deal with this alone. The company will protect you; the team will handle it.",
}

_WORDS = {
    "ja": {
        "title": "【カスハラ検知】${category_name}（深刻度${severity}・${severity_name}）",
        "title_report": "【従業員からの申告】${category_name}（深刻度${severity}・${severity_name}）",
        "subject": "[カスハラ] 深刻度${severity} ${category_name} (${message_id})",
        "origin": "検知元", "origin_model": "モデルによる検知", "origin_report": "従業員からの申告",
        "category": "カテゴリ", "severity": "深刻度", "score": "スコア", "staff": "対象の従業員",
        "manager": "上長", "conversation_id": "会話ID", "message_id": "メッセージID", "timestamp": "受信日時",
        "reported_at": "申告日時", "manager_unknown": "不明（上長には通知されていません。ポリシーの [staff] を確認してください）",
        "channel": "チャネル", "other_labels": "同じメッセージの他の検知", "ticket_url": "チケット",
        "evidence": "根拠となった箇所", "body": "本文（個人情報はマスク済み）", "guideline_url": "対応ガイドライン",
        "open_ticket": "チケットを開く", "no_evidence": "（根拠箇所の指定なし）",
        "quote": "・「{text}」", "quote_score": "・「{text}」（{score}）",
    },
    "en": {
        "title": "[Customer harassment] ${category_name} (severity ${severity}, ${severity_name})",
        "title_report": "[Staff report] ${category_name} (severity ${severity}, ${severity_name})",
        "subject": "[Kasuhara] severity ${severity} ${category_name} (${message_id})",
        "origin": "Source", "origin_model": "detected by the model", "origin_report": "reported by staff",
        "category": "Category", "severity": "Severity", "score": "Score", "staff": "Staff member",
        "manager": "Manager", "conversation_id": "Conversation", "message_id": "Message", "timestamp": "Received",
        "reported_at": "Reported",
        "manager_unknown": "unknown (no manager was notified; check [staff] in the policy)",
        "channel": "Channel", "other_labels": "Also flagged in this message", "ticket_url": "Ticket",
        "evidence": "Evidence", "body": "Message text (PII masked)", "guideline_url": "Guideline",
        "open_ticket": "Open the ticket", "no_evidence": "(no span given)",
        "quote": "- \"{text}\"", "quote_score": "- \"{text}\" ({score})",
    },
}
#: Channel ids of data/SCHEMA.md as the team reads them; an id not listed is shown as it is.
CHANNEL_NAMES = {
    "ja": {"email": "メール", "chat": "チャット", "phone": "電話", "meeting": "対面", "web_form": "問い合わせフォーム",
           "sns_dm": "SNSのDM", "review_reply": "レビュー・口コミ", "one_liner": "短文（一言）", "other": "その他"},
    "en": {"email": "e-mail", "chat": "chat", "phone": "phone", "meeting": "in person", "web_form": "web form",
           "sns_dm": "social media DM", "review_reply": "review", "one_liner": "one-liner", "other": "other"},
}
# Fields shown as "label: value" lines, in order; empty values are left out.
_LINE_FIELDS = ("origin", "score", "staff", "manager", "conversation_id", "message_id", "timestamp", "channel",
                "other_labels", "ticket_url")


def alert_key(ref: str, category: str, severity: int, *, staff_report: bool = False) -> str:
    """The idempotency key of an alert: one per (message, category, severity, origin).

    A staff member's own report has a key of its own, so that it is never taken for (and swallowed as) a
    repeat of the model's alert on the same message: the team learns that staff confirmed it.

    >>> alert_key("m1", "abuse", 2) == alert_key("m1", "abuse", 2) != alert_key("m1", "abuse", 3)
    True
    >>> alert_key("m1", "abuse", 2) != alert_key("m1", "abuse", 2, staff_report=True)
    True
    """
    origin = "\x1fstaff_report" if staff_report else ""  # model alerts keep their v1 keys (existing state)
    return hashlib.sha256(f"kasuhara-alert-v1\x1f{ref}\x1f{category}\x1f{severity}{origin}".encode()).hexdigest()[:32]


def parse_time(value: Any) -> datetime | None:
    """An ISO time with its offset (naive times are UTC: scan writes them only so); None when absent or not ISO."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def jst_time(value: Any) -> str:
    """An ISO time shown in JST (``2026-11-02T10:05:00+09:00``), as the team in Japan reads it; "" when absent.

    >>> jst_time("2026-11-02T01:05:00Z"), jst_time("2026-11-02T10:05:00+09:00"), jst_time(None)
    ('2026-11-02T10:05:00+09:00', '2026-11-02T10:05:00+09:00', '')
    """
    t = parse_time(value)
    if t is None:
        return value if isinstance(value, str) else ""  # not ISO: show what the source wrote rather than nothing
    return t.astimezone(JST).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Alert:
    """One routed (message, category, severity).  No raw message text unless ``body`` is set."""

    key: str
    message_id: str
    category: str
    severity: int
    score: float | None = None  # None: a staff report (no model score)
    scores: dict[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()  # {label, text, score}, PII masked
    conversation_id: str | None = None
    staff_name: str | None = None
    manager: str = ""
    manager_email: str = ""
    notify_manager: bool = False
    staff_report: bool = False
    channel: str = ""
    timestamp: str = ""
    ticket_url: str = ""
    body: str | None = None
    destinations: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"], d["destinations"], d["rules"] = list(self.labels), list(self.destinations), list(self.rules)
        d["evidence"] = [dict(e) for e in self.evidence]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Alert":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in d.items() if k in known}
        for name in ("labels", "destinations", "rules", "evidence"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)


def masked_evidence(result: dict[str, Any], category: str) -> tuple[dict[str, Any], ...]:
    """The evidence spans for ``category`` (else all), PII masked, shortened."""
    spans = [e for e in result.get("evidence") or [] if isinstance(e, dict)]
    chosen = [e for e in spans if e.get("label") == category] or spans
    out = []
    for e in chosen[:MAX_EVIDENCE]:
        text = mask_text(str(e.get("text", ""))).text
        if len(text) > MAX_EVIDENCE_CHARS:
            text = text[: MAX_EVIDENCE_CHARS - 1] + "…"
        score = e.get("score")
        out.append({"label": e.get("label", category), "text": text,
                    "score": round(float(score), 4) if isinstance(score, (int, float)) else None})
    return tuple(out)


def masked_body(text: str) -> str:
    """The message text with PII masked, shortened for an alert."""
    body = mask_text(text or "").text
    return body if len(body) <= MAX_BODY_CHARS else body[: MAX_BODY_CHARS - 1] + "…"


def _fields(alert: Alert, settings: MessageSettings) -> dict[str, str]:
    lang = settings.language
    w = _WORDS[lang]
    sev_names = SEVERITY_NAMES_JA if lang == "ja" else SEVERITY_NAMES_EN
    quotes = []
    for e in alert.evidence:
        fmt = w["quote_score"] if e.get("score") is not None else w["quote"]
        score = f"{e['score']:.2f}" if e.get("score") is not None else ""
        quotes.append(fmt.format(text=" ".join(str(e.get("text", "")).split()), score=score))
    return {
        "category": alert.category,
        "category_name": display_name(alert.category, lang),
        "severity": str(alert.severity),
        "severity_name": sev_names.get(alert.severity, str(alert.severity)),
        "score": "" if alert.score is None else f"{alert.score:.2f}",
        "scores": ", ".join(f"{k} {v:.2f}" for k, v in alert.scores.items()),
        "staff": alert.staff_name or "",
        # A rule asked for the manager but the staff map has none: say so, so that the team tells them.
        "manager": alert.manager or (w["manager_unknown"] if alert.notify_manager and not alert.manager_email
                                     else ""),
        "conversation_id": alert.conversation_id or "",
        "message_id": alert.message_id,
        "ticket_url": alert.ticket_url,
        "evidence": "\n".join(quotes) if quotes else w["no_evidence"],
        "body": alert.body or "",
        "care_message": settings.care_message or CARE_MESSAGES[lang],
        "guideline_url": settings.guideline_url,
        "origin": w["origin_report"] if alert.staff_report else w["origin_model"],
        "channel": CHANNEL_NAMES[lang].get(alert.channel, alert.channel) if alert.channel else "",
        "timestamp": alert.timestamp or "",
        "other_labels": ", ".join(display_name(c, lang) for c in alert.labels if c != alert.category),
        "key": alert.key,
    }


def _template(settings: MessageSettings, name: str, default: str) -> string.Template:
    return string.Template(settings.templates.get(name) or default)


def render_title(alert: Alert, settings: MessageSettings) -> str:
    """The one-line title (Slack header, first line of the text)."""
    w = _WORDS[settings.language]
    default = w["title_report"] if alert.staff_report else w["title"]
    return _template(settings, "title", default).safe_substitute(_fields(alert, settings))


def render_subject(alert: Alert, settings: MessageSettings) -> str:
    """The e-mail subject.

    >>> render_subject(Alert(key="k", message_id="m1", category="demand", severity=2), MessageSettings())
    '[カスハラ] 深刻度2 過剰または不合理な要求 (m1)'
    """
    subject = _template(settings, "subject", _WORDS[settings.language]["subject"])
    return " ".join(subject.safe_substitute(_fields(alert, settings)).split())  # no newlines in headers


def render_text(alert: Alert, settings: MessageSettings) -> str:
    """The plain-text alert (e-mail body, Slack fallback text, queue record)."""
    values = _fields(alert, settings)
    if settings.templates.get("text"):
        return string.Template(settings.templates["text"]).safe_substitute(values)
    w = _WORDS[settings.language]
    sep = ": " if settings.language == "en" else "："
    lines = [render_title(alert, settings), ""]
    # A staff report's time is when it was reported, not when the message was received.
    label = {"timestamp": "reported_at"} if alert.staff_report else {}
    lines += [f"{w[label.get(name, name)]}{sep}{values[name]}" for name in _LINE_FIELDS if values[name]]
    lines += ["", f"{w['evidence']}{sep}", values["evidence"]]
    if values["body"]:
        lines += ["", f"{w['body']}{sep}", values["body"]]
    lines += ["", values["care_message"]]
    if values["guideline_url"]:
        lines.append(f"{w['guideline_url']}{sep}{values['guideline_url']}")
    return "\n".join(lines)


def _esc(text: str) -> str:
    # Slack mrkdwn: only these three characters are control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, text: str) -> str:
    """Slack's ``<url|text>`` markup, safe whatever the two hold.

    Slack ends the URL at the first ``|`` and the link at the first ``>``, and has no escape for ``|``; so
    ``|`` (and spaces) in the URL are percent-encoded, and in the text replaced by a full-width ``｜``, which
    reads the same.  ``&``, ``<`` and ``>`` become entities in both, as Slack asks.

    >>> slack_link("https://x.jp/t/a|b", "open|<x>")
    '<https://x.jp/t/a%7Cb|open｜&lt;x&gt;>'
    """
    safe_url = quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")
    return f"<{_esc(safe_url)}|{_esc(text.replace('|', '｜'))}>"


def slack_payload(alert: Alert, settings: MessageSettings) -> dict[str, Any]:
    """A JSON body Slack incoming webhooks accept: ``{"text": ..., "blocks": [...]}``.

    >>> p = slack_payload(Alert(key="k", message_id="m1", category="abuse", severity=2), MessageSettings())
    >>> sorted(p), p["blocks"][0]["type"]
    (['blocks', 'text'], 'header')
    """
    values = _fields(alert, settings)
    w = _WORDS[settings.language]
    shown = [("category", "category_name"), ("severity", None), ("score", "score"), ("staff", "staff"),
             ("manager", "manager"), ("conversation_id", "conversation_id"), ("message_id", "message_id"),
             ("origin", "origin")]
    field_blocks = []
    for label, key in shown:
        value = f"{values['severity']} ({values['severity_name']})" if key is None else values[key]
        if value:
            field_blocks.append({"type": "mrkdwn", "text": f"*{w[label]}*\n{_esc(value)}"[:2000]})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": render_title(alert, settings)[:150], "emoji": True}},
        {"type": "section", "fields": field_blocks[:10]},
    ]
    quoted = "\n".join("> " + _esc(line) for line in values["evidence"].splitlines())
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{w['evidence']}*\n{quoted}"[:3000]}})
    if values["body"]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*{w['body']}*\n```{_esc(values['body'])}```"[:3000]}})
    if values["ticket_url"]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": slack_link(values["ticket_url"], w["open_ticket"])}})
    care = _esc(values["care_message"])
    if values["guideline_url"]:
        care += "  " + slack_link(values["guideline_url"], w["guideline_url"])
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": care[:3000]}]})
    return {"text": _esc(render_text(alert, settings))[:3000], "blocks": blocks}
