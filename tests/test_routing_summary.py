"""The routing summary line that `kasuhara route` and `scan --route` print (RouteSummary.text)."""

import pytest

from kasuhara_nlp.cli import main
from kasuhara_nlp.routing import RouteSummary

# (case id, summary, the line printed on stderr)
TEXTS = [
    ("nothing_to_do", RouteSummary(), "routing: "),
    ("counts_above_zero_in_field_order", RouteSummary(sent=2, results=5, skipped=3, alerts=2),
     "routing: results: 5  skipped: 3  alerts: 2  sent: 2"),
    ("destinations_in_the_order_sent",
     RouteSummary(results=1, alerts=1, sent=2, by_destination={"slack": 1, "mail": 1}),
     "routing: results: 1  alerts: 1  sent: 2  sent to: slack 1, mail 1"),
    ("snapshots_are_counts_too", RouteSummary(retried=2, deferred=2, awaiting_retry=2, dead_open=1),
     "routing: retried: 2  deferred: 2  awaiting_retry: 2  dead_open: 1"),
    ("warnings_and_state_dir_are_not_counts",
     RouteSummary(results=1, manager_unknown=1, warnings=["rule 'x' asks to notify the manager"], state_dir="/s"),
     "routing: results: 1  manager_unknown: 1"),
]


@pytest.mark.parametrize("summary, expected", [c[1:] for c in TEXTS], ids=[c[0] for c in TEXTS])
def test_text(summary, expected):
    assert summary.text() == expected


def test_merged_summary_text_adds_destinations():
    merged = RouteSummary(sent=1, by_destination={"queue": 1}).merge(RouteSummary(sent=2, by_destination={"queue": 2}))
    assert merged.text() == "routing: sent: 3  sent to: queue 3"


def test_route_cli_prints_the_text_then_the_problems(tmp_path, capsys):
    # A results file with no flagged message: nothing to send, one skipped result.
    results = tmp_path / "r.jsonl"
    results.write_text('{"id": "1", "kind": "message", "status": "ok", "labels": [], "severity": 0, "scores": {}}\n',
                       encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text('state_dir = "state"\n', encoding="utf-8")
    assert main(["route", str(results), "--policy", str(policy)]) == 0
    assert capsys.readouterr().err == "routing: results: 1  skipped: 1\n"
