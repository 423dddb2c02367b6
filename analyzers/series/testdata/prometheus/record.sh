#!/usr/bin/env bash
# Records query_range.json: a real Prometheus HTTP API range-query response.
# Two scenario servers run under load (unbounded-cache/leaky, a leak, and
# steady-state/control, not one); a local Prometheus scrapes their /metrics
# every second; then the API is asked for their RSS and heap series.
#
#   bash analyzers/series/testdata/prometheus/record.sh build/ci/bin [SECONDS]
#
# Needs prometheus and curl (ci/install-deps). Everything binds 127.0.0.1 and
# lives in a temporary folder; only the processes started here are stopped.
set -euo pipefail
bin=$(cd "$1" && pwd)
seconds=${2:-40}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

leak_port=$(free_port)
"$bin/leaklab-scenario" --scenario unbounded-cache --variant leaky --port "$leak_port" >"$work/leak.out" 2>"$work/leak.log" &
pids+=($!)
flat_port=$(free_port)
"$bin/leaklab-scenario" --scenario steady-state --variant control --port "$flat_port" >"$work/flat.out" 2>"$work/flat.log" &
pids+=($!)
wait_for "http://127.0.0.1:$leak_port/healthz"
wait_for "http://127.0.0.1:$flat_port/healthz"

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: unbounded-cache
    static_configs: [{targets: ["127.0.0.1:$leak_port"], labels: {variant: leaky}}]
  - job_name: steady-state
    static_configs: [{targets: ["127.0.0.1:$flat_port"], labels: {variant: control}}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$prom_port/-/ready"

start=$(date +%s)
"$bin/leaklab-loadgen" -c 2 -r 200 -d "${seconds}s" "http://127.0.0.1:$leak_port/query?key={n}" >/dev/null &
load1=$!
"$bin/leaklab-loadgen" -c 2 -r 200 -d "${seconds}s" "http://127.0.0.1:$flat_port/ingest?id={n}" >/dev/null &
load2=$!
wait "$load1" "$load2"
sleep 2  # one more scrape after the load
end=$(date +%s)

curl -fsG "http://127.0.0.1:$prom_port/api/v1/query_range" \
  --data-urlencode 'query={__name__=~"process_resident_memory_bytes|leaklab_heap_inuse_bytes"}' \
  --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=1s" \
  >"$here/query_range.json"
echo "wrote $here/query_range.json ($start..$end)"
