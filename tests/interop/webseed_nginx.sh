# Web seeds (BEP 19) served by nginx on loopback:
#  1. a single-file torrent whose only source is the web seed (no tracker,
#     no peers) downloads byte-identical;
#  2. the same for a multi-file torrent whose names need URL escaping;
#  3. a web seed serving corrupt data next to a real peer (a thorrent
#     seeder given with --peer): the download completes byte-identical
#     and the web seed is banned and dropped;
#  4. a magnet link with ws= and x.pe=: the metadata comes from a slow
#     thorrent seeder, then the web seed serves most of the data.
# nginx runs as our own process (daemon off) with every path inside the
# work dir, and is stopped by PID.
. "$(dirname "$0")/lib.sh"
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "web seeds are a thorrent test"
NGINX=$(command -v nginx 2>/dev/null || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
[ -n "$NGINX" ] || skip "nginx not installed (./bootstrap installs it)"

# start_nginx NAME ROOT: serve ROOT on a free port; sets NGINX_PORT.
start_nginx() {
	local name=$1 root=$2 d="$WORK/$1" user=""
	mkdir -p "$d/tmp"
	# As root the workers would drop to nobody, who cannot read the
	# private work dir.
	[ "$(id -u)" -eq 0 ] && user="user root;"
	NGINX_PORT=$(free_port)
	cat >"$d/nginx.conf" <<EOF
$user
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 64; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	types { application/octet-stream bin; }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $root;
	}
}
EOF
	start_bg "$name" "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
	wait_for_port "$NGINX_PORT" 10 || fail "$name did not start"
}

# download NAME TORRENT DEST TIMEOUT [ARGS...]: thorrent until complete.
download() {
	local name=$1 t=$2 dest=$3 to=$4
	shift 4
	mkdir -p "$dest" "$WORK/state-$name"
	start_bg "$name" "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp \
	    --no-lsd --state-dir "$WORK/state-$name" --path "$dest" \
	    --port "$(free_port)" --seed-ratio 0 --log info "$@" "$t"
	wait_pid "$LAST_PID" "$to"
	[ "$WAIT_RC" -eq 124 ] && fail "$name did not finish within ${to}s"
	[ "$WAIT_RC" -eq 0 ] || fail "$name exited with status $WAIT_RC"
}

# --- 1. single file ---------------------------------------------------------
mkdir -p "$WORK/www"
head -c 3000017 /dev/urandom >"$WORK/www/single file.bin"
start_nginx web "$WORK/www"
WEB_PORT=$NGINX_PORT
"$THORRENT" create -o "$WORK/single.torrent" --piece-size 32K \
    -w "http://127.0.0.1:$WEB_PORT/" "$WORK/www/single file.bin" \
    >/dev/null || fail "create single"
download single "$WORK/single.torrent" "$WORK/dl1" 20
cmp "$WORK/www/single file.bin" "$WORK/dl1/single file.bin" ||
	fail "single file differs"
grep -q ' 206 ' "$WORK/web/access.log" || fail "no range request served"
log "single-file web seed: ok"

# --- 2. multi-file, names to escape -----------------------------------------
mkdir -p "$WORK/www/multi dir/sub dir"
head -c 1000001 /dev/urandom >"$WORK/www/multi dir/a file.bin"
: >"$WORK/www/multi dir/empty"
head -c 777777 /dev/urandom >"$WORK/www/multi dir/sub dir/b%c.bin"
head -c 5 /dev/urandom >"$WORK/www/multi dir/tiny"
"$THORRENT" create -o "$WORK/multi.torrent" --piece-size 32K \
    -w "http://127.0.0.1:$WEB_PORT/" "$WORK/www/multi dir" \
    >/dev/null || fail "create multi"
download multi "$WORK/multi.torrent" "$WORK/dl2" 20
# File by file: creating empty files is the storage's business, tested
# elsewhere; here the empty one must only never be asked for.
for f in "a file.bin" "sub dir/b%c.bin" tiny; do
	cmp "$WORK/www/multi dir/$f" "$WORK/dl2/multi dir/$f" ||
		fail "multi dir/$f differs"
done
grep -q 'multi%20dir/empty' "$WORK/web/access.log" &&
	fail "the empty file was requested"
grep -q 'multi%20dir/sub%20dir/b%25c.bin' "$WORK/web/access.log" ||
	fail "escaped path not requested"
log "multi-file web seed: ok"

# --- 3. a corrupt web seed next to a real peer ------------------------------
# One byte changed in every piece of the bad copy: each piece it serves
# fails its hash, so it collects strikes fast.
mkdir -p "$WORK/bad" "$WORK/seed"
cp "$WORK/www/single file.bin" "$WORK/bad/single file.bin"
"$PY" - "$WORK/bad/single file.bin" <<'EOF' || fail "corrupting"
import sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    for i in range(100, len(data), 32768):
        data[i] ^= 0xff
    f.seek(0)
    f.write(data)
EOF
start_nginx badweb "$WORK/bad"
BAD_PORT=$NGINX_PORT
"$THORRENT" create -o "$WORK/bad.torrent" --piece-size 32K \
    -w "http://127.0.0.1:$BAD_PORT/" "$WORK/www/single file.bin" \
    >/dev/null || fail "create bad"
cp "$WORK/www/single file.bin" "$WORK/seed/"
SEED_PORT=$(free_port)
mkdir -p "$WORK/state-seeder"
start_bg seeder "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp \
    --no-lsd --state-dir "$WORK/state-seeder" --path "$WORK/seed" \
    --port "$SEED_PORT" --seed-ratio -1 --log info "$WORK/bad.torrent"
SEEDER_PID=$LAST_PID
wait_for_log "$WORK/seeder.log" 'listening on port' 10 "$SEEDER_PID" ||
	fail "seeder did not start"
download corrupt "$WORK/bad.torrent" "$WORK/dl3" 30 \
    --peer "127.0.0.1:$SEED_PORT"
cmp "$WORK/www/single file.bin" "$WORK/dl3/single file.bin" ||
	fail "download next to a corrupt web seed differs"
grep -q ' 206 ' "$WORK/badweb/access.log" ||
	fail "the corrupt web seed was never asked"
grep -Eq "web seed 127\.0\.0\.1:$BAD_PORT dropped" "$WORK/corrupt.log" ||
	fail "the corrupt web seed was not dropped"
grep -q 'banning 0\.0\.0\.1:1' "$WORK/corrupt.log" ||
	fail "the corrupt web seed was not banned"
grep -q "banning 127\.0\.0\.1:$SEED_PORT" "$WORK/corrupt.log" &&
	fail "the honest peer was banned"
grep -E 'web seed|banning' "$WORK/corrupt.log" | while read -r l; do
	log "  $l"
done
stop_pid "$SEEDER_PID"
log "corrupt web seed banned, download intact: ok"

# --- 4. a magnet link's ws= -------------------------------------------------
# The seeder uploads at 32 KiB/s: enough for the metadata, far too slow
# for the 3 MB within the time limit unless the web seed does the work.
SEED_PORT=$(free_port)
mkdir -p "$WORK/state-slow"
start_bg slowseed "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp \
    --no-lsd --state-dir "$WORK/state-slow" --path "$WORK/seed" \
    --port "$SEED_PORT" --seed-ratio -1 --max-up 32K --log info \
    "$WORK/single.torrent"
SLOW_PID=$LAST_PID
wait_for_log "$WORK/slowseed.log" 'listening on port' 10 "$SLOW_PID" ||
	fail "slow seeder did not start"
ranges_before=$(grep -c ' 206 ' "$WORK/web/access.log")
ih=$(info_hash_of "$WORK/single.torrent")
download magnet "magnet:?xt=urn:btih:$ih&dn=single&ws=http%3A%2F%2F127.0.0.1%3A$WEB_PORT%2F&x.pe=127.0.0.1:$SEED_PORT" \
    "$WORK/dl4" 30
cmp "$WORK/www/single file.bin" "$WORK/dl4/single file.bin" ||
	fail "magnet download with a web seed differs"
grep -q 'metadata received' "$WORK/magnet.log" ||
	fail "no metadata from the seeder"
grep -Eq "web seed 127\.0\.0\.1:$WEB_PORT: using HTTP range" \
    "$WORK/magnet.log" || fail "the magnet's web seed was not used"
ranges=$(($(grep -c ' 206 ' "$WORK/web/access.log") - ranges_before))
[ "$ranges" -gt 0 ] || fail "no range request from the magnet download"
stop_pid "$SLOW_PID"
log "magnet ws=: metadata from the peer, $ranges ranges from the web seed: ok"
exit 0
