#!/usr/bin/env python3
"""A hostile HTTP server on 127.0.0.1 for tests/live/test_go_http.sh (stdlib only).

Prints "READY PORT STALL_PORT" and serves until stdin closes or --max-seconds pass:

  /big-length   200, Content-Length: 1 GiB, then 1 GiB streamed (never held in memory)
  /big-close    200, no Content-Length, 1 GiB streamed, end of body = connection close
  /big-chunked  200, Transfer-Encoding: chunked, 1 GiB in 64 KiB chunks
  /trickle      200, Content-Length 1 MiB, then one byte a second, forever
  /silent       reads the request, never answers
  /gzip-bomb    200, Content-Encoding: gzip, ~1 MiB on the wire that inflates to 1 GiB of zeros
  /redirect     302 to http://127.0.0.1:PORT/debug/vars (which is valid expvar JSON)
  /headers      200, then header lines forever (a bounded client gives up)
  /debug/vars   a well-formed expvar body (so a followed redirect would "succeed")
  /garbage/...  the endpoint paths with hostile bodies: /garbage/debug/pprof/heap?debug=1 has
                a MemStats block with a 25-digit number; /garbage/debug/vars is JSON with
                strings for numbers; /garbage/metrics has a broken label
  anything else 404
The first eight match by prefix ("/trickle/debug/vars" trickles too), so a whole
gsm_go_stats_fetch() of BASE/trickle meets the same behaviour on every endpoint path.

STALL_PORT is a listening socket with a full accept queue that is never accepted from: a
connect() to it stalls (the kernel drops the SYN), for the connect-timeout check.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GIB = 1 << 30
MIB = 1 << 20
ZEROS = b"\0" * MIB


def gzip_bomb():
    """gzip of 1 GiB of zeros, built from one 1 MiB deflate block repeated (each block ends with
    a full flush, so every copy compresses to the same bytes)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(ZEROS, crc)
    head = b"\x1f\x8b\x08\x00\0\0\0\0\x00\x03"
    return head, block, tail + struct.pack("<II", crc, GIB & 0xFFFFFFFF)


BOMB = gzip_bomb()

MEMSTATS = {"HeapAlloc": 1, "HeapSys": 2, "HeapIdle": 1, "HeapInuse": 1, "HeapReleased": 0,
            "StackInuse": 32768, "NumGC": 0, "PauseNs": [0] * 256}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def stream(self, total, chunk=ZEROS):
        sent = 0
        while sent < total:
            n = min(len(chunk), total - sent)
            self.wfile.write(chunk[:n])
            sent += n

    def do_GET(self):
        p = self.path
        try:
            if p.startswith("/big-length"):
                self.send_response(200)
                self.send_header("Content-Length", str(GIB))
                self.end_headers()
                self.stream(GIB)
            elif p.startswith("/big-close"):
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.stream(GIB)
                self.close_connection = True
            elif p.startswith("/big-chunked"):
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"\0" * 65536
                frame = b"10000\r\n" + piece + b"\r\n"
                for _ in range(GIB // 65536):
                    self.wfile.write(frame)
                self.wfile.write(b"0\r\n\r\n")
            elif p.startswith("/trickle"):
                self.send_response(200)
                self.send_header("Content-Length", str(MIB))
                self.end_headers()
                while True:
                    self.wfile.write(b"#")
                    self.wfile.flush()
                    time.sleep(1)
            elif p.startswith("/silent"):
                time.sleep(3600)
            elif p.startswith("/gzip-bomb"):
                head, block, tail = BOMB
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(head) + 1024 * len(block) + len(tail)))
                self.end_headers()
                self.wfile.write(head)
                for _ in range(1024):
                    self.wfile.write(block)
                self.wfile.write(tail)
            elif p.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:%d/debug/vars" % self.server.server_port)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif p.startswith("/headers"):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                i = 0
                while True:
                    self.wfile.write(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000))
                    i += 1
            elif p == "/debug/vars":
                self.body(200, json.dumps({"memstats": MEMSTATS}).encode())
            elif p == "/garbage/debug/pprof/heap?debug=1":
                self.body(200, b"heap profile: 0: 0 [0: 0] @ heap/1048576\n\n# runtime.MemStats\n"
                               b"# HeapAlloc = 1234567890123456789012345\n# HeapSys = 1\n")
            elif p == "/garbage/debug/vars":
                self.body(200, b'{"memstats": {"HeapAlloc": "12", "HeapSys": 1}}')
            elif p == "/garbage/metrics":
                self.body(200, b'go_memstats_heap_alloc_bytes{a="unterminated} 1\n')
            else:
                self.body(404, b"404 page not found\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def body(self, code, data):
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def stall_socket():
    """A listener whose accept queue is full and never drained."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    fillers = []
    port = s.getsockname()[1]
    for _ in range(4):  # backlog 0 still queues one; fill it (extra connects just stay pending)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    return s, fillers, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stall, fillers, stall_port = stall_socket()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("READY %d %d" % (srv.server_port, stall_port), flush=True)

    done = threading.Event()

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait(args.max_seconds)
    os._exit(0)


if __name__ == "__main__":
    main()
