#!/usr/bin/env bash
# A private PostgreSQL 15 cluster with TimescaleDB, for running the storage tests against the
# extension (docs/storage.md, "Testing on TimescaleDB"). Debian does not package TimescaleDB, so it
# is built from a source checkout; nothing is installed into the system PostgreSQL: the build goes
# into a relocated copy of Debian's PostgreSQL 15 under DIR, and the cluster runs from there on its
# own port. The shared PostgreSQL on 5432 is never touched.
#
#   tools/timescaledb-test-cluster.sh build SRC     # SRC: a timescaledb checkout at tag 2.28.3
#   tools/timescaledb-test-cluster.sh start         # prints the TEST_TIMESCALE_URL to export
#   tools/timescaledb-test-cluster.sh stop
#
# DIR defaults to /tmp/aw-tsdb, PORT to 55432; BUILD_MAKE (default "make -j1") runs the compile.
# TimescaleDB 2.28.3 is the last release that supports PostgreSQL 15.
set -euo pipefail

DIR=${DIR:-/tmp/aw-tsdb}
PORT=${PORT:-55432}
BUILD_MAKE=${BUILD_MAKE:-make -j1}
PG=/usr/lib/postgresql/15
ROOT=$DIR/pg
BIN=$ROOT/lib/postgresql/15/bin
DATA=$DIR/data
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)

die() {
  echo "timescaledb-test-cluster: $*" >&2
  exit 1
}

build() {
  local src=${1:?usage: $0 build SRC}
  [ -f "$src/version.config" ] || die "$src is not a timescaledb checkout (no version.config)"
  [ -x $PG/bin/pg_config ] || die "needs postgresql-server-dev-15 (apt-get install postgresql-server-dev-15 cmake)"
  grep -q '^version = 2.28.3$' "$src/version.config" || echo "note: $src is not 2.28.3" >&2
  # bootstrap asks before replacing an existing build directory: an existing one is reused
  [ -d "$src/build" ] || (cd "$src" && ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
    -DLINTER=OFF -DCMAKE_BUILD_TYPE=Release -DUSE_TELEMETRY=OFF -DPG_CONFIG=$PG/bin/pg_config >/dev/null)
  (cd "$src/build" && $BUILD_MAKE && make install DESTDIR="$DIR/stage" >/dev/null)
  # PostgreSQL finds its share and lib directories relative to the running binary, so copies of
  # the binaries under $ROOT/lib/postgresql/15/bin look in $ROOT/share and $ROOT/lib.
  rm -rf "$ROOT"
  mkdir -p "$BIN" "$ROOT/lib/postgresql/15/lib" "$ROOT/share/postgresql"
  cp $PG/bin/postgres $PG/bin/initdb $PG/bin/pg_ctl "$BIN/"
  cp -r /usr/share/postgresql/15 "$ROOT/share/postgresql/15"
  cp "$DIR"/stage/usr/share/postgresql/15/extension/* "$ROOT/share/postgresql/15/extension/"
  ln -sf $PG/lib/* "$ROOT/lib/postgresql/15/lib/"
  cp "$DIR"/stage/usr/lib/postgresql/15/lib/timescaledb* "$ROOT/lib/postgresql/15/lib/"
  chmod -R a+rX "$DIR"
  echo "built into $ROOT"
}

start() {
  [ -x "$BIN/postgres" ] || die "not built yet: $0 build SRC"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DATA" && chmod 700 "$DATA"
    [ ${#RUN_AS[@]} -gt 0 ] && chown postgres "$DATA"
    "${RUN_AS[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust >/dev/null
    cat >>"$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
# no background jobs: test data is dated in the past, and a policy job compressing or dropping it
# in the middle of a spec would change what the spec sees; specs run a job with CALL run_job(id)
timescaledb.max_background_workers = 0
max_connections = 200
shared_buffers = 256MB
EOF
  fi
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w status >/dev/null 2>&1 ||
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w start >/dev/null
  # every database the tests create (CREATE DATABASE copies template1) has the extension
  psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d template1 -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' 2>&1 |
    grep -v '^WARNING\|^$' || true
  psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' >/dev/null 2>&1
  echo "export TEST_TIMESCALE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
}

stop() {
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -w stop -m fast
}

case "${1:-}" in
  build) build "${2:-}" ;;
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 build SRC | start | stop" ;;
esac
