#!/usr/bin/env bash
# One attack against a fresh `flowgate collect` with the default limits, while softflowd exports a
# known capture (36 flows) from 127.0.0.1: the figures of docs/security.md "Attack test and script".
#
#   bash bench/attack-measure.sh template-flood --exporters 2000 --templates 1000 --rate 5000 --seconds 10
#   bash bench/attack-measure.sh slowloris --connections 300 --peers 20 --rate 100 --seconds 40 --no-reconnect
#
# Prints the legitimate records decoded (IPFIX: 36 before + 36 during the attack; v9: 36 during),
# then bench/attack.ts's report: RSS, heap, templates held and the counters, before and after.
# Loopback only; ports 22055 (UDP), 24739 (TCP) and 28080 (API) must be free. Needs softflowd.
set -euo pipefail
cd "$(dirname "$0")/.."
attack=${1:?usage: attack-measure.sh ATTACK [bench/attack.ts options]}
shift
dir=$(mktemp -d /tmp/flowgate-attack-measure-XXXXXX)
collector=
cleanup() {
  if [ -n "$collector" ]; then kill "$collector" 2>/dev/null || true; wait "$collector" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

node --import tsx -e "
  import('./test/helpers/attack-traffic.ts').then((m) => m.writeLegitCapture('$dir/legit.pcap'));
"
cat > "$dir/config.json" <<EOF
{"flow": {"listen": ["127.0.0.1:22055"], "tcplisten": ["127.0.0.1:24739"]},
 "store": {"enabled": false}, "api": {"listen": "127.0.0.1:28080"},
 "output": {"file": "$dir/out.jsonl", "stdout": false}, "alerts": {"persist": false},
 "general": {"templatedb": ""}, "log": {"level": "warn"}}
EOF
node --import tsx src/cli/main.ts --config "$dir/config.json" collect > "$dir/collector.log" 2>&1 &
collector=$!
for _ in $(seq 60); do curl -sf 127.0.0.1:28080/healthz > /dev/null && break; sleep 0.5; done

replay() { softflowd -r "$dir/legit.pcap" -n 127.0.0.1:22055 -v "$1" -A milli > /dev/null 2>&1; }
replay 10
sleep 1.5
node --import tsx bench/attack.ts --udp 127.0.0.1:22055 --tcp 127.0.0.1:24739 --api 127.0.0.1:28080 \
  --report --attack "$attack" "$@" > "$dir/attack.txt" 2>&1 &
attacker=$!
sleep 3
replay 10
replay 9
wait "$attacker"
sleep 1
count() { grep -c "\"flowsrcip\":\"127.0.0.1\".*\"flowversion\":$1[,}]\|\"flowversion\":$1[,}].*\"flowsrcip\":\"127.0.0.1\"" "$dir/out.jsonl" || true; }
echo "== $attack: legitimate IPFIX records $(count 10) of 72, v9 $(count 9) of 36"
cat "$dir/attack.txt"
kill -0 "$collector" 2>/dev/null && echo "collector still running" || echo "COLLECTOR DIED: $(tail -5 "$dir/collector.log")"
