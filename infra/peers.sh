#!/usr/bin/env bash
# Real peers the test suite talks to, from Debian's packages: prometheus (+ promtool),
# prometheus-alertmanager (+ amtool), prometheus-node-exporter and chromium; with --bench also
# victoria-metrics. Installs only what is
# missing; the tests start their own instances on free loopback ports and stop them by PID.
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null 2>&1 || missing+=(prometheus-node-exporter)
# Headless browser of the console's browser tests (e2e/console.e2e-spec.ts, via playwright-core).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The benchmarks' peer (npm run bench:*); only with --bench, the test suite does not use it.
if [ "${1:-}" = "--bench" ]; then command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics); fi
[ ${#missing[@]} -eq 0 ] && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "[peers] installing ${missing[*]}" >&2
# Debian's packages start their own daemons where an init system lets them. Refuse that for
# the duration of the install (policy-rc.d exit 101 = "action forbidden"), so that nothing
# needs stopping afterwards and a user's own Prometheus is never touched.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
  as_root chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then as_root rm -f "$policy"; fi; }
trap cleanup EXIT
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
