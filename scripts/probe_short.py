"""Smoke probe of docs/training.md §17: bare names and field values (must not be flagged) and attacks that name
staff (must be).  The project's own writing; none of the 25 texts is in the corpus (the script checks).

    python scripts/probe_short.py models/kasuhara-bert-ja
"""
import sys

from kasuhara_nlp import KasuharaClassifier
from kasuhara_nlp.data import load_messages

BENIGN = ["山田 太郎", "山田太郎", "佐藤 花子", "鈴木 一郎", "ヤマダ タロウ", "山田 太郎 様", "高橋 健二です", "ｻﾄｳ ﾊﾅｺ",
          "yamada taro", "渡辺 美咲", "伊藤", "小林 誠 と申します", "田中 一郎（タナカ イチロウ）", "中村 様", "加藤 恵美子",
          "吉田 和也 090-1234-5678", "東京都千代田区丸の内1-1-1", "株式会社サンプル 営業部 山本", "12月3日 14時", "A-20261103-0441"]
ATTACKS = ["受付の高橋、夜道には気をつけな。", "担当の小林って奴、無能すぎる。クビにしろ", "鈴木さんの家、もう調べてあるから",
           "山田、お前の顔は覚えたぞ", "窓口の佐藤さん、今度二人で飲みに行こうよ。連絡先教えて"]

corpus = {m.text.strip() for m in load_messages()}
clf = KasuharaClassifier.from_pretrained(sys.argv[1])
print(f"model {clf.config.name} {clf.config.version}")
fp = 0
for t in BENIGN:
    r = clf.predict(t); fp += bool(r.labels)
    print(f"  benign  {t!r:40} {'FLAG ' + ','.join(r.labels) if r.labels else 'ok':20} max {max(r.scores.values()):.2f}{'  (in corpus)' if t in corpus else ''}")
tp = 0
for t in ATTACKS:
    r = clf.predict(t); tp += bool(r.labels)
    print(f"  attack  {t!r:40} {','.join(r.labels) or 'MISSED':20} max {max(r.scores.values()):.2f}{'  (in corpus)' if t in corpus else ''}")
print(f"benign flagged: {fp} of {len(BENIGN)}; attacks flagged: {tp} of {len(ATTACKS)}")
