"""Mail reading as Japanese mailers write it: auto-replies, HTML placeholders, attachment names, mbox and
Maildir layouts, quoted history in HTML, byte-order marks.

Every input is real mail bytes, built with tests.mailfactory or written by hand as a mailer writes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kasuhara_nlp.readers import read_records
from kasuhara_nlp.readers.mime import message_to_record
from tests.mailfactory import cp50220, mbox, message, mime_part, multipart

THREAT = "お前らの対応は最悪だ。今すぐ店長が家まで来て土下座しろ。来なければ店に火をつけてやる。"
ACK_QUOTE = "\n\n> このたびはお問い合わせいただきありがとうございます。\n> お問い合わせを受け付けました。\n> 受付番号：20261101-0042\n"


def _record(raw: bytes):
    return message_to_record(raw, source_format="eml", source_file="m.eml", locator="file")


# (case id, subject, body, extra headers, sender, expected status)
AUTO_REPLY_CASES = (
    ("reply_to_ack_subject", "Re: 【自動送信】お問い合わせを受け付けました", THREAT + ACK_QUOTE, "", "a@example.com", "ok"),
    ("reply_quoting_ack_body", "Re: お問い合わせの件", THREAT + ACK_QUOTE, "", "a@example.com", "ok"),
    ("reply_to_ooo_subject", "Re: 不在通知 Re: ご注文の件", THREAT, "", "a@example.com", "ok"),
    ("fwd_of_auto_reply", "Fwd: 自動返信: ご注文の件", THREAT, "", "a@example.com", "ok"),
    ("customer_subject_mentions_undeliverable", "メールが配信不能になる件", THREAT, "", "a@example.com", "ok"),
    ("customer_subject_starts_with_fuzai", "不在時の再配達について", THREAT, "", "a@example.com", "ok"),
    ("customer_cites_reception_number", "返品", "受付番号：12345の件、まだ返事がない。" + THREAT, "", "a@example.com", "ok"),
    ("customer_reports_the_ack", "返品", "「お問い合わせを受け付けました」というメールが来たきりだ。" + THREAT, "", "a@example.com",
     "ok"),
    # Still automatic: the mail's own headers, sender, subject start and new text.
    ("genuine_ack", "【自動送信】お問い合わせを受け付けました", "お問い合わせを受け付けました。\n受付番号：1\n※本メールは送信専用です。",
     "", "info@shop.example.jp", "not_scored"),
    ("ack_by_new_text_only", "お問い合わせありがとうございます", "お問い合わせを受け付けました。\n受付番号：1\n", "",
     "info@shop.example.jp", "not_scored"),
    ("noreply_sender", "ご注文ありがとうございます", "ご注文を承りました。", "", "no-reply@shop.example.jp", "not_scored"),
    ("auto_reply_subject", "自動返信: ご注文の件", "ただいま休暇中です。", "", "a@example.com", "not_scored"),
    ("out_of_office", "Out of Office: ご注文の件", "I am away.", "", "a@example.com", "not_scored"),
)


@pytest.mark.parametrize(
    "subject,body,headers,sender,status", [c[1:] for c in AUTO_REPLY_CASES], ids=[c[0] for c in AUTO_REPLY_CASES]
)
def test_auto_reply_decided_by_own_headers_subject_start_and_new_text(
    subject: str, body: str, headers: str, sender: str, status: str
) -> None:
    rec = _record(message(body, subject=subject, headers=headers, sender=sender))
    assert rec.status == status, rec.reason
    if status == "ok":
        assert "土下座" in rec.text_to_score and not rec.is_auto_generated


def test_auto_submitted_with_raw_8bit_value_still_read() -> None:
    # compat32 makes a header with 8-bit bytes an email.header.Header, not a str.
    raw = message("ただいま不在です。", headers="Auto-Submitted: auto-replied (不在)\n")
    rec = _record(raw)
    assert rec.status == "not_scored" and rec.is_auto_generated


# a plain alternative that only points to the HTML part
PLACEHOLDER_CASES = (
    ("html_keishiki", "このメールはHTML形式で送信されています。HTMLメールを表示できる環境でご覧ください。"),
    ("html_keishiki_short", "HTML形式のメールです。"),
    ("kome_html", "※このメールはHTMLメールです。"),
    ("mailer", "HTML対応のメーラーでご覧ください。"),
    ("english_view", "To view this message, please use an HTML compatible email viewer."),
    ("browser", "メールが正しく表示されない場合はブラウザでご覧ください。"),
)


@pytest.mark.parametrize("plain", [c[1] for c in PLACEHOLDER_CASES], ids=[c[0] for c in PLACEHOLDER_CASES])
def test_placeholder_plain_part_reads_the_html(plain: str) -> None:
    raw = multipart(
        [mime_part(plain, charset="iso-2022-jp", cte="7bit"),
         mime_part(f"<div>{THREAT}</div>", content_type="text/html", charset="utf-8", cte="base64")],
        subtype="alternative",
    )
    rec = _record(raw)
    assert rec.text_to_score == THREAT and rec.extra["body_from_html"]
    assert "plain-part-placeholder:html-read" in rec.decode_warnings


def test_plain_part_with_the_customers_words_is_kept() -> None:
    plain = "HTMLで失礼します。" + THREAT
    raw = multipart(
        [mime_part(plain), mime_part(f"<p>HTMLで失礼します。</p><p>{THREAT}</p>", content_type="text/html")],
        subtype="alternative",
    )
    rec = _record(raw)
    assert rec.body_text == plain and not rec.extra["body_from_html"]


# attachment names in every way Japanese mailers write them
def _with_attachment(att_headers: bytes) -> bytes:
    return (
        b"From: yamada@example.com\r\nTo: support@shop.example.jp\r\nSubject: mitsumori\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n'
        + THREAT.encode("utf-8") + b"\r\n--b1\r\n" + att_headers
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b1--\r\n"
    )


NAME_CASES = (
    ("raw_cp932_filename", b'Content-Type: application/octet-stream; name="' + "見積書①.xlsx".encode("cp932")
     + b'"\r\nContent-Disposition: attachment; filename="' + "見積書①.xlsx".encode("cp932") + b'"', "見積書①.xlsx"),
    ("raw_utf8_filename", b'Content-Disposition: attachment; filename="' + "見積書.pdf".encode() + b'"', "見積書.pdf"),
    ("raw_cp932_ctype_name_only", b'Content-Type: application/pdf; name="' + "見積書.pdf".encode("cp932") + b'"',
     "見積書.pdf"),
    ("rfc2231_shift_jis", b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=Shift_JIS''"
     + "".join(f"%{b:02X}" for b in "髙﨑様見積書①.pdf".encode("cp932")).encode(), "髙﨑様見積書①.pdf"),
    ("rfc2231_iso2022jp_continued", b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
     b" filename*0*=ISO-2022-JP''" + "".join(f"%{b:02X}" for b in cp50220("①見積書.pdf")[:6]).encode()
     + b";\r\n filename*1*=" + "".join(f"%{b:02X}" for b in cp50220("①見積書.pdf")[6:]).encode(), "①見積書.pdf"),
)


@pytest.mark.parametrize("headers,name", [c[1:] for c in NAME_CASES], ids=[c[0] for c in NAME_CASES])
def test_attachment_names_never_cost_the_body(headers: bytes, name: str) -> None:
    rec = _record(_with_attachment(headers))
    assert rec.status == "ok" and rec.text_to_score == THREAT
    assert [a["filename"] for a in rec.attachments] == [name]


def test_raw_8bit_attachment_names_in_an_mbox(tmp_path: Path) -> None:
    path = tmp_path / "two.mbox"
    path.write_bytes(mbox([_with_attachment(NAME_CASES[0][1]), _with_attachment(NAME_CASES[1][1])]))
    recs = list(read_records([str(path)]))
    assert [r.status for r in recs] == ["ok", "ok"]
    assert all("attachment-name:raw-8bit" in r.decode_warnings for r in recs)


# a Thunderbird folder file with a stray ">From - " line on top
def test_thunderbird_file_with_stray_from_line(tmp_path: Path) -> None:
    folder = tmp_path / "Local Folders"
    folder.mkdir()
    one = message(THREAT, msgid="<t1@x>", headers="X-Mozilla-Status: 0001\n")
    two = message("まだか。" + THREAT, msgid="<t2@x>", headers="X-Mozilla-Status: 0001\n")
    body = (b">From - Sun Nov  1 09:00:00 2026\n" + b"From - Sun Nov  1 10:00:00 2026\n" + one + b"\n\n"
            + b"From - Sun Nov  1 11:00:00 2026\n" + two + b"\n")
    (folder / "Inbox").write_bytes(body)
    (folder / "Inbox.msf").write_bytes(b"// <!-- <mdb:mork:z v=\"1.4\"/> -->")
    for target in (folder, folder / "Inbox"):
        recs = list(read_records([str(target)]))
        assert [(r.record_id, r.status) for r in recs] == [("t1@x", "ok"), ("t2@x", "ok")]
        assert "mbox-stray-from-lines:1-1" in recs[0].decode_warnings


# sent folders of every common name and layout
@pytest.mark.parametrize(
    "folder",
    [".Sent", ".sent", ".Sent Items", ".Sent Messages", ".INBOX.Sent", ".&kAFP4W4IMH8w4TD8MOs-", ".&kAFP4W4IMH8-",
     "Sent", "INBOX/Sent Messages", "送信済みアイテム"],
)
def test_maildir_sent_folders(tmp_path: Path, folder: str) -> None:
    root = tmp_path / "Maildir"
    (root / "cur").mkdir(parents=True)
    (root / "cur" / "1.M1P1.host:2,S").write_bytes(message(THREAT, msgid="<in@x>"))
    sent = root / folder / "cur"
    sent.mkdir(parents=True)
    (sent / "2.M2P1.host:2,S").write_bytes(message("確認いたします。", msgid="<out@x>"))
    recs = {r.record_id: r for r in read_records([str(root)])}
    assert recs["out@x"].author_role == "agent" and recs["out@x"].status == "not_scored"
    assert recs["in@x"].status == "ok"


# HTML blockquotes that hold quoted history
HTML_QUOTE_CASES = (
    ("border_left_blockquote", f'<div>{THREAT}</div><blockquote style="border-left:1px solid #ccc;padding-left:1ex">'
     "確認のうえご連絡いたします。</blockquote>"),
    ("blockquote_after_attribution", f"<div>{THREAT}</div><div>2026/10/31 18:00、窓口 &lt;s@shop.example.jp&gt;のメール:</div>"
     "<blockquote>確認のうえご連絡いたします。</blockquote>"),
    ("freshdesk_quote", f'<div>{THREAT}</div><div class="freshdesk_quote"><blockquote class="freshdesk_quote">'
     "確認のうえご連絡いたします。</blockquote></div>"),
)


@pytest.mark.parametrize("html", [c[1] for c in HTML_QUOTE_CASES], ids=[c[0] for c in HTML_QUOTE_CASES])
def test_html_blockquote_history_dropped(html: str) -> None:
    rec = _record(message(html, content_type="text/html"))
    assert "確認のうえ" not in rec.text_to_score and THREAT in rec.text_to_score


def test_indent_blockquote_is_the_customers_text() -> None:
    html = f'<div>まだか</div><blockquote style="margin:0 0 0 40px;border:none;padding:0px">{THREAT}</blockquote>'
    assert THREAT in _record(message(html, content_type="text/html")).text_to_score


# a UTF-8 BOM at the start of a body
def test_utf8_bom_body_has_no_bom() -> None:
    rec = _record(message(b"\xef\xbb\xbf" + THREAT.encode("utf-8"), cte="base64"))
    assert rec.body_text == THREAT


def test_a_charset_label_naming_a_non_text_codec_does_not_cost_the_mail(tmp_path: Path) -> None:
    """rot13 is a Python codec but no text encoding: as a label it is unknown, and the body is still read."""
    path = tmp_path / "rot.eml"
    path.write_bytes(b"From: a@example.com\nTo: b@example.com\nSubject: t\nMessage-ID: <r1@x>\n"
                     b"Content-Type: text/plain; charset=rot13\n\n\xe8\xbf\x94\xe9\x87\x91\xe3\x81\x97\xe3\x82\x8d\n")
    (rec,) = read_records([str(path)])
    assert rec.status == "ok" and "返金しろ" in rec.body_text
