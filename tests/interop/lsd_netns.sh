#!/bin/bash
# Local Service Discovery (BEP 14) between two network namespaces.
#
# Namespaces "a" and "b" made here are joined by a veth pair
# (10.78.0.1/24 and 10.78.0.2/24) with a route for 224.0.0.0/4 on each
# side, so multicast has a way out; nothing else is connected, so no
# announce leaves the two namespaces.  In "b", two downloaders start
# with no tracker, no --peer and no DHT: "lsd" with LSD on, "nolsd" with
# --no-lsd.  Then a thorrent seeder starts in "a": its first announce
# (sent once its data is checked) must bring "lsd" to it, and the
# download must complete byte-identical, the downloader's trace showing
# the connection with source "lsd".  "nolsd", running all that time,
# must have found no peer.  The downloaders start first because a seed
# does not dial out: the seeder's start announce is what they hear.
# Last, a seeder of a private torrent must not use LSD at all (BEP 27).
#
# Skips (77) when not root, when namespaces or veth pairs cannot be made
# (the kernel loads no modules here), or when thorrent lacks --no-lsd.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
require_subject
"$THORRENT" --help 2>&1 | grep -q -- '--no-lsd' ||
	skip "thorrent has no --no-lsd option yet"

NS_A=thr-lsd-a-$$
NS_B=thr-lsd-b-$$
IP_A=10.78.0.1
IP_B=10.78.0.2
ns_add "$NS_A" "$NS_B"
ns_link "$NS_A" lsd0 "$IP_A" "$NS_B" lsd1 "$IP_B"
in_ns "$NS_A" ip route add 224.0.0.0/4 dev lsd0 &&
    in_ns "$NS_B" ip route add 224.0.0.0/4 dev lsd1 ||
	fail "multicast routes"

mkdir -p "$WORK/seed/payload"
make_payload "$WORK/seed/payload"
"$THORRENT" create -o "$WORK/t.torrent" "$WORK/seed/payload" \
    >"$WORK/create.log" 2>&1 || fail "thorrent create"

SEED_PORT=6881
LSD_PORT=6891
NOLSD_PORT=6901
COMMON=(--no-tui --log=info --no-dht --no-upnp --no-natpmp)

start_bg nolsd ip netns exec "$NS_B" "$THORRENT" "${COMMON[@]}" --no-lsd \
    --state-dir "$WORK/nolsd-state" --path "$WORK/nolsd" \
    --port "$NOLSD_PORT" --seed-ratio 0 "$WORK/t.torrent"
NOLSD_PID=$LAST_PID
start_bg lsd ip netns exec "$NS_B" "$THORRENT" "${COMMON[@]}" \
    --state-dir "$WORK/lsd-state" --path "$WORK/lsd" --port "$LSD_PORT" \
    --seed-ratio 0 --trace "$WORK/lsd.trace" "$WORK/t.torrent"
LSD_PID=$LAST_PID
wait_for_log "$WORK/nolsd.log" 'LSD off \(--no-lsd\)' 15 "$NOLSD_PID" ||
	fail "the --no-lsd downloader did not say LSD is off"
wait_for_log "$WORK/lsd.log" 'LSD on 239\.192\.152\.143' 15 "$LSD_PID" ||
	fail "the downloader did not open the LSD socket"

start_bg seed ip netns exec "$NS_A" "$THORRENT" "${COMMON[@]}" \
    --state-dir "$WORK/seed-state" --path "$WORK/seed" --port "$SEED_PORT" \
    --seed-ratio -1 "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/seed.log" 'LSD: announced port' 20 "$SEED_PID" ||
	fail "the seeder did not announce"

start=$(date +%s)
wait_pid "$LSD_PID" 30
[ "$WAIT_RC" -eq 124 ] && fail "no download through LSD within 30 s"
[ "$WAIT_RC" -eq 0 ] || fail "the LSD downloader exited with $WAIT_RC"
log "downloaded through LSD in $(($(date +%s) - start))s"
compare_trees "$WORK/seed/payload" "$WORK/lsd/payload"
grep -q "LSD: peer $IP_A:$SEED_PORT" "$WORK/lsd.log" ||
	fail "the downloader's log does not show the seeder found by LSD"
trace_connects "$WORK/lsd.trace" lsd "$SEED_PORT" ||
	fail "the downloader's trace has no connect with source lsd"

# Multicast loopback hands the seeder its own announce: the cookie must
# have told it apart.
grep -q "LSD: peer $IP_A:" "$WORK/seed.log" &&
	fail "the seeder took its own announce for a peer"

# The --no-lsd downloader heard the same announce (same namespace) and
# must have ignored it: no peer, no data, for a few seconds more.
sleep 2
kill -0 "$NOLSD_PID" 2>/dev/null ||
	fail "the --no-lsd downloader exited (see nolsd.log)"
grep -Eq 'LSD: peer|connected \(' "$WORK/nolsd.log" &&
	fail "the --no-lsd downloader found a peer: $(grep -E 'LSD: peer|connected \(' "$WORK/nolsd.log" | head -n 1)"
stop_pid "$NOLSD_PID"
log "--no-lsd: no peer found"

# BEP 27: a private torrent gets its peers from its tracker only.
"$THORRENT" create --private -o "$WORK/p.torrent" "$WORK/seed/payload" \
    >"$WORK/create-private.log" 2>&1 || fail "thorrent create --private"
start_bg private ip netns exec "$NS_A" "$THORRENT" "${COMMON[@]}" \
    --state-dir "$WORK/private-state" --path "$WORK/seed" \
    --port "$((SEED_PORT + 1))" --seed-ratio -1 "$WORK/p.torrent"
PRIV_PID=$LAST_PID
wait_for_log "$WORK/private.log" 'LSD off: the torrent is private' 15 \
    "$PRIV_PID" || fail "LSD was not turned off for a private torrent"
grep -q 'LSD on\|LSD: announced' "$WORK/private.log" &&
	fail "LSD ran for a private torrent"
stop_pid "$PRIV_PID"
log "private torrent: no LSD"
