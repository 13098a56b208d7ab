#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS (JetStream) answer on 127.0.0.1, installing them from
# Debian's packages and starting them where they are missing. Where they already run it changes
# nothing. Idempotent; safe to call before every run and every test.
set -euo pipefail

PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
NATS_PORT=${NATS_PORT:-4222}
NATS_STORE=${NATS_STORE:-/var/lib/nats-server}

log() { printf '[servers] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # name port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do port_open "$2" && return 0; sleep 0.1; done
  log "$1 did not answer on 127.0.0.1:$2 within $3 s"; return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  [ -x "$1" ] && return 0
  if [ $apt_updated = 0 ]; then log "apt-get update"; as_root apt-get update -qq; apt_updated=1; fi
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
}

# PostgreSQL
if ! port_open "$PGPORT"; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then need_pkg /nonexistent/postgres postgresql; fi
  ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)
  if [ -z "$ver" ]; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    as_root pg_createcluster "$ver" main >/dev/null
  fi
  # Local trust for 127.0.0.1 so tests and services connect as postgres without a password.
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  wait_port PostgreSQL "$PGPORT" 30
fi
# The databases ArcWatch uses: arcwatch (running) and test (the test suite's template).
for db in arcwatch test; do
  if ! psql -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "select 1 from pg_database where datname='$db'" 2>/dev/null | grep -q 1; then
    psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "create database $db" >/dev/null 2>&1 || \
      as_root su postgres -c "psql -p $PGPORT -qc 'create database $db'" >/dev/null
  fi
done

# Redis (BullMQ needs noeviction, which is Redis's default policy)
if ! port_open "$REDIS_PORT"; then
  need_pkg redis-server redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/arcwatch.log
  wait_port Redis "$REDIS_PORT" 30
fi

# NATS with JetStream
if ! port_open "$NATS_PORT"; then
  need_pkg nats-server nats-server
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  mkdir -p "$NATS_STORE"
  log "starting nats-server with JetStream in $NATS_STORE"
  nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATS_STORE" -l /var/log/nats-server.log >/dev/null 2>&1 &
  wait_port NATS "$NATS_PORT" 30
fi

log "PostgreSQL :$PGPORT, Redis :$REDIS_PORT, NATS :$NATS_PORT ready"
