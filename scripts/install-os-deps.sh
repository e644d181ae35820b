#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# OS packages vpc needs on Debian 12, for the build, the demo and the tests.
# Idempotent; run as root (CI does; a developer uses sudo).
set -euo pipefail
packages=(
  build-essential   # gcc, make: the core, vpc-hostd, libvpc
  iproute2          # ip netns / link / tuntap for the multi-node tests and the demo
  iputils-ping      # ping between VM namespaces
  tshark            # decodes our VXLAN in the interoperability test
  isc-dhcp-client   # dhclient: a real DHCP client in the VM namespaces (test/dhcp.test.ts)
  python3-scapy     # crafted DHCP, RS/RA frames for the bad-input tables; the firewall's SYN flood
  traceroute        # the router's, the firewall's and the NAT's traceroute tests
  curl              # the HTTP client of the NAT test (a 10 MB download through SNAT)
  etcd-server       # the shared mapping directory (agent tests)
  clang-19          # the fuzzers (libFuzzer), and the FreeBSD compile check
  lld-19
  libfuzzer-19-dev
  libclang-rt-19-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
