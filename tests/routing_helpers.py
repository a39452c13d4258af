"""Real local servers for the routing tests: an HTTP webhook receiver and an SMTP server (aiosmtpd),
both on 127.0.0.1 with a port chosen by the OS.  No mocks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from email import message_from_bytes, policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Clock:
    """A settable clock for the router's ``now``: tests move time instead of sleeping."""

    def __init__(self, when):
        self.now = when

    def __call__(self):
        return self.now


class WebhookServer:
    """Records every POST; fails the first ``fail_first`` with 500, or hangs ``hang_s`` before answering,
    or answers ``status`` (with ``reply`` as the body and ``location`` as the Location header), or sends
    its 200 answer one byte every ``trickle_s`` seconds (``trickle_bytes`` of them).  Verifies the HMAC
    signature when given a ``secret``.  ``fail_first`` and ``status`` may be changed while it runs."""

    def __init__(self, *, fail_first: int = 0, hang_s: float = 0.0, status: int = 200, secret: str = "",
                 signature_header: str = "X-Kasuhara-Signature", reply: bytes = b"ok", location: str = "",
                 trickle_s: float = 0.0, trickle_bytes: int = 40):
        self.fail_first, self.hang_s, self.status = fail_first, hang_s, status
        self.secret, self.signature_header = secret, signature_header
        self.reply, self.location, self.trickle_s, self.trickle_bytes = reply, location, trickle_s, trickle_bytes
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with outer.lock:
                    n = len(outer.requests)
                    sig_ok = None
                    if outer.secret:
                        expected = "sha256=" + hmac.new(outer.secret.encode(), body, hashlib.sha256).hexdigest()
                        sig_ok = hmac.compare_digest(expected, self.headers.get(outer.signature_header, ""))
                    outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                           "key": self.headers.get("Idempotency-Key"), "signature_ok": sig_ok})
                if outer.hang_s:
                    time.sleep(outer.hang_s)
                code = 500 if n < outer.fail_first else outer.status
                try:
                    self.send_response(code)
                    if outer.location:
                        self.send_header("Location", outer.location)
                    if outer.trickle_s:  # a slow-loris answer: headers at once, then the body byte by byte
                        self.send_header("Content-Length", str(outer.trickle_bytes))
                        self.end_headers()
                        for _ in range(outer.trickle_bytes):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(outer.trickle_s)
                        return
                    self.send_header("Content-Length", str(len(outer.reply)))
                    self.end_headers()
                    self.wfile.write(outer.reply)
                except OSError:
                    pass  # the client gave up (the timeout tests)

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "WebhookServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def keys(self) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.requests]

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]


class _Recorder:
    def __init__(self, refuse: frozenset[str] = frozenset(), greylist_first: int = 0):
        self.messages: list[dict] = []
        self.refuse = refuse  # recipient addresses answered with 550, as for a mistyped or departed address
        self.greylist_first = greylist_first  # answer DATA with 451 (greylisting) this many times first
        self.greylisted = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd API)
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        if self.greylisted < self.greylist_first:
            self.greylisted += 1
            return "451 4.7.1 greylisted, try again later"
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "message": message_from_bytes(envelope.original_content or envelope.content,
                                                            policy=email_policy.default),
                              "tls": session.ssl is not None, "login": getattr(session, "login_data", None)})
        return "250 OK"


class _Controller(Controller):
    # aiosmtpd's Controller connects to self.port to check the server is up; with port 0 that is
    # the wrong port, so read the port the OS chose first.
    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"alert-bot" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


class SmtpServer:
    """aiosmtpd on 127.0.0.1; with ``tls_context`` it offers STARTTLS (and requires it when asked); it refuses
    the recipients in ``refuse``, and greylists (451) the first ``greylist_first`` mails."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, require_starttls: bool = False,
                 auth: bool = False, refuse: frozenset[str] = frozenset(), greylist_first: int = 0):
        self.handler = _Recorder(refuse, greylist_first)
        kwargs = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        if auth:
            kwargs.update(authenticator=_auth, auth_require_tls=tls_context is not None)
        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=0, **kwargs)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        self.port = self.controller.port
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[dict]:
        return self.handler.messages


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def result(rid: str, labels: list[str], severity: int, *, score: float = 0.9, conversation_id: str | None = None,
           timestamp_utc: str | None = None, text: str = "", evidence: list[dict] | None = None,
           staff_name: str | None = None, message_id: str | None = None) -> dict:
    """A scan result record as `kasuhara scan` writes it (README output schema)."""
    scores = {"abuse": 0.01, "demand": 0.01, "restraint": 0.01, "other_harassment": 0.01}
    scores.update({c: score for c in labels})
    return {"id": rid, "kind": "message", "status": "ok", "reason": None, "flagged": bool(labels),
            "labels": labels, "scores": scores, "severity": severity,
            "evidence": evidence if evidence is not None else [
                {"label": c, "start": 0, "end": len(text), "text": text or "根拠の文", "score": score} for c in labels],
            "text": text or "根拠の文", "model": "kasuhara-baseline", "model_version": "0.1.0",
            "schema_version": "1.0", "source_format": "jsonl", "source_file": "inbox.jsonl",
            "source_locator": "1", "conversation_id": conversation_id, "message_id": message_id, "sequence": 0,
            "timestamp_utc": timestamp_utc, "timestamp_local": None, "author_role": "customer",
            "channel": "email", "staff_name": staff_name, "decode_warnings": []}


def cli_env() -> dict:
    """The environment for `python -m kasuhara_nlp` subprocesses: this checkout first on the path."""
    import os

    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
