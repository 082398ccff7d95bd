#!/usr/bin/env python3
"""Commit-to-client latency of platctl serve's live feed, against its anchor.

Usage: events_latency.py DATABASE_URL SERVER_URL TOKEN TENANT_ID OBJECT_ID COUNT

One event at a time (so that nothing queues behind another): the clock starts before the
statement that commits the event (platctl_event, in autocommit) and stops when the client
has the event. Three clients in turn, over the same events:
  listen  a LISTEN on platctl_events straight on PostgreSQL: the anchor, the least any
          path through NOTIFY can take;
  sse     GET /v1/events (Server-Sent Events);
  ws      GET /v1/ws (WebSocket).
Prints one line per client: "NAME p50_ms p99_ms max_ms count". Each client must get
exactly the events sent, in order (matched by the sequence number in their data), or
the script fails.
"""

import asyncio
import base64
import json
import os
import sys
import time
from urllib.parse import urlsplit

import asyncpg


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


async def emit(conn, tenant, obj, seq):
    await conn.execute("SELECT platctl_event($1::uuid, 'document.processed', $2::uuid, $3::jsonb)",
                       tenant, obj, json.dumps({"id": obj, "bench_seq": seq}))


def seq_of(text):
    data = json.loads(text)
    d = data.get("data", data)
    return d.get("bench_seq")


async def run_listen(db, tenant, obj, count):
    listener = await asyncpg.connect(db)
    got = asyncio.Queue()
    await listener.add_listener("platctl_events", lambda *a: got.put_nowait(time.perf_counter()))
    conn = await asyncpg.connect(db)
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        await emit(conn, tenant, obj, i)
        t1 = await asyncio.wait_for(got.get(), 10)
        out.append((t1 - t0) * 1000)
    await listener.close()
    await conn.close()
    return out


async def open_http(server, path, token, extra):
    u = urlsplit(server)
    r, w = await asyncio.open_connection(u.hostname, u.port)
    w.write((f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Bearer {token}\r\n" + extra +
             "\r\n").encode())
    await w.drain()
    status = await r.readline()
    if b" 101 " not in status and b" 200 " not in status:
        raise SystemExit(f"{path}: {status!r}")
    while (await r.readline()) not in (b"\r\n", b""):
        pass
    return r, w


async def sse_events(r):
    """Yields each event's data, as the stream gives them (chunked or not: lines are lines)."""
    data = []
    while True:
        line = await r.readline()
        if not line:
            return
        line = line.rstrip(b"\r\n")
        if line.startswith(b"data: "):
            data.append(line[6:].decode())
        elif line == b"" and data:
            yield "\n".join(data)
            data = []


async def ws_messages(r, w):
    while True:
        head = await r.readexactly(2)
        op, n = head[0] & 0x0F, head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(await r.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await r.readexactly(8), "big")
        payload = await r.readexactly(n)
        if op == 1:
            yield payload.decode()
        elif op == 9:  # ping: pong, masked as a client must
            mask = os.urandom(4)
            w.write(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        elif op == 8:
            return


async def run_stream(kind, db, server, token, tenant, obj, count):
    if kind == "sse":
        r, w = await open_http(server, "/v1/events", token, "Accept: text/event-stream\r\n")
        it = sse_events(r)
    else:
        key = base64.b64encode(os.urandom(16)).decode()
        r, w = await open_http(server, "/v1/ws", token,
                               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                               "Sec-WebSocket-Version: 13\r\n")
        it = ws_messages(r, w)
    conn = await asyncpg.connect(db)
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        await emit(conn, tenant, obj, i)
        while True:
            text = await asyncio.wait_for(it.__anext__(), 10)
            s = seq_of(text)
            if s is None:
                continue  # not one of ours
            if s != i:
                raise SystemExit(f"{kind}: got event {s}, expected {i}")
            break
        out.append((time.perf_counter() - t0) * 1000)
    w.close()
    await conn.close()
    return out


async def main():
    db, server, token, tenant, obj, count = sys.argv[1:7]
    count = int(count)
    results = {"listen": await run_listen(db, tenant, obj, count)}
    for kind in ("sse", "ws"):
        results[kind] = await run_stream(kind, db, server, token, tenant, obj, count)
    for k, xs in results.items():
        if len(xs) != count:
            raise SystemExit(f"{k}: {len(xs)} events, expected {count}")
        print(f"{k} {pct(xs, 50):.2f} {pct(xs, 99):.2f} {max(xs):.2f} {len(xs)}")


asyncio.run(main())
