"""Mail readers: .eml encodings, HTML-only mail, quotes, mbox (Takeout, Thunderbird), Maildir, roles."""

from __future__ import annotations

import base64
import os
import tracemalloc
from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records
from kasuhara_nlp.readers.mail import read_mbox
from kasuhara_nlp.readers.mime import message_to_record
from tests.mailfactory import attached_message, cp50220, mbox, message, mime_part, multipart

HARD = "①至急㈱髙﨑～返金しろ"

# (case id, message kwargs, expected body, expected subject)
ENCODING_CASES = (
    ("iso2022jp_ms_7bit", dict(body=HARD, charset="ISO-2022-JP", cte="7bit", subject_charset="ISO-2022-JP"), HARD),
    ("iso2022jp_base64", dict(body=HARD, charset="iso-2022-jp", cte="base64", subject_charset="ISO-2022-JP"), HARD),
    ("cp50220_label", dict(body=HARD, charset="cp50220", cte="7bit", subject_charset="cp50220"), HARD),
    ("shift_jis_label_cp932_bytes", dict(body=HARD, charset="Shift_JIS", cte="8bit", subject_charset="Shift_JIS"), HARD),
    ("windows_31j", dict(body=HARD, charset="windows-31j", cte="base64", subject_charset="windows-31j"), HARD),
    ("x_sjis", dict(body=HARD, charset="x-sjis", cte="8bit", subject_charset="x-sjis"), HARD),
    ("utf8_qp", dict(body=HARD, charset="utf-8", cte="quoted-printable"), HARD),
    ("utf8_base64", dict(body=HARD, charset="utf-8", cte="base64"), HARD),
)


@pytest.mark.parametrize("kwargs,body", [c[1:] for c in ENCODING_CASES], ids=[c[0] for c in ENCODING_CASES])
def test_eml_encodings(tmp_path: Path, kwargs: dict, body: str) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message(subject="①返品", **kwargs))
    (rec,) = read_records([str(path)])
    assert rec.body_text == body
    assert rec.subject == "①返品"
    assert rec.status == "ok" and rec.source_format == "eml" and rec.channel == "email"
    assert "\ufffd" not in rec.body_text


def test_raw_8bit_cp932_headers(tmp_path: Path) -> None:
    raw = message("本文", charset="Shift_JIS").replace(
        b"Subject: =?utf-8?B?5ZWP44GE5ZCI44KP44Gb?=", "Subject: 返金の件".encode("cp932")
    )
    raw = raw.replace(b"From: ", b"From: " + "山田".encode("cp932") + b" <x@example.com>\nX-Old-From: ")
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    (rec,) = read_records([str(path)])
    assert rec.subject == "返金の件"
    assert rec.author_name == "山田"
    assert "raw-8bit-header" in rec.decode_warnings


def test_html_only_mail_drops_dom_quotes(tmp_path: Path) -> None:
    html = (
        "<html><head><style>p{}</style></head><body><div>いい加減にしろ<br>まだか</div>"
        '<div class="gmail_quote"><div class="gmail_attr">2025年3月4日(火) サポート:</div>'
        "<blockquote>ご確認ください</blockquote></div></body></html>"
    )
    path = tmp_path / "m.eml"
    path.write_bytes(message(html, charset="utf-8", content_type="text/html", cte="base64"))
    (rec,) = read_records([str(path)])
    assert rec.body_text == "いい加減にしろ\nまだか"
    assert rec.extra["body_from_html"] is True


def test_alternative_with_trivial_plain_uses_html(tmp_path: Path) -> None:
    html = base64.b64encode('<p>返金しろ</p><blockquote type="cite">引用</blockquote>'.encode("cp932")).decode()
    plain = base64.b64encode("HTMLメールです".encode("cp932")).decode()
    raw = (
        "From: a@example.com\nSubject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n"
        f"{plain}\n--b1\nContent-Type: text/html; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n"
        f"{html}\n--b1--\n"
    ).encode()
    rec = message_to_record(raw, source_format="eml", source_file="m.eml", locator="file")
    assert rec.body_text == "返金しろ"


# (case id, body, expected text to score)
MAIL_QUOTE_CASES = (
    ("gmail_ja", "まだか\n\n2025年3月4日(火) 10:15 サポート <s@example.jp>:\n> 確認します\n", "まだか\n\n"),
    ("outlook_ja", "遅い\n\n________________________________\n差出人: サポート\n送信日時: 2025年3月4日\n宛先: a\n件名: Re\n\n本文\n", "遅い\n\n"),
    ("thunderbird_ja", "許さない\n\n2025/03/04 10:15 に サポート さんは書きました:\n> 申し訳\n", "許さない\n\n"),
    ("apple_ja", "返せ\n\n2025/03/04 10:15、サポート <s@example.jp>のメッセージ:\n\n> 確認\n", "返せ\n\n"),
    ("fullwidth_prefix_inline", "＞ 確認します\n→いつだ\n", "→いつだ\n"),
)


@pytest.mark.parametrize("body,expected", [c[1:] for c in MAIL_QUOTE_CASES], ids=[c[0] for c in MAIL_QUOTE_CASES])
def test_quote_styles_in_mail(body: str, expected: str) -> None:
    rec = message_to_record(message(body, charset="iso-2022-jp", cte="7bit"), source_format="eml",
                            source_file="m.eml", locator="file")
    assert rec.text_to_score == expected


FORM_THREAT = "いい加減にしろ。今すぐ社長が家まで来て土下座しろ。来なければ店に火をつけてやる。"
FORM_HEADER = f"ホームページから以下のお問い合わせがありました。\n\n送信者：山田太郎\n日時：2025/03/04 10:15\n件名：返品について\n本文：\n{FORM_THREAT}\n"
FORM_RULE = (
    "ホームページからお問い合わせがありました。\n\n━━━━━━━━━━━━━━━━━━━━\nお名前：山田太郎\n電話番号：090-1234-5678\n"
    f"メールアドレス：yamada@example.com\nお問い合わせ内容：\n{FORM_THREAT}\n━━━━━━━━━━━━━━━━━━━━\n"
)

# (case id, body, charset, transfer encoding): web-form notifications as form CGIs and SaaS forms send them.
FORM_ACK_INTRO = (
    "Webサイトからお問い合わせを受け付けました。内容をご確認ください。\n\nお名前：山田太郎\n"
    f"お問い合わせ内容：\n{FORM_THREAT}\n"
)
FORM_MAIL_CASES = (
    ("header_fields_iso2022jp", FORM_HEADER, "ISO-2022-JP", "7bit"),
    # The intro a helpdesk acknowledgement also uses: the form's free-text field says it is not one.
    ("ack_wording_intro_iso2022jp", FORM_ACK_INTRO, "ISO-2022-JP", "7bit"),
    ("header_fields_shift_jis_base64", FORM_HEADER, "Shift_JIS", "base64"),
    ("rule_fields_iso2022jp", FORM_RULE, "ISO-2022-JP", "7bit"),
    ("rule_fields_utf8_qp", FORM_RULE, "utf-8", "quoted-printable"),
)


@pytest.mark.parametrize("body,charset,cte", [c[1:] for c in FORM_MAIL_CASES], ids=[c[0] for c in FORM_MAIL_CASES])
def test_web_form_notification_text_is_scored(tmp_path: Path, body: str, charset: str, cte: str) -> None:
    path = tmp_path / "form.eml"
    path.write_bytes(message(body, charset=charset, cte=cte, sender="form@shop.example.co.jp",
                             subject="【お問い合わせ】返品について", subject_charset=charset))
    (rec,) = read_records([str(path)])
    assert rec.status == "ok" and rec.body_text.replace("\r\n", "\n") == body
    assert FORM_THREAT in (rec.text_to_score or "") and not rec.text_fallback
    assert {s.kind for s in rec.segments} == {"new"}


def test_helpdesk_acknowledgement_without_the_customer_text_is_not_scored(tmp_path: Path) -> None:
    path = tmp_path / "ack.eml"
    path.write_bytes(message("お問い合わせを受け付けました。\n受付番号：12345\n担当者より折り返しご連絡いたします。\n",
                             charset="ISO-2022-JP", cte="7bit", sender="support@shop.example.co.jp"))
    (rec,) = read_records([str(path)])
    assert rec.status == "not_scored" and "acknowledgement" in (rec.reason or "")


def test_iso2022jp_label_on_8bit_shift_jis_body(tmp_path: Path) -> None:
    # Old form CGIs label the mail ISO-2022-JP but send the visitor's Shift_JIS bytes unconverted.
    body = "ふざけるな。①今すぐ社長が土下座しに来い。来なければ殺す。\n"
    path = tmp_path / "cgi.eml"
    path.write_bytes(message(body.encode("cp932"), charset="ISO-2022-JP", cte="7bit"))
    (rec,) = read_records([str(path)])
    assert rec.body_text == body and rec.text_to_score == body
    assert "charset-mismatch:iso-2022-jp" in rec.decode_warnings
    assert "charset-guessed:cp932" in rec.decode_warnings
    assert "cp50220-fallback" not in rec.decode_warnings


def test_mbox_from_line_in_body_does_not_split(tmp_path: Path) -> None:
    body = "前回の件です。\nFrom now on I will call every day.\n>From the escaped line\n"
    path = tmp_path / "box.mbox"
    path.write_bytes(mbox([message(body, msgid="<a@x>"), message("二通目", msgid="<b@x>")]))
    recs = list(read_records([str(path)]))
    assert [r.record_id for r in recs] == ["a@x", "b@x"]
    assert "From now on" in recs[0].body_text and ">From the escaped line" in recs[0].text_to_score
    assert recs[0].source_locator.startswith("message 1")


def test_gmail_takeout(tmp_path: Path) -> None:
    sent = message("ご確認いたします", msgid="<s@x>", sender="Support <s@example.jp>",
                   headers="X-GM-THRID: 1791234567890\nX-Gmail-Labels: Sent,Opened\n")
    inbox = message("返金しろ", msgid="<i@x>",
                    headers="X-GM-THRID: 1791234567890\nX-Gmail-Labels: =?UTF-8?B?5Y+X5L+h?=,Inbox\n")
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    path.write_bytes(mbox([inbox, sent], crlf=True))
    a, b = read_records([str(path)])
    assert a.conversation_id == b.conversation_id == "gmail:1791234567890"
    assert (a.author_role, a.status) == ("unknown", "ok") and a.extra["gmail_labels"] == ["受信", "Inbox"]
    assert (b.author_role, b.status, b.role_basis) == ("agent", "not_scored", "X-Gmail-Labels: Sent")
    assert a.body_text.replace("\r\n", "\n") == "返金しろ\n"


def test_thunderbird_profile(tmp_path: Path) -> None:
    root = tmp_path / "Mail" / "Local Folders"
    (root / "Inbox.sbd").mkdir(parents=True)
    msg = b"From - Tue Mar  4 10:15:00 2025\nX-Mozilla-Status: 0001\n" + message("受信本文", msgid="<t1@x>")
    (root / "Inbox").write_bytes(msg + b"\n")
    (root / "Inbox.msf").write_bytes(b"// <!-- <mdb:mork:z v=\"1.4\"/> -->")
    (root / "Sent").write_bytes(b"From - Tue Mar  4 11:00:00 2025\n" + message("返信本文", msgid="<t2@x>") + b"\n")
    (root / "Inbox.sbd" / "Claims").write_bytes(b"From - Wed Mar  5 09:00:00 2025\n" + message("三", msgid="<t3@x>"))
    recs = {r.record_id: r for r in read_records([str(tmp_path / "Mail")])}
    assert set(recs) == {"t1@x", "t2@x", "t3@x"}
    assert recs["t2@x"].author_role == "agent" and recs["t2@x"].status == "not_scored"
    assert recs["t1@x"].status == "ok"


def test_maildir(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp", ".Sent/cur"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    (tmp_path / "md" / "cur" / "1741050900.M1P1.host,S=10:2,S").write_bytes(message("受信", msgid="<c@x>"))
    (tmp_path / "md" / "new" / "1741050901.M2P1.host").write_bytes(message("新着", msgid="<n@x>"))
    (tmp_path / "md" / "tmp" / "partial").write_bytes(b"garbage")
    (tmp_path / "md" / ".Sent" / "cur" / "1741050902.M3P1.host:2,S").write_bytes(message("送信", msgid="<s@x>"))
    recs = {r.record_id: r for r in read_records([str(tmp_path / "md")])}
    assert set(recs) == {"c@x", "n@x", "s@x"}
    assert recs["s@x"].author_role == "agent" and recs["c@x"].status == "ok"


# (case id, extra headers or content type, subject, sender, expected status)
AUTO_CASES = (
    ("auto_submitted", "Auto-Submitted: auto-replied\n", "Re: 返品", "a@example.com"),
    ("x_autoreply", "X-Autoreply: yes\n", "件名", "a@example.com"),
    ("precedence_bulk", "Precedence: bulk\n", "件名", "a@example.com"),
    ("list_id", "List-Id: <news.example.com>\n", "件名", "a@example.com"),
    ("subject_jidou_henshin", "", "【自動返信】お問い合わせありがとうございます", "a@example.com"),
    ("subject_fuzai", "", "不在通知", "a@example.com"),
    ("subject_out_of_office", "", "Automatic reply: 返品", "a@example.com"),
    ("mailer_daemon", "", "Undeliverable: 返品", "MAILER-DAEMON@example.com"),
    ("empty_return_path", "Return-Path: <>\n", "件名", "a@example.com"),
)


@pytest.mark.parametrize("headers,subject,sender", [c[1:] for c in AUTO_CASES], ids=[c[0] for c in AUTO_CASES])
def test_auto_replies_not_scored(headers: str, subject: str, sender: str) -> None:
    raw = message("只今不在にしております", headers=headers, subject=subject, sender=sender)
    rec = message_to_record(raw, source_format="eml", source_file="m.eml", locator="file")
    assert rec.status == "not_scored" and rec.is_auto_generated and rec.reason


def test_delivery_report_not_scored() -> None:
    raw = (
        b"From: MAILER-DAEMON@example.com\nSubject: Returned\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        b"--r\nContent-Type: text/plain\n\nDelivery failed\n--r--\n"
    )
    rec = message_to_record(raw, source_format="eml", source_file="m.eml", locator="file")
    assert rec.status == "not_scored" and rec.author_role == "system"


def test_helpdesk_acknowledgement_is_system() -> None:
    raw = message("お問い合わせを受け付けました。受付番号：12345")
    rec = message_to_record(raw, source_format="eml", source_file="m.eml", locator="file")
    assert rec.status == "not_scored"


def test_support_domain_and_agent_address(tmp_path: Path) -> None:
    a = tmp_path / "a.eml"
    a.write_bytes(message("確認します", sender="担当 <tanaka@mail.example.jp>", msgid="<a@x>"))
    b = tmp_path / "b.eml"
    b.write_bytes(message("返金しろ", sender="客 <c@gmail.example>", msgid="<b@x>"))
    c = tmp_path / "c.eml"
    c.write_bytes(message("了解", sender="外注 <helper@vendor.example>", msgid="<c@x>"))
    recs = {r.record_id: r for r in read_records(
        [str(tmp_path)], support_domains=["example.jp"], agent_addresses=["helper@vendor.example"])}
    assert recs["a@x"].author_role == "agent" and recs["a@x"].status == "not_scored"
    assert recs["b@x"].author_role == "customer" and recs["b@x"].status == "ok"
    assert recs["c@x"].author_role == "agent"


# (case id, headers, subject, expected conversation id)
THREAD_CASES = (
    ("references_root", "References: <root@x> <mid@x>\nIn-Reply-To: <mid@x>\n", "Re: 返品", "root@x"),
    ("in_reply_to", "In-Reply-To: <parent@x>\n", "Re: 返品", "parent@x"),
)


@pytest.mark.parametrize("headers,subject,expected", [c[1:] for c in THREAD_CASES], ids=[c[0] for c in THREAD_CASES])
def test_conversation_id(headers: str, subject: str, expected: str) -> None:
    rec = message_to_record(message("本文", headers=headers, subject=subject), source_format="eml",
                            source_file="m.eml", locator="file")
    assert rec.conversation_id == expected


def test_conversation_by_normalised_subject() -> None:
    one = message_to_record(message("a", subject="返品の件"), source_format="eml", source_file="m", locator="1")
    two = message_to_record(message("b", subject="RE: 返品の件", msgid="<m2@x>"), source_format="eml",
                            source_file="m", locator="2")
    assert one.conversation_id == two.conversation_id and one.conversation_id.startswith("subject:")


def test_timestamps_utc_local_and_assumed_jst() -> None:
    rec = message_to_record(message("a"), source_format="eml", source_file="m", locator="1")
    assert (rec.timestamp_utc, rec.timestamp_local, rec.timestamp_assumed_tz) == (
        "2025-03-04T01:15:00Z", "2025-03-04T10:15:00+09:00", False)
    naive = message("a").replace(b"Date: Tue, 04 Mar 2025 10:15:00 +0900", b"Date: Tue, 04 Mar 2025 10:15:00 -0000")
    rec = message_to_record(naive, source_format="eml", source_file="m", locator="1")
    assert rec.timestamp_assumed_tz and rec.timestamp_utc == "2025-03-04T01:15:00Z"


def test_binary_attachment_listed_not_read() -> None:
    png = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40).decode()
    raw = (
        "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n"
        "--m\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n写真を見ろ\n"
        f"--m\nContent-Type: image/png; name=\"a.png\"\nContent-Disposition: attachment; filename=\"{'=?UTF-8?B?5YaZ55yfLnBuZw==?='}\"\n"
        f"Content-Transfer-Encoding: base64\n\n{png}--m\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--m--\n"
    ).encode()
    rec = message_to_record(raw, source_format="eml", source_file="m", locator="1")
    assert rec.body_text.strip() == "写真を見ろ"
    assert [a["content_type"] for a in rec.attachments] == ["image/png", "application/pdf"]
    assert rec.attachments[0]["filename"] == "写真.png" and rec.attachments[0]["size"] > 10000


CUSTOMER = "このようなメールが届きました。①添付をご確認ください。"
THREAT = "お前を殺す。家族もただでは済まさない。"
INNER_ISO = message(THREAT, charset="ISO-2022-JP", cte="7bit", subject="脅迫", subject_charset="ISO-2022-JP",
                    sender="other@example.net", msgid="<inner@example.net>")
INNER_SJIS_ALT = multipart(
    [mime_part(THREAT, charset="Shift_JIS", cte="base64"),
     mime_part(f"<p>{THREAT}</p>", content_type="text/html", charset="Shift_JIS", cte="base64")],
    subtype="alternative", boundary="inner")
CUSTOMER_ISO = mime_part(CUSTOMER, charset="ISO-2022-JP", cte="7bit")
CUSTOMER_HTML_ONLY = multipart(
    [mime_part("HTMLメールです", charset="ISO-2022-JP", cte="7bit"),
     mime_part(f"<div>{CUSTOMER}</div>", content_type="text/html", charset="ISO-2022-JP", cte="7bit")],
    subtype="alternative", boundary="outer-alt", nested=True)

# (case id, parts of a multipart/mixed mail, expected attachments as (filename, content type)):
# a mail the customer received and forwards as evidence is someone else's words, never theirs.
ATTACHED_MAIL_CASES = (
    ("rfc822_attachment", [CUSTOMER_ISO, attached_message(INNER_ISO)], [("received.eml", "message/rfc822")]),
    ("rfc822_inline_no_filename", [CUSTOMER_ISO, attached_message(INNER_SJIS_ALT, filename=None, disposition="inline")],
     [(None, "message/rfc822")]),
    ("rfc822_no_disposition", [CUSTOMER_ISO, attached_message(INNER_ISO, disposition="")], [(None, "message/rfc822")]),
    ("eml_as_octet_stream",
     [CUSTOMER_ISO, mime_part(INNER_ISO, content_type='application/octet-stream; name="received.eml"', charset=None,
                              cte="base64", headers='Content-Disposition: attachment; filename="received.eml"\n')],
     [("received.eml", "application/octet-stream")]),
    ("html_only_customer_and_attached_plain", [CUSTOMER_HTML_ONLY, attached_message(INNER_ISO)],
     [("received.eml", "message/rfc822")]),
)


@pytest.mark.parametrize("parts,expected", [c[1:] for c in ATTACHED_MAIL_CASES], ids=[c[0] for c in ATTACHED_MAIL_CASES])
def test_attached_mail_is_listed_not_scored(tmp_path: Path, parts: list[bytes], expected: list) -> None:
    path = tmp_path / "fwd.eml"
    path.write_bytes(multipart(parts))
    (rec,) = read_records([str(path)])
    assert rec.body_text.strip() == CUSTOMER
    assert "殺す" not in rec.body_text and "殺す" not in (rec.text_to_score or "")
    assert rec.status == "ok" and rec.subject == "被害の相談"
    assert [(a["filename"], a["content_type"]) for a in rec.attachments] == expected
    assert all(a["size"] > 0 for a in rec.attachments)


def test_truncated_mime_part() -> None:
    raw = (
        "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n"
        "--m\nContent-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: base64\n\n"
    ).encode() + base64.encodebytes(cp50220("返金しろ①今すぐ"))[:-6]
    rec = message_to_record(raw, source_format="eml", source_file="m", locator="1")
    assert rec.status in ("ok", "error")
    assert any(w.startswith("mime-defect") for w in rec.decode_warnings)


def test_malformed_mbox(tmp_path: Path) -> None:
    good = message("本物", msgid="<g@x>")
    data = (
        b"this is not a header line\njunk before any separator\n"
        + b"From a@x Tue Mar  4 10:15:00 2025\n" + b"no headers at all, just words\n\n"
        + b"From b@x Tue Mar  4 10:16:00 2025\n" + good + b"\n"
        + b"From c@x Tue Mar  4 10:17:00 2025\n" + message("切れた", msgid="<t@x>")[:150]
    )
    path = tmp_path / "bad.mbox"
    path.write_bytes(data)
    recs = list(read_mbox(str(path)))
    statuses = [r.status for r in recs]
    assert statuses[0] == "error" and "is this an mbox" in recs[0].reason
    assert statuses[1] == "error"
    assert recs[2].record_id == "g@x" and statuses[2] == "ok"
    assert len(recs) == 4  # the truncated last message is still accounted for


def _write_big_mbox(path: Path, target_bytes: int) -> int:
    filler = ("お世話になっております。注文した商品がまだ届きません。至急対応してください。\n" * 12)
    n = 0
    with open(path, "wb") as f:
        while f.tell() < target_bytes:
            charset = ("utf-8", "iso-2022-jp", "Shift_JIS")[n % 3]
            f.write(f"From s{n}@example.com Tue Mar  4 10:15:00 2025\n".encode())
            f.write(message(filler + f"番号{n}\n", charset=charset, cte="base64" if n % 2 else "8bit",
                            msgid=f"<big{n}@x>"))
            f.write(b"\n")
            n += 1
    return n


@pytest.mark.parametrize(
    "megabytes", [2, pytest.param(20, marks=pytest.mark.slow)], ids=["2mb", "20mb"]
)
def test_mbox_streams_in_bounded_memory(tmp_path: Path, megabytes: int) -> None:
    # The 20 MB case takes ~30 s under tracemalloc, so it is slow; 2 MB checks the same bound fast.
    path = tmp_path / "big.mbox"
    written = _write_big_mbox(path, megabytes * 1024 * 1024)
    size = os.path.getsize(path)
    tracemalloc.start()
    try:
        count = 0
        for rec in read_records([str(path)]):
            count += 1
            assert rec.status == "ok"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == written
    # Streaming holds one message at a time: the peak stays a small fraction of the file.
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte mbox"


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage\x00\x00", "返金してください。\n".encode("utf-8"), b""],
                         ids=["binary_junk", "plain_text_named_eml", "empty"])
def test_an_eml_without_mail_headers_is_an_error_not_a_message(tmp_path: Path, raw: bytes) -> None:
    # The email package parses any bytes; without this check junk was scored as the body of a mail.
    path = tmp_path / "broken.eml"
    path.write_bytes(raw)
    (rec,) = read_records([str(path)])
    assert rec.status == "error" and "not an e-mail" in rec.reason and rec.text_to_score is None
