#!/usr/bin/python3
"""Counts over a classic pcap file (Ethernet, Linux SLL or BSD loopback)
for the capture checks of lib.sh; no tshark needed.

  pcap_stats.py plain PCAP
      "PACKETS PLAIN": TCP packets (IPv4 and IPv6) and those whose
      payload holds the cleartext handshake string "BitTorrent protocol".
  pcap_stats.py port PCAP PORT
      "TCP TCP_PAYLOAD TCP_PAYLOAD_FROM_PORT UDP UDP_BYTES_FROM_PORT" for
      IPv4 packets to or from PORT; UDP bytes come from the UDP header's
      length, so a short snap length is fine.
"""
import struct
import sys


def ip_packets(path):
    """Yield the IP layer of every packet in the capture at path."""
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit("%s: no pcap header (%d bytes)" % (path, len(data)))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("%s: not a classic pcap file" % path)
    link = struct.unpack(e + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 0: 4}.get(link)
    if l2 is None:
        sys.exit("%s: unsupported link type %d" % (path, link))
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) >= l2 + 20:
            yield pkt[l2:]


def plain(path):
    packets = found = 0
    needle = b"BitTorrent protocol"
    for ip in ip_packets(path):
        if ip[0] >> 4 == 4 and ip[9] == 6:
            tot = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[(ip[0] & 15) * 4:tot]
        elif ip[0] >> 4 == 6 and len(ip) >= 40 and ip[6] == 6:
            tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        else:
            continue
        if len(tcp) < 20:
            continue
        packets += 1
        if needle in tcp[(tcp[12] >> 4) * 4:]:
            found += 1
    print(packets, found)


def port_stats(path, port):
    tcp = tcp_pl = tcp_pl_from = udp = udp_from = 0
    for ip in ip_packets(path):
        if ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        l4 = ip[ihl:]
        if len(l4) < 8:
            continue
        sp, dp = struct.unpack("!HH", l4[:4])
        if port not in (sp, dp):
            continue
        if ip[9] == 6 and len(l4) >= 13:
            tcp += 1
            if tot - ihl - (l4[12] >> 4) * 4 > 0:
                tcp_pl += 1
                if sp == port:
                    tcp_pl_from += 1
        elif ip[9] == 17:
            udp += 1
            if sp == port:
                udp_from += struct.unpack("!H", l4[4:6])[0] - 8
    print(tcp, tcp_pl, tcp_pl_from, udp, udp_from)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "plain":
        plain(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "port":
        port_stats(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
