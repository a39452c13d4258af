"""A routing run killed with SIGKILL midway, then run again, delivers every alert exactly once: to the
JSONL queue (unique lines) and, de-duplicated by Idempotency-Key, to the webhook."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.routing_helpers import WebhookServer, cli_env, read_jsonl, result

N_ALERTS = 12


def route(policy, results, **kw):
    return subprocess.Popen([sys.executable, "-m", "kasuhara_nlp", "route", str(results), "--policy", str(policy)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(), **kw)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_sigkill_midway_then_rerun_delivers_each_alert_exactly_once(tmp_path):
    results = tmp_path / "results.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        for i in range(N_ALERTS):
            f.write(json.dumps(result(f"m{i}", ["abuse"], 2, message_id=f"<m{i}@example.jp>"), ensure_ascii=False)
                    + "\n")
        f.write(json.dumps(result("ok", [], 0)) + "\n")  # not flagged: no alert
    with WebhookServer() as server:
        policy = tmp_path / "policy.toml"
        # min_interval_s slows delivery (0.1 s after each of the 24 deliveries) so the kill lands midway.
        policy.write_text(f"""
state_dir = "state"
[destinations.hook]
type = "webhook"
url = "{server.url}"
timeout_s = 2
[[rules]]
min_severity = 1
destinations = ["queue", "hook"]
[delivery]
attempts = 2
base_delay_s = 0.01
min_interval_s = 0.1
""", encoding="utf-8")
        proc = route(policy, results)
        deadline = time.monotonic() + 30
        while server.count() < 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        at_kill = server.count()
        assert 4 <= at_kill < N_ALERTS, "the kill should land midway"

        rerun = route(policy, results)
        out, err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, err.decode()

        third = route(policy, results)  # and once more: nothing new
        _, err3 = third.communicate(timeout=60)
        assert third.returncode == 0 and "duplicates: 12" in err3.decode()

        keys = server.keys()
    assert len(set(keys)) == N_ALERTS  # every alert reached the webhook; repeats share a key
    assert len(keys) - len(set(keys)) <= 1  # at most the one in flight at the kill was sent again
    queue = read_jsonl(tmp_path / "state" / "alerts.jsonl")
    queue_keys = [line["idempotency_key"] for line in queue]
    assert len(queue_keys) == len(set(queue_keys)) == N_ALERTS  # exactly once in the queue
    assert set(queue_keys) == set(keys)
