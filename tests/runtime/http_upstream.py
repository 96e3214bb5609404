#!/usr/bin/python3
"""http_upstream.py - a small HTTP/1.1 upstream on 127.0.0.1 for the HTTP
client tests.  Prints its port on stdout, then serves until killed (or for
at most --lifetime seconds, so a test that dies cannot leave it behind).

Routes:
  /echo              200; body "METHOD PATH\\n" + request body; X-Echo-Test
                     repeats the request's X-Test; two X-Multi headers
  /delay?ms=N        waits N ms, then 200 "slept N"
  /status?code=N     status N, body "status N"; &retry_after=S adds Retry-After
  /big?n=N           N bytes of "x" (Content-Length); &chunked=1 streams them
                     chunked, with no length announced
  /reset             announces 1000 bytes, sends 10, then resets (RST)
  /empty             closes the connection without any response
  /stats             "connections=C requests=R" since start
  /seq?id=K&codes=503,503,200
                     the n-th request with id K gets the n-th code (the last
                     one repeats): a status, "sleepN" (200 after N ms) or
                     "reset"; &retry_after=S (or date:S, an HTTP date S s
                     ahead) on every answer that is not a 2xx
  /seen?id=K         JSON {"n": requests with id K, "ms": [arrival of each,
                     ms after the first]}
  /app/...           any method: JSON {"n", "method", "path", "body"}, n
                     counting requests to that path (also under /seen?id=
                     PATH); a path containing /fail answers 503, /slow waits
                     300 ms, /bad answers 400

Options: --port N listens on N (default: any free port); --save DIR writes
each /app/... request's body to DIR/<n>.body and its headers (a JSON object,
names lower-case) to DIR/<n>.headers.json, n counting those requests.
"""
import argparse
import email.utils
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Lock()
counts = {"connections": 0, "requests": 0}
seen = {}   # id -> [monotonic arrival times]
save_dir = None
saved = [0]


def arrive(key):
    with lock:
        times = seen.setdefault(key, [])
        times.append(time.monotonic())
        return len(times)


def bump(key):
    with lock:
        counts[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive
    timeout = 30                    # idle keep-alive connections end

    def setup(self):
        super().setup()
        bump("connections")

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, headers=(), ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reset_mid_response(self):
        """Announce 1000 bytes, send 10, then reset the connection."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        self.wfile.flush()
        time.sleep(0.05)
        # SO_LINGER with a zero timeout: close() sends RST, not FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self):
        bump("requests")
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if url.path == "/echo":
            self.reply(200, f"{self.command} {self.path}\n".encode() + body,
                       [("X-Echo-Test", self.headers.get("X-Test", "")),
                        ("X-Multi", "a"), ("X-Multi", "b")])
        elif url.path == "/delay":
            ms = int(q.get("ms", "100"))
            time.sleep(ms / 1000)
            self.reply(200, f"slept {ms}")
        elif url.path == "/status":
            code = int(q.get("code", "500"))
            extra = [("Retry-After", q["retry_after"])] if "retry_after" in q else []
            self.reply(code, f"status {code}", extra)
        elif url.path == "/big":
            size = int(q.get("n", "0"))
            if q.get("chunked"):
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                left = size
                while left > 0:
                    part = chunk[:min(left, len(chunk))]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    left -= len(part)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.reply(200, b"x" * size)
        elif url.path == "/reset":
            self.reset_mid_response()
        elif url.path == "/empty":
            self.close_connection = True
        elif url.path == "/seq":
            n = arrive(q.get("id", ""))
            codes = q.get("codes", "200").split(",")
            code = codes[min(n, len(codes)) - 1]
            if code.startswith("sleep"):
                time.sleep(int(code[5:]) / 1000)
                code = "200"
            if code == "reset":   # as /reset: mid-response, so no client resends it
                self.reset_mid_response()
                return
            extra = []
            ra = q.get("retry_after")
            if ra and not code.startswith("2"):
                if ra.startswith("date:"):
                    ra = email.utils.formatdate(time.time() + float(ra[5:]), usegmt=True)
                extra.append(("Retry-After", ra))
            self.reply(int(code), f"attempt {n}: {code}", extra)
        elif url.path == "/seen":
            with lock:
                times = list(seen.get(q.get("id", ""), []))
            ms = [round((x - times[0]) * 1000, 1) for x in times]
            self.reply(200, json.dumps({"n": len(times), "ms": ms}), ctype="application/json")
        elif url.path.startswith("/app/"):
            n = arrive(url.path)
            if save_dir:
                with lock:
                    saved[0] += 1
                    k = saved[0]
                base = os.path.join(save_dir, str(k))
                with open(base + ".body", "wb") as f:
                    f.write(body)
                with open(base + ".headers.json", "w") as f:
                    json.dump({k.lower(): v for k, v in self.headers.items()}, f)
            if "/slow" in url.path:
                time.sleep(0.3)
            code = 503 if "/fail" in url.path else 400 if "/bad" in url.path else 200
            self.reply(code, json.dumps({"n": n, "method": self.command, "path": self.path,
                                         "body": body.decode("utf-8", "replace")}),
                       [("X-Upstream-N", str(n))], ctype="application/json")
        elif url.path == "/stats":
            with lock:
                text = f"connections={counts['connections']} requests={counts['requests']}"
            self.reply(200, text)
        else:
            self.reply(404, "not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = route


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--save")
    args = ap.parse_args()
    global save_dir
    save_dir = args.save
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
