"""The routing state file (SQLite): which deliveries are in which state, per alert and overall."""

from __future__ import annotations

import pytest

from kasuhara_nlp.routing.alerts import Alert
from kasuhara_nlp.routing.state import StateStore


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "state")
    for n, key in enumerate(("k1", "k2", "k3")):
        alert = Alert(key=key, message_id=f"m{n}", category="abuse", severity=2, created_at=f"2026-11-30T0{n}:00:00Z")
        s.record(alert, f"ref{n}", "send", {"slack": "pending", "mail": "held" if key == "k2" else "pending"})
    yield s
    s.close()


@pytest.mark.parametrize("status, key, expected", [
    ("pending", None, [("k1", "slack"), ("k1", "mail"), ("k2", "slack"), ("k3", "slack"), ("k3", "mail")]),
    ("pending", "k2", [("k2", "slack")]),
    ("pending", "k3", [("k3", "slack"), ("k3", "mail")]),
    ("held", None, [("k2", "mail")]),
    ("held", "k1", []),
    ("pending", "no-such-alert", []),
])
def test_deliveries_by_status_and_alert(store, status, key, expected):
    # One alert's deliveries are picked in SQL (a re-sent staff report must not walk every pending delivery).
    got = [(alert.key, dest) for alert, dest in store.deliveries(status, key)]
    assert got == expected


def test_requeue_dead_of_one_alert_leaves_the_others(store):
    for key in ("k1", "k3"):
        store.set_status(key, "slack", "dead", 1, "gave up")
    assert store.requeue_dead("k1") == 1
    assert [(a.key, d) for a, d in store.deliveries("dead")] == [("k3", "slack")]
    assert ("k1", "slack") in [(a.key, d) for a, d in store.deliveries("pending", "k1")]
