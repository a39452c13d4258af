"""Column mapping presets for CSV/JSON exports, and the header names found without options.

A preset maps our field names to the source's column names (first present wins).  Japanese
and English aliases are both accepted because Japanese tools export either.

>>> PRESETS["salesforce-emailmessage"].text
('TextBody', 'HtmlBody')
>>> find_column(["チケットID", "本文"], TEXT_CANDIDATES)
'本文'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "ID_CANDIDATES",
    "PRESETS",
    "TEXT_CANDIDATES",
    "ColumnPreset",
    "find_column",
    "preset_names",
]

#: Text columns recognised without --text-field, in order of preference.
TEXT_CANDIDATES = (
    # A vendor's plain-text twin of an HTML field (Freshdesk body_text / description_text) comes before it.
    "text", "body_text", "description_text", "plain_body", "body", "message", "本文", "内容", "問い合わせ内容", "お問い合わせ内容", "メッセージ",
    "content", "comment", "description", "コメント",
)
#: Id columns recognised without --id-field.
ID_CANDIDATES = (
    "id", "問い合わせID", "チケットID", "問い合わせ番号", "お問い合わせ番号", "message_id", "ticket_id",
    "record_id", "No", "番号",
)


@dataclass(frozen=True)
class ColumnPreset:
    """Source column names for each record field; empty tuples mean "guess from headers".

    ``internal`` names columns that are true on an internal note; ``html`` names columns that hold HTML mail bodies: in a row whose text column is empty the first
    one present is used instead, and HTML from it (or HTML found in the text column) is converted to
    text before scoring.
    """

    name: str
    text: tuple[str, ...] = TEXT_CANDIDATES
    id: tuple[str, ...] = ID_CANDIDATES
    conversation: tuple[str, ...] = ("conversation_id", "thread_id", "ticket_id", "チケットID", "ParentId")
    timestamp: tuple[str, ...] = (
        "timestamp", "created_at", "sent_at", "date", "送信日時", "受信日時", "受付日時", "日時", "作成日時",
    )
    author: tuple[str, ...] = ("author", "sender", "from", "name", "送信者", "差出人", "氏名", "お名前")
    role: tuple[str, ...] = (
        "role", "author_role", "author_type", "sender_type", "direction", "incoming", "送信者種別", "種別",
    )
    visibility: tuple[str, ...] = ("public", "is_public", "visibility", "公開")
    #: Columns that are true for an internal note (Freshdesk ``private``): the opposite sense of ``visibility``.
    internal: tuple[str, ...] = ("private", "is_private", "internal", "is_internal", "社内メモ", "非公開")
    subject: tuple[str, ...] = ("subject", "件名", "タイトル", "title")
    staff: tuple[str, ...] = ("staff", "assignee", "担当者", "担当")
    channel: tuple[str, ...] = ("channel", "チャネル", "チャネル種別")
    html: tuple[str, ...] = ()
    encoding: str | None = None
    channel_default: str = "other"


PRESETS: dict[str, ColumnPreset] = {
    "salesforce-emailmessage": ColumnPreset(
        name="salesforce-emailmessage",
        text=("TextBody", "HtmlBody"),
        html=("HtmlBody",),
        id=("Id",),
        conversation=("ParentId",),
        timestamp=("MessageDate", "CreatedDate"),
        author=("FromName", "FromAddress"),
        role=("Incoming",),
        visibility=("IsExternallyVisible",),
        subject=("Subject",),
        staff=(),
        channel=(),
        channel_default="email",
    ),
    "salesforce-casecomment": ColumnPreset(
        name="salesforce-casecomment",
        text=("CommentBody",),
        id=("Id",),
        conversation=("ParentId",),
        timestamp=("CreatedDate",),
        author=("CreatedById",),
        role=(),
        visibility=("IsPublished",),
        subject=(),
        staff=(),
        channel=(),
    ),
    "jp-helpdesk-cp932": ColumnPreset(
        name="jp-helpdesk-cp932",
        text=("本文", "内容", "問い合わせ内容"),
        # A per-message id where the export has one; else the ticket number, made unique per row.
        id=("メッセージID", "履歴ID", "明細ID", "問い合わせ番号", "問い合わせID"),
        conversation=("問い合わせ番号", "問い合わせID", "チケットID"),
        timestamp=("送信日時", "受信日時", "日時"),
        author=("送信者", "差出人"),
        role=("送信者種別", "種別"),
        visibility=(),
        subject=("件名",),
        staff=("担当者",),
        channel=("チャネル",),
        encoding="cp932",
    ),
}


def preset_names() -> list[str]:
    """Names accepted by ``preset=`` (``zendesk`` is a JSON reader, not a column preset).

    >>> "zendesk" in preset_names()
    True
    """
    return sorted([*PRESETS, "zendesk"])


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "_")


def find_column(columns: list[str] | tuple[str, ...], candidates: tuple[str, ...]) -> str | None:
    """The first column whose name matches a candidate (NFKC, case and space insensitive).

    >>> find_column(["ＴＥＸＴ "], ("text",))
    'ＴＥＸＴ '
    """
    keyed = {}
    for col in columns:
        keyed.setdefault(_key(col), col)
    for cand in candidates:
        col = keyed.get(_key(cand))
        if col is not None:
            return col
    return None
