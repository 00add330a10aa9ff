#!/usr/bin/python3
"""Helpers for bench/run-bench (loopback only).

The seeders and the libtorrent downloader are tests/interop/lt_seed.py;
this file only holds what the benchmark needs on top of it.

Subcommands:
  retrack IN.torrent OUT.torrent URL
      Copy a torrent with another announce URL (same info-hash), so that
      downloaders of a scenario learn no peers from the main tracker.
  loopback MIB
      Send MIB MiB over one TCP connection on 127.0.0.1 and print the
      rate in MiB/s (a ceiling for any client on this machine).
  make-many DIR NFILES TOTAL_BYTES
      Write NFILES random files, TOTAL_BYTES in all, under DIR (in
      subdirectories of 100 files).
  conn PORT TORRENT N SECONDS [ACTIVE [MIBS]]
      Open N BitTorrent connections to 127.0.0.1:PORT at once: handshake,
      interested, and while unchoked keep requesting 16 KiB blocks of
      random pieces.  Print "established E" once E handshakes came back
      (or after 10 s), then run for SECONDS and print
      "result handshaken E bytes B".  With ACTIVE, only the first ACTIVE
      connections do that; the others stay idle after the handshake (not
      interested, a keep-alive every 30 s).  With MIBS, the active ones
      ask for at most MIBS MiB/s together, so that two runs serve the
      same amount whatever the seeder costs.
"""

import os
import random
import selectors
import socket
import struct
import sys
import threading
import time

import libtorrent as lt


def retrack(src, out, url):
    with open(src, "rb") as f:
        d = lt.bdecode(f.read())
    d[b"announce"] = url.encode()
    d.pop(b"announce-list", None)
    with open(out, "wb") as f:
        f.write(lt.bencode(d))
    a = str(lt.torrent_info(src).info_hashes().v1)
    b = str(lt.torrent_info(out).info_hashes().v1)
    if a != b:
        sys.exit("retrack: info-hash changed")


def loopback(mib):
    total = int(mib) << 20
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    chunk = b"\0" * (1 << 20)

    def send():
        c = socket.create_connection(("127.0.0.1", port))
        left = total
        while left > 0:
            c.sendall(chunk[:min(left, len(chunk))])
            left -= len(chunk)
        c.close()

    t = threading.Thread(target=send)
    start = time.monotonic()
    t.start()
    s, _ = ls.accept()
    buf = bytearray(1 << 20)
    got = 0
    while True:
        n = s.recv_into(buf)
        if n == 0:
            break
        got += n
    secs = time.monotonic() - start
    t.join()
    print("%.1f" % (got / secs / (1 << 20)))


def make_many(d, nfiles, total):
    nfiles = int(nfiles)
    total = int(total)
    per = total // nfiles
    rnd = random.Random(1)
    block = os.urandom(1 << 20)
    ring = memoryview(block + block)
    for i in range(nfiles):
        sub = os.path.join(d, "d%03d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(sub, exist_ok=True)
        size = per if i < nfiles - 1 else total - per * (nfiles - 1)
        with open(os.path.join(sub, "f%05d.bin" % i), "wb") as f:
            # Distinct data per file without paying for urandom each time.
            off = rnd.randrange(len(block))
            left = size
            while left > 0:
                k = min(left, len(block))
                f.write(ring[off:off + k])
                left -= k
                off = (off + 4099) % len(block)


class Peer:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = bytearray()
        self.handshaken = False
        self.choked = True
        self.outstanding = 0


def conn(port, torrent, n, seconds, active=None, mibs=0):
    ti = lt.torrent_info(torrent)
    ih = bytes.fromhex(str(ti.info_hashes().v1))
    npieces = ti.num_pieces()
    plen = ti.piece_length()
    total = ti.total_size()
    sel = selectors.DefaultSelector()
    peers = []
    active = int(n) if active is None else int(active)
    cap = float(mibs) * 1048576
    for i in range(int(n)):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", int(port)))
        except BlockingIOError:
            pass
        pid = b"-BN0001-" + b"%012d" % i
        hs = b"\x13BitTorrent protocol" + b"\0" * 8 + ih + pid
        p = Peer(s)
        p.active = i < active
        p.pending = bytearray(hs)
        if p.active:
            p.pending += struct.pack(">IB", 1, 2)  # interested
        peers.append(p)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, p)

    def request(p):
        # Under a cap, ask only for what the elapsed time allows.
        if cap > 0 and asked > cap * (time.monotonic() - start):
            return
        while p.outstanding < 4:
            idx = random.randrange(npieces)
            size = min(plen, total - idx * plen)
            begin = random.randrange(max(1, size // 16384)) * 16384
            length = min(16384, size - begin)
            p.pending += struct.pack(">IBIII", 13, 6, idx, begin, length)
            p.outstanding += 1
            add_asked(length)

    def parse(p):
        nonlocal nbytes
        if not p.handshaken:
            if len(p.inbuf) < 68:
                return
            del p.inbuf[:68]
            p.handshaken = True
        while len(p.inbuf) >= 4:
            ln = struct.unpack(">I", p.inbuf[:4])[0]
            if len(p.inbuf) < 4 + ln:
                return
            msg = bytes(p.inbuf[4:4 + ln])
            del p.inbuf[:4 + ln]
            if ln == 0:
                continue
            mid = msg[0]
            if mid == 0:
                p.choked = True
                p.outstanding = 0
            elif mid == 1:
                p.choked = False
                request(p)
            elif mid == 7:
                nbytes += ln - 9
                p.outstanding -= 1
                if not p.choked:
                    request(p)
            elif mid == 16:  # reject (fast extension)
                p.outstanding = max(0, p.outstanding - 1)

    def add_asked(k):
        nonlocal asked
        asked += k

    nbytes = 0
    asked = 0
    start = time.monotonic()
    announced = False
    end = None
    next_alive = start + 30
    while True:
        now = time.monotonic()
        if cap > 0:
            # A capped peer asks again as the budget grows.
            for p in peers:
                if p.active and p.handshaken and not p.choked:
                    request(p)
                    if p.pending:
                        try:
                            sel.modify(p.sock, selectors.EVENT_READ |
                                       selectors.EVENT_WRITE, p)
                        except (KeyError, ValueError):
                            pass
        if now >= next_alive:
            next_alive = now + 30
            for p in peers:
                if not p.active and p.handshaken:
                    p.pending += b"\0\0\0\0"
                    try:
                        sel.modify(p.sock, selectors.EVENT_READ |
                                   selectors.EVENT_WRITE, p)
                    except (KeyError, ValueError):
                        pass
        hs = sum(1 for p in peers if p.handshaken)
        if not announced and (hs == len(peers) or now - start > 10):
            print("established %d" % hs, flush=True)
            announced = True
            end = now + float(seconds)
            nbytes = 0
            asked = 0
            start = now
        if end is not None and now >= end:
            break
        for key, ev in sel.select(timeout=0.01 if cap > 0 else 0.1):
            p = key.data
            try:
                if ev & selectors.EVENT_WRITE and p.pending:
                    k = p.sock.send(p.pending)
                    del p.pending[:k]
                if ev & selectors.EVENT_READ:
                    data = p.sock.recv(1 << 16)
                    if not data:
                        sel.unregister(p.sock)
                        p.sock.close()
                        continue
                    p.inbuf += data
                    parse(p)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                try:
                    sel.unregister(p.sock)
                except (KeyError, ValueError):
                    pass
                p.sock.close()
                continue
            want = selectors.EVENT_READ
            if p.pending:
                want |= selectors.EVENT_WRITE
            try:
                sel.modify(p.sock, want, p)
            except (KeyError, ValueError):
                pass
    hs = sum(1 for p in peers if p.handshaken)
    print("result handshaken %d bytes %d" % (hs, nbytes), flush=True)
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "retrack":
        retrack(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "loopback":
        loopback(argv[2])
    elif len(argv) == 5 and argv[1] == "make-many":
        make_many(argv[2], argv[3], argv[4])
    elif len(argv) in (6, 7, 8) and argv[1] == "conn":
        return conn(*argv[2:])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
