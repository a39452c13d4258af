"""The acknowledgement a staff member gets after reporting a message (``kasuhara report-message``).

Someone who was just harassed is reading it, so it is short and warm, and it keeps the promise that
customer-harassment guidelines make to staff: you are not alone, the company puts your safety first, and
this is what happens next.  It never blames, and it says plainly when the report
could *not* be passed on, so that nobody waits for a team that was never told.

>>> from types import SimpleNamespace as R
>>> print(acknowledgement_text(R(deliveries={"queue": "sent"}, severity=2, manager="佐藤 一郎", language="ja",
...       care_message="", guideline_url="", summary=R(alerts=1, held=0, duplicates=0))))
申告を受け付けました。知らせてくれてありがとうございます。
一人で抱え込まないでください。会社はあなたの安全を最優先に考え、チームで対応します。
対応チームに届きました。チームが内容を確認し、このあとの対応をあなたに連絡します。上長の佐藤 一郎さんにも伝わります。
"""

from __future__ import annotations

from typing import Any

__all__ = ["acknowledgement_text"]

_WORDS = {
    "ja": {
        "received": "申告を受け付けました。知らせてくれてありがとうございます。",
        "received_again": "知らせてくれてありがとうございます。",
        "care": "一人で抱え込まないでください。会社はあなたの安全を最優先に考え、チームで対応します。",
        "sent": "対応チームに届きました。チームが内容を確認し、このあとの対応をあなたに連絡します。",
        "again": "この申告はすでに受け付けていて、対応チームに届いています。状況が変わったとき（さらにひどく"
                 "なったときなど）は、深刻度を上げて申告し直すか、対応チームに直接相談してください。",
        "held": "今は営業時間外のため、対応チームには次の営業時間のはじめに届きます。",
        "retry": "対応チームへの送信が一時的にできていません。自動で送り直します。",
        "dead": "対応チームへの送信ができませんでした。システムの担当者に知らせが出ています。",
        "none": "この申告を自動で届ける先が設定されていません。",
        "tell": "急ぎのときや不安なときは、上長か対応チームに直接伝えてください。",
        "manager": "上長の{manager}さんにも伝わります。",
        "danger": "身の危険を感じるときは、対応を中断してその場を離れ、周りの人に助けを求めてください。"
                  "必要なら警察（110番）に通報してください。",
        "guideline": "対応ガイドライン：{url}",
    },
    "en": {
        "received": "Your report was received. Thank you for telling us.",
        "received_again": "Thank you for telling us.",
        "care": "You do not have to deal with this alone. The company puts your safety first; the team will "
                "handle it with you.",
        "sent": "It has reached the response team. They will look at it and tell you what happens next.",
        "again": "This report was already received and has reached the response team. If things change (for "
                 "example, it gets worse), report it again with a higher severity or talk to the team directly.",
        "held": "It is outside business hours now; the response team gets it at the start of the next business "
                "hours.",
        "retry": "It could not be sent to the response team yet; it will be sent again automatically.",
        "dead": "It could not be sent to the response team; the system's operators have been alerted.",
        "none": "No destination is set up for this report.",
        "tell": "If it is urgent or you are worried, tell your manager or the response team directly.",
        "manager": "Your manager, {manager}, will be told as well.",
        "danger": "If you feel in danger, stop, leave, and ask the people around you for help; call the police "
                  "(110) if needed.",
        "guideline": "Guideline: {url}",
    },
}


def acknowledgement_text(report: Any) -> str:
    """The acknowledgement for a :class:`~.staff_report.StaffReportResult` (or anything with its fields)."""
    w = _WORDS.get(report.language, _WORDS["ja"])
    statuses = set(report.deliveries.values())
    lines = [w["received"], report.care_message or w["care"]]
    told = False  # whether the team has it or will get it without anyone's help
    if not statuses:
        lines.append(w["none"] + w["tell"] if report.language == "ja" else f"{w['none']} {w['tell']}")
    elif "dead" in statuses or "retry" in statuses:
        key = "dead" if "dead" in statuses else "retry"
        lines.append(w[key] + w["tell"] if report.language == "ja" else f"{w[key]} {w['tell']}")
    elif statuses & {"held", "pending"}:
        lines.append(w["held"])
        told = True
    else:
        s = report.summary
        repeat = bool(s.duplicates) and not (s.alerts or s.held)
        lines.append(w["again"] if repeat else w["sent"])
        if repeat:  # "received" twice would read as a form letter
            lines[0] = w["received_again"]
        told = not repeat
    if told and report.manager:
        lines[-1] += (w["manager"] if report.language == "ja" else " " + w["manager"]).format(manager=report.manager)
    if report.severity >= 3:
        lines.append(w["danger"])
    if report.guideline_url:
        lines.append(w["guideline"].format(url=report.guideline_url))
    return "\n".join(lines)
