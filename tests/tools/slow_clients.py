#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test tool: hostile HTTP clients against a corrald replica, bounded in count and time.

  slow_clients.py headers HOST PORT SRC N SECONDS OUT
      opens N connections from source address SRC and sends a request's headers one byte a
      second without ever finishing them; for SECONDS at most. Writes OUT (JSON): how many
      connections were accepted (open after the first byte), and for each, how many seconds
      after its connect the server closed it (null if still open at the end).
  slow_clients.py polls HOST PORT SRC N PATH SECONDS OUT
      sends N long polls (GET PATH) from SRC at once, creates OUT.sent once all are sent, waits
      up to SECONDS for the answers and writes their status codes to OUT (JSON list; 0 for no
      answer).
"""
import json
import selectors
import socket
import sys
import time


def connect(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((host, port))
    s.setblocking(False)
    return s


def headers(host, port, src, n, seconds, out):
    request = f"GET /v1/leader HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: " + "a" * 200
    conns = []
    for _ in range(n):
        try:
            conns.append({"s": connect(host, port, src), "t0": time.monotonic(), "sent": 0,
                          "closed": None})
        except OSError:
            conns.append({"s": None, "t0": time.monotonic(), "sent": 0, "closed": 0.0})
    open(out + ".connected", "w").close()
    end = time.monotonic() + seconds
    while time.monotonic() < end and any(c["closed"] is None for c in conns):
        now = time.monotonic()
        for c in conns:
            if c["closed"] is not None:
                continue
            s = c["s"]
            try:
                data = s.recv(4096)
                if data == b"":
                    c["closed"] = now - c["t0"]  # the server closed it
                    continue
            except BlockingIOError:
                pass
            except OSError:
                c["closed"] = now - c["t0"]
                continue
            if c["sent"] < len(request):
                try:
                    s.send(request[c["sent"]].encode())
                    c["sent"] += 1
                except OSError:
                    c["closed"] = now - c["t0"]
        time.sleep(1.0)
    accepted = sum(1 for c in conns if c["sent"] >= 2)
    result = {"n": n, "accepted": accepted,
              "closed_after_s": [None if c["closed"] is None else round(c["closed"], 2)
                                 for c in conns if c["sent"] >= 2]}
    for c in conns:
        if c["s"] is not None:
            c["s"].close()
    with open(out, "w") as f:
        json.dump(result, f)


def polls(host, port, src, n, path, seconds, out):
    sel = selectors.DefaultSelector()
    codes = [0] * n
    bufs = [b""] * n
    for i in range(n):
        try:
            s = connect(host, port, src)
        except OSError:
            continue
        s.send(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
               .encode())
        sel.register(s, selectors.EVENT_READ, i)
    open(out + ".sent", "w").close()
    end = time.monotonic() + seconds
    while sel.get_map() and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            i = key.data
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            bufs[i] += data
            if not data:
                line = bufs[i].split(b"\r\n", 1)[0].split()
                codes[i] = int(line[1]) if len(line) > 1 and line[1].isdigit() else 0
                sel.unregister(key.fileobj)
                key.fileobj.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    with open(out, "w") as f:
        json.dump(codes, f)


def main():
    a = sys.argv
    if len(a) == 8 and a[1] == "headers":
        headers(a[2], int(a[3]), a[4], int(a[5]), float(a[6]), a[7])
    elif len(a) == 9 and a[1] == "polls":
        polls(a[2], int(a[3]), a[4], int(a[5]), a[6], float(a[7]), a[8])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
