"""Smoke probes of docs/training.md §17-§19: bare names and field values (must not be flagged) and short attacks
that name staff (must be).

Two sets, both the project's own writing and kept out of the corpus (the script says if a text is in it):
the probe of §17 (20 bare values, 5 attacks, inline below) and the held-out probe of §19
(``data/probe/short_heldout.jsonl``: 150 benign, 40 attacks, written by someone who saw none of the corpus).

    python scripts/probe_short.py models/kasuhara-bert-ja [--quiet]
"""
import argparse
import json

from kasuhara_nlp import KasuharaClassifier
from kasuhara_nlp.data import DATA_DIR, load_messages

BENIGN = ["山田 太郎", "山田太郎", "佐藤 花子", "鈴木 一郎", "ヤマダ タロウ", "山田 太郎 様", "高橋 健二です", "ｻﾄｳ ﾊﾅｺ",
          "yamada taro", "渡辺 美咲", "伊藤", "小林 誠 と申します", "田中 一郎（タナカ イチロウ）", "中村 様", "加藤 恵美子",
          "吉田 和也 090-1234-5678", "東京都千代田区丸の内1-1-1", "株式会社サンプル 営業部 山本", "12月3日 14時", "A-20261103-0441"]
ATTACKS = ["受付の高橋、夜道には気をつけな。", "担当の小林って奴、無能すぎる。クビにしろ", "鈴木さんの家、もう調べてあるから",
           "山田、お前の顔は覚えたぞ", "窓口の佐藤さん、今度二人で飲みに行こうよ。連絡先教えて"]
HELD_OUT = DATA_DIR / "probe" / "short_heldout.jsonl"


def held_out() -> tuple[list[str], list[str]]:
    """The §19 held-out probe as (benign texts, attack texts)."""
    rows = [json.loads(line) for line in HELD_OUT.open(encoding="utf-8") if line.strip()]
    return ([r["text"] for r in rows if r["expect"] == "benign"], [r["text"] for r in rows if r["expect"] == "attack"])


def run(clf: KasuharaClassifier, name: str, benign: list[str], attacks: list[str], corpus: set[str],
        quiet: bool) -> None:
    """Score one probe set and print each text (unless ``quiet``) and the two counts."""
    flagged = caught = 0
    for kind, texts in (("benign", benign), ("attack", attacks)):
        for t in texts:
            r = clf.predict(t)
            flagged += kind == "benign" and bool(r.labels)
            caught += kind == "attack" and bool(r.labels)
            if not quiet or (kind == "benign") == bool(r.labels):  # quiet: only the mistakes
                verdict = ("FLAG " + ",".join(r.labels)) if r.labels else ("ok" if kind == "benign" else "MISSED")
                print(f"  {kind:6}  {t!r:40} {verdict:24} max {max(r.scores.values()):.2f}"
                      f"{'  (in corpus)' if t in corpus else ''}")
    print(f"{name}: benign flagged {flagged} of {len(benign)}; attacks flagged {caught} of {len(attacks)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--quiet", action="store_true", help="print only the texts the model gets wrong")
    args = parser.parse_args()
    corpus = {m.text.strip() for m in load_messages()}
    clf = KasuharaClassifier.from_pretrained(args.model)
    print(f"model {clf.config.name} {clf.config.version}")
    run(clf, "probe (§17)", BENIGN, ATTACKS, corpus, args.quiet)
    if HELD_OUT.exists():
        run(clf, "held-out probe (§19)", *held_out(), corpus, args.quiet)


if __name__ == "__main__":
    main()
