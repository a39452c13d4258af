"""Personal names in customer text: a common surname, with a given name or title after it, right before an
honorific (山田様, 佐藤花子さん).  Used by :mod:`.pii`, which masks what this finds as ``[氏名]``.
"""

from __future__ import annotations

import re

__all__ = ["name_spans"]

# --- names --------------------------------------------------------------------------------------------------
# Common surnames (the most frequent few hundred; spelling variants included).  A name is masked only as one
# of these before an honorific: an open pattern (any kanji before 様/さん) would mask the roles customers
# name far more often (お客様, 担当者様, 店員さん, 運転手さん, 皆様).  Given names alone and names written in
# kana are not found.
_SURNAMES = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 渡部 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 斉藤"
    " 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本"
    " 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 原 柴田 酒井"
    " 工藤 横山 宮崎 宮本 内田 高木 安藤 島田 谷口 大野 高田 丸山 今井 河野 藤本 村田 武田 上野 杉山 増田 小山 大塚"
    " 平野 菅原 久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地 菊池 野村 新井 佐野 杉本 古川 大西 浜田 市川 小松"
    " 水野 西田 北村 五十嵐 安田 中西 川口 平田 川崎 飯田 吉川 本田 久保田 沢田 辻 関 吉村 岩田 中谷 服部 樋口"
    " 福島 川上 永井 松岡 田口 山中 森本 土屋 矢野 広瀬 秋山 石原 松下 大橋 松浦 吉岡 小池 馬場 浅野 荒木 大久保 野田"
    " 小沢 田辺 川村 星野 黒田 堀 尾崎 望月 永田 熊谷 内藤 松村 西川 大島 岡崎 平井 早川 榎本 片山 須藤 細川 川田"
    " 北川 中田 白石 小西 西山 関口 今村 小島 坂口 宮田 若林 植田 石橋 大石 桑原 上原 大川 小野寺 遠山 原口 堀内 竹田"
    " 宮下 長田 大森 高野 小田 菅野 荒井 西尾 小森 大谷 松原 岩本 内山 武藤 大竹 吉野 安達 宮内 宮川 野崎"
    " 岩井 堀田 今野 香川 稲葉 奥村 青山 石黒 根本 川本 田島 中尾 三宅 大山 長尾 宇野 千田 中井 松永 田代"
    " 梅田 福井 小倉 横田 萩原 新田 本間 沢井 吉井 秋元 北島 岸本 金井 米田 水谷 山内 成田 江口 富田"
    " 岡部 神田 笠原 篠原 久保木 福本 村井 奥田 栗原 河合 川島 三上 石山 大沢 安部 亀井 古田 真田 浅井 牧野"
    " 森川 高山 赤木 赤坂 黒木 白井 坂井 坂田 滝沢 田原 長島 中原 松山 戸田 前川 高井 藤川 横井 竹中 石塚 北野"
).split()
# Variant kanji of names (異体字) read as their common form, one character for one so offsets hold: 髙橋 and
# 山﨑 are 高橋 and 山崎 to the look-up.  Register names keep these, and CP932 and Unicode carry them.
_VARIANTS = str.maketrans("髙﨑嵜𠮷濵濱廣邊邉澤櫻瀧齋齊", "高崎崎吉浜浜広辺辺沢桜滝斎斉")
# One-kanji surnames also end place and company words (雑木林, 青森, 高原, 玄関), so they count only alone
# before the honorific, and the longer ones take no given name after them.
_LONG_SURNAMES = frozenset(s for s in _SURNAMES if len(s) > 1)
_SHORT_SURNAMES = frozenset(s for s in _SURNAMES if len(s) == 1)
_HONORIFIC = re.compile(r"\s?(?:様|さま|さん|殿|氏|先生|くん|君|ちゃん)")
_NAME_RUN_MAX = 11  # a 3-kanji surname, a blank and a 6-katakana given name (or a 4-kanji title)
_GIVEN = re.compile(r" ?(?:[\u4e00-\u9fff々]{1,4}|[ァ-ヺー]{2,6})")
# A kanji run ending in a unit of an organisation is a branch (千葉店様, 中野支社さん), not a person.
_ORG_UNIT = frozenset("店所部課社局署院園館係室")


def _is_word_char(ch: str) -> bool:
    """Kanji or katakana: the characters a name (or the word it is part of) is written in."""
    return len(ch) == 1 and (
        "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"  # CJK unified, extension A
        or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"  # compatibility (﨑), extensions B+ (𠮷)
        or ch == "々" or "ァ" <= ch <= "ヺ" or ch == "ー")


def _is_name_char(ch: str) -> bool:
    return _is_word_char(ch) or ch == " "  # 山田 太郎 様


def name_spans(folded: str) -> list[tuple[int, int]]:
    """Common surnames (with a given name or title after them) right before an honorific.

    Read backwards from each honorific over at most a few characters, with set look-ups, so the work is
    linear in the text whatever it holds.

    >>> [folded[s:e] for folded in ["担当の佐藤花子様と田中さん、お客様"] for s, e in name_spans(folded)]
    ['佐藤花子', '田中']
    """
    found: list[tuple[int, int]] = []
    last_end = 0
    for hon in _HONORIFIC.finditer(folded):
        end = hon.start()
        start = end
        while start > max(last_end, end - _NAME_RUN_MAX) and _is_name_char(folded[start - 1]):
            start -= 1
        run = folded[start:end].translate(_VARIANTS)
        for i in range(len(run)):  # leftmost surname first, so a given name after it is masked with it
            rest = None
            for n in (3, 2):
                if run[i : i + n] in _LONG_SURNAMES:
                    rest = run[i + n :]
                    if not rest or (_GIVEN.fullmatch(rest) and rest[-1] not in _ORG_UNIT):
                        break
                    rest = None
            if rest is None and run[i:] in _SHORT_SURNAMES and not _is_word_char(folded[start + i - 1 : start + i]):
                rest = ""  # a one-kanji surname only as a word of its own: not the end of 青森 or 高原
            if rest is not None:
                found.append((start + i, end))
                last_end = end
                break
    return found
