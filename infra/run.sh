#!/usr/bin/env bash
# `npm start`: everything on one machine. Makes sure PostgreSQL, Redis and NATS run, starts a
# simulated GPU fleet (dcgm-exporter + vLLM endpoints and request traffic), writes the collector's
# scrape config for it, starts every ArcWatch service whose entry point exists as its own process,
# waits until each answers, and stops all of it on Ctrl-C.
#
#   bash infra/run.sh                 run until Ctrl-C
#   bash infra/run.sh --check [SECS]  run SECS (default 45), then ask the collector how many DCGM
#                                     series it stored; exit 0 if any, 1 otherwise
#   ARCWATCH_RUN_FOR=SECS bash infra/run.sh   same as --check SECS
#
# Environment (defaults in brackets): ARCWATCH_NODES [4], ARCWATCH_FLEET_PORT [19400],
# DATABASE_URL [postgres://postgres@127.0.0.1:5432/arcwatch], NATS_URL [nats://127.0.0.1:4222],
# REDIS_URL [redis://127.0.0.1:6379], COLLECTOR_PORT [9464], TRACING_PORT [9465],
# BILLING_PORT [9466], ANOMALY_PORT [9467], NOTIFIER_PORT [9468], CONSOLE_PORT [9470],
# TRACING_API_KEY_SALT [a fixed local-development salt], CONSOLE_BOOTSTRAP_ADMIN_TOKEN [random],
# AUTH_BOOTSTRAP_TOKEN [the console's admin token], AUTH_INGEST_TOKEN [random].
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_SECS=${ARCWATCH_RUN_FOR:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --check) CHECK_SECS=45; if [[ ${2:-} =~ ^[0-9]+$ ]]; then CHECK_SECS=$2; shift; fi ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

STATE_DIR=.arcwatch
LOG_DIR=$STATE_DIR/logs
NODES=${ARCWATCH_NODES:-4}
FLEET_PORT=${ARCWATCH_FLEET_PORT:-19400}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arcwatch}
export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export COLLECTOR_PORT=${COLLECTOR_PORT:-9464}
export TRACING_PORT=${TRACING_PORT:-9465}
export BILLING_PORT=${BILLING_PORT:-9466}
export ANOMALY_PORT=${ANOMALY_PORT:-9467}
export NOTIFIER_PORT=${NOTIFIER_PORT:-9468}
export CONSOLE_PORT=${CONSOLE_PORT:-9470}
# The console's first admin token: shown once below; log in with it (or use it as a Bearer token).
export CONSOLE_BOOTSTRAP_ADMIN_TOKEN=${CONSOLE_BOOTSTRAP_ADMIN_TOKEN:-aw_admin_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
# Every service checks tokens (docs/access.md) against the one store in DATABASE_URL: the same
# admin token works on each API, and the simulated fleet pushes with a push-only token.
export AUTH_BOOTSTRAP_TOKEN=${AUTH_BOOTSTRAP_TOKEN:-$CONSOLE_BOOTSTRAP_ADMIN_TOKEN}
export AUTH_INGEST_TOKEN=${AUTH_INGEST_TOKEN:-aw_ingest_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
# Lets the tracing service accept the simulated gateway's raw API keys (it stores only their HMAC).
export TRACING_API_KEY_SALT=${TRACING_API_KEY_SALT:-arcwatch-local-development-salt}
NODE=node_modules/.bin/node

log() { printf '[run] %s\n' "$*" >&2; }
# GET a URL with Node's fetch (a bare machine may have no curl); body on stdout, non-2xx fails.
http_get() {
  "$NODE" -e 'fetch(process.argv[1], { headers: { authorization: `Bearer ${process.env.AUTH_BOOTSTRAP_TOKEN}` }, signal: AbortSignal.timeout(Number(process.argv[2])) })
    .then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })
    .catch(() => process.exit(1))' "$1" "${2:-2000}"
}

if [ ! -x "$NODE" ]; then log "installing dependencies"; npm install --no-audit --no-fund; fi
bash infra/servers.sh

# The database named in DATABASE_URL (servers.sh creates `arcwatch`; this covers another name).
db_name=$(sed -E 's#^.*/([^/?]+)(\?.*)?$#\1#' <<<"$DATABASE_URL")
admin_url=$(sed -E 's#/[^/?]+(\?.*)?$#/postgres#' <<<"$DATABASE_URL")
if ! psql "$admin_url" -tAc "select 1 from pg_database where datname='$db_name'" | grep -q 1; then
  log "creating database $db_name"
  psql "$admin_url" -qc "create database \"$db_name\""
fi

mkdir -p "$LOG_DIR"
PIDS=()
NAMES=()
stop_all() {
  trap - INT TERM EXIT
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then log "stopping ${NAMES[$i]} (pid ${PIDS[$i]})"; kill -TERM "${PIDS[$i]}" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 50; i++)); do
    local alive=0 p
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

# start NAME LOGFILE ENV=… -- ARGS…: one process, its pid remembered for the shutdown.
start() {
  local name=$1; shift
  log "starting $name (log: $LOG_DIR/$name.log)"
  env "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}

has_service() { [ -f "services/$1/src/main.ts" ]; }

# 1. The simulated fleet. Without a tracing service its request events go to a JSONL file that
#    the offline CLI can read.
fleet_args=(--nodes "$NODES" --base-port "$FLEET_PORT" --write-sd "$STATE_DIR/fleet-sd.json"
  --write-scrape-config "$STATE_DIR/collector.yml")
if has_service tracing; then fleet_args+=(--tracing-url "http://127.0.0.1:$TRACING_PORT")
else fleet_args+=(--events-out "$STATE_DIR/request-events.jsonl"); fi
rm -f "$STATE_DIR/collector.yml"
start fleet-sim ARCWATCH_INGEST_TOKEN="$AUTH_INGEST_TOKEN" "$NODE" tools/register.js tools/fleet-sim/src/main.ts "${fleet_args[@]}"
for ((i = 0; i < 100; i++)); do [ -s "$STATE_DIR/collector.yml" ] && break; sleep 0.1; done
[ -s "$STATE_DIR/collector.yml" ] || { log "fleet-sim did not start:"; tail -n 20 "$LOG_DIR/fleet-sim.log" >&2; exit 1; }

# 2. The console's web app (built once per checkout change; vite, offline).
if has_service console; then
  log "building the console's web app"
  npm run --silent build:web >"$LOG_DIR/build-web.log" 2>&1 || { log "console web build failed:"; tail -n 20 "$LOG_DIR/build-web.log" >&2; exit 1; }
fi

# 3. The services, each its own process on its fixed port; others from 9471 up.
COLLECTOR_URL=http://127.0.0.1:$COLLECTOR_PORT
declare -A PORT_OF=([collector]=$COLLECTOR_PORT [tracing]=$TRACING_PORT [billing]=$BILLING_PORT [anomaly]=$ANOMALY_PORT
  [notifier]=$NOTIFIER_PORT [console]=$CONSOLE_PORT)
next_port=9471
STARTED=()
for dir in services/*/; do
  svc=$(basename "$dir")
  has_service "$svc" || { log "skipping $svc (no src/main.ts yet)"; continue; }
  # The node agent reads nvidia-smi on a GPU node (docs/agent.md); here the simulated fleet plays the GPUs.
  [ "$svc" = agent ] && { log "not starting the node agent: it runs on GPU nodes (the simulated fleet stands in here)"; continue; }
  port=${PORT_OF[$svc]:-$next_port}
  [ -n "${PORT_OF[$svc]:-}" ] || next_port=$((next_port + 1))
  PORT_OF[$svc]=$port
  port_var="$(tr '[:lower:]-' '[:upper:]_' <<<"$svc")_PORT"
  extra=()
  case "$svc" in
    collector) extra+=(COLLECTOR_CONFIG="$PWD/$STATE_DIR/collector.yml") ;;
    # 15-second windows: the fleet's first requests are costed well within a minute.
    billing) extra+=(BILLING_COLLECTOR_URL="$COLLECTOR_URL" BILLING_WINDOW_SECONDS="${BILLING_WINDOW_SECONDS:-15}") ;;
    anomaly) extra+=(ANOMALY_RULE_FILES="$PWD/infra/rules/llm-fleet.rules.yml" ANOMALY_DETECTOR_FILES="$PWD/infra/detectors/llm-fleet.yaml"
      ANOMALY_HISTORY_URL="$COLLECTOR_URL" ANOMALY_EXTERNAL_URL="http://127.0.0.1:$CONSOLE_PORT") ;;
    notifier) extra+=(NOTIFIER_CONFIG="$PWD/infra/notifier/local.yml" NOTIFIER_EXTERNAL_URL="http://127.0.0.1:$CONSOLE_PORT") ;;
    console) extra+=(CONSOLE_COLLECTOR_URL="$COLLECTOR_URL" CONSOLE_TRACING_URL="http://127.0.0.1:$TRACING_PORT"
      CONSOLE_BILLING_URL="http://127.0.0.1:$BILLING_PORT" CONSOLE_ANOMALY_URL="http://127.0.0.1:$ANOMALY_PORT"
      CONSOLE_NOTIFIER_URL="http://127.0.0.1:$NOTIFIER_PORT") ;;
  esac
  start "$svc" "$port_var=$port" ${extra[@]+"${extra[@]}"} "$NODE" tools/register.js "services/$svc/src/main.ts"
  STARTED+=("$svc")
done

# 4. Wait until each service is ready (every service answers GET /readyz; docs/http-api.md).
healthy() {
  http_get "http://127.0.0.1:$1/readyz" 2000 >/dev/null
}
for svc in ${STARTED[@]+"${STARTED[@]}"}; do
  port=${PORT_OF[$svc]}
  for ((i = 0; i < 120; i++)); do
    healthy "$port" && break
    idx=$(printf '%s\n' "${NAMES[@]}" | grep -nx "$svc" | cut -d: -f1)
    if ! kill -0 "${PIDS[$((idx - 1))]}" 2>/dev/null; then
      log "$svc exited during start-up; last lines of $LOG_DIR/$svc.log:"; tail -n 30 "$LOG_DIR/$svc.log" >&2; exit 1
    fi
    sleep 0.5
  done
  healthy "$port" && log "$svc answers on :$port" || log "$svc does not answer a health check on :$port yet (see $LOG_DIR/$svc.log)"
done

cat >&2 <<INFO

ArcWatch is running.
  dashboard         http://127.0.0.1:$CONSOLE_PORT/   admin token (log in with it): $CONSOLE_BOOTSTRAP_ADMIN_TOKEN
  API token         every API below needs it: export T=$AUTH_BOOTSTRAP_TOKEN; curl -H "Authorization: Bearer \$T" …
  simulated fleet   $NODES nodes x 8 GPUs: dcgm-exporter http://127.0.0.1:$FLEET_PORT/metrics, vLLM http://127.0.0.1:$((FLEET_PORT + 1))/metrics (node i: +2i)
  scrape config     $STATE_DIR/collector.yml (targets in $STATE_DIR/fleet-sd.json)
  collector API     http://127.0.0.1:$COLLECTOR_PORT/api/v1/
    series          curl -sG http://127.0.0.1:$COLLECTOR_PORT/api/v1/series --data-urlencode 'match[]={__name__=~"DCGM.*"}'
    query           curl -sG http://127.0.0.1:$COLLECTOR_PORT/api/v1/query --data-urlencode 'query=avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)'
  Grafana           add a Prometheus data source with URL http://127.0.0.1:$COLLECTOR_PORT
  tracing API       http://127.0.0.1:$TRACING_PORT/api/v1/  (events: POST /api/v1/requests/events)
    requests        curl -s 'http://127.0.0.1:$TRACING_PORT/api/v1/requests?limit=5'
    request stats   curl -sG http://127.0.0.1:$COLLECTOR_PORT/api/v1/query --data-urlencode 'query=sum by (tenant) (arcwatch_requests_total)'
  billing API       http://127.0.0.1:$BILLING_PORT/api/v1/reports/cost?by=tenant
    cost events     node examples/billing-consumer/consumer.mjs   (a billing system's view: prints a running bill)
  alerts            http://127.0.0.1:$ANOMALY_PORT/api/v1/alerts (Prometheus format), rules: infra/rules/llm-fleet.rules.yml
  notifier          http://127.0.0.1:$NOTIFIER_PORT/api/v2/alerts (Alertmanager API; amtool --alertmanager.url=http://127.0.0.1:$NOTIFIER_PORT)
  logs              $LOG_DIR/
INFO

if [ -z "$CHECK_SECS" ]; then
  log "Ctrl-C stops everything"
  wait -n "${PIDS[@]}" || true
  log "a process exited; stopping the rest"
  exit 1
fi

# --check: let scrapes accumulate, then count what the collector stored.
log "checking: running ${CHECK_SECS}s"
sleep "$CHECK_SECS"
if ! has_service collector; then log "check failed: services/collector/src/main.ts does not exist yet"; exit 1; fi
body=$(http_get "http://127.0.0.1:$COLLECTOR_PORT/api/v1/series?match%5B%5D=%7B__name__%3D~%22DCGM.*%22%7D" 10000) || {
  log "check failed: the collector's series API did not answer"; exit 1; }
count=$("$NODE" -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8"));if(b.status!=="success"||!Array.isArray(b.data))process.exit(3);console.log(b.data.length)' <<<"$body") || {
  log "check failed: unexpected answer: ${body:0:300}"; exit 1; }
expected=$((NODES * 8 * 25))
log "collector stores $count DCGM series (the fleet exposes $expected while every node is up)"
[ "$count" -gt 0 ] || exit 1
# The simulated fleet's requests, costed: billing's report over the run has tenants with amounts.
if has_service billing; then
  from=$(( $(date +%s) - CHECK_SECS - 600 ))
  body=$(http_get "http://127.0.0.1:$BILLING_PORT/api/v1/reports/cost?by=tenant&from=$from" 10000) || { log "check failed: billing's report did not answer"; exit 1; }
  costed=$("$NODE" -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8"));const items=b.items??[];console.log(items.filter((i)=>Number(i.amount)>0).length)' <<<"$body") || {
    log "check failed: unexpected billing answer: ${body:0:300}"; exit 1; }
  log "billing has costed requests of $costed tenant(s)"
  [ "$costed" -gt 0 ]
fi
