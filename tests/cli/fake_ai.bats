#!/usr/bin/env bats
# The fake Anthropic / OpenAI service itself (tests/services/fake_ai.sh and fake_ai.py),
# exercised with curl: the documented reply shapes, authentication, the scripted faults, the
# request log, and the watchdog.
load helpers

FAKE="$BATS_TEST_DIRNAME/../services/fake_ai.sh"
# Debian's python3 when installed (quicker to start than a pyenv shim).
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

setup_file() {
	# the default embedding dimension (8), whatever the caller's environment says
	eval "$(env -u FAKE_AI_EMBED_DIM "$FAKE" start --owner $$)"
	export TEST_AI_DIR TEST_AI_URL TEST_AI_KEY
}

teardown_file() {
	"$FAKE" stop "$TEST_AI_DIR"
}

setup() {
	control DELETE script >/dev/null
	control DELETE requests >/dev/null
}

teardown() {
	[ -n "${OWNED_DIR:-}" ] && "$FAKE" stop "$OWNED_DIR" || true
}

alive() {
	ps -o stat= -p "$1" 2>/dev/null | grep -qv Z
}

# not CMD...: succeeds when CMD fails (a bare "! CMD" never fails a bats test).
not() {
	! "$@"
}

# control METHOD PATH [JSON]: the unauthenticated control API.
control() {
	curl -fsS -X "$1" ${3:+-H 'content-type: application/json' --data "$3"} "$TEST_AI_URL/__control/$2"
}

# script JSON: queue scripted steps.
script() {
	control POST script "$1" >/dev/null
}

# anthropic JSON [curl options]: POST /v1/messages with the key and version headers.
anthropic() {
	local body=$1
	shift
	curl -sS -H "x-api-key: $TEST_AI_KEY" -H 'anthropic-version: 2023-06-01' \
		-H 'content-type: application/json' --data "$body" "$@" "$TEST_AI_URL/v1/messages"
}

# openai PATH JSON [curl options]: POST /v1/PATH with the bearer key.
openai() {
	local path=$1 body=$2
	shift 2
	curl -sS -H "authorization: Bearer $TEST_AI_KEY" -H 'content-type: application/json' \
		--data "$body" "$@" "$TEST_AI_URL/v1/$path"
}

# check CODE: runs Python statements over the JSON document on stdin, bound to d.
check() {
	"$PY" -c 'import json, math, sys
raw = sys.stdin.read()
d = json.loads(raw)
try:
    exec(sys.argv[1])
except AssertionError as e:
    sys.exit("assertion failed: %s\ndocument: %s" % (e, raw))' "$@"
}

# sse: the event stream on stdin as a JSON list of [event, data] (event null when absent;
# data parsed unless it is [DONE]); fails unless every event ends with a blank line.
sse() {
	"$PY" -c 'import json, sys
raw = sys.stdin.buffer.read().decode("utf-8")
assert raw.endswith("\n\n"), "the stream does not end with a blank line: %r" % raw[-40:]
out = []
for block in raw[:-2].split("\n\n"):
    ev, data = None, []
    for line in block.split("\n"):
        name, _, value = line.partition(": ")
        if name == "event":
            ev = value
        elif name == "data":
            data.append(value)
        else:
            raise SystemExit("not an SSE line: %r" % line)
    d = "\n".join(data)
    out.append([ev, d if d == "[DONE]" else json.loads(d)])
print(json.dumps(out))'
}

# unchunk FILE: decodes the raw chunked body in FILE to stdout; fails unless every chunk
# holds exactly $1 bytes (the last one may be shorter).
unchunk() {
	"$PY" -c 'import sys
raw, n = open(sys.argv[1], "rb").read(), int(sys.argv[2])
pos, body, sizes = 0, b"", []
while True:
    nl = raw.index(b"\r\n", pos)
    size = int(raw[pos:nl], 16)
    pos = nl + 2
    if size == 0:
        break
    body += raw[pos:pos + size]
    sizes.append(size)
    assert raw[pos + size:pos + size + 2] == b"\r\n"
    pos += size + 2
assert raw[pos:] == b"\r\n", raw[pos:]
assert len(sizes) > 10 and all(s == n for s in sizes[:-1]) and sizes[-1] <= n, sizes
sys.stdout.buffer.write(body)' "$1" "$2"
}

CHAT='{"model":"claude-test","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"first question"},{"role":"assistant","content":"first answer"},{"role":"user","content":[{"type":"text","text":"hello there"},{"type":"text","text":"wörld ✓"}]}]}'
SCHEMA='{"type":"object","properties":{"title":{"type":"string"},"score":{"type":"number"},"ok":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}},"meta":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},"kind":{"enum":["a","b"]},"note":{"type":"string"}},"required":["title","score","ok","tags","meta","kind"]}'
MINIMAL='{"title": "fake", "score": 0, "ok": False, "tags": [], "meta": {"n": 0}, "kind": "a"}'

@test "Anthropic: a message has the documented shape, the echo text and word counts" {
	anthropic "$CHAT" -D "$BATS_TEST_TMPDIR/h" | check '
assert set(d) == {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}, d
assert d["id"].startswith("msg_") and d["type"] == "message" and d["role"] == "assistant"
assert d["model"] == "claude-test"
assert d["content"] == [{"type": "text", "text": "echo: hello there\nwörld ✓"}], d["content"]
assert d["stop_reason"] == "end_turn" and d["stop_sequence"] is None
assert d["usage"] == {"input_tokens": 3 + 2 + 2 + 4, "output_tokens": 5}, d["usage"]'
	grep -qi '^content-type: application/json' "$BATS_TEST_TMPDIR/h"
	grep -qi '^request-id: req_' "$BATS_TEST_TMPDIR/h"
	# a reply longer than max_tokens words is cut there, as the API does
	anthropic '{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"one two three"}]}' | check '
assert d["content"][0]["text"] == "echo: one" and d["stop_reason"] == "max_tokens", d'
	# canned text
	script '{"text":"canned reply here"}'
	anthropic "$CHAT" | check 'assert d["content"][0]["text"] == "canned reply here" and d["usage"]["output_tokens"] == 3'
}

@test "Anthropic: a wrong or missing key is a 401, a missing version or bad body a 400" {
	for key in wrong ""; do
		run curl -sS -w '\n%{http_code}' -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' --data "$CHAT" "$TEST_AI_URL/v1/messages"
		[ "${lines[-1]}" = 401 ]
		echo "${lines[0]}" | check 'assert d == {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}'
	done
	run curl -sS -w '\n%{http_code}' -H "x-api-key: $TEST_AI_KEY" --data "$CHAT" "$TEST_AI_URL/v1/messages"
	[ "${lines[-1]}" = 400 ]
	echo "${lines[0]}" | check 'assert d["type"] == "error" and d["error"]["type"] == "invalid_request_error", d'
	run anthropic '{"model":"m","messages":[{"role":"user","content":"x"}]}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 400 ]
	echo "${lines[0]}" | check 'assert d["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}, d'
	run anthropic 'not json' -w '\n%{http_code}'
	[ "${lines[-1]}" = 400 ]
	# the OpenAI key header does not work for Anthropic
	run curl -sS -w '\n%{http_code}' -H "authorization: Bearer $TEST_AI_KEY" -H 'anthropic-version: 2023-06-01' --data "$CHAT" "$TEST_AI_URL/v1/messages"
	[ "${lines[-1]}" = 401 ]
}

@test "Anthropic: a forced tool answers with tool_use that fits the schema, or the scripted json" {
	body="{\"model\":\"m\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"classify\"}],\"tools\":[{\"name\":\"other\",\"input_schema\":{\"type\":\"object\"}},{\"name\":\"result\",\"description\":\"d\",\"input_schema\":$SCHEMA}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"result\"}}"
	anthropic "$body" | check "
assert d['stop_reason'] == 'tool_use' and len(d['content']) == 1, d
b = d['content'][0]
assert b['type'] == 'tool_use' and b['id'].startswith('toolu_') and b['name'] == 'result', b
assert b['input'] == $MINIMAL, b['input']"
	script '{"json":{"title":"Quarterly report","score":0.9,"ok":true,"tags":["x"],"meta":{"n":3},"kind":"b"}}'
	anthropic "$body" | check 'assert d["content"][0]["input"]["title"] == "Quarterly report" and d["content"][0]["input"]["meta"] == {"n": 3}, d'
	# streamed: input_json_delta pieces that join to the input
	anthropic "${body%\}},\"stream\":true}" -N | sse | check "
events = [e for e, _ in d]
assert events[:3] == ['message_start', 'content_block_start', 'ping'] and events[-3:] == ['content_block_stop', 'message_delta', 'message_stop'], events
start = d[1][1]['content_block']
assert start['type'] == 'tool_use' and start['name'] == 'result' and start['input'] == {}, start
parts = [x['delta']['partial_json'] for e, x in d if e == 'content_block_delta']
assert all(x['delta']['type'] == 'input_json_delta' for e, x in d if e == 'content_block_delta')
assert json.loads(''.join(parts)) == $MINIMAL and len(parts) > 1, parts
assert d[-2][1]['delta']['stop_reason'] == 'tool_use'"
	# a tool_choice naming no tool is refused
	run anthropic "${body/\"name\":\"result\"\}\}/\"name\":\"nope\"\}\}}" -w '\n%{http_code}'
	[ "${lines[-1]}" = 400 ]
}

@test "Anthropic: stream:true sends the documented events, in order, as event/data pairs" {
	anthropic "${CHAT%\}},\"stream\":true}" -N -D "$BATS_TEST_TMPDIR/h" >"$BATS_TEST_TMPDIR/stream"
	grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/h"
	grep -qi '^transfer-encoding: chunked' "$BATS_TEST_TMPDIR/h"
	# every event is "event: X" then "data: {json}" then a blank line
	sse <"$BATS_TEST_TMPDIR/stream" | check '
events = [e for e, _ in d]
assert events[:3] == ["message_start", "content_block_start", "ping"], events
assert events[-3:] == ["content_block_stop", "message_delta", "message_stop"], events
assert set(events[3:-3]) == {"content_block_delta"} and len(events[3:-3]) == 5, events
for e, x in d:
    assert x["type"] == e, (e, x)
m = d[0][1]["message"]
assert m["id"].startswith("msg_") and m["role"] == "assistant" and m["content"] == [] and m["model"] == "claude-test"
assert m["stop_reason"] is None and m["usage"]["input_tokens"] == 11, m
assert d[1][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
deltas = [x for e, x in d if e == "content_block_delta"]
assert all(x["index"] == 0 and x["delta"]["type"] == "text_delta" for x in deltas)
assert "".join(x["delta"]["text"] for x in deltas) == "echo: hello there\nwörld ✓"
assert d[-3][1] == {"type": "content_block_stop", "index": 0}
assert d[-2][1] == {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 5}}, d[-2]
assert d[-1][1] == {"type": "message_stop"}'
}

@test "OpenAI: chat completions have the documented shape; json_schema gives a fitting object" {
	body='{"model":"gpt-test","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"say hi please"}]}'
	openai chat/completions "$body" -D "$BATS_TEST_TMPDIR/h" | check '
assert d["id"].startswith("chatcmpl-") and d["object"] == "chat.completion" and d["model"] == "gpt-test", d
assert isinstance(d["created"], int)
assert len(d["choices"]) == 1, d
c = d["choices"][0]
assert c["index"] == 0 and c["finish_reason"] == "stop", c
assert c["message"]["role"] == "assistant" and c["message"]["content"] == "echo: say hi please", c
assert d["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}, d["usage"]'
	grep -qi '^x-request-id: ' "$BATS_TEST_TMPDIR/h"
	rf="{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"result\",\"strict\":true,\"schema\":$SCHEMA}}"
	openai chat/completions "${body%\}},\"response_format\":$rf}" | check "
assert json.loads(d['choices'][0]['message']['content']) == $MINIMAL, d"
	script '{"json":{"title":"T"},"path":"/v1/chat/completions"}'
	openai chat/completions "${body%\}},\"response_format\":$rf}" | check '
assert json.loads(d["choices"][0]["message"]["content"]) == {"title": "T"}, d'
	# authentication failures
	for auth in "authorization: Bearer wrong" "x-api-key: $TEST_AI_KEY"; do
		run curl -sS -w '\n%{http_code}' -H "$auth" --data "$body" "$TEST_AI_URL/v1/chat/completions"
		[ "${lines[-1]}" = 401 ]
		echo "${lines[0]}" | check 'assert d == {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}, d'
	done
	run openai chat/completions '{"model":"m"}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 400 ]
	echo "${lines[0]}" | check 'assert d["error"]["param"] == "messages" and d["error"]["type"] == "invalid_request_error", d'
}

@test "OpenAI: streamed chat completions send chunks, the usage chunk, then [DONE]" {
	body='{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"say hi please"}]}'
	openai chat/completions "$body" -N -D "$BATS_TEST_TMPDIR/h" | sse | check '
assert all(e is None for e, _ in d), d
assert d[-1][1] == "[DONE]", d[-1]
chunks = [x for _, x in d[:-1]]
ids = {c["id"] for c in chunks}
assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-test" for c in chunks)
assert chunks[0]["choices"][0]["delta"]["role"] == "assistant" and chunks[0]["choices"][0]["delta"]["content"] == ""
text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
assert text == "echo: say hi please", text
assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["choices"][0]["delta"] == {}
assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-2])
assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}, chunks[-1]'
	grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/h"
	# without include_usage: no usage chunk
	openai chat/completions "${body/,\"stream_options\":\{\"include_usage\":true\}/}" -N | sse | check '
assert d[-1][1] == "[DONE]" and d[-2][1]["choices"][0]["finish_reason"] == "stop" and "usage" not in d[-2][1], d[-2:]'
}

@test "OpenAI: embeddings are deterministic per text, unit length, in the documented shape" {
	openai embeddings '{"model":"emb-test","input":["alpha beta","gamma","alpha beta"]}' >"$BATS_TEST_TMPDIR/e1"
	check '
assert d["object"] == "list" and d["model"] == "emb-test", d
assert d["usage"] == {"prompt_tokens": 5, "total_tokens": 5}, d["usage"]
assert [x["index"] for x in d["data"]] == [0, 1, 2] and all(x["object"] == "embedding" for x in d["data"])
v = [x["embedding"] for x in d["data"]]
assert all(len(e) == 8 for e in v), v
assert all(abs(math.sqrt(sum(c * c for c in e)) - 1) < 1e-9 for e in v)
assert v[0] == v[2] and v[0] != v[1]' <"$BATS_TEST_TMPDIR/e1"
	# a single string gives the same vector; the documented derivation from sha256
	openai embeddings '{"model":"emb-test","input":"alpha beta"}' | check '
import hashlib
first = json.load(open(sys.argv[2]))["data"][0]["embedding"]
assert len(d["data"]) == 1 and d["data"][0]["embedding"] == first
b = hashlib.sha256(b"alpha beta").digest()
raw = [int.from_bytes(b[j:j + 4], "big") / 2 ** 31 - 1 for j in range(0, 32, 4)]
n = math.sqrt(sum(x * x for x in raw))
assert all(abs(x / n - y) < 1e-12 for x, y in zip(raw, first))' "$BATS_TEST_TMPDIR/e1"
	# "dimensions" and base64
	openai embeddings '{"model":"m","input":["x"],"dimensions":20,"encoding_format":"base64"}' | check '
import base64, struct
v = struct.unpack("<20f", base64.b64decode(d["data"][0]["embedding"]))
assert abs(sum(c * c for c in v) - 1) < 1e-5'
	run openai embeddings '{"model":"m","input":[]}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 400 ]
	run curl -sS -w '\n%{http_code}' --data '{"model":"m","input":"x"}' "$TEST_AI_URL/v1/embeddings"
	[ "${lines[-1]}" = 401 ]
	echo "${lines[0]}" | check 'assert d["error"]["code"] == "invalid_api_key"'
}

@test "scripted 429, 529, 500 and 503 come in each API's error shape, in order, then normal replies" {
	script '[{"status":429,"retry_after":"7"},{"status":529},{"status":500},{"status":429,"path":"/v1/embeddings"},{"status":503}]'
	[ "$(control GET script | check 'print(len(d))')" = 5 ]
	run anthropic "$CHAT" -D "$BATS_TEST_TMPDIR/h" -w '\n%{http_code}'
	[ "${lines[-1]}" = 429 ]
	grep -qi '^retry-after: 7' "$BATS_TEST_TMPDIR/h"
	echo "${lines[0]}" | check 'assert d["type"] == "error" and d["error"]["type"] == "rate_limit_error", d'
	run anthropic "$CHAT" -w '\n%{http_code}'
	[ "${lines[-1]}" = 529 ]
	echo "${lines[0]}" | check 'assert d == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, d'
	# the next unrestricted step is the 500; the embeddings step waits for its endpoint
	run openai chat/completions '{"model":"m","messages":[{"role":"user","content":"x"}]}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 500 ]
	echo "${lines[0]}" | check 'assert d["error"]["type"] == "server_error" and set(d["error"]) == {"message", "type", "param", "code"}, d'
	run anthropic "$CHAT" -w '\n%{http_code}'
	[ "${lines[-1]}" = 503 ]
	echo "${lines[0]}" | check 'assert d["type"] == "error" and d["error"]["type"] == "api_error", d'
	run openai embeddings '{"model":"m","input":"x"}' -D "$BATS_TEST_TMPDIR/h" -w '\n%{http_code}'
	[ "${lines[-1]}" = 429 ]
	grep -qi '^retry-after: 1' "$BATS_TEST_TMPDIR/h"
	echo "${lines[0]}" | check 'assert d["error"]["code"] == "rate_limit_exceeded", d'
	[ "$(control GET script)" = "[]" ]
	anthropic "$CHAT" | check 'assert d["type"] == "message"'
	# an unauthenticated request does not use up a step
	script '{"status":529}'
	run curl -sS -o /dev/null -w '%{http_code}' -H 'x-api-key: nope' -H 'anthropic-version: 2023-06-01' --data "$CHAT" "$TEST_AI_URL/v1/messages"
	[ "$output" = 401 ]
	run anthropic "$CHAT" -o /dev/null -w '%{http_code}'
	[ "$output" = 529 ]
}

@test "a cut reply makes curl report a transfer error, plain and streamed; the next one is whole" {
	script '[{"cut":true},{"cut":true}]'
	run anthropic "$CHAT" -o "$BATS_TEST_TMPDIR/part"
	[ "$status" -eq 18 ] # CURLE_PARTIAL_FILE: less than Content-Length
	[ -s "$BATS_TEST_TMPDIR/part" ]
	not check 'pass' <"$BATS_TEST_TMPDIR/part" 2>/dev/null
	run anthropic "${CHAT%\}},\"stream\":true}" -o "$BATS_TEST_TMPDIR/part"
	[ "$status" -eq 18 ] || [ "$status" -eq 56 ] # the chunked body ends early
	grep -q '^event: message_start' "$BATS_TEST_TMPDIR/part"
	not grep -q '^event: message_stop' "$BATS_TEST_TMPDIR/part"
	anthropic "$CHAT" | check 'assert d["type"] == "message"'
	grep -q 'POST /v1/messages 200-cut auth=ok step={"cut":true}' "$TEST_AI_DIR/server.log"
}

@test "delay_ms holds the reply, then answers normally" {
	script '{"delay_ms":1000}'
	run anthropic "$CHAT" -o "$BATS_TEST_TMPDIR/r" -w '%{http_code} %{time_total}'
	[ "${output%% *}" = 200 ]
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.95 else 1)' "${output##* }"
	check 'assert d["content"][0]["text"].startswith("echo: ")' <"$BATS_TEST_TMPDIR/r"
	# a client that gives up first sees a timeout
	script '{"delay_ms":1500}'
	run anthropic "$CHAT" -o /dev/null --max-time 0.3
	[ "$status" -eq 28 ]
}

@test "sse_chunk splits a stream into 1-byte HTTP chunks that reassemble to the same events" {
	stream='{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"x"}]}'
	script '{"text":"Grüße — ünïcødé ✓ 🚀 done"}'
	anthropic "$stream" -N | sse >"$BATS_TEST_TMPDIR/whole"
	script '{"text":"Grüße — ünïcødé ✓ 🚀 done","sse_chunk":1}'
	anthropic "$stream" -N --raw -o "$BATS_TEST_TMPDIR/raw"
	unchunk "$BATS_TEST_TMPDIR/raw" 1 | sse >"$BATS_TEST_TMPDIR/split"
	# the same events (ids aside), multi-byte characters included
	check '
split = json.load(open(sys.argv[2]))
def norm(ev):
    for _, x in ev:
        if isinstance(x, dict) and "message" in x:
            x["message"]["id"] = "ID"
    return ev
assert norm(d) == norm(split), (d, split)
assert "".join(x["delta"]["text"] for e, x in split if e == "content_block_delta") == "Grüße — ünïcødé ✓ 🚀 done"' \
		"$BATS_TEST_TMPDIR/split" <"$BATS_TEST_TMPDIR/whole"
	# OpenAI, 3-byte pieces
	script '{"sse_chunk":3,"text":"héllo wörld ✓"}'
	openai chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}' -N --raw -o "$BATS_TEST_TMPDIR/raw"
	unchunk "$BATS_TEST_TMPDIR/raw" 3 | sse | check '
assert d[-1][1] == "[DONE]"
assert "".join(x["choices"][0]["delta"].get("content") or "" for _, x in d[:-1]) == "héllo wörld ✓"'
}

@test "sse_error puts Anthropic's error event mid-stream, and OpenAI's error data" {
	script '{"sse_error":true}'
	anthropic "${CHAT%\}},\"stream\":true}" -N | sse | check '
events = [e for e, _ in d]
assert events == ["message_start", "content_block_start", "ping", "content_block_delta", "error"], events
assert d[-1][1] == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, d[-1]'
	script '{"sse_error":true}'
	openai chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}' -N | sse | check '
assert d[-1][1]["error"]["type"] == "server_error" and "[DONE]" not in [x for _, x in d], d'
}

@test "the request log records what clients sent, with the keys masked" {
	anthropic "$CHAT" >/dev/null
	script '{"status":429,"retry_after":"0"}'
	openai embeddings '{"model":"m","input":["a"]}' -H 'x-extra: yes' >/dev/null
	curl -sS -o /dev/null -H 'authorization: Bearer bad-key' --data '{"model":"m","input":"a"}' "$TEST_AI_URL/v1/embeddings"
	control GET requests >"$BATS_TEST_TMPDIR/log"
	not grep -q "$TEST_AI_KEY" "$BATS_TEST_TMPDIR/log"
	not grep -q "bad-key" "$BATS_TEST_TMPDIR/log"
	check '
assert len(d) == 3, d
a, e, bad = d
assert a["method"] == "POST" and a["path"] == "/v1/messages" and a["auth"] == "ok" and a["status"] == 200
assert a["headers"]["x-api-key"] == "***" and a["headers"]["anthropic-version"] == "2023-06-01"
assert a["body"]["messages"][0] == {"role": "user", "content": "first question"} and a["step"] is None
assert e["headers"]["authorization"] == "***" and e["headers"]["x-extra"] == "yes"
assert e["body"] == {"model": "m", "input": ["a"]} and e["status"] == 429 and e["step"]["status"] == 429
assert bad["headers"]["authorization"] == "***" and bad["auth"] == "invalid" and bad["status"] == 401
assert [x["seq"] for x in d] == sorted(x["seq"] for x in d)' <"$BATS_TEST_TMPDIR/log"
	not grep -q "$TEST_AI_KEY" "$TEST_AI_DIR/server.log"
	[ "$(control DELETE requests | check 'print(d["cleared"])')" = 3 ]
	[ "$(control GET requests)" = "[]" ]
}

@test "the control API refuses bad scripts and lists and clears pending steps" {
	for bad in '{"stauts":429}' '{"status":200}' '{"path":"/v2/x","status":500}' '{"sse_chunk":0}' '"x"' 'nope' '{}'; do
		run curl -sS -w '\n%{http_code}' -X POST --data "$bad" "$TEST_AI_URL/__control/script"
		[ "${lines[-1]}" = 400 ]
	done
	[ "$(control GET script)" = "[]" ]
	[ "$(control POST script '[{"status":500},{"delay_ms":10,"path":"/v1/messages"}]' | check 'print(d["pending"])')" = 2 ]
	control GET script | check 'assert d == [{"status": 500}, {"delay_ms": 10, "path": "/v1/messages"}], d'
	[ "$(control DELETE script | check 'print(d["cleared"])')" = 2 ]
	run curl -sS -o /dev/null -w '%{http_code}' "$TEST_AI_URL/__control/nothing"
	[ "$output" = 404 ]
	# requests to unknown API paths are 404s in the API's shape
	run openai models '{}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 404 ]
	echo "${lines[0]}" | check 'assert "message" in d["error"]'
}

@test "stop removes everything; the watchdog stops the service when its owner is killed" {
	# FAKE_AI_EMBED_DIM reaches the server
	eval "$(FAKE_AI_EMBED_DIM=3 "$FAKE" start --owner $$)"
	OWNED_DIR=$TEST_AI_DIR
	pid=$(cat "$OWNED_DIR/server.pid")
	openai embeddings '{"model":"m","input":"x"}' | check 'assert len(d["data"][0]["embedding"]) == 3'
	"$FAKE" stop "$OWNED_DIR"
	[ ! -e "$OWNED_DIR" ]
	not alive "$pid"
	sleep 600 3>&- &
	owner=$!
	eval "$("$FAKE" start --owner $owner)"
	OWNED_DIR=$TEST_AI_DIR
	pid=$(cat "$OWNED_DIR/server.pid")
	wd=$(cat "$OWNED_DIR/watchdog.pid")
	alive "$pid"
	[[ $TEST_AI_URL == http://127.0.0.1:* ]]
	[[ $TEST_AI_KEY == sk-fake-* ]]
	curl -fsS "$TEST_AI_URL/__control/health" >/dev/null
	kill -9 "$owner"
	wait "$owner" 2>/dev/null || true # reaped, so the watchdog sees it gone
	for _ in $(seq 1 40); do
		[ -e "$OWNED_DIR" ] || break
		sleep 0.25
	done
	[ ! -e "$OWNED_DIR" ]
	not alive "$pid"
	for _ in $(seq 1 20); do
		alive "$wd" || break
		sleep 0.1
	done
	not alive "$wd"
	run curl -sS "$TEST_AI_URL/__control/health"
	[ "$status" -ne 0 ]
	OWNED_DIR=
}
