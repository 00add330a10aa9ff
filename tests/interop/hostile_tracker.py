#!/usr/bin/python3
"""A scripted malicious HTTP tracker for the interop tests (loopback).

Usage: hostile_tracker.py PORT

Serves GET /announce?mode=MODE&... on 127.0.0.1:PORT.  Prints "ready"
once listening, then one line per request:
  req MODE hop=H
and, for the streaming modes, when the client went away:
  end MODE sent=BYTES after=SECONDS
Every response is bounded in time (STREAM_MAX_S), so nothing here waits
forever; the process itself runs until killed.

Modes:
  not_bencoded               200 with a plain text body
  failure_reason             d14:failure reason...e
  compact_not_multiple_of_6  compact peers string of 7 bytes
  peers_100k                 100,000 compact loopback peers (600 kB)
  port_zero                  compact peers that all have port 0
  redirect_loop              302 to the same URL (hop=N+1), forever
  gigabyte                   200 without a length, endless data
  never_ends                 headers (Content-Length 1000), then silence
  interval_zero              a valid reply with interval 0
  interval_negative          a valid reply with interval -5
"""

import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STREAM_MAX_S = 90

_out_lock = threading.Lock()


def say(msg):
    with _out_lock:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()


def benc_reply(interval, peers):
    return (b"d8:intervali%de5:peers%d:" % (interval, len(peers)) + peers
            + b"e")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def reply(self, body, code=200, length=True):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, mode, chunk_fn):
        start = time.time()
        sent = 0
        try:
            while time.time() - start < STREAM_MAX_S:
                c = chunk_fn()
                if c:
                    self.wfile.write(c)
                    self.wfile.flush()
                    sent += len(c)
                else:
                    # Watch for the client closing: a 0-byte read.
                    self.connection.settimeout(1.0)
                    try:
                        if self.connection.recv(1, 0) == b"":
                            break
                    except OSError as e:
                        if "timed out" not in str(e):
                            break
        except OSError:
            pass
        say("end %s sent=%d after=%.1f" % (mode, sent, time.time() - start))

    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        mode = q.get("mode", ["?"])[0]
        hop = int(q.get("hop", ["0"])[0])
        say("req %s hop=%d" % (mode, hop))
        if mode == "not_bencoded":
            self.reply(b"<html>this is not a tracker</html>\n")
        elif mode == "failure_reason":
            msg = b"go away, hostile tracker"
            self.reply(b"d14:failure reason%d:%se" % (len(msg), msg))
        elif mode == "compact_not_multiple_of_6":
            self.reply(benc_reply(60, b"\x7f\x00\x00\x01\x1a\xe1\x07"))
        elif mode == "peers_100k":
            # Loopback addresses 127.0.x.y, port 1: refused at once.
            peers = b"".join(struct.pack(">BBBBH", 127, (i >> 16) & 0xff,
                                         (i >> 8) & 0xff, i & 0xff, 1)
                             for i in range(1, 100001))
            self.reply(benc_reply(60, peers))
        elif mode == "port_zero":
            peers = b"".join(struct.pack(">BBBBH", 127, 0, 0, 1 + i, 0)
                             for i in range(50))
            self.reply(benc_reply(60, peers))
        elif mode == "redirect_loop":
            query = "&".join(p for p in u.query.split("&")
                             if not p.startswith("hop="))
            self.send_response(302)
            self.send_header("Location", "%s?%s&hop=%d"
                             % (u.path, query, hop + 1))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "gigabyte":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            block = b"d8:intervali60e5:peers" + os.urandom(65536 - 22)
            self.stream(mode, lambda: block)
        elif mode == "never_ends":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            self.stream(mode, lambda: b"")
        elif mode == "interval_zero":
            self.reply(benc_reply(0, b""))
        elif mode == "interval_negative":
            self.reply(benc_reply(-5, b""))
        else:
            self.reply(b"unknown mode", code=404)


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    srv = ThreadingHTTPServer(("127.0.0.1", int(argv[1])), Handler)
    srv.daemon_threads = True
    say("ready on %s" % argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
