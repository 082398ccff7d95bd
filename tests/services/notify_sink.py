#!/usr/bin/env python3
"""What platctl's notifications reach in tests: a webhook receiver and two SMTP sinks, all on
127.0.0.1, in one process. Python 3.11 standard library plus aiosmtpd (python3-aiosmtpd).

Usage: notify_sink.py --dir DIR [--tls-cert FILE --tls-key FILE]
    Once listening, DIR/ports.json holds {"http": N, "smtp": N, "smtp_tls": N} (atomically).
    SIGTERM or SIGINT stops it.
Environment:
    NOTIFY_SINK_SECRET   the webhook secret (required)
    NOTIFY_SINK_USER, NOTIFY_SINK_PASSWORD   the credentials the STARTTLS sink requires

The webhook receiver checks each POST /hook* exactly as platctl-notify(7) tells a receiver
to: X-Platctl-Signature must hold "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
(compared in constant time) and X-Platctl-Timestamp must be within 300 s of now. A request
that fails the check is answered 401. Otherwise it answers the first scripted status, else
200. GET /beat* (a heartbeat) is answered the same way, without the signature check.

Control API (no authentication):
  GET    /__control/health    {"ok":true}
  POST   /__control/script    a JSON list of steps appended to the queue; each request takes
                              the first: {"status": 500, "retry_after": "1", "delay_ms": 0}
  GET    /__control/received  the requests received, oldest first: {"method","path","headers"
                              (lower-case names),"body","verified" (bool),"why","status"}
  DELETE /__control/received  clears that list and the script
  POST   /__control/secret    {"path": "/hook-x", "secret": "..."}: requests to that exact
                              path are checked with that secret instead (a subscription's
                              own secret, which platctl makes when the webhook is added)

The SMTP sinks write every message they accept to DIR/mail/NNNN.json: {"sink" ("smtp" or
"smtp_tls"),"mail_from","rcpt_tos","tls" (bool),"auth_user","raw","headers" (name -> decoded
value),"content_type","parts": [{"content_type","charset","text"}]}. The plain sink needs no
TLS and no authentication; the TLS sink requires STARTTLS and then AUTH with the credentials
above.
"""

import argparse
import email
import email.header
import email.policy
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOCK = threading.Lock()
RECEIVED = []
SCRIPT = []
SECRET = b""
PATH_SECRETS = {}
WINDOW = 300


def log(msg):
    print("notify_sink: " + msg, file=sys.stderr, flush=True)


def verify(headers, body, secret):
    ts = headers.get("x-platctl-timestamp", "")
    sig = headers.get("x-platctl-signature", "")
    if not ts.isdigit():
        return False, "no timestamp"
    if abs(time.time() - int(ts)) > WINDOW:
        return False, "timestamp outside the replay window"
    want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    for candidate in sig.split(","):
        if hmac.compare_digest(candidate.strip().encode(), want.encode()):
            return True, ""
    return False, "signature mismatch"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log("%s %s" % (self.address_string(), fmt % args))

    def reply(self, status, obj=None, extra=None):
        data = json.dumps(obj if obj is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def control(self, method):
        global RECEIVED, SCRIPT
        if self.path == "/__control/health":
            return self.reply(200, {"ok": True})
        if self.path == "/__control/script" and method == "POST":
            steps = json.loads(self.body() or b"[]")
            with LOCK:
                SCRIPT.extend(steps if isinstance(steps, list) else [steps])
                return self.reply(200, {"pending": len(SCRIPT)})
        if self.path == "/__control/secret" and method == "POST":
            req = json.loads(self.body() or b"{}")
            with LOCK:
                PATH_SECRETS[req["path"]] = req["secret"].encode()
            return self.reply(200, {"ok": True})
        if self.path == "/__control/received" and method == "GET":
            with LOCK:
                return self.reply(200, RECEIVED)
        if self.path == "/__control/received" and method == "DELETE":
            with LOCK:
                n = len(RECEIVED)
                RECEIVED, SCRIPT = [], []
            return self.reply(200, {"cleared": n})
        return self.reply(404, {"error": "no such control route"})

    def handle_any(self, method):
        if self.path.startswith("/__control/"):
            return self.control(method)
        body = self.body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if method == "POST" and self.path.startswith("/hook"):
            with LOCK:
                secret = PATH_SECRETS.get(self.path, SECRET)
            ok, why = verify(headers, body, secret)
        elif method == "GET" and self.path.startswith("/beat"):
            ok, why = True, ""
        else:
            return self.reply(404, {"error": "no such route"})
        with LOCK:
            step = SCRIPT.pop(0) if SCRIPT else {}
        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)
        status = 401 if not ok else int(step.get("status", 200))
        extra = {"Retry-After": step["retry_after"]} if "retry_after" in step else None
        with LOCK:
            RECEIVED.append({"method": method, "path": self.path, "headers": headers,
                             "body": body.decode("utf-8", "replace"), "verified": ok, "why": why,
                             "status": status})
        self.reply(status, {"ok": status < 300, "why": why} if why else {"ok": status < 300}, extra)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A health probe that hangs up before reading the answer is no error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Sink:
    def __init__(self, name, maildir):
        self.name = name
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        headers = {}
        for k, v in msg.items():
            headers[k.lower()] = str(v)
        parts = []
        for p in msg.walk():
            if p.is_multipart():
                continue
            parts.append({"content_type": p.get_content_type(), "charset": p.get_content_charset(),
                          "text": p.get_content()})
        rec = {"sink": self.name, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
               "tls": session.ssl is not None, "auth_user": getattr(session, "auth_data", None),
               "raw": raw.decode("utf-8", "replace"), "headers": headers,
               "content_type": msg.get_content_type(), "parts": parts}
        if isinstance(rec["auth_user"], bytes):
            rec["auth_user"] = rec["auth_user"].decode()
        with LOCK:
            n = len(os.listdir(self.maildir))
            tmp = os.path.join(self.maildir, ".%04d.tmp" % n)
            with open(tmp, "w") as f:
                json.dump(rec, f)
            os.replace(tmp, os.path.join(self.maildir, "%04d.json" % n))
        log("%s: message from %s to %s" % (self.name, envelope.mail_from, ",".join(envelope.rcpt_tos)))
        return "250 OK"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    global SECRET
    ap = argparse.ArgumentParser(description="Webhook receiver and SMTP sinks for tests (127.0.0.1 only).")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    SECRET = os.environ.get("NOTIFY_SINK_SECRET", "").encode()
    if not SECRET:
        log("NOTIFY_SINK_SECRET is not set")
        return 2
    user = os.environ.get("NOTIFY_SINK_USER", "sink")
    password = os.environ.get("NOTIFY_SINK_PASSWORD", "")
    maildir = os.path.join(args.dir, "mail")
    os.makedirs(maildir, exist_ok=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    http = Server(("127.0.0.1", 0), Handler)
    ports = {"http": http.server_address[1]}

    plain = Controller(Sink("smtp", maildir), hostname="127.0.0.1", port=free_port())
    plain.start()
    ports["smtp"] = plain.port
    controllers = [plain]

    if args.tls_cert and args.tls_key:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and
                  password and auth_data.password.decode() == password)
            return AuthResult(success=bool(ok), handled=False, auth_data=user if ok else None)

        tls = Controller(Sink("smtp_tls", maildir), hostname="127.0.0.1", port=free_port(),
                         tls_context=ctx, require_starttls=True, authenticator=authenticator,
                         auth_required=True, auth_require_tls=True)
        tls.start()
        ports["smtp_tls"] = tls.port
        controllers.append(tls)

    tmp = os.path.join(args.dir, "ports.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, os.path.join(args.dir, "ports.json"))
    log("listening: %s" % json.dumps(ports))
    try:
        http.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        http.server_close()
        for c in controllers:
            c.stop()
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
