#!/usr/bin/env bash
# Installs what the tests need beyond npm: real exporters, an independent decoder and a browser
# (dashboard tests) from Debian.
# Idempotent: skips apt when every tool is already there.
set -euo pipefail
need=()
command -v tshark >/dev/null || need+=(tshark)
command -v softflowd >/dev/null || need+=(softflowd)
command -v pmacctd >/dev/null || need+=(pmacct)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v dumpcap >/dev/null || need+=(wireshark-common)
command -v curl >/dev/null || need+=(curl)
command -v prometheus >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
# snmpd: the SNMP agent the interface-name poller is tested against.
{ [ -x /usr/sbin/snmpd ] || command -v snmpd >/dev/null; } || need+=(snmpd)
# gobgpd + gobgp: the BGP speaker mitigation drives; bird2: the BGP peer that checks what it
# announced; iproute2: the network namespaces that test runs in.
command -v gobgpd >/dev/null || need+=(gobgpd)
command -v bird >/dev/null || need+=(bird2)
command -v ip >/dev/null || need+=(iproute2)
# fastnetmon: the reference detector the detection evaluation is compared with.
[ -x /usr/sbin/fastnetmon ] || need+=(fastnetmon)
# tcpreplay: replays detection scenarios in real time (eval/detection/realtime.ts).
command -v tcpreplay >/dev/null || need+=(tcpreplay)
# nfdump: nfcapd as the second collector behind a tee, nfdump to read what it stored.
command -v nfcapd >/dev/null || need+=(nfdump)
# clickhouse-server + client: the ClickHouse store's conformance and Distributed tests (18.16).
[ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server)
command -v clickhouse-client >/dev/null || need+=(clickhouse-client)
# The host agent (flowgate agent): conntrack-tools for its default source, libpcap's headers for
# the `cap` binding (its fallback; built by npm ci, after this script), iperf3 for test traffic.
command -v conntrack >/dev/null || need+=(conntrack)
[ -f /usr/include/pcap.h ] || need+=(libpcap-dev)
command -v iperf3 >/dev/null || need+=(iperf3)
# nftables: the agent adds one table so that a host without a firewall tracks connections.
command -v nft >/dev/null || need+=(nftables)
# Deployment checks (test/deploy): systemd-analyze verifies the units and scores their sandbox,
# setpriv (util-linux) runs the collector as an unprivileged user, strace watches what it writes.
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v setpriv >/dev/null || need+=(util-linux)
command -v strace >/dev/null || need+=(strace)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests need: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
