#!/usr/bin/env bash
# Load test of `cxr serve` on loopback with oha (installed from crates.io into bench/.tools): throughput and
# latency of the label and score endpoints and of study upload, failures by status, and the server's peak
# memory (VmHWM) under 1,000 concurrent uploads of the demo radiograph (the bundled DICOM CR, 0.65 MB, JPEG 2000).
# No peer: the issue asks for these numbers. Usage: bench/serve.sh [seconds per text run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
OHA=bench/.tools/bin/oha
[ -x "$OHA" ] || cargo install oha --locked --root bench/.tools
cargo build -q --release -p cxr-cli
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
./target/release/cxr serve --quiet --data "$DATA" --bind 127.0.0.1:$PORT --timeout-s 900 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -s $B/api/health >/dev/null; do sleep 0.2; done
DCM=crates/cxr-io/tests/data/dicom/RG1_J2KI.dcm

summary() { # name, oha JSON file
  python3 - "$1" "$2" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
s, lat = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
errors = d.get("errorDistribution", {})
print(f"| {name} | {s['requestsPerSec']:.0f} | {lat['p50']*1e3:.1f} | {lat['p99']*1e3:.1f} | {s['successRate']*100:.1f} % | {', '.join(f'{k}: {v}' for k, v in sorted(codes.items()))}{'; errors: ' + str(errors) if errors else ''} |")
PY
}
echo "machine: $(nproc) cores, $(date -u +%F); server workers = cores"
echo "| endpoint | req/s | p50 ms | p99 ms | success | status codes |"
echo "|---|---|---|---|---|---|"
REPORT='{"text": "FINDINGS: Heart size is mildly enlarged. Small left pleural effusion with adjacent atelectasis. No pneumothorax. IMPRESSION: Cardiomegaly. Small left effusion."}'
$OHA -z ${SECS}s -c 32 --no-tui --output-format json -m POST -H 'Content-Type: application/json' -d "$REPORT" $B/api/label > /tmp/oha-label.json
summary "POST /api/label (c=32, ${SECS} s)" /tmp/oha-label.json
SCORE='{"refs": ["the heart is normal in size . no pleural effusion or pneumothorax ."], "hyps": ["heart size is normal . there is no effusion ."], "metrics": ["bleu", "rouge", "chrf", "clinical"]}'
$OHA -z ${SECS}s -c 32 --no-tui --output-format json -m POST -H 'Content-Type: application/json' -d "$SCORE" $B/api/score > /tmp/oha-score.json
summary "POST /api/score (c=32, ${SECS} s)" /tmp/oha-score.json
$OHA -n 200 -c 8 --no-tui --output-format json -m POST -H 'Content-Type: application/dicom' -D $DCM "$B/api/studies?label=load" > /tmp/oha-up8.json
summary "POST /api/studies, DICOM CR (c=8, 200 uploads)" /tmp/oha-up8.json
RSS0=$(grep VmRSS /proc/$PID/status | awk '{print $2}')
$OHA -n 1000 -c 1000 --no-tui --output-format json -m POST -H 'Content-Type: application/dicom' -D $DCM "$B/api/studies?label=load" > /tmp/oha-up1000.json
summary "POST /api/studies, DICOM CR (c=1000, 1000 uploads)" /tmp/oha-up1000.json
HWM=$(grep VmHWM /proc/$PID/status | awk '{print $2}')
STUDIES=$(curl -s $B/api/studies | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["studies"]))')
AUDIT=$(curl -s $B/api/audit/verify)
echo
echo "server RSS before the 1,000-upload run: $((RSS0/1024)) MiB; peak RSS (VmHWM) over the whole run: $((HWM/1024)) MiB"
echo "studies stored: $STUDIES (expected 1200); audit: $AUDIT; files left in tmp/: $(ls "$DATA/tmp" | wc -l)"
