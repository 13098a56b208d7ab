#!/usr/bin/env bash
# Real peers the test suite talks to, from Debian's packages: prometheus (+ promtool) and
# prometheus-node-exporter. Installs only what is missing; the tests start their own instances
# on free loopback ports.
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || missing+=(prometheus-node-exporter)
[ ${#missing[@]} -eq 0 ] && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "[peers] installing ${missing[*]}" >&2
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages try to start their own daemons where an init system runs; the tests use
# their own instances, so stop any that came up.
pkill -x prometheus 2>/dev/null || true
pkill -f prometheus-node-exporter 2>/dev/null || true
