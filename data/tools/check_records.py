"""Check labelled JSONL files against data/SCHEMA.md and print counts.

Usage: python data/tools/check_records.py FILE.jsonl [FILE.jsonl ...]
Exit code 1 when any record is invalid (each problem is printed with file and line).

Besides the schema: a record's text must not be empty, and text that came from real customers (any
``source`` but the team-written ``team`` and ``blind``, e.g. ``analyst_feedback`` and ``staff_report``)
must hold no unmasked personal data (``kasuhara_nlp.pii.find_pii``): these records go into git.  The
team-written corpus keeps its made-up addresses and numbers (example.com, 090-0000-...) on purpose.
"""

from __future__ import annotations

import collections
import json
import sys

from kasuhara_nlp.labels import CATEGORIES, SEVERITY_LEVELS, subtype_categories
from kasuhara_nlp.pii import find_pii

CHANNELS = {"email", "chat", "phone", "meeting", "web_form", "sns_dm", "review_reply", "one_liner"}
FIELDS = {"id", "family", "text", "label_quote", "channel", "industry", "register", "labels",
          "severity", "subtypes", "hard_negative", "source", "notes"}
# Sources whose text the team wrote (made-up personal data allowed); every other source is real customer text.
TEAM_SOURCES = {"team", "blind"}


def text_problems(record: dict) -> list[str]:
    """Empty text, or unmasked personal data in customer text (types only: never the value)."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["empty text"]
    if record.get("source") in TEAM_SOURCES:
        return []
    types = sorted({f.type for f in find_pii(text)})
    if types:
        return [f"unmasked personal data ({', '.join(types)}) in {record.get('source')!r} text; mask it with "
                "kasuhara_nlp.pii.mask_text (kasuhara feedback does)"]
    return []


def check(paths: list[str]) -> int:
    bad = 0
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    count = collections.Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{path}:{n}: not JSON: {e}")
                    bad += 1
                    continue
                if not isinstance(r, dict):
                    print(f"{path}:{n}: not a JSON object")
                    bad += 1
                    continue
                problems = text_problems(r)
                missing = FIELDS - set(r)
                if missing:
                    problems.append(f"missing fields {sorted(missing)}")
                labels = r.get("labels", [])
                sev = r.get("severity")
                if any(x not in CATEGORIES for x in labels):
                    problems.append(f"unknown labels {labels}")
                if sev not in SEVERITY_LEVELS or bool(labels) != (sev >= 1 if isinstance(sev, int) else False):
                    problems.append(f"severity {sev} inconsistent with labels {labels}")
                uncovered = subtype_categories(r.get("subtypes", [])) - set(labels)
                if uncovered:
                    problems.append(f"subtypes {r.get('subtypes')} need labels {sorted(uncovered)}")
                if r.get("channel") not in CHANNELS:
                    problems.append(f"unknown channel {r.get('channel')}")
                q = r.get("label_quote")
                if q is not None and q not in r.get("text", ""):
                    problems.append("label_quote is not an exact substring of text")
                if r.get("id") in seen_ids:
                    problems.append(f"duplicate id {r.get('id')}")
                if r.get("text") in seen_text:
                    problems.append("duplicate text")
                if labels and r.get("hard_negative"):
                    problems.append("hard_negative set on a positive")
                if problems:
                    bad += 1
                    print(f"{path}:{n}: " + "; ".join(problems))
                    continue
                seen_ids.add(r["id"])
                seen_text.add(r["text"])
                count["records"] += 1
                if not labels:
                    count["none"] += 1
                    count["hard_negative"] += bool(r["hard_negative"])
                else:
                    count["positive"] += 1
                    count["multi_label"] += len(labels) > 1
                for x in labels:
                    count[x] += 1
                count[f"severity_{sev}"] += 1
                count[f"channel_{r['channel']}"] += 1
                L = len(r["text"])
                count["len<=40" if L <= 40 else "len<=200" if L <= 200 else "len<=600" if L <= 600 else "len>600"] += 1
    for k in sorted(count):
        print(f"{k:24s} {count[k]}")
    print(f"invalid records: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1:]))
