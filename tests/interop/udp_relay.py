#!/usr/bin/python3
"""A UDP relay that adds a fixed delay each way (for utp_loss.sh).

usage: udp_relay.py LISTEN_IP:PORT SERVER_IP:PORT [options]

Datagrams that arrive on LISTEN from a client are sent on to SERVER,
DELAY_MS later, from one upstream socket (bound to an ephemeral port on
--upstream-ip, default: the kernel's choice); datagrams that arrive on
the upstream socket from SERVER go back to the client (the last address
that sent to LISTEN), DELAY_MS later, from the LISTEN socket.  So the
client talks to LISTEN only and the server sees one peer, the upstream
socket: a uTP connection through it looks like a plain one with the
round-trip time 2 * DELAY_MS longer.  Datagrams from anyone else on the
upstream socket are dropped (and counted).

Options:
  --delay-ms N      one-way delay added in each direction (default 25)
  --queue N         datagrams waiting at most, per direction (default
                    50000); beyond it the newest is dropped and counted
  --timeout S       exit after S seconds (default 300)
  --upstream-ip IP  the address the upstream socket binds to

Prints "ready LISTEN upstream IP:PORT" once both sockets are bound,
"stats ..." every second and at exit (on SIGTERM/SIGINT or --timeout):
  c2s N s2c M       datagrams forwarded each way
  bytes_c2s, bytes_s2c
  overflow K        dropped because a queue was full
  stray J           dropped: from neither the client nor the server
  maxq Q            the longest a queue got
  late_ms L         the worst lateness of a send past its due time
The relay must not be the bottleneck: every wake-up drains both sockets
(non-blocking, until EAGAIN) before sending what is due, the queues are
deques in arrival order (every datagram has the same delay, so arrival
order is due order), and the sockets get 4 MiB buffers (SO_RCVBUFFORCE /
SO_SNDBUFFORCE as root, else the plain options up to the sysctl limit).
"""

import collections
import errno
import select
import signal
import socket
import sys
import time

SO_SNDBUFFORCE = getattr(socket, "SO_SNDBUFFORCE", 32)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
BUF = 4 * 1024 * 1024

_stop = False


def _on_signal(_sig, _frm):
    global _stop
    _stop = True


def _addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def _sock(bind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF),
                         (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, BUF)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, plain, BUF)
    s.bind(bind)
    s.setblocking(False)
    return s


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    listen, server = _addr(argv[1]), _addr(argv[2])
    delay, qmax, timeout, up_ip = 0.025, 50000, 300.0, ""
    i = 3
    while i < len(argv):
        if i + 1 >= len(argv):
            sys.exit("%s needs a value" % argv[i])
        a, v = argv[i], argv[i + 1]
        if a == "--delay-ms":
            delay = float(v) / 1000.0
        elif a == "--queue":
            qmax = int(v)
        elif a == "--timeout":
            timeout = float(v)
        elif a == "--upstream-ip":
            up_ip = v
        else:
            sys.exit("unknown option %s" % a)
        i += 2

    lsock = _sock(listen)
    usock = _sock((up_ip, 0))
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print("ready %s:%d upstream %s:%d delay_ms %g rcvbuf %d" % (
        listen[0], listen[1], usock.getsockname()[0],
        usock.getsockname()[1], delay * 1000,
        lsock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)), flush=True)

    client = None
    # Per direction: deque of (due, data); c2s goes out on usock to
    # server, s2c on lsock to client.
    c2s, s2c = collections.deque(), collections.deque()
    st = {"c2s": 0, "s2c": 0, "bytes_c2s": 0, "bytes_s2c": 0,
          "overflow": 0, "stray": 0, "maxq": 0, "late_ms": 0.0,
          "send_err": 0}

    def stats():
        print("stats c2s %(c2s)d s2c %(s2c)d bytes_c2s %(bytes_c2s)d "
              "bytes_s2c %(bytes_s2c)d overflow %(overflow)d "
              "stray %(stray)d maxq %(maxq)d late_ms %(late_ms).1f "
              "send_err %(send_err)d" % st, flush=True)

    def drain(sock, now):
        nonlocal client
        while True:
            try:
                data, src = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.ECONNREFUSED, errno.EAGAIN):
                    continue
                raise
            if sock is lsock:
                client = src
                q = c2s
            elif src == server:
                q = s2c
            else:
                st["stray"] += 1
                continue
            if len(q) >= qmax:
                st["overflow"] += 1
                continue
            q.append((now + delay, data))
            if len(q) > st["maxq"]:
                st["maxq"] = len(q)

    def flush(q, sock, dest, key, now):
        while q and q[0][0] <= now:
            if dest is None:
                q.popleft()
                continue
            due, data = q[0]
            try:
                sock.sendto(data, dest)
            except (BlockingIOError, InterruptedError):
                return  # socket buffer full: retry on the next wake-up
            except OSError:
                st["send_err"] += 1
            q.popleft()
            st[key] += 1
            st["bytes_" + key] += len(data)
            late = (now - due) * 1000.0
            if late > st["late_ms"]:
                st["late_ms"] = late

    start = time.monotonic()
    last_stats = start
    while not _stop:
        now = time.monotonic()
        if now - start > timeout:
            print("timeout", flush=True)
            break
        nxt = min([q[0][0] for q in (c2s, s2c) if q] + [now + 0.2])
        wait = max(0.0, nxt - now)
        try:
            r, _, _ = select.select([lsock, usock], [], [], wait)
        except InterruptedError:
            continue
        now = time.monotonic()
        for s in r:
            drain(s, now)
        flush(c2s, usock, server, "c2s", now)
        flush(s2c, lsock, client, "s2c", now)
        if now - last_stats >= 1.0:
            stats()
            last_stats = now
    stats()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
