# What the benchmark scripts share, sourced after they set BIN (the release `preau`), WORK (their
# temporary folder), PG_URL and PG_DB (the PostgreSQL database they create and drop):
# `preau serve` started on a loopback port and stopped, a free port, and the clean-up at exit
# (the server stopped, the folder and the database removed).

SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

cleanup() {
  stop_server
  rm -rf "$WORK"
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A free port on the loopback, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Starts `preau serve` on database URL $1, loopback port $2 and data folder $3, and waits until
# it answers. Started inside a subshell (a `$(bench …)`), the server is stopped when that
# subshell ends, a failure included; and its output goes to the log, not to the pipe of a
# `$(…)`, which would otherwise wait for the server's end.
start_server() {
  local url="$1" port="$2" data="$3"
  PREAU_DATABASE_URL="$url" PREAU_LISTEN="127.0.0.1:$port" \
    PREAU_BASE_URL="http://127.0.0.1:$port" PREAU_DATA_DIR="$data" \
    PREAU_LOG_FORMAT=json RUST_LOG=warn "$BIN" serve >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  if (( BASH_SUBSHELL > 0 )); then
    trap stop_server EXIT
  fi
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "preau serve ne répond pas sur 127.0.0.1:$port" >&2
  cat "$WORK/server.log" >&2
  exit 1
}
