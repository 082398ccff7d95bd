#!/usr/bin/env python3
"""A minimal WebSocket client (RFC 6455) for the tests of GET /v1/ws, standard library only.

Usage: ws_client.py URL TOKEN COUNT [TIMEOUT]
    Connects to URL (ws://HOST:PORT/PATH?QUERY) with "Authorization: Bearer TOKEN", checks
    the 101 and its Sec-WebSocket-Accept, prints "open" once connected, then each text
    message on a line of its own, answers pings, and after COUNT messages sends a close
    frame (code 1000) and waits for the server's. A close frame from the server prints
    "close CODE". Exits 0 when COUNT messages came, 1 otherwise (timeout: TIMEOUT seconds,
    default 20), 2 when the handshake was refused (the status line is printed).
"""

import base64
import hashlib
import os
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def send_frame(s, opcode, payload=b""):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def read_exact(s, buf, n):
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    return buf[:n], buf[n:]


def read_frame(s, buf):
    h, buf = read_exact(s, buf, 2)
    opcode, n = h[0] & 0x0F, h[1] & 0x7F
    assert not h[1] & 0x80, "a server frame must not be masked"
    if n == 126:
        e, buf = read_exact(s, buf, 2)
        n = struct.unpack("!H", e)[0]
    elif n == 127:
        e, buf = read_exact(s, buf, 8)
        n = struct.unpack("!Q", e)[0]
    payload, buf = read_exact(s, buf, n)
    return opcode, payload, buf


def main():
    url, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    u = urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    s = socket.create_connection((u.hostname, u.port))
    s.settimeout(timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
               % (path, u.hostname, u.port, key, token)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 101"):
        print(lines[0], flush=True)
        return 2
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    assert headers.get("sec-websocket-accept") == want, headers
    assert headers.get("upgrade", "").lower() == "websocket", headers
    print("open", flush=True)
    got = 0
    deadline = time.time() + timeout
    try:
        while got < count and time.time() < deadline:
            opcode, payload, buf = read_frame(s, buf)
            if opcode == 0x1:
                print(payload.decode(), flush=True)
                got += 1
            elif opcode == 0x9:
                send_frame(s, 0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                print("close %d" % code, flush=True)
                send_frame(s, 0x8, payload[:2])
                return 0 if got >= count else 1
        send_frame(s, 0x8, struct.pack("!H", 1000))
        while True:
            opcode, payload, buf = read_frame(s, buf)
            if opcode == 0x8:
                break
    except (EOFError, socket.timeout, ConnectionResetError):
        pass
    return 0 if got >= count else 1


if __name__ == "__main__":
    sys.exit(main())
