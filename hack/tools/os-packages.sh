#!/usr/bin/env bash
# Ensures the Debian packages the SSH suites and benchmarks use (issue 8): sshd from openssh-server, ssh/scp/sftp
# from openssh-client, tmux (a real pseudo-terminal for interactive tests) and rsync (`rsync -e ssh`); and Chromium,
# the browser e2e/oidc-login.test.ts drives with playwright-core at /usr/bin/chromium (issue 9; playwright downloads
# no browser of its own).
# Fast when everything is there (no apt); installs what is missing when root with apt-get; otherwise stops and
# prints the exact command to run.
set -euo pipefail

# package → a file it installs (checked instead of asking dpkg: also right on non-Debian hosts that have them)
declare -A PROVIDES=(
	[openssh-server]=/usr/sbin/sshd
	[openssh-client]=ssh
	[tmux]=tmux
	[rsync]=rsync
	[chromium]=/usr/bin/chromium
)

missing=()
for pkg in openssh-server openssh-client tmux rsync chromium; do
	f=${PROVIDES[$pkg]}
	if [[ $f == /* ]]; then [[ -x $f ]] && continue; else command -v "$f" >/dev/null 2>&1 && continue; fi
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
echo "os-packages: missing ${missing[*]} (the SSH and OIDC login tests need them). Install them, e.g.:" >&2
if command -v apt-get >/dev/null 2>&1; then echo "  sudo sh -c '$cmd'" >&2; else echo "  (your OS's packages for: ${missing[*]})" >&2; fi
exit 1
