#!/usr/bin/python3
"""A scripted malicious BitTorrent peer for the interop tests (loopback).

Usage: hostile_peer.py TORRENT MODE PORT

Listens on 127.0.0.1:PORT and answers every connection (thorrent dials
it as a --peer) with the misbehaviour MODE, after reading the dialer's
handshake.  Prints "ready" once listening, then one line per event:
  conn N: open
  conn N: sent <what>
  conn N: closed by remote after S s (sent B bytes)
  conn N: gave up after S s           (the remote never hung up)
Each connection is abandoned after CONN_MAX_S seconds, so nothing here
waits forever; the process itself runs until killed.

Modes:
  len2_31          a message length prefix of 0x80000000
  bitfield_len     a bitfield three bytes too long
  bitfield_spare   a bitfield of the right size with its spare bits set
  wrong_data       seed everything, unchoke, answer every request with
                   random bytes (the downloader must ban us)
  unrequested      a piece message nobody asked for (and no unchoke)
  have_oob         have with index npieces + 5
  request_oob      request with an offset beyond the piece
  request_big      request of 200000 bytes
  other_hash       a handshake naming another info hash
  keepalive_flood  5000 keep-alives at once
  slow             a piece message dribbled one byte a second for 75 s
  close_mid        half a bitfield message, then close
  garbage          2 MiB of random bytes instead of a handshake
"""

import hashlib
import os
import socket
import struct
import sys
import threading
import time

CONN_MAX_S = 100
PROTO = b"\x13BitTorrent protocol"
MODES = ("len2_31", "bitfield_len", "bitfield_spare", "wrong_data",
         "unrequested", "have_oob", "request_oob", "request_big",
         "other_hash", "keepalive_flood", "slow", "close_mid", "garbage")

_out_lock = threading.Lock()


def say(msg):
    with _out_lock:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()


def bdecode(data, i=0):
    """Return (value, end); dict values keep their raw span for info."""
    c = data[i:i + 1]
    if c == b"i":
        e = data.index(b"e", i)
        return int(data[i + 1:e]), e + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            start = i
            v, i = bdecode(data, i)
            out[k] = v
            out[(k, "raw")] = data[start:i]
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def load_torrent(path):
    with open(path, "rb") as f:
        meta, _ = bdecode(f.read())
    info = meta[b"info"]
    ih = hashlib.sha1(meta[(b"info", "raw")]).digest()
    plen = info[b"piece length"]
    if b"length" in info:
        total = info[b"length"]
    else:
        total = sum(f[b"length"] for f in info[b"files"])
    npieces = len(info[b"pieces"]) // 20
    return ih, plen, total, npieces


def msg(mid, payload=b""):
    return struct.pack(">IB", 1 + len(payload), mid) + payload


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            chunk = sock.recv(n - len(buf))
        except (socket.timeout, OSError):
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


class Conn:
    def __init__(self, sock, num, tor, mode):
        self.sock = sock
        self.num = num
        self.ih, self.plen, self.total, self.npieces = tor
        self.mode = mode
        self.sent = 0
        self.closed = threading.Event()
        self.start = time.time()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed.set()
            return False
        self.sent += len(data)
        return True

    def handshake(self, ih=None):
        rsv = b"\x00" * 8
        pid = b"-HP0001-" + os.urandom(12)
        return self.send(PROTO + rsv + (ih or self.ih) + pid)

    def full_bitfield(self, spare=False):
        nbytes = (self.npieces + 7) // 8
        bf = bytearray(b"\xff" * nbytes)
        extra = nbytes * 8 - self.npieces
        if extra and not spare:
            bf[-1] = (0xff << extra) & 0xff
        return bytes(bf)

    def drain(self):
        """Read and drop until EOF or CONN_MAX_S."""
        deadline = self.start + CONN_MAX_S
        while not self.closed.is_set() and time.time() < deadline:
            self.sock.settimeout(0.5)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                d = b""
            if not d:
                self.closed.set()
                break

    def serve_wrong_data(self):
        """Answer every request with random bytes until EOF."""
        deadline = self.start + CONN_MAX_S
        buf = b""
        answered = 0
        while time.time() < deadline:
            self.sock.settimeout(0.5)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                d = b""
            if not d:
                self.closed.set()
                break
            buf += d
            while len(buf) >= 4:
                (n,) = struct.unpack(">I", buf[:4])
                if len(buf) < 4 + n:
                    break
                body, buf = buf[4:4 + n], buf[4 + n:]
                if n == 13 and body[0] == 6:
                    idx, begin, length = struct.unpack(">III", body[1:])
                    if length > 131072:
                        continue
                    if not self.send(msg(7, struct.pack(">II", idx, begin)
                                         + os.urandom(length))):
                        break
                    answered += 1
            if self.closed.is_set():
                break
        say("conn %d: answered %d requests with random data"
            % (self.num, answered))

    def run(self):
        say("conn %d: open" % self.num)
        deadline = self.start + 20
        m = self.mode
        if m == "garbage":
            # Do not even wait for the dialer's handshake.
            left = 2 << 20
            while left > 0 and not self.closed.is_set():
                n = min(left, 65536)
                if not self.send(os.urandom(n)):
                    break
                left -= n
            say("conn %d: sent %d bytes of garbage" % (self.num, self.sent))
            self.drain()
            return self.finish()
        hs = recv_exact(self.sock, 68, deadline)
        if hs is None or not hs.startswith(PROTO):
            say("conn %d: no valid handshake from the dialer" % self.num)
            return self.finish()
        if hs[28:48] != self.ih:
            say("conn %d: dialer wants another torrent" % self.num)
            return self.finish()
        if m == "other_hash":
            other = bytes(b ^ 0x5a for b in self.ih)
            self.handshake(other)
            say("conn %d: sent a handshake for another torrent" % self.num)
            self.drain()
            return self.finish()
        if not self.handshake():
            return self.finish()
        if m == "wrong_data":
            # Let the honest peers connect first: a ban is per IP.
            time.sleep(2)
            self.send(msg(5, self.full_bitfield()) + msg(1))
            say("conn %d: sent bitfield and unchoke" % self.num)
            self.serve_wrong_data()
            return self.finish()
        if m == "slow":
            t = threading.Thread(target=self.drain, daemon=True)
            t.start()
            data = struct.pack(">IB", 9 + 16384, 7) + \
                struct.pack(">II", 0, 0) + os.urandom(16384)
            say("conn %d: dribbling a piece message" % self.num)
            for i in range(75):
                if self.closed.is_set() or not self.send(data[i:i + 1]):
                    break
                self.closed.wait(1.0)
            say("conn %d: dribbled %d bytes" % (self.num, self.sent - 68))
            t.join(CONN_MAX_S)
            return self.finish()
        if m == "close_mid":
            bf = msg(5, self.full_bitfield())
            self.send(bf[:len(bf) // 2])
            time.sleep(0.5)
            say("conn %d: sent half a message, closing" % self.num)
            self.sock.close()
            return
        if m == "len2_31":
            payload = b"\x80\x00\x00\x00" + os.urandom(64)
        elif m == "bitfield_len":
            payload = msg(5, self.full_bitfield() + b"\xff\xff\xff")
        elif m == "bitfield_spare":
            payload = msg(5, self.full_bitfield(spare=True))
        elif m == "unrequested":
            payload = msg(5, self.full_bitfield()) + \
                msg(7, struct.pack(">II", 0, 0) + os.urandom(16384))
        elif m == "have_oob":
            payload = msg(4, struct.pack(">I", self.npieces + 5))
        elif m == "request_oob":
            payload = msg(2) + msg(6, struct.pack(">III", 0,
                                                  self.plen + 16384, 16384))
        elif m == "request_big":
            payload = msg(2) + msg(6, struct.pack(">III", 0, 0, 200000))
        elif m == "keepalive_flood":
            payload = b"\x00\x00\x00\x00" * 5000
        else:
            raise SystemExit("unknown mode %s" % m)
        self.send(payload)
        say("conn %d: sent %s (%d bytes)" % (self.num, m, len(payload)))
        self.drain()
        return self.finish()

    def finish(self):
        el = time.time() - self.start
        if self.closed.is_set():
            say("conn %d: closed by remote after %.1f s (sent %d bytes)"
                % (self.num, el, self.sent))
        else:
            say("conn %d: gave up after %.1f s" % (self.num, el))
        try:
            self.sock.close()
        except OSError:
            pass


def main(argv):
    if len(argv) != 4 or argv[2] not in MODES:
        sys.exit(__doc__)
    tor = load_torrent(argv[1])
    mode = argv[2]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(argv[3])))
    ls.listen(16)
    say("ready %s on %s npieces %d" % (mode, argv[3], tor[3]))
    num = 0
    while True:
        s, _ = ls.accept()
        num += 1
        c = Conn(s, num, tor, mode)
        threading.Thread(target=c.run, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
