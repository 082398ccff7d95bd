#!/usr/bin/env python3
"""A fake of the Anthropic Messages API and of the OpenAI-compatible chat completions and
embeddings APIs, for platctl's tests. Python 3.11 standard library only; loopback only.

Usage: fake_ai.py [--port N] [--port-file FILE]
    --port N          port on 127.0.0.1; 0 (default) picks a free one
    --port-file FILE  once listening, the chosen port is written there (atomically)
    Once listening it also prints PORT=nnnn on stdout. SIGTERM or SIGINT stops it.
Environment:
    FAKE_AI_KEY        the one accepted API key (required)
    FAKE_AI_EMBED_DIM  embedding dimension when the request has no "dimensions" (default 8)
One line per request goes to stderr.

API endpoints (replies shaped as the providers document them):
  POST /v1/messages          Anthropic. Needs x-api-key (else 401 authentication_error) and
                             anthropic-version (else 400 invalid_request_error). Non-streamed:
                             a "message" object; stream:true: the documented SSE events
                             (message_start, content_block_start, ping, content_block_delta per
                             word, content_block_stop, message_delta, message_stop).
                             With tools and tool_choice {"type":"tool","name":X} (or "any": the
                             first tool) the reply is one tool_use block (stop_reason "tool_use";
                             streamed as input_json_delta pieces) whose input is the scripted
                             "json", else the smallest object the input_schema accepts.
  POST /v1/chat/completions  OpenAI. Needs "Authorization: Bearer KEY" (else 401 invalid_api_key).
                             stream:true gives chat.completion.chunk events and "data: [DONE]";
                             stream_options.include_usage adds the usage chunk (choices []).
                             response_format json_schema: the content is a JSON object for the
                             schema (scripted "json", else the smallest one the schema accepts);
                             json_object: the scripted "json", else {}.
                             tools + tool_choice {"type":"function","function":{"name":X}} (or
                             "required": the first tool): one tool call, finish_reason "tool_calls".
  POST /v1/embeddings        OpenAI. input: a string or a list of strings (empty ones refused,
                             as OpenAI does); encoding_format "float" (default) or "base64"
                             (little-endian float32). Vector for a text t: b0 = sha256(utf8(t)),
                             b(k+1) = sha256(b(k)); their bytes, 4 at a time as big-endian
                             unsigned u, give u / 2**31 - 1; the first DIM values, scaled to
                             unit length.
Text replies are deterministic: "echo: " + the text of the last user message (text blocks
joined with "\n"), unless scripted. Token counts are whitespace-separated words: input =
system + every message's text; output = the reply's words (for JSON replies: the words of its
compact JSON text). A text reply longer than max_tokens (Anthropic) or max_tokens /
max_completion_tokens (OpenAI) words is cut to that many words with stop_reason "max_tokens" /
finish_reason "length", as the real APIs do.

Control API (no authentication):
  GET    /__control/health    {"ok":true}
  POST   /__control/script    a JSON list of steps (or one step object), appended to the queue;
                              answers {"pending":N}. Each API request that passed the auth and
                              request checks takes the first queued step that matches it (in
                              order), which is then gone. Step keys (combinable):
        "path": "/v1/messages"   only for that endpoint (/v1/messages, /v1/chat/completions,
                                 /v1/embeddings); without it a step matches any of them
        "delay_ms": 3000         sleep first, then go on with the rest of the step
        "status": 429|500|503|529|any 4xx/5xx
                                 answer with that error in the endpoint's API's shape instead;
                                 429 carries retry-after ("retry_after", default "1"), other
                                 statuses only when "retry_after" is given; "message" overrides
                                 the error message
        "cut": true              real reply, but Content-Length (or, when streaming, the
                                 chunked framing) promises more than is sent: half the body,
                                 then the connection is closed
        "sse_chunk": N           write the body (streamed or not) in N-byte pieces, each flushed
                                 (as its own HTTP chunk when streaming), "pause_ms" (default 1)
                                 apart, so lines and UTF-8 characters are split anywhere
        "text": "..."            the reply text instead of the echo
        "json": {...}            the tool input / JSON-schema answer, used as given
        "sse_error": true        streaming: after the first content delta an error event
                                 (Anthropic: event: error, overloaded_error "Overloaded";
                                 OpenAI: data: {"error":{...}}), and the stream ends there
  GET    /__control/script    the steps still queued (JSON list)
  DELETE /__control/script    clears them; answers {"cleared":N}
  GET    /__control/requests  the API requests received, oldest first: {"seq","time","method",
                              "path" (with query),"headers" (lower-case names; x-api-key and
                              authorization values are "***"),"body" (parsed JSON; the text if
                              not JSON; null if empty),"auth" ("ok"|"missing"|"invalid"),
                              "stream","step" (the step used, or null),"status"}
  DELETE /__control/requests  clears that list; answers {"cleared":N}
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import secrets
import signal
import socket
import string
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ANTHROPIC = "/v1/messages"
CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
ENDPOINTS = (ANTHROPIC, CHAT, EMBEDDINGS)

STEP_KEYS = {"path", "delay_ms", "status", "retry_after", "message", "cut", "sse_chunk", "pause_ms",
             "text", "json", "sse_error"}

ALNUM = string.ascii_letters + string.digits


def rand_id(prefix, n=24):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def words(text):
    return len(text.split()) if text else 0


class ClientError(Exception):
    """A request the API would refuse with 400."""

    def __init__(self, message, param=None, code=None):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


class State:
    def __init__(self, key, embed_dim):
        self.key = key
        self.embed_dim = embed_dim
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.seq = 0
        self.log_lock = threading.Lock()


STATE = None


def log(line):
    with STATE.log_lock:
        sys.stderr.write(time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + line + "\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------------------
# Script steps


def validate_step(step):
    if not isinstance(step, dict):
        raise ValueError("a step must be a JSON object")
    unknown = set(step) - STEP_KEYS
    if unknown:
        raise ValueError("unknown step key(s): " + ", ".join(sorted(unknown)))
    if not step:
        raise ValueError("an empty step does nothing")
    if "path" in step and step["path"] not in ENDPOINTS:
        raise ValueError("path must be one of " + ", ".join(ENDPOINTS))
    if "status" in step and (type(step["status"]) is not int or not 400 <= step["status"] <= 599):
        raise ValueError("status must be an integer from 400 to 599")
    if "retry_after" in step and type(step["retry_after"]) not in (str, int):
        raise ValueError("retry_after must be a string or an integer")
    for k in ("delay_ms", "pause_ms"):
        if k in step and (type(step[k]) not in (int, float) or not 0 <= step[k] <= 600000):
            raise ValueError(k + " must be a number of milliseconds from 0 to 600000")
    if "sse_chunk" in step and (type(step["sse_chunk"]) is not int or step["sse_chunk"] < 1):
        raise ValueError("sse_chunk must be a positive integer")
    for k in ("cut", "sse_error"):
        if k in step and type(step[k]) is not bool:
            raise ValueError(k + " must be true or false")
    for k in ("text", "message"):
        if k in step and type(step[k]) is not str:
            raise ValueError(k + " must be a string")
    out = dict(step)
    if "retry_after" in out:
        out["retry_after"] = str(out["retry_after"])
    return out


def take_step(path):
    with STATE.lock:
        for i, step in enumerate(STATE.script):
            if step.get("path", path) == path:
                return STATE.script.pop(i)
    return None


# ------------------------------------------------------------------------------------------
# JSON Schema: the smallest value a schema accepts (for the parts of JSON Schema tools use)


def resolve_ref(ref, root):
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part, {})
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node


def minimal(schema, root=None, depth=0):
    if root is None:
        root = schema
    if depth > 40 or not isinstance(schema, dict):
        return None if schema is False else "fake"
    if "$ref" in schema:
        return minimal(resolve_ref(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for k in ("anyOf", "oneOf"):
        opts = schema.get(k)
        if isinstance(opts, list) and opts:
            non_null = [o for o in opts if not (isinstance(o, dict) and o.get("type") == "null")]
            return minimal((non_null or opts)[0], root, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict) and "$ref" in part:
                part = resolve_ref(part["$ref"], root)
            if not isinstance(part, dict):
                continue
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged["required"] = list(merged.get("required", [])) + list(v)
                else:
                    merged.setdefault(k, v)
        return minimal(merged, root, depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if x != "null"]
        t = non_null[0] if non_null else "null"
    if t is None:
        if "properties" in schema or "required" in schema:
            t = "object"
        elif "items" in schema or "prefixItems" in schema:
            t = "array"
        else:
            t = "string"
    if t == "string":
        fmt = schema.get("format")
        s = {"date-time": "1970-01-01T00:00:00Z", "date": "1970-01-01", "time": "00:00:00Z",
             "email": "fake@example.com", "uri": "https://example.com/fake",
             "uuid": "00000000-0000-0000-0000-000000000000"}.get(fmt, "fake")
        lo = schema.get("minLength")
        if isinstance(lo, int) and len(s) < lo:
            s = s + "x" * (lo - len(s))
        hi = schema.get("maxLength")
        if isinstance(hi, int) and len(s) > hi:
            s = s[:hi]
        return s
    if t in ("integer", "number"):
        v = 0
        lo, xlo = schema.get("minimum"), schema.get("exclusiveMinimum")
        hi, xhi = schema.get("maximum"), schema.get("exclusiveMaximum")
        if isinstance(lo, (int, float)) and v < lo:
            v = math.ceil(lo) if t == "integer" else lo
        if isinstance(xlo, (int, float)) and not isinstance(xlo, bool) and v <= xlo:
            v = math.floor(xlo) + 1
        if isinstance(hi, (int, float)) and v > hi:
            v = math.floor(hi) if t == "integer" else hi
        if isinstance(xhi, (int, float)) and not isinstance(xhi, bool) and v >= xhi:
            v = math.ceil(xhi) - 1
        return v
    if t == "boolean":
        return False
    if t == "null":
        return None
    if t == "array":
        n = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        items = schema.get("items", {})
        out = []
        for i in range(n):
            out.append(minimal(prefix[i] if i < len(prefix) else items, root, depth + 1))
        return out
    if t == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        out = {}
        for name in schema.get("required") or []:
            out[name] = minimal(props[name], root, depth + 1) if name in props else "fake"
        return out
    return "fake"


# ------------------------------------------------------------------------------------------
# Request helpers


def block_text(content):
    """The text of a message content: a string, or a list of blocks / parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for b in content:
        if isinstance(b, str):
            parts.append(b)
        elif isinstance(b, dict):
            if b.get("type") == "text" and isinstance(b.get("text"), str):
                parts.append(b["text"])
            elif b.get("type") == "tool_result":
                parts.append(block_text(b.get("content")))
    return "\n".join(p for p in parts if p)


def split_words(text):
    """Pieces of text for streaming: one per word, each with the whitespace before it."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)):]
    if tail:
        if pieces:
            pieces[-1] += tail
        else:
            pieces = [tail]
    return pieces or [""]


def split_n(text, n):
    """text in about n pieces (for JSON deltas)."""
    if not text:
        return [""]
    size = max(1, -(-len(text) // n))
    return [text[i:i + size] for i in range(0, len(text), size)]


def truncate_words(text, limit):
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0 or words(text) <= limit:
        return text, False
    pieces = re.findall(r"\s*\S+", text)
    return "".join(pieces[:limit]).lstrip() if limit else "", True


def embedding(text, dim):
    data = text.encode("utf-8") if isinstance(text, str) else dumps(text).encode("utf-8")
    block = hashlib.sha256(data).digest()
    vals = []
    while len(vals) < dim:
        for j in range(0, 32, 4):
            vals.append(int.from_bytes(block[j:j + 4], "big") / 2 ** 31 - 1.0)
        block = hashlib.sha256(block).digest()
    vals = vals[:dim]
    norm = math.sqrt(sum(v * v for v in vals)) or 1.0
    return [v / norm for v in vals]


# ------------------------------------------------------------------------------------------
# Errors in each API's shape

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit. Please try again later."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}

OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden"),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}


def anthropic_error(status, message=None):
    etype, default = ANTHROPIC_ERRORS.get(status, ("api_error" if status >= 500 else "invalid_request_error",
                                                  "Internal server error" if status >= 500 else "Invalid request"))
    return {"type": "error", "error": {"type": etype, "message": message or default}}


def openai_error(status, message=None, param=None, code=None):
    etype, dcode, default = OPENAI_ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error",
                                                      None, "The server had an error processing your request."
                                                      if status >= 500 else "Invalid request"))
    return {"error": {"message": message or default, "type": etype, "param": param,
                      "code": code if code is not None else dcode}}


# ------------------------------------------------------------------------------------------
# The handler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-ai/1"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # one line per request is written by dispatch
        pass

    def log_error(self, fmt, *args):
        log("error: " + (fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # --- low-level I/O -----------------------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("the request body ended early")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def start(self, status, ctype, length=None, extra=None):
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def pieces(self, data):
        step = self.step or {}
        n = step.get("sse_chunk")
        if not n:
            return [data] if data else []
        return [data[i:i + n] for i in range(0, len(data), n)]

    def pause(self):
        step = self.step or {}
        if step.get("sse_chunk"):
            time.sleep(step.get("pause_ms", 1) / 1000.0)

    def send_body(self, status, obj, extra=None):
        """A complete JSON reply (Content-Length), honouring cut and sse_chunk."""
        body = dumps(obj).encode("utf-8")
        headers = dict(self.id_headers())
        headers.update(extra or {})
        self.start(status, "application/json", len(body), headers)
        if (self.step or {}).get("cut") and 200 <= status < 300:
            self.cut = True
            body = body[:len(body) // 2]
        for i, p in enumerate(self.pieces(body)):
            if i:
                self.pause()
            self.wfile.write(p)
            self.wfile.flush()
        if self.cut:
            self.hang_up()

    def send_stream(self, events):
        """A server-sent event stream (chunked); events is a list of text pieces."""
        data = "".join(events).encode("utf-8")
        self.start(200, "text/event-stream; charset=utf-8", None, self.id_headers())
        if (self.step or {}).get("cut"):
            self.cut = True
            data = data[:len(data) // 2]
        for i, p in enumerate(self.pieces(data)):
            if i:
                self.pause()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
        if self.cut:
            self.hang_up()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def hang_up(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def id_headers(self):
        if self.path_only == ANTHROPIC:
            return {"request-id": rand_id("req_")}
        return {"x-request-id": "req_" + secrets.token_hex(16)}

    def send_error_reply(self, status, message=None, param=None, code=None):
        step = self.step or {}
        extra = {}
        if "retry_after" in step:
            extra["retry-after"] = step["retry_after"]
        elif status == 429:
            extra["retry-after"] = "1"
        if self.api == "anthropic":
            obj = anthropic_error(status, message)
        else:
            obj = openai_error(status, message, param, code)
        saved, self.step = self.step, None  # no cut / split for error replies
        try:
            self.send_body(status, obj, extra)
        finally:
            self.step = saved

    def send_control(self, status, obj):
        body = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # --- dispatch ----------------------------------------------------------------------------

    def dispatch(self):
        t0 = time.monotonic()
        self.status, self.step, self.cut, self.entry, self.api = 0, None, False, None, None
        self.path_only = urlsplit(self.path).path
        try:
            try:
                raw = self.read_body()
            except (ValueError, ConnectionError) as e:
                self.close_connection = True
                log("%s %s: unreadable request body: %s" % (self.command, self.path, e))
                return
            if self.path_only == "/__control" or self.path_only.startswith("/__control/"):
                self.control(raw)
                log("%s %s %d" % (self.command, self.path, self.status))
                return
            self.api_request(raw)
        except (BrokenPipeError, ConnectionResetError) as e:
            self.close_connection = True
            line = "%s %s %s: the client went away (%s)" % (self.command, self.path, self.status or "-",
                                                            e.__class__.__name__)
            log(line + (" step=" + dumps(self.step) if self.step else ""))
            return
        except Exception:
            log("%s %s: internal error\n%s" % (self.command, self.path, traceback.format_exc()))
            self.close_connection = True
            if not self.status:
                try:
                    self.send_control(500, {"error": "fake_ai internal error"})
                except OSError:
                    pass
            return
        ms = (time.monotonic() - t0) * 1000
        e = self.entry or {}
        line = "%s %s %s auth=%s" % (self.command, self.path, "%d%s" % (self.status, "-cut" if self.cut else ""),
                                     e.get("auth", "-"))
        if e.get("stream"):
            line += " stream"
        if self.step:
            line += " step=" + dumps(self.step)
        log(line + " %dms" % ms)

    def control(self, raw):
        key = (self.command, self.path_only)
        if key == ("GET", "/__control/health"):
            return self.send_control(200, {"ok": True})
        if key == ("POST", "/__control/script"):
            try:
                steps = json.loads(raw.decode("utf-8") or "null")
                if isinstance(steps, dict):
                    steps = [steps]
                if not isinstance(steps, list):
                    raise ValueError("the body must be a JSON list of steps")
                steps = [validate_step(s) for s in steps]
            except ValueError as e:
                return self.send_control(400, {"error": str(e)})
            with STATE.lock:
                STATE.script.extend(steps)
                n = len(STATE.script)
            return self.send_control(200, {"pending": n})
        if key == ("GET", "/__control/script"):
            with STATE.lock:
                return self.send_control(200, list(STATE.script))
        if key == ("DELETE", "/__control/script"):
            with STATE.lock:
                n = len(STATE.script)
                STATE.script.clear()
            return self.send_control(200, {"cleared": n})
        if key == ("GET", "/__control/requests"):
            with STATE.lock:
                snapshot = json.loads(json.dumps(STATE.requests))
            return self.send_control(200, snapshot)
        if key == ("DELETE", "/__control/requests"):
            with STATE.lock:
                n = len(STATE.requests)
                STATE.requests.clear()
            return self.send_control(200, {"cleared": n})
        return self.send_control(404, {"error": "no such control endpoint: %s %s" % key})

    def record(self, raw, auth, body):
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            if k in ("x-api-key", "authorization"):
                v = "***"
            headers[k] = headers[k] + ", " + v if k in headers else v
        if body is not None:
            parsed = body
        elif raw:
            parsed = raw.decode("utf-8", "replace")
        else:
            parsed = None
        with STATE.lock:
            STATE.seq += 1
            self.entry = {"seq": STATE.seq, "time": time.time(), "method": self.command, "path": self.path,
                          "headers": headers, "body": parsed, "auth": auth,
                          "stream": bool(isinstance(body, dict) and body.get("stream") is True),
                          "step": None, "status": None}
            STATE.requests.append(self.entry)

    def api_request(self, raw):
        path = self.path_only
        self.api = "anthropic" if path == ANTHROPIC else "openai"
        body = None
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        if self.api == "anthropic":
            given = self.headers.get("x-api-key")
        else:
            h = self.headers.get("Authorization")
            given = h[7:].strip() if h and h[:7].lower() == "bearer " else None
            if h is not None and given is None:
                given = ""
        auth = "missing" if given is None else ("ok" if secrets.compare_digest(given.encode(), STATE.key.encode())
                                                  else "invalid")
        self.record(raw, auth, body)
        try:
            if path not in ENDPOINTS:
                return self.send_error_reply(404, "Not found: %s %s" % (self.command, path))
            if self.command != "POST":
                if path == ANTHROPIC:
                    return self.send_error_reply(405, "Method Not Allowed")
                return self.send_error_reply(405, "Invalid method for URL (%s %s)" % (self.command, path))
            if auth != "ok":
                if self.api == "anthropic":
                    return self.send_error_reply(401, "invalid x-api-key")
                return self.send_error_reply(401, "Incorrect API key provided", code="invalid_api_key")
            if self.api == "anthropic" and not self.headers.get("anthropic-version"):
                return self.send_error_reply(400, "anthropic-version: header is required")
            if raw and body is None:
                raise ClientError("The request body is not valid JSON.")
            if not isinstance(body, dict):
                raise ClientError("The request body must be a JSON object.")
            handler = {ANTHROPIC: self.anthropic, CHAT: self.chat, EMBEDDINGS: self.embeddings}[path]
            plan = handler(body)  # validates before any step is taken
            self.step = take_step(path)
            self.entry["step"] = self.step
            step = self.step or {}
            if step.get("delay_ms"):
                time.sleep(step["delay_ms"] / 1000.0)
            if "status" in step:
                return self.send_error_reply(step["status"], step.get("message"))
            plan()
        except ClientError as e:
            self.send_error_reply(400, e.message, e.param, e.code)
        finally:
            self.entry["status"] = self.status

    # --- Anthropic ---------------------------------------------------------------------------

    def anthropic(self, body):
        model, max_tokens, messages = body.get("model"), body.get("max_tokens"), body.get("messages")
        if not isinstance(model, str) or not model:
            raise ClientError("model: Field required")
        if type(max_tokens) is not int or max_tokens < 1:
            raise ClientError("max_tokens: Field required" if max_tokens is None
                              else "max_tokens: Input should be a valid integer greater than or equal to 1")
        if not isinstance(messages, list) or not messages:
            raise ClientError("messages: Field required" if messages is None
                              else "messages: at least one message is required")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                raise ClientError("messages.%d.role: Input should be 'user' or 'assistant'" % i)
            if not isinstance(m.get("content"), (str, list)):
                raise ClientError("messages.%d.content: Field required" % i)
        system = body.get("system")
        if system is not None and not isinstance(system, (str, list)):
            raise ClientError("system: Input should be a valid string or list of text blocks")
        tools = body.get("tools") or []
        if not isinstance(tools, list) or any(not isinstance(t, dict) or not isinstance(t.get("name"), str)
                                              for t in tools):
            raise ClientError("tools: each tool needs a name")
        choice = body.get("tool_choice")
        tool = None
        if choice is not None:
            if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
                raise ClientError("tool_choice: Input tag should be 'auto', 'any', 'tool' or 'none'")
            if choice["type"] != "none" and not tools:
                raise ClientError("tool_choice may only be specified while providing tools.")
            if choice["type"] == "tool":
                tool = next((t for t in tools if t["name"] == choice.get("name")), None)
                if tool is None:
                    raise ClientError("tool_choice.name: no tool named %r in tools" % choice.get("name"))
            elif choice["type"] == "any":
                tool = tools[0]
        stream = body.get("stream") is True

        def plan():
            step = self.step or {}
            use_tool = tool
            if use_tool is None and "json" in step and tools and (choice or {}).get("type") != "none":
                use_tool = tools[0]
            last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
            in_tok = words(block_text(system)) + sum(words(block_text(m.get("content"))) for m in messages)
            msg_id = rand_id("msg_01")
            if use_tool is not None:
                tool_input = step["json"] if "json" in step else minimal(use_tool.get("input_schema") or {})
                text, stop = dumps(tool_input), "tool_use"
            else:
                text = step["text"] if "text" in step else "echo: " + block_text(last_user["content"] if last_user
                                                                                   else "")
                text, cut = truncate_words(text, max_tokens)
                stop = "max_tokens" if cut else "end_turn"
            out_tok = words(text)
            if use_tool is not None:
                block = {"type": "tool_use", "id": rand_id("toolu_01"), "name": use_tool["name"], "input": tool_input}
            else:
                block = {"type": "text", "text": text}
            if not stream:
                return self.send_body(200, {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                            "content": [block], "stop_reason": stop, "stop_sequence": None,
                                            "usage": {"input_tokens": in_tok, "output_tokens": out_tok}})

            def ev(name, data):
                return "event: %s\ndata: %s\n\n" % (name, dumps(data))

            events = [ev("message_start", {"type": "message_start", "message": {
                "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": in_tok, "output_tokens": 1}}})]
            if use_tool is not None:
                start_block = dict(block, input={})
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in [""] + split_n(text, 3)]
            else:
                start_block = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in split_words(text)]
            events.append(ev("content_block_start", {"type": "content_block_start", "index": 0,
                                                     "content_block": start_block}))
            events.append(ev("ping", {"type": "ping"}))
            for i, d in enumerate(deltas):
                events.append(ev("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d}))
                if i == 0 and step.get("sse_error"):
                    events.append(ev("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                          "message": "Overloaded"}}))
                    return self.send_stream(events)
            events.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
            events.append(ev("message_delta", {"type": "message_delta",
                                               "delta": {"stop_reason": stop, "stop_sequence": None},
                                               "usage": {"output_tokens": out_tok}}))
            events.append(ev("message_stop", {"type": "message_stop"}))
            self.send_stream(events)

        return plan

    # --- OpenAI chat completions -------------------------------------------------------------

    def chat(self, body):
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            raise ClientError("you must provide a model parameter")
        if not isinstance(messages, list) or not messages:
            if messages is None:
                raise ClientError("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
            raise ClientError("Invalid 'messages': empty array. Expected an array with minimum length 1.",
                              "messages", "empty_array")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                raise ClientError("Invalid value for 'messages[%d].role'." % i, "messages[%d].role" % i,
                                  "invalid_value")
        rf = body.get("response_format")
        schema = None
        if rf is not None:
            if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema"):
                raise ClientError("Invalid value for 'response_format.type'.", "response_format.type", "invalid_value")
            if rf["type"] == "json_schema":
                js = rf.get("json_schema")
                if not isinstance(js, dict) or not isinstance(js.get("name"), str):
                    raise ClientError("Missing required parameter: 'response_format.json_schema.name'.",
                                      "response_format.json_schema.name", "missing_required_parameter")
                schema = js.get("schema") if isinstance(js.get("schema"), dict) else {}
        tools = body.get("tools") or []
        if not isinstance(tools, list) or any(not isinstance(t, dict) or not isinstance(t.get("function"), dict)
                                              or not isinstance(t["function"].get("name"), str) for t in tools):
            raise ClientError("Missing required parameter: 'tools[0].function'.", "tools[0].function",
                              "missing_required_parameter")
        choice = body.get("tool_choice")
        tool = None
        if choice is not None and not tools:
            raise ClientError("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                              "specified.", "tool_choice")
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name")
            tool = next((t for t in tools if t["function"]["name"] == name), None)
            if tool is None:
                raise ClientError("Invalid value for 'tool_choice': no function named %r in 'tools'." % name,
                                  "tool_choice")
        elif choice == "required":
            tool = tools[0]
        elif choice not in (None, "auto", "none"):
            raise ClientError("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")
        stream = body.get("stream") is True
        opts = body.get("stream_options")
        include_usage = stream and isinstance(opts, dict) and opts.get("include_usage") is True
        limit = body.get("max_completion_tokens", body.get("max_tokens"))

        def plan():
            step = self.step or {}
            use_tool = tool
            if use_tool is None and "json" in step and tools and choice != "none" and schema is None:
                use_tool = tools[0]
            last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
            in_tok = sum(words(block_text(m.get("content"))) for m in messages)
            finish = "stop"
            if use_tool is not None:
                args = dumps(step["json"] if "json" in step else minimal(use_tool["function"].get("parameters") or {}))
                text, finish = args, "tool_calls"
            elif schema is not None:
                text = dumps(step["json"] if "json" in step else minimal(schema))
            elif rf is not None and rf.get("type") == "json_object":
                text = dumps(step["json"] if "json" in step else {})
            else:
                text = step["text"] if "text" in step else "echo: " + block_text(last_user["content"] if last_user
                                                                                   else "")
                text, cut = truncate_words(text, limit)
                if cut:
                    finish = "length"
            out_tok = words(text)
            usage = {"prompt_tokens": in_tok, "completion_tokens": out_tok, "total_tokens": in_tok + out_tok}
            cid, created, fp = rand_id("chatcmpl-", 29), int(time.time()), "fp_fake0001"
            call_id = rand_id("call_")
            if not stream:
                if use_tool is not None:
                    message = {"role": "assistant", "content": None, "tool_calls": [
                        {"id": call_id, "type": "function",
                         "function": {"name": use_tool["function"]["name"], "arguments": text}}], "refusal": None}
                else:
                    message = {"role": "assistant", "content": text, "refusal": None}
                return self.send_body(200, {"id": cid, "object": "chat.completion", "created": created,
                                            "model": model, "choices": [{"index": 0, "message": message,
                                                                         "logprobs": None,
                                                                         "finish_reason": finish}],
                                            "usage": usage, "system_fingerprint": fp})

            def chunk(delta, finish_reason=None, choices=True):
                c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "system_fingerprint": fp,
                     "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
                     if choices else []}
                if include_usage:
                    c["usage"] = None if choices else usage
                return "data: %s\n\n" % dumps(c)

            if use_tool is not None:
                events = [chunk({"role": "assistant", "content": None, "tool_calls": [
                    {"index": 0, "id": call_id, "type": "function",
                     "function": {"name": use_tool["function"]["name"], "arguments": ""}}], "refusal": None})]
                deltas = [{"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in split_n(text, 3)]
            else:
                events = [chunk({"role": "assistant", "content": "", "refusal": None})]
                deltas = [{"content": p} for p in (split_words(text) if schema is None else split_n(text, 3))]
            for i, d in enumerate(deltas):
                events.append(chunk(d))
                if i == 0 and step.get("sse_error"):
                    events.append("data: %s\n\n" % dumps(openai_error(500)))
                    return self.send_stream(events)
            events.append(chunk({}, finish))
            if include_usage:
                events.append(chunk(None, choices=False))
            events.append("data: [DONE]\n\n")
            self.send_stream(events)

        return plan

    # --- OpenAI embeddings -------------------------------------------------------------------

    def embeddings(self, body):
        model, inp = body.get("model"), body.get("input")
        if not isinstance(model, str) or not model:
            raise ClientError("you must provide a model parameter")
        if inp is None:
            raise ClientError("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        if isinstance(inp, str) or (isinstance(inp, list) and inp and all(type(x) is int for x in inp)):
            inputs = [inp]
        elif isinstance(inp, list) and inp and all(isinstance(x, str) or (isinstance(x, list) and x and
                                                                         all(type(y) is int for y in x))
                                                   for x in inp):
            inputs = inp
        else:
            raise ClientError("'$.input' is invalid. Please check the API reference: "
                              "https://platform.openai.com/docs/api-reference.", "input")
        if any(x == "" for x in inputs):
            raise ClientError("'$.input' is invalid. Please check the API reference: "
                              "https://platform.openai.com/docs/api-reference.", "input")
        if len(inputs) > 2048:
            raise ClientError("'$.input' is too long: at most 2048 inputs per request.", "input")
        dim = body.get("dimensions", STATE.embed_dim)
        if type(dim) is not int or dim < 1:
            raise ClientError("Invalid value for 'dimensions': it must be a positive integer.", "dimensions")
        fmt = body.get("encoding_format", "float")
        if fmt not in ("float", "base64"):
            raise ClientError("Invalid value for 'encoding_format': expected 'float' or 'base64'.",
                              "encoding_format", "invalid_value")

        def plan():
            data = []
            for i, x in enumerate(inputs):
                vec = embedding(x, dim)
                if fmt == "base64":
                    vec = base64.b64encode(struct.pack("<%df" % dim, *vec)).decode("ascii")
                data.append({"object": "embedding", "index": i, "embedding": vec})
            n = sum(words(x) if isinstance(x, str) else len(x) for x in inputs)
            self.send_body(200, {"object": "list", "data": data, "model": model,
                                 "usage": {"prompt_tokens": n, "total_tokens": n}})

        return plan


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    global STATE
    ap = argparse.ArgumentParser(description="Fake Anthropic / OpenAI APIs for tests (127.0.0.1 only).")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--port-file", help="write the chosen port there once listening")
    args = ap.parse_args()
    key = os.environ.get("FAKE_AI_KEY", "")
    if not key:
        print("fake_ai.py: FAKE_AI_KEY is not set", file=sys.stderr)
        return 2
    try:
        dim = int(os.environ.get("FAKE_AI_EMBED_DIM", "8"))
        if dim < 1:
            raise ValueError
    except ValueError:
        print("fake_ai.py: FAKE_AI_EMBED_DIM must be a positive integer", file=sys.stderr)
        return 2
    STATE = State(key, dim)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT=%d" % port, flush=True)
    log("fake_ai listening on 127.0.0.1:%d (embedding dimension %d)" % (port, dim))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log("fake_ai stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
