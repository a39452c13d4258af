"""Senders: write one alert to one destination (a JSONL queue, an HTTP webhook, e-mail over SMTP).

Each ``send`` makes exactly one attempt and either returns a short detail for the audit log ("HTTP 200")
or raises :class:`DeliveryError` saying whether trying again may help.  Retries, state and dead letters
live in delivery.py.  Secrets (webhook URL, HMAC key, SMTP credentials) come from environment variables
named in the policy, read once when a sender is built.

>>> import tempfile, os
>>> from .alerts import Alert
>>> from .policy import JsonlDestination, MessageSettings
>>> path = os.path.join(tempfile.mkdtemp(), "q.jsonl")
>>> q = JsonlSender(JsonlDestination("queue", path), MessageSettings())
>>> a = Alert(key="k1", message_id="m1", category="abuse", severity=2, created_at="2026-04-06T01:00:00Z")
>>> q.send(a), q.already_delivered(a)
('appended', True)
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import smtplib
import socket
import ssl
import threading
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import ConfigError, KasuharaError
from .alerts import Alert, parse_time, render_subject, render_text, slack_payload
from .policy import Destination, EmailDestination, JsonlDestination, MessageSettings, WebhookDestination, check_url

__all__ = ["DeliveryError", "EmailSender", "JsonlSender", "Sender", "WebhookSender", "append_jsonl",
           "make_sender", "sign_body"]

USER_AGENT = "kasuhara-nlp-routing/1"
_RETRYABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
_MAX_RESPONSE = 65536  # bytes of a response body read (only its start is ever shown)


def _short(raw: bytes | str, limit: int = 120) -> str:
    """A receiver's reply (HTTP body, SMTP text), one line, printable, shortened: for error details."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _without_query(url: str) -> str:
    # A redirect target may carry a token in its query string; the audit log must not.
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl() + ("?…" if parts.query else "")


class DeliveryError(KasuharaError):
    """One delivery attempt failed.  ``retryable`` is False when trying again cannot help (a 4xx, bad
    credentials, no STARTTLS where it is required)."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    name: str
    type: str

    def send(self, alert: Alert) -> str: ...

    def already_delivered(self, alert: Alert) -> bool: ...


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append one JSON line, flushed and fsync'd, so that a line written is a line kept after a crash.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a", "x.jsonl")
    >>> append_jsonl(p, {"a": 1}); open(p).read()
    '{"a": 1}\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def sign_body(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of the exact body bytes.

    >>> sign_body("s", b"{}")
    'sha256=143ca8d517ba1b181025d732b1cf275d90104fca57bb02a565542978aa18c4b6'
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _created(alert: Alert) -> datetime:
    return parse_time(alert.created_at) or datetime.now(timezone.utc)


class JsonlSender:
    """Append alerts to a JSONL file (the queue, or a daily digest when the path holds ``{date}``)."""

    type = "jsonl"

    def __init__(self, cfg: JsonlDestination, settings: MessageSettings):
        self.name, self.cfg, self.settings = cfg.name, cfg, settings

    def _path(self, alert: Alert) -> Path:
        # The date the alert was raised, so a resumed delivery looks in the same file.
        return self.cfg.path_for(_created(alert))

    def send(self, alert: Alert) -> str:
        record = {"idempotency_key": alert.key, "destination": self.name,
                  "queued_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                  "alert": alert.to_dict(), "text": render_text(alert, self.settings)}
        append_jsonl(self._path(alert), record)
        return "appended"

    def already_delivered(self, alert: Alert) -> bool:
        """True when a line with this alert's key is in the file (a run killed after writing it)."""
        path = self._path(alert)
        if not path.exists():
            return False
        needle = f'"idempotency_key": "{alert.key}"'
        with open(path, encoding="utf-8", errors="replace") as f:
            return any(needle in line and line.endswith("\n") for line in f)


class WebhookSender:
    """POST a Slack-compatible JSON body with an Idempotency-Key and an optional HMAC signature."""

    type = "webhook"

    def __init__(self, cfg: WebhookDestination, settings: MessageSettings, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.name, self.cfg, self.settings = cfg.name, cfg, settings
        self.url = cfg.url or env.get(cfg.url_env, "")
        if not self.url:
            raise ConfigError(f"destinations.{cfg.name}.url_env: environment variable {cfg.url_env} is not set")
        check_url(self.url, f"destinations.{cfg.name}.url_env ({cfg.url_env})", ConfigError)
        self.secret = env.get(cfg.secret_env, "") if cfg.secret_env else ""
        if cfg.secret_env and not self.secret:
            raise ConfigError(f"destinations.{cfg.name}.secret_env: environment variable {cfg.secret_env} is not set")

    def body(self, alert: Alert) -> bytes:
        return json.dumps(slack_payload(alert, self.settings), ensure_ascii=False).encode("utf-8")

    def send(self, alert: Alert) -> str:
        """POST once.  ``timeout_s`` bounds the whole exchange (connect, send, read the response): a socket
        timeout alone restarts with every byte, so a server trickling its answer could hold the run (and its
        lock) for hours, with every other alert, severity 3 included, waiting behind it."""
        body = self.body(alert)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "Idempotency-Key": alert.key, "Content-Length": str(len(body))}
        if self.secret:
            headers[self.cfg.signature_header] = sign_body(self.secret, body)
        parts = urlsplit(self.url)
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        timeout = self.cfg.timeout_s
        conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        deadline = time.monotonic() + timeout
        expired = threading.Event()

        def cut() -> None:
            # At the deadline, shut the socket down under whatever read is blocked on it.  The plain socket
            # method is called even for TLS, so that the SSL object is not torn down from another thread.
            expired.set()
            if conn.sock is not None:
                try:
                    socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(timeout, cut)
        timer.daemon = True
        timer.start()
        try:
            conn.connect()
            if expired.is_set():  # the deadline passed while connecting (the socket did not exist to cut)
                raise TimeoutError
            conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            reply = b""
            while len(reply) < _MAX_RESPONSE and not expired.is_set():
                chunk = resp.read1(_MAX_RESPONSE - len(reply))  # whatever has arrived; never waits for all
                if not chunk:
                    break
                reply += chunk
            if expired.is_set() or time.monotonic() > deadline:
                raise TimeoutError
            status, retry_after, location = resp.status, resp.getheader("Retry-After"), resp.getheader("Location")
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"TLS certificate not trusted ({exc.verify_message})", retryable=False) from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused connections, resets
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise DeliveryError(f"timed out: no complete answer within timeout_s = {timeout:g} s (the server "
                                    "was too slow, or sent its answer a little at a time)") from None
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        finally:
            timer.cancel()
            conn.close()
        if 200 <= status < 300:
            return f"HTTP {status}"
        raise self._http_error(status, retry_after, location, reply)

    def _http_error(self, status: int, retry_after: str | None, location: str | None, reply: bytes) -> DeliveryError:
        """Say what an unsuccessful answer means and what to do, with the receiver's own words (Slack
        answers e.g. ``invalid_token``)."""
        answer = _short(reply)
        said = f": {answer!r}" if answer else ""
        key = f"destinations.{self.name}.{'url' if self.cfg.url else 'url_env'}"
        if 300 <= status < 400:
            # Never followed: a redirected POST would re-send the alert and its signature to an address the
            # policy does not name (and 301/302 turn it into a GET on many servers).
            target = f" to {_without_query(location)}" if location else " (no Location given)"
            return DeliveryError(f"HTTP {status} redirect{target}: redirects are not followed for webhook POSTs; "
                                 f"if the endpoint moved, put its new address in {key}", retryable=False)
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        if status in _RETRYABLE_HTTP:
            return DeliveryError(f"HTTP {status}{said}", retryable=True, retry_after=wait)
        hint = {401: "check the secret", 403: "check the URL and the secret", 404: f"check {key}",
                410: f"the webhook was removed; update {key}"}.get(status, "the receiver refused the request")
        return DeliveryError(f"HTTP {status}{said}; {hint} (not retried)", retryable=False)

    def already_delivered(self, alert: Alert) -> bool:
        return False  # resent with the same Idempotency-Key: the receiver drops the duplicate


class EmailSender:
    """Send a plain-text e-mail; STARTTLS when offered (``starttls = "auto"``) or required (``"always"``)."""

    type = "email"

    def __init__(self, cfg: EmailDestination, settings: MessageSettings, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.name, self.cfg, self.settings = cfg.name, cfg, settings
        self.username = env.get(cfg.username_env, "") if cfg.username_env else ""
        self.password = env.get(cfg.password_env, "") if cfg.password_env else ""
        for attr, value in (("username_env", self.username), ("password_env", self.password)):
            if getattr(cfg, attr) and not value:
                raise ConfigError(f"destinations.{cfg.name}.{attr}: environment variable "
                                  f"{getattr(cfg, attr)} is not set")

    def message(self, alert: Alert, recipients: list[str]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = render_subject(alert, self.settings)
        msg["From"] = self.cfg.sender
        msg["To"] = ", ".join(recipients)
        # Deterministic: a resend after a crash threads with (and can be de-duplicated against) the first.
        msg["Message-ID"] = f"<{alert.key}.{self.name}@kasuhara-nlp.invalid>"
        msg["X-Kasuhara-Idempotency-Key"] = alert.key
        msg.set_content(render_text(alert, self.settings))
        return msg

    def recipients(self, alert: Alert) -> list[str]:
        to = list(self.cfg.to)
        if alert.notify_manager and alert.manager_email and alert.manager_email not in to:
            to.append(alert.manager_email)
        return to

    def send(self, alert: Alert) -> str:
        to = self.recipients(alert)
        if not to:
            who = f"staff member {alert.staff_name!r}" if alert.staff_name else "the message's staff member"
            raise DeliveryError(f"no recipients: destinations.{self.name}.to is empty and {who} has no "
                                "manager_email in [staff]; add the team's address to to", retryable=False)
        cfg = self.cfg
        context = ssl.create_default_context(cafile=cfg.ca_file or None)
        try:
            if cfg.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with smtp:
                smtp.ehlo()
                tls = cfg.ssl
                if not cfg.ssl and cfg.starttls != "never":
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=context)
                        smtp.ehlo()
                        tls = True
                    elif cfg.starttls == "always":
                        raise DeliveryError(f"{cfg.host}:{cfg.port} does not offer STARTTLS and "
                                            f"destinations.{self.name}.starttls is \"always\"", retryable=False)
                if self.username:
                    if not tls and not cfg.allow_plain_auth:
                        raise DeliveryError(f"refusing to send SMTP credentials without TLS to {cfg.host}; use "
                                            "STARTTLS/ssl or set allow_plain_auth for a local relay", retryable=False)
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(self.message(alert, to), from_addr=cfg.sender, to_addrs=to)
        except DeliveryError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"TLS certificate not trusted ({exc.verify_message}); set ca_file", retryable=False) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code}); check the credentials", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            who = ", ".join(f"{addr} ({code} {_short(text, 60)})".rstrip()
                            for addr, (code, text) in sorted(exc.recipients.items()))
            temporary = all(400 <= c < 500 for c in codes)
            hint = ("the server asked to try later" if temporary else
                    f"check destinations.{self.name}.to and the managers' manager_email in [staff]")
            raise DeliveryError(f"all recipients refused: {who}; {hint}", retryable=temporary) from None
        except smtplib.SMTPResponseException as exc:
            what = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "SMTP"
            raise DeliveryError(f"{what} {exc.smtp_code} {_short(exc.smtp_error, 120)}".rstrip(),
                                retryable=exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if refused:
            # Some recipients have it and some do not: a retry would send it twice to the first, and calling it
            # sent would hide that (say) the manager of a severity-3 case was never told. Dead-letter it, naming
            # who was refused, so the run exits 1 and someone forwards it by hand.
            codes = ", ".join(f"{addr} ({code})" for addr, (code, _) in sorted(refused.items()))
            raise DeliveryError(f"SMTP accepted {len(to) - len(refused)}/{len(to)}; refused {codes}: the others "
                                "have it, forward it to these by hand and fix the address", retryable=False)
        return f"SMTP accepted {len(to)}/{len(to)}"

    def already_delivered(self, alert: Alert) -> bool:
        return False  # SMTP cannot be asked; a resend carries the same Message-ID


def make_sender(cfg: Destination, settings: MessageSettings, environ: dict[str, str] | None = None) -> Sender:
    """Build the sender for a destination of the policy."""
    if isinstance(cfg, JsonlDestination):
        return JsonlSender(cfg, settings)
    if isinstance(cfg, WebhookDestination):
        return WebhookSender(cfg, settings, environ)
    return EmailSender(cfg, settings, environ)
