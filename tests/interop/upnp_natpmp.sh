#!/bin/bash
# Port mapping with UPnP IGD and NAT-PMP against miniupnpd (issue 8).
#
# Three network namespaces made here: "client" runs thorrent, "router"
# runs miniupnpd (nftables backend) with its LAN side a veth to the
# client and its WAN side a veth into "wan" (there are no dummy
# interfaces).  The test creates miniupnpd's `inet filter` table and
# chains itself (Debian's init script would), and miniupnpd.conf
# declares a public ext_ip: miniupnpd refuses to map when its WAN
# address is private, and the address is only declared, never routed.
#
# For each method in turn (the other turned off), thorrent seeds a small
# torrent in the client namespace; `upnpc -l` run there must list the
# TCP mapping to the client's address while thorrent runs, and must no
# longer list it once thorrent has exited after SIGTERM.
#
# Skips (77) when not root, when namespaces cannot be made, when a tool
# is missing, or when thorrent lacks --no-upnp.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
for p in ip nft miniupnpd upnpc; do
	command -v "$p" >/dev/null 2>&1 ||
	    [ -x "/usr/sbin/$p" ] || skip "$p not installed (./bootstrap installs it)"
done
MINIUPNPD=$(command -v miniupnpd || echo /usr/sbin/miniupnpd)
require_subject
"$THORRENT" --help 2>&1 | grep -q -- '--no-upnp' ||
	skip "thorrent has no --no-upnp option yet"

NS_R=thr-pm-r-$$
NS_C=thr-pm-c-$$
NS_W=thr-pm-w-$$
LAN_R=10.77.0.1
LAN_C=10.77.0.2
EXT_IP=1.2.3.4		# declared only, never contacted
ns_add "$NS_R" "$NS_C" "$NS_W"

# Interface names are per namespace, so fixed names do not collide.
ip link add lan0 netns "$NS_C" type veth peer name lan1 netns "$NS_R" ||
	fail "veth client-router"
ip link add wan0 netns "$NS_R" type veth peer name wan1 netns "$NS_W" ||
	fail "veth router-wan"
for n in "$NS_R" "$NS_C" "$NS_W"; do
	in_ns "$n" ip link set lo up || fail "lo up in $n"
done
in_ns "$NS_C" ip addr add "$LAN_C/24" dev lan0 &&
in_ns "$NS_C" ip link set lan0 up &&
in_ns "$NS_C" ip route add default via "$LAN_R" &&
in_ns "$NS_R" ip addr add "$LAN_R/24" dev lan1 &&
in_ns "$NS_R" ip link set lan1 up &&
in_ns "$NS_R" ip addr add 192.0.2.2/24 dev wan0 &&
in_ns "$NS_R" ip link set wan0 up &&
in_ns "$NS_R" ip route add default via 192.0.2.1 &&
in_ns "$NS_W" ip addr add 192.0.2.1/24 dev wan1 &&
in_ns "$NS_W" ip link set wan1 up || fail "addresses and routes"
in_ns "$NS_R" sysctl -q -w net.ipv4.ip_forward=1 >/dev/null

# What Debian's nft_init.sh would make: miniupnpd only adds rules to
# chains that exist.
in_ns "$NS_R" nft -f - <<'EOF' || fail "nftables table for miniupnpd"
table inet filter {
	chain forward {
		type filter hook forward priority 0; policy accept;
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
EOF

cat >"$WORK/miniupnpd.conf" <<EOF
ext_ifname=wan0
ext_ip=$EXT_IP
listening_ip=lan1
http_port=0
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
system_uptime=yes
uuid=3b1c4c7a-5e0f-4d55-9a1e-7a0d2f8e6b11
allow 1024-65535 10.77.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
start_bg miniupnpd ip netns exec "$NS_R" "$MINIUPNPD" -d -f "$WORK/miniupnpd.conf" \
    -P "$WORK/miniupnpd.pid"
MUPD_PID=$LAST_PID
wait_for_log "$WORK/miniupnpd.log" 'HTTP listening on port' 15 "$MUPD_PID" ||
	fail "miniupnpd did not start"
wait_for_log "$WORK/miniupnpd.log" 'NAT-PMP' 5 "$MUPD_PID" ||
	log "miniupnpd's log does not mention NAT-PMP"

# The setup works without thorrent: upnpc finds the router.
ok=""
for _ in 1 2 3; do
	if in_ns "$NS_C" upnpc -l >"$WORK/upnpc-setup.log" 2>&1 &&
	    grep -q "ExternalIPAddress = $EXT_IP" "$WORK/upnpc-setup.log"; then
		ok=1
		break
	fi
	sleep 1
done
[ -n "$ok" ] || fail "upnpc from the client finds no IGD (see upnpc-setup.log)"

mkdir -p "$WORK/seed/payload"
head -c 100000 /dev/urandom >"$WORK/seed/payload/file.bin"
"$THORRENT" create -o "$WORK/t.torrent" -t http://127.0.0.1:9/announce \
    "$WORK/seed/payload" >"$WORK/create.log" 2>&1 ||
	fail "thorrent create"

# mapped PORT: succeed when `upnpc -l` lists TCP PORT -> the client.
mapped() {
	in_ns "$NS_C" timeout 20 upnpc -l >"$WORK/upnpc.log" 2>&1
	grep -Eq "TCP +$1->$LAN_C:$1( |$)" "$WORK/upnpc.log"
}

# check_method NAME OFF_OPTION
check_method() {
	local name=$1 off=$2 port pid
	port=$((20000 + RANDOM % 20000))
	start_bg "th-$name" ip netns exec "$NS_C" "$THORRENT" --no-tui \
	    --log=info --no-dht --no-lsd "$off" --path "$WORK/seed" --port "$port" \
	    --seed-ratio -1 --state-dir "$WORK/state-$name" "$WORK/t.torrent"
	pid=$LAST_PID
	ok=""
	for _ in $(seq 1 20); do
		if mapped "$port"; then
			ok=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if [ -z "$ok" ]; then
		if ! grep -Eq 'UPnP|NAT-PMP' "$WORK/th-$name.log"; then
			skip "thorrent does not use net/portmap yet (no UPnP or NAT-PMP line in its log)"
		fi
		cp "$WORK/upnpc.log" "$WORK/upnpc-$name.log"
		fail "$name: no mapping of TCP port $port to $LAN_C within 20 s"
	fi
	log "$name: mapped TCP $port while thorrent runs"
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 15 || fail "$name: thorrent did not exit within 15 s of SIGTERM"
	if mapped "$port"; then
		cp "$WORK/upnpc.log" "$WORK/upnpc-$name.log"
		fail "$name: TCP port $port still mapped after thorrent exited"
	fi
	grep -E 'UPnP|NAT-PMP' "$WORK/th-$name.log" | grep -v debug >&2
	log "$name: mapping gone after exit"
}

check_method upnp --no-natpmp
check_method natpmp --no-upnp
log "PASS"
