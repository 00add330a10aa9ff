#!/usr/bin/python3
"""Interop helper built on python3-libtorrent (loopback only).

Subcommands:
  make-torrent DIR OUT.torrent TRACKER_URL PIECE_SIZE
      Write a v1-only torrent of DIR (a directory or single file).
  info-hash TORRENT
      Print the 40-hex v1 info-hash.
  seed TORRENT DATA_PARENT_DIR PORT [--upload-limit BYTES_PER_S] [--peer IP:PORT]...
      Check the data, seed it, print "ready" once seeding, then print
      "uploaded N" every second until killed (SIGTERM/SIGINT).
  leech TORRENT SAVE_DIR PORT [--peer IP:PORT]... [--timeout S]
      Download; exit 0 when complete, 1 on timeout or error.

Both seed and leech accept --peer-log FILE: append every peer message
libtorrent logs (peer_log alerts, e.g. "<== HAVE_ALL", "<== ALLOWED_FAST")
to FILE, one alert per line, so tests can check what went over the wire.
seed also accepts --unchoke-slots N: unchoke at most N peers (0 keeps
every peer choked, so only BEP 6 allowed fast pieces are served).

DHT, LSD, UPnP and NAT-PMP are always disabled; the session listens on
127.0.0.1 only.
"""

import os
import signal
import sys
import time

import libtorrent as lt


def _v1_flag():
    # libtorrent 2.0 exposes the flag on create_torrent; some builds only
    # on create_torrent_flags_t.
    for holder in ("create_torrent", "create_torrent_flags_t"):
        obj = getattr(lt, holder, None)
        if obj is not None and hasattr(obj, "v1_only"):
            return getattr(obj, "v1_only")
    return 0


def make_torrent(src, out, tracker, piece_size):
    src = os.path.abspath(src)
    fs = lt.file_storage()
    lt.add_files(fs, src)
    if fs.num_files() == 0:
        sys.exit("make-torrent: no files in %s" % src)
    ct = lt.create_torrent(fs, int(piece_size), flags=_v1_flag())
    ct.add_tracker(tracker)
    ct.set_creator("thorrent-interop")
    lt.set_piece_hashes(ct, os.path.dirname(src))
    data = lt.bencode(ct.generate())
    with open(out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(out)
    # Empty files must be listed and no pad files may sneak in: the
    # layout is part of what the interop tests exercise.
    names = [ti.files().file_path(i) for i in range(ti.files().num_files())]
    for n in names:
        if ".pad" in n.split(os.sep):
            sys.exit("make-torrent: unexpected pad file %s" % n)


def info_hash(path):
    ti = lt.torrent_info(path)
    try:
        h = ti.info_hashes().v1
    except AttributeError:
        h = ti.info_hash()
    print(str(h))


def _session(port, upload_limit=0, peer_log=None, unchoke_slots=None):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % int(port),
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.tracker_notification,
    }
    if peer_log:
        settings["alert_mask"] |= lt.alert.category_t.peer_log_notification
    if unchoke_slots is not None:
        settings["unchoke_slots_limit"] = int(unchoke_slots)
    if upload_limit:
        settings["upload_rate_limit"] = int(upload_limit)
    ses = lt.session(settings)
    if upload_limit or unchoke_slots is not None:
        # Loopback peers sit in the unlimited "local" peer class by
        # default, which also ignores the unchoke slots; put every
        # address in the global class so the limits really apply.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255",
                   1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
    return ses


def _parse_opts(args):
    opts = {"peers": [], "upload_limit": 0, "timeout": 120,
            "peer_log": None, "unchoke_slots": None}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--peer":
            host, port = args[i + 1].rsplit(":", 1)
            opts["peers"].append((host, int(port)))
            i += 2
        elif a == "--upload-limit":
            opts["upload_limit"] = int(args[i + 1])
            i += 2
        elif a == "--timeout":
            opts["timeout"] = float(args[i + 1])
            i += 2
        elif a == "--peer-log":
            opts["peer_log"] = args[i + 1]
            i += 2
        elif a == "--unchoke-slots":
            opts["unchoke_slots"] = int(args[i + 1])
            i += 2
        else:
            sys.exit("unknown option %s" % a)
    return opts


_peer_log = None


def _open_peer_log(path):
    global _peer_log
    if path:
        _peer_log = open(path, "a", buffering=1)


def _drain(ses):
    for a in ses.pop_alerts():
        if _peer_log is not None and isinstance(a, lt.peer_log_alert):
            _peer_log.write(a.message() + "\n")
            continue
        if isinstance(a, (lt.peer_connect_alert, lt.peer_disconnected_alert,
                          lt.tracker_error_alert, lt.torrent_error_alert,
                          lt.tracker_reply_alert, lt.file_error_alert,
                          lt.listen_failed_alert, lt.listen_succeeded_alert)):
            print("alert: %s" % a.message(), flush=True)


_stop = False


def _on_signal(_sig, _frm):
    global _stop
    _stop = True


def seed(torrent, parent, port, args):
    opts = _parse_opts(args)
    _open_peer_log(opts["peer_log"])
    ses = _session(port, opts["upload_limit"], opts["peer_log"],
                   opts["unchoke_slots"])
    ti = lt.torrent_info(torrent)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = os.path.abspath(parent)
    h = ses.add_torrent(atp)
    if opts["upload_limit"]:
        h.set_upload_limit(opts["upload_limit"])
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    deadline = time.time() + 120
    ready = False
    last = 0
    while not _stop:
        _drain(ses)
        st = h.status()
        if not ready:
            if st.is_seeding:
                for host, p in opts["peers"]:
                    h.connect_peer((host, p))
                print("ready", flush=True)
                ready = True
            elif st.state not in (lt.torrent_status.checking_files,
                                  lt.torrent_status.checking_resume_data) \
                    and st.progress < 1.0 and st.state != \
                    lt.torrent_status.downloading_metadata:
                if st.errc.value() != 0:
                    print("error: %s" % st.errc.message(), flush=True)
                    sys.exit(1)
                if time.time() > deadline:
                    print("error: data incomplete (%.3f)" % st.progress,
                          flush=True)
                    sys.exit(1)
        now = time.time()
        if ready and now - last >= 1.0:
            print("uploaded %d peers %d" % (st.total_payload_upload,
                                            st.num_peers), flush=True)
            last = now
        time.sleep(0.1)
    st = h.status()
    print("final uploaded %d" % st.total_payload_upload, flush=True)
    return 0


def leech(torrent, save, port, args):
    opts = _parse_opts(args)
    _open_peer_log(opts["peer_log"])
    ses = _session(port, peer_log=opts["peer_log"])
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = os.path.abspath(save)
    h = ses.add_torrent(atp)
    for host, p in opts["peers"]:
        h.connect_peer((host, p))
    deadline = time.time() + opts["timeout"]
    last = 0
    while time.time() < deadline:
        _drain(ses)
        st = h.status()
        if st.is_seeding:
            print("complete", flush=True)
            return 0
        if time.time() - last >= 1.0:
            print("progress %.3f peers %d" % (st.progress, st.num_peers),
                  flush=True)
            for host, p in opts["peers"]:
                h.connect_peer((host, p))
            last = time.time()
        time.sleep(0.1)
    print("timeout", flush=True)
    return 1


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "make-torrent" and len(argv) == 6:
        make_torrent(argv[2], argv[3], argv[4], argv[5])
        return 0
    if cmd == "info-hash" and len(argv) == 3:
        info_hash(argv[2])
        return 0
    if cmd == "seed" and len(argv) >= 5:
        return seed(argv[2], argv[3], argv[4], argv[5:])
    if cmd == "leech" and len(argv) >= 5:
        return leech(argv[2], argv[3], argv[4], argv[5:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
