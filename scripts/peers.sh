#!/usr/bin/env bash
# The peer emulators kinlocal is compared with (differential tests, benchmarks): install them at
# pinned versions and run them on 127.0.0.1 only.
#
#   scripts/peers.sh install            install every peer into $KINLOCAL_PEERS_DIR (idempotent)
#   scripts/peers.sh check              exit 0 when every peer is installed, 1 otherwise
#   scripts/peers.sh start NAME [PORT]  start NAME on 127.0.0.1:PORT (default: a free port); once it
#                                       answers, print "NAME PID http://127.0.0.1:PORT" on stdout
#   scripts/peers.sh stop NAME          stop what `start NAME` started in this $KINLOCAL_PEERS_DIR
#   scripts/peers.sh list               the peers and what they emulate
#
# Needs node + npm (kinesalite, dynalite, kinesis-mock's npm build `kinesis-local`), python3 with
# venv (moto) and curl (the readiness probe). $KINLOCAL_PEERS_DIR defaults to
# ~/.cache/kinlocal-peers.
set -euo pipefail

PEERS_DIR="${KINLOCAL_PEERS_DIR:-$HOME/.cache/kinlocal-peers}"
RUN_DIR="$PEERS_DIR/run"

# Pinned: a differential test compares against exactly these.
NODE_PEERS=(kinesalite@3.3.3 dynalite@4.0.0 kinesis-local@0.6.2)
MOTO_REQ="moto[server]==5.1.22"

fail() { echo "peers.sh: $*" >&2; exit 1; }

is_installed() {
  local m
  for m in kinesalite dynalite kinesis-local; do
    [ -d "$PEERS_DIR/node_modules/$m" ] || return 1
  done
  [ -f "$PEERS_DIR/kinesalite-loopback.js" ] \
    && [ -f "$PEERS_DIR/node_modules/kinesis-local/main.loopback.js" ] \
    && [ -x "$PEERS_DIR/venv/bin/moto_server" ] \
    && grep -qxF "$MOTO_REQ" "$PEERS_DIR/venv/.kinlocal-req" 2>/dev/null
}

install_all() {
  command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (Debian: apt-get install nodejs npm)"
  command -v python3 >/dev/null || fail "python3 is needed"
  mkdir -p "$PEERS_DIR" "$RUN_DIR"
  [ -f "$PEERS_DIR/package.json" ] || printf '{"private": true}\n' > "$PEERS_DIR/package.json"
  local want=() p
  for p in "${NODE_PEERS[@]}"; do
    # Reinstall a package whose installed version differs from the pin.
    local name="${p%@*}" version="${p##*@}" have=""
    have=$(node -p "require('$PEERS_DIR/node_modules/$name/package.json').version" 2>/dev/null || true)
    [ "$have" = "$version" ] || want+=("$p")
  done
  if [ ${#want[@]} -gt 0 ]; then
    (cd "$PEERS_DIR" && npm install --no-audit --no-fund --silent --save-exact "${want[@]}" >&2)
  fi
  # kinesis-local binds 0.0.0.0 and has no option for it; run a copy that binds loopback.
  local km="$PEERS_DIR/node_modules/kinesis-local"
  sed 's/"0\.0\.0\.0"/"127.0.0.1"/g' "$km/main.js" > "$km/main.loopback.js"
  grep -q '"127.0.0.1"' "$km/main.loopback.js" || fail "kinesis-local changed: cannot make it bind 127.0.0.1"
  # kinesalite's command line cannot choose the address; start it from its library instead.
  cat > "$PEERS_DIR/kinesalite-loopback.js" <<'JS'
// kinesalite on 127.0.0.1 with instant stream transitions (written by kinlocal's scripts/peers.sh).
const kinesalite = require(require('path').join(__dirname, 'node_modules', 'kinesalite'))
const delay = Number(process.env.KINESALITE_MS || 0)
kinesalite({ createStreamMs: delay, deleteStreamMs: delay, updateStreamMs: delay, shardLimit: 1000 })
  .listen(Number(process.argv[2]), '127.0.0.1')
JS
  if ! grep -qxF "$MOTO_REQ" "$PEERS_DIR/venv/.kinlocal-req" 2>/dev/null || [ ! -x "$PEERS_DIR/venv/bin/moto_server" ]; then
    python3 -m venv "$PEERS_DIR/venv"
    "$PEERS_DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$MOTO_REQ" >&2
    echo "$MOTO_REQ" > "$PEERS_DIR/venv/.kinlocal-req"
  fi
  echo "peers.sh: peers installed in $PEERS_DIR" >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Ready when a list call (any signature is accepted by these emulators) answers HTTP 200.
answers() { # SERVICE PORT
  local target type
  case "$1" in
    kinesis)  target=Kinesis_20131202.ListStreams;  type=application/x-amz-json-1.1 ;;
    dynamodb) target=DynamoDB_20120810.ListTables;  type=application/x-amz-json-1.0 ;;
  esac
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$2/" \
        -H "Content-Type: $type" -H "X-Amz-Target: $target" -H 'X-Amz-Date: 20260101T000000Z' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' \
        -d '{}' 2>/dev/null)" = 200 ]
}

start_one() { # NAME [PORT]
  local name="$1" port="${2:-}" service cmd=() vars=()
  is_installed || fail "peers are not installed: run scripts/peers.sh install"
  [ -n "$port" ] || port=$(free_port)
  mkdir -p "$RUN_DIR"
  case "$name" in
    kinesalite)
      service=kinesis; cmd=(node "$PEERS_DIR/kinesalite-loopback.js" "$port") ;;
    kinesis-mock)
      service=kinesis; cmd=(node "$PEERS_DIR/node_modules/kinesis-local/main.loopback.js")
      vars=(KINESIS_MOCK_PLAIN_PORT="$port" KINESIS_MOCK_TLS_PORT="$(free_port)"
            KINESIS_MOCK_CERT_PATH="$PEERS_DIR/node_modules/kinesis-local/server.json" LOG_LEVEL=WARN
            CREATE_STREAM_DURATION=0ms DELETE_STREAM_DURATION=0ms SPLIT_SHARD_DURATION=0ms
            MERGE_SHARDS_DURATION=0ms UPDATE_SHARD_COUNT_DURATION=0ms) ;;
    moto)
      service=kinesis; cmd=("$PEERS_DIR/venv/bin/moto_server" -H 127.0.0.1 -p "$port") ;;
    dynalite)
      service=dynamodb; cmd=(node "$PEERS_DIR/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port"
                              --createTableMs 0 --deleteTableMs 0 --updateTableMs 0) ;;
    *) fail "no peer named '$name' (scripts/peers.sh list)" ;;
  esac
  local pidfile="$RUN_DIR/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    fail "$name is already running (pid $(cat "$pidfile")): scripts/peers.sh stop $name"
  fi
  env "${vars[@]}" setsid "${cmd[@]}" > "$RUN_DIR/$name.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$pidfile"
  local i
  for i in $(seq 600); do
    if answers "$service" "$port"; then
      echo "$name $pid http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$RUN_DIR/$name.log" >&2; rm -f "$pidfile"; fail "$name exited while starting"; }
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  fail "$name did not answer on 127.0.0.1:$port within 30 s (log: $RUN_DIR/$name.log)"
}

stop_one() { # NAME
  local pidfile="$RUN_DIR/$1.pid" pid i
  [ -f "$pidfile" ] || { echo "peers.sh: $1 is not running" >&2; return 0; }
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  install) install_all ;;
  check)   is_installed ;;
  start)   [ $# -ge 2 ] || fail "usage: scripts/peers.sh start NAME [PORT]"; start_one "$2" "${3:-}" ;;
  stop)    [ $# -ge 2 ] || fail "usage: scripts/peers.sh stop NAME"; stop_one "$2" ;;
  list)    printf '%-13s %s\n' kinesalite "Kinesis (Node)" kinesis-mock "Kinesis, HTTP/2 + enhanced fan-out (npm kinesis-local)" \
                                moto "Kinesis + DynamoDB (Python)" dynalite "DynamoDB (Node)" ;;
  *)       sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
