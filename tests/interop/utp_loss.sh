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
# The nft counters must show drops in both namespaces and the relay's
# statistics datagrams both ways, so the test cannot pass vacuously, and
# the downloader's trace must show the handshake over uTP.
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
LOSS_PCT=2
DELAY_MS=25
NAMESPACES=()

ns_cleanup() {
	local pid n
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	for n in "${NAMESPACES[@]}"; do
		ip netns delete "$n" 2>/dev/null
	done
}
# Namespaces go before lib.sh's _cleanup, which keeps the exit status.
ns_exit() {
	local rc=$?
	ns_cleanup
	(exit "$rc")
	_cleanup
}
trap ns_exit EXIT

in_ns() {
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

ip netns add "$NS_A" 2>"$WORK/netns.err" ||
	skip "cannot make network namespaces: $(cat "$WORK/netns.err")"
NAMESPACES+=("$NS_A")
ip netns add "$NS_B" || fail "ip netns add $NS_B"
NAMESPACES+=("$NS_B")
# Interface names are per namespace, so fixed names do not collide.
ip link add ul0 netns "$NS_A" type veth peer name ul1 netns "$NS_B" \
    2>"$WORK/veth.err" ||
	skip "cannot make a veth pair: $(cat "$WORK/veth.err")"
if ! { in_ns "$NS_A" ip link set lo up &&
    in_ns "$NS_B" ip link set lo up &&
    in_ns "$NS_A" ip addr add "$IP_A/24" dev ul0 &&
    in_ns "$NS_B" ip addr add "$IP_B/24" dev ul1 &&
    in_ns "$NS_A" ip link set ul0 up &&
    in_ns "$NS_B" ip link set ul1 up; }; then
	fail "addresses and links"
fi

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

start_bg relay ip netns exec "$NS_A" "$PY" -u "$LIB_DIR/udp_relay.py" \
    "$IP_A:$RELAY_PORT" "$IP_A:$SEED_PORT" --upstream-ip "$IP_A" \
    --delay-ms "$DELAY_MS" --timeout 120
RELAY_PID=$LAST_PID
wait_for_log "$WORK/relay.log" '^ready' 10 "$RELAY_PID" ||
	fail "the relay did not start"

start=$(date +%s.%N)
start_bg dl ip netns exec "$NS_B" "$THORRENT" "${COMMON[@]}" \
    --state-dir "$WORK/dl-state" --path "$WORK/dl" --port "$DL_PORT" \
    --seed-ratio 0 --trace "$WORK/dl.trace" --peer "$IP_A:$RELAY_PORT" \
    "$WORK/t.torrent"
DL_PID=$LAST_PID
wait_pid "$DL_PID" 75
secs=$(echo "$(date +%s.%N) - $start" | bc)
sleep 1.1	# one more line of relay statistics
A_COUNTS=$(nft_counts "$NS_A")
B_COUNTS=$(nft_counts "$NS_B")
log "nft in a (acks/requests into the seeder's side): seen/dropped $A_COUNTS"
log "nft in b (data into the downloader's side): seen/dropped $B_COUNTS"
log "relay: $(grep '^stats' "$WORK/relay.log" | tail -n 1)"
[ "$WAIT_RC" -eq 124 ] &&
	fail "the uTP download under ${LOSS_PCT}% loss and $((2 * DELAY_MS)) ms delay did not finish within 75 s ($(grep -Eo '[0-9.]+%' "$WORK/dl.log" | tail -n 1) done)"
[ "$WAIT_RC" -eq 0 ] || fail "the downloader exited with status $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"

set -- $A_COUNTS
[ "${2:-0}" -gt 0 ] || fail "no packet was dropped into namespace a: the loss rule did nothing (counters: $A_COUNTS)"
set -- $B_COUNTS
[ "${2:-0}" -gt 0 ] || fail "no packet was dropped into namespace b: the loss rule did nothing (counters: $B_COUNTS)"
s=$(grep '^stats' "$WORK/relay.log" | tail -n 1)
set -- $s
[ "${3:-0}" -gt 0 ] && [ "${5:-0}" -gt 0 ] ||
	fail "the relay forwarded nothing one way: $s"
[ "${9:-0}" -ge "$TOTAL" ] ||
	fail "the relay carried only ${9:-0} bytes from the seeder, less than the torrent's $TOTAL: the data took another way"

t=$(trace_transports "$WORK/dl.trace") || fail "cannot read $WORK/dl.trace"
echo "$t" | grep -qx utp ||
	fail "no handshake over uTP in the downloader's trace ($(echo "$t" | tr '\n' ' '))"
echo "$t" | grep -vqx utp &&
	fail "a handshake was not over uTP ($(echo "$t" | tr '\n' ' '))"

log "downloaded $TOTAL bytes over uTP with ${LOSS_PCT}% loss each way and $((2 * DELAY_MS)) ms added RTT in ${secs}s: $(echo "scale=1; $TOTAL / $secs / 1024" | bc) KiB/s"
exit 0
