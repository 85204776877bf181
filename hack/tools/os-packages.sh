#!/usr/bin/env bash
# Ensures the Debian packages the tests use, by group (default: all of them, what `make test` needs):
#   ssh        sshd (openssh-server), ssh/scp/sftp (openssh-client), tmux (a real pseudo-terminal), rsync (issue 8)
#   browser    Chromium at /usr/bin/chromium, driven by playwright-core (e2e/oidc-login.test.ts; no browser download)
#   real-node  containerd, runc, the CNI plugins, iptables and conntrack for the kubelet node of
#              `hack/edge-cluster.sh up NAME --real-node`; buildah, busybox-static and gcc for its images (docs/real-node.md)
# Fast when everything is there (no apt); installs what is missing when root with apt-get; otherwise stops and
# prints the exact command to run.
#
# Usage: hack/tools/os-packages.sh [ssh | browser | real-node ...]
set -euo pipefail

declare -A GROUPS_=(
	[ssh]="openssh-server openssh-client tmux rsync"
	[browser]="chromium"
	[real-node]="containerd runc containernetworking-plugins iptables conntrack buildah busybox-static gcc libc6-dev"
)
# package → a file it installs (checked instead of asking dpkg: also right on non-Debian hosts that have them)
declare -A PROVIDES=(
	[openssh-server]=/usr/sbin/sshd
	[openssh-client]=ssh
	[tmux]=tmux
	[rsync]=rsync
	[chromium]=/usr/bin/chromium
	[containerd]=containerd
	[runc]=runc
	[containernetworking-plugins]=/usr/lib/cni/bridge
	[iptables]=iptables
	[conntrack]=conntrack
	[buildah]=buildah
	[busybox-static]=/bin/busybox
	[gcc]=gcc
	[libc6-dev]=/usr/include/signal.h
)

[ $# -gt 0 ] || set -- ssh browser real-node
wanted=()
for g in "$@"; do
	[[ -n ${GROUPS_[$g]:-} ]] || { echo "os-packages: unknown group '$g' (known: ${!GROUPS_[*]})" >&2; exit 2; }
	read -ra pkgs <<<"${GROUPS_[$g]}"
	wanted+=("${pkgs[@]}")
done

missing=()
for pkg in "${wanted[@]}"; do
	f=${PROVIDES[$pkg]}
	if [[ $f == /* ]]; then [[ -e $f ]] && continue; else command -v "$f" >/dev/null 2>&1 && continue; fi
	missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "os-packages: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	exit 0
fi
echo "os-packages: missing ${missing[*]} (for: $*). Install them, e.g.:" >&2
if command -v apt-get >/dev/null 2>&1; then echo "  sudo sh -c '$cmd'" >&2; else echo "  (your OS's packages for: ${missing[*]})" >&2; fi
exit 1
