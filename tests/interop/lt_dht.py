#!/usr/bin/python3
"""libtorrent roles for the magnet, PEX and DHT interop tests (loopback).

Subcommands:
  magnet TORRENT [--base32] [--peer IP:PORT]...
      Print a magnet URI for TORRENT: xt=urn:btih:<40 hex> (or the
      32-character base32 form with --base32), dn=<name>, and one
      x.pe=IP:PORT per --peer.
  node PORT [--bootstrap IP:PORT]...
      A DHT node and nothing else.  Prints "ready", then "dht nodes N"
      every second until killed.
  run PORT (--torrent FILE | --magnet URI) --save DIR [options]
      One torrent, from a .torrent or from a magnet URI (metadata then
      comes from peers).  Prints "ready" once listening, "metadata" when
      the metadata is known, "complete" when every piece is verified,
      "peer IP:PORT source S" the first time a peer is seen (S is a
      '+'-joined list of tracker, dht, pex, lsd, resume, incoming),
      "crypto IP:PORT rc4|plain" once it is known to be encrypted or
      bytes flowed in plaintext, and
      "status ..." every second.
    --peer IP:PORT          connect to it (retried every second)
    --dht                   enable the DHT (listens on UDP PORT)
    --bootstrap IP:PORT     a DHT bootstrap node (repeatable)
    --upload-limit B        bytes/s, applied to loopback peers too
    --download-limit B      bytes/s, applied to loopback peers too
    --exit-on-complete      exit 0 once complete
    --no-pex                ignore PEX messages (torrent_flags.disable_pex)
    --timeout S             with --exit-on-complete: exit 1 after S s
                            (default 120); without it: run until killed
    --encryption MODE       forced: RC4-encrypted connections only, both
                            ways (out/in_enc_policy pe_forced,
                            allowed_enc_level rc4, prefer_rc4);
                            enabled: libtorrent's default (encrypted or
                            plaintext); disabled: plaintext only, both
                            ways (pe_disabled)
    --transport MODE        tcp (the default): TCP only, uTP off; utp:
                            uTP only, both ways (enable_incoming_tcp and
                            enable_outgoing_tcp off, both uTP settings
                            on); both: TCP and uTP.  Prints
                            "transport tcp|utp|both" at start and
                            "transport IP:PORT utp|tcp" once per peer

The session listens on 127.0.0.1 only; LSD, UPnP, NAT-PMP and uTP are
off (uTP unless run --transport says otherwise).  PEX (ut_pex) and
ut_metadata are libtorrent's default plugins and stay on.

libtorrent on loopback, learnt by experiment (2.0.8):
  - the dht_bootstrap_nodes are "router" nodes, which libtorrent never
    puts in its routing table: two sessions bootstrapped only to each
    other keep empty tables ("dht nodes 0") and still find each other's
    torrents, because a lookup falls back to the routers; a node with
    no bootstrap node does add the nodes that query it;
  - every node has the address 127.0.0.1, and the default
    dht_restrict_routing_ips keeps one node per IP: with it a node kept
    one of two loopback nodes that queried it, without it both; the
    other per-IP rules (dht_restrict_search_ips) go for the same reason;
  - dht_block_ratelimit (5 packets/s per source IP by default) and
    dht_upload_rate_limit would throttle a whole loopback DHT, which is
    one IP: raised;
  - BEP 42 node ids cannot match 127.0.0.1 (dht_enforce_node_id stays
    off, its default), and 127.0.0.1 must not count as "dark internet"
    (dht_ignore_dark_internet off);
  - a magnet-only session found a seeder through a third node in about
    1 s; a torrent is announced when it starts, then every
    dht_announce_interval (15 min), so run repeats the announce every
    5 s (force_dht_announce).
"""

import base64
import os
import signal
import sys
import time
from urllib.parse import quote

import libtorrent as lt

SOURCE_NAMES = (("tracker", 0x1), ("dht", 0x2), ("pex", 0x4), ("lsd", 0x8),
                ("resume", 0x10), ("incoming", 0x20))

_stop = False


def _on_signal(_sig, _frm):
    global _stop
    _stop = True


def _out(msg):
    print(msg, flush=True)


def _settings(port, dht, bootstrap):
    s = {
        "listen_interfaces": "127.0.0.1:%d" % int(port),
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": bool(dht),
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.dht_notification,
    }
    if dht:
        s.update({
            "dht_bootstrap_nodes": ",".join(bootstrap),
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False,
            "dht_ignore_dark_internet": False,
            "dht_block_ratelimit": 100000,
            "dht_upload_rate_limit": 10 * 1000 * 1000,
            "dht_prefer_verified_node_ids": False,
        })
    return s


ENCRYPTION = ("forced", "enabled", "disabled")
TRANSPORT = ("tcp", "utp", "both")


def _transport_settings(mode):
    """libtorrent's TCP/uTP switches for --transport MODE."""
    tcp = mode in ("tcp", "both")
    utp = mode in ("utp", "both")
    return {"enable_incoming_tcp": tcp, "enable_outgoing_tcp": tcp,
            "enable_incoming_utp": utp, "enable_outgoing_utp": utp}


def _enc_settings(mode):
    """libtorrent's peer encryption settings for --encryption MODE."""
    if mode == "forced":
        return {"out_enc_policy": int(lt.enc_policy.pe_forced),
                "in_enc_policy": int(lt.enc_policy.pe_forced),
                "allowed_enc_level": int(lt.enc_level.pe_rc4),
                "prefer_rc4": True}
    if mode == "disabled":
        return {"out_enc_policy": int(lt.enc_policy.pe_disabled),
                "in_enc_policy": int(lt.enc_policy.pe_disabled),
                "allowed_enc_level": int(lt.enc_level.pe_plaintext),
                "prefer_rc4": False}
    return {"out_enc_policy": int(lt.enc_policy.pe_enabled),
            "in_enc_policy": int(lt.enc_policy.pe_enabled),
            "allowed_enc_level": int(lt.enc_level.pe_both),
            "prefer_rc4": False}


def _session(port, dht, bootstrap, up=0, down=0, enc=None, transport=None):
    s = _settings(port, dht, bootstrap)
    if enc is not None:
        s.update(_enc_settings(enc))
    if transport is not None:
        s.update(_transport_settings(transport))
    ses = lt.session(s)
    if up or down:
        st = {}
        if up:
            st["upload_rate_limit"] = int(up)
        if down:
            st["download_rate_limit"] = int(down)
        ses.apply_settings(st)
        # Loopback peers are in the unlimited "local" class by default;
        # move every address into the global class so limits apply.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255",
                   1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
    return ses


class _DhtCount:
    """Routing table size, from the dht_stats_alert that each call of
    poll() asks for (session.status() is deprecated)."""

    def __init__(self, ses):
        self.ses = ses
        self.nodes = 0

    def see(self, a):
        if isinstance(a, lt.dht_stats_alert):
            self.nodes = sum(b.get("num_nodes", 0) for b in a.routing_table)

    def poll(self):
        self.ses.post_dht_stats()
        return self.nodes


def _hex_hash(ti):
    try:
        return str(ti.info_hashes().v1)
    except AttributeError:
        return str(ti.info_hash())


def magnet(args):
    torrent = args[0]
    b32 = False
    peers = []
    i = 1
    while i < len(args):
        if args[i] == "--base32":
            b32 = True
            i += 1
        elif args[i] == "--peer" and i + 1 < len(args):
            peers.append(args[i + 1])
            i += 2
        else:
            sys.exit("magnet: unknown option %s" % args[i])
    ti = lt.torrent_info(torrent)
    h = _hex_hash(ti)
    if b32:
        h = base64.b32encode(bytes.fromhex(h)).decode("ascii")
    uri = "magnet:?xt=urn:btih:%s&dn=%s" % (h, quote(ti.name(), safe=""))
    for p in peers:
        uri += "&x.pe=%s" % p
    _out(uri)
    return 0


def node(args):
    port = int(args[0])
    boot = []
    i = 1
    while i < len(args):
        if args[i] == "--bootstrap" and i + 1 < len(args):
            boot.append(args[i + 1])
            i += 2
        else:
            sys.exit("node: unknown option %s" % args[i])
    ses = _session(port, True, boot)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    _out("ready")
    dc = _DhtCount(ses)
    last = 0
    while not _stop:
        for a in ses.pop_alerts():
            dc.see(a)
        if time.time() - last >= 1.0:
            _out("dht nodes %d" % dc.poll())
            last = time.time()
        time.sleep(0.1)
    return 0


def _sources(flags):
    names = [n for n, bit in SOURCE_NAMES if int(flags) & bit]
    return "+".join(names) if names else "none"


def run(args):
    port = int(args[0])
    o = {"torrent": None, "magnet": None, "save": None, "peers": [],
         "dht": False, "boot": [], "up": 0, "down": 0, "exit": False,
         "timeout": 120.0, "nopex": False, "enc": None, "transport": None}
    i = 1
    while i < len(args):
        a = args[i]
        v = args[i + 1] if i + 1 < len(args) else None
        if a == "--dht":
            o["dht"] = True
            i += 1
            continue
        if a == "--exit-on-complete":
            o["exit"] = True
            i += 1
            continue
        if a == "--no-pex":
            o["nopex"] = True
            i += 1
            continue
        if v is None:
            sys.exit("run: %s needs a value" % a)
        if a == "--torrent":
            o["torrent"] = v
        elif a == "--magnet":
            o["magnet"] = v
        elif a == "--save":
            o["save"] = v
        elif a == "--peer":
            host, p = v.rsplit(":", 1)
            o["peers"].append((host, int(p)))
        elif a == "--bootstrap":
            o["boot"].append(v)
        elif a == "--upload-limit":
            o["up"] = int(v)
        elif a == "--download-limit":
            o["down"] = int(v)
        elif a == "--timeout":
            o["timeout"] = float(v)
        elif a == "--encryption":
            if v not in ENCRYPTION:
                sys.exit("run: --encryption takes one of %s"
                         % ", ".join(ENCRYPTION))
            o["enc"] = v
        elif a == "--transport":
            if v not in TRANSPORT:
                sys.exit("run: --transport takes one of %s"
                         % ", ".join(TRANSPORT))
            o["transport"] = v
        else:
            sys.exit("run: unknown option %s" % a)
        i += 2
    if (o["torrent"] is None) == (o["magnet"] is None) or not o["save"]:
        sys.exit("run: give --save and one of --torrent, --magnet")

    ses = _session(port, o["dht"], o["boot"], o["up"], o["down"], o["enc"],
                   o["transport"])
    if o["transport"] is not None:
        ts = ses.get_settings()
        _out("transport %s tcp in %d out %d utp in %d out %d" % (
            o["transport"], ts["enable_incoming_tcp"],
            ts["enable_outgoing_tcp"], ts["enable_incoming_utp"],
            ts["enable_outgoing_utp"]))
    if o["enc"] is not None:
        es = ses.get_settings()
        _out("encryption %s out %d in %d level %d" % (
            o["enc"], es["out_enc_policy"], es["in_enc_policy"],
            es["allowed_enc_level"]))
    if o["torrent"]:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(o["torrent"])
    else:
        atp = lt.parse_magnet_uri(o["magnet"])
    atp.save_path = os.path.abspath(o["save"])
    if o["nopex"]:
        atp.flags |= lt.torrent_flags.disable_pex
    h = ses.add_torrent(atp)
    if o["up"]:
        h.set_upload_limit(o["up"])
    if o["down"]:
        h.set_download_limit(o["down"])
    for host, p in o["peers"]:
        h.connect_peer((host, p))
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    _out("ready")

    start = time.time()
    last = 0.0
    last_announce = 0.0
    seen = set()
    seen_crypto = set()
    seen_transport = set()
    hsk = int(lt.peer_info.handshake)
    rc4 = int(lt.peer_info.rc4_encrypted)
    # peer_info::utp_socket is not bound in python3-libtorrent 2.0.8; it
    # is bit 17 (after i2p_socket, before ssl_socket and rc4_encrypted,
    # bit 19, which is bound and checked here).
    utp_flag = int(getattr(lt.peer_info, "utp_socket", 0))
    if not utp_flag and rc4 == 1 << 19:
        utp_flag = 1 << 17
    have_meta = False
    complete = False
    dc = _DhtCount(ses)
    while not _stop:
        for a in ses.pop_alerts():
            dc.see(a)
            if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert,
                              lt.listen_failed_alert,
                              lt.metadata_failed_alert)):
                _out("alert: %s" % a.message())
        for pi in h.get_peer_info():
            ep = "%s:%d" % (pi.ip[0], pi.ip[1])
            if ep not in seen:
                seen.add(ep)
                _out("peer %s source %s at %.1fs"
                     % (ep, _sources(pi.source), time.time() - start))
            # RC4 shows in the flags once the handshake is done; a
            # plaintext connection only by moving bytes without it.
            fl = int(pi.flags)
            if ep not in seen_crypto and (fl & rc4 or (
                    not fl & hsk and pi.total_download + pi.total_upload)):
                seen_crypto.add(ep)
                _out("crypto %s %s" % (ep, "rc4" if fl & rc4 else "plain"))
            if o["transport"] is not None and ep not in seen_transport \
                    and utp_flag:
                seen_transport.add(ep)
                _out("transport %s %s" % (ep, "utp" if fl & utp_flag
                                           else "tcp"))
        st = h.status()
        if not have_meta and st.has_metadata:
            have_meta = True
            _out("metadata")
        if not complete and st.is_seeding:
            complete = True
            _out("complete")
            if o["exit"]:
                return 0
        now = time.time()
        if now - last >= 1.0:
            _out("status progress %.3f peers %d dht_nodes %d up %d down %d"
                 % (st.progress, st.num_peers, dc.poll(),
                    st.total_payload_upload, st.total_payload_download))
            for host, p in o["peers"]:
                h.connect_peer((host, p))
            last = now
        if o["dht"] and now - last_announce >= 5.0:
            h.force_dht_announce()
            last_announce = now
        if o["exit"] and now - start > o["timeout"]:
            _out("timeout")
            return 1
        time.sleep(0.1)
    return 0


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "magnet":
        return magnet(args)
    if cmd == "node":
        return node(args)
    if cmd == "run":
        return run(args)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
