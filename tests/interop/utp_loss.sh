#!/bin/bash
# A uTP download under packet loss and delay (issue 9).
#
# Namespaces "a" (seeder) and "b" (downloader) made here are joined by a
# veth pair (10.79.0.1/24 and 10.79.0.2/24).  Both thorrents run with
# --transport utp.  The downloader's only peer is udp_relay.py in "a",
# which forwards its datagrams to the seeder and the seeder's back, each
# 25 ms late (50 ms added to the round trip).  There is no netem here,
# so the loss is an nftables rule on the input hook of each namespace,
# for UDP arriving on its veth end: `numgen random mod 100 < 2 drop`, 2%
# of the data (into "b") and 2% of the acks and requests (into "a").  A
# drop in the sender's output hook would not do: sendto() fails there
# and the sender knows.
#
# The download (about 5.2 MiB, 64 KiB pieces that divide no file size)
# must complete byte-identical within 75 s; the throughput is logged.
# The nft counters must show drops in both namespaces during it and the
# relay must have carried the torrent's bytes from the seeder, so the
# test cannot pass vacuously, and the downloader's trace must show the
# handshake over uTP.
#
# a. the seeder is thorrent (--transport utp);
# b. when python3-libtorrent is installed, the same download from a
#    uTP-only libtorrent seeder in "a" (lt_dht.py --transport utp, on
#    127.0.0.1 there; the relay forwards to it): thorrent's receiving
#    side against another implementation, and a reference throughput.
#
# Skips (77) when not root or when namespaces, veth pairs or nftables
# (with numgen) are unavailable here.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
command -v nft >/dev/null 2>&1 || skip "nft (nftables) not installed"
require_subject
"$THORRENT" --no-config --no-tui --transport bogus "$WORK/none.torrent" 2>&1 |
    grep -q -- '--transport is' || skip "thorrent has no --transport option yet"

NS_A=thr-utpl-a-$$
NS_B=thr-utpl-b-$$
IP_A=10.79.0.1
IP_B=10.79.0.2
# Overridable to experiment (UTP_LOSS_PCT=0: delay only).
LOSS_PCT=${UTP_LOSS_PCT:-2}
DELAY_MS=${UTP_DELAY_MS:-25}
ns_add "$NS_A" "$NS_B"
ns_link "$NS_A" ul0 "$IP_A" "$NS_B" ul1 "$IP_B"

# loss_rules NS IFACE: count UDP arriving on IFACE, drop LOSS_PCT% of it.
loss_rules() {
	in_ns "$1" nft -f - <<EOF
table inet utploss {
	chain input {
		type filter hook input priority -10; policy accept;
		iifname "$2" meta l4proto udp counter
		iifname "$2" meta l4proto udp numgen random mod 100 < $LOSS_PCT counter drop
	}
}
EOF
}
loss_rules "$NS_A" ul0 2>"$WORK/nft.err" ||
	skip "cannot load the nftables loss rule: $(cat "$WORK/nft.err")"
loss_rules "$NS_B" ul1 || fail "nft in $NS_B"

# nft_counts NS: print "SEEN DROPPED" (packets) from the two counters.
nft_counts() {
	in_ns "$1" nft list chain inet utploss input |
	    grep -Eo 'counter packets [0-9]+' | grep -Eo '[0-9]+' | tr '\n' ' '
}

mkdir -p "$WORK/seed/payload"
make_payload "$WORK/seed/payload" 2000000
"$THORRENT" create --piece-size 65536 -o "$WORK/t.torrent" \
    "$WORK/seed/payload" >"$WORK/create.log" 2>&1 || fail "thorrent create"
TOTAL=$(du -sb --apparent-size "$WORK/seed/payload" | cut -f1)

SEED_PORT=6881
DL_PORT=6882
RELAY_PORT=7000
COMMON=(--no-tui --log=info --no-dht --no-upnp --no-natpmp --no-lsd
	--transport utp)

start_bg seed ip netns exec "$NS_A" "$THORRENT" "${COMMON[@]}" \
    --state-dir "$WORK/seed-state" --path "$WORK/seed" --port "$SEED_PORT" \
    --seed-ratio -1 --trace "$WORK/seed.trace" "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/seed.log" 'listening on port [0-9]+' 30 "$SEED_PID" ||
	fail "the seeder did not start listening"

# lossy_download NAME RELAY_PORT TARGET_IP:PORT UPSTREAM_IP WHO: a relay
# in "a" from IP_A:RELAY_PORT to the seeder at TARGET, and a thorrent
# downloader NAME in "b" whose only peer is the relay; the download must
# complete byte-identical over uTP, with drops counted in both
# namespaces during it and the torrent's bytes through the relay.
lossy_download() {
	local name=$1 rport=$2 target=$3 upip=$4 who=$5 a0 b0 a1 b1 secs s t
	start_bg "relay-$name" ip netns exec "$NS_A" "$PY" -u \
	    "$LIB_DIR/udp_relay.py" "$IP_A:$rport" "$target" \
	    --upstream-ip "$upip" --delay-ms "$DELAY_MS" --timeout 120
	wait_for_log "$WORK/relay-$name.log" '^ready' 10 "$LAST_PID" ||
		fail "$name: the relay did not start"
	a0=$(nft_counts "$NS_A")
	b0=$(nft_counts "$NS_B")
	start=$(date +%s.%N)
	start_bg "$name" ip netns exec "$NS_B" "$THORRENT" "${COMMON[@]}" \
	    --state-dir "$WORK/$name-state" --path "$WORK/$name" \
	    --port "$DL_PORT" --seed-ratio 0 --trace "$WORK/$name.trace" \
	    --peer "$IP_A:$rport" "$WORK/t.torrent"
	wait_pid "$LAST_PID" 75
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	sleep 1.1	# one more line of relay statistics
	a1=$(nft_counts "$NS_A")
	b1=$(nft_counts "$NS_B")
	set -- $a0 $a1
	a1="$(($3 - $1)) $(($4 - $2))"
	set -- $b0 $b1
	b1="$(($3 - $1)) $(($4 - $2))"
	s=$(grep '^stats' "$WORK/relay-$name.log" | tail -n 1)
	log "$name: nft in a (acks and requests to $who): UDP seen/dropped $a1"
	log "$name: nft in b (data to the downloader): UDP seen/dropped $b1"
	log "$name: relay $s"
	[ "$WAIT_RC" -eq 124 ] &&
		fail "$name: the uTP download from $who under ${LOSS_PCT}% loss and $((2 * DELAY_MS)) ms delay did not finish within 75 s ($(grep -Eo '[0-9.]+%' "$WORK/$name.log" | tail -n 1) done)"
	[ "$WAIT_RC" -eq 0 ] || fail "$name: the downloader exited with status $WAIT_RC"
	compare_trees "$WORK/seed/payload" "$WORK/$name/payload"
	if [ "$LOSS_PCT" -gt 0 ]; then
		set -- $a1
		[ "$2" -gt 0 ] || fail "$name: no packet was dropped into namespace a: the loss rule did nothing (seen/dropped: $a1)"
		set -- $b1
		[ "$2" -gt 0 ] || fail "$name: no packet was dropped into namespace b: the loss rule did nothing (seen/dropped: $b1)"
	fi
	set -- $s
	[ "${3:-0}" -gt 0 ] && [ "${5:-0}" -gt 0 ] ||
		fail "$name: the relay forwarded nothing one way: $s"
	[ "${9:-0}" -ge "$TOTAL" ] ||
		fail "$name: the relay carried only ${9:-0} bytes from $who, less than the torrent's $TOTAL: the data took another way"
	t=$(trace_transports "$WORK/$name.trace") ||
		fail "$name: cannot read $WORK/$name.trace"
	echo "$t" | grep -qx utp ||
		fail "$name: no handshake over uTP in the downloader's trace ($(echo "$t" | tr '\n' ' '))"
	echo "$t" | grep -vqx utp &&
		fail "$name: a handshake was not over uTP ($(echo "$t" | tr '\n' ' '))"
	# One connection should carry it all; more is not a failure but is
	# worth seeing.
	log "$name: $(grep -c '"ev":"connect"' "$WORK/$name.trace") connect(s), $(echo "$t" | wc -l) handshake(s), disconnect reasons: $(trace_reasons "$WORK/$name.trace" | sort | uniq -c | tr '\n' ' ')"
	log "$name: downloaded $TOTAL bytes over uTP from $who with ${LOSS_PCT}% loss each way and $((2 * DELAY_MS)) ms added RTT in ${secs}s: $(echo "scale=1; $TOTAL / $secs / 1024" | bc) KiB/s"
}

# a. thorrent seeds.
lossy_download dl "$RELAY_PORT" "$IP_A:$SEED_PORT" "$IP_A" "thorrent"
stop_pid "$SEED_PID"

# b. libtorrent seeds (uTP only, listening on 127.0.0.1 in "a", where
# the relay reaches it): thorrent's receiving side against another
# sender, and a reference for the throughput.
if [ -x "$PY" ] && "$PY" -c 'import libtorrent' 2>/dev/null; then
	LT_PORT=6891
	start_bg ltseed ip netns exec "$NS_A" "$PY" -u "$LIB_DIR/lt_dht.py" \
	    run "$LT_PORT" --torrent "$WORK/t.torrent" --save "$WORK/seed" \
	    --transport utp
	wait_for_log "$WORK/ltseed.log" '^complete' 30 "$LAST_PID" ||
		fail "the libtorrent seeder is not seeding"
	lossy_download dl-lt "$((RELAY_PORT + 1))" "127.0.0.1:$LT_PORT" \
	    127.0.0.1 "libtorrent"
else
	log "b skipped: python3-libtorrent not installed"
fi
exit 0
