#!/usr/bin/env bash
# Dex (OIDC provider) on a free loopback port for tests and `make run`: HTTPS with a throwaway CA, in-memory storage,
# static users and two clients.
#
#   hack/dex/dex.sh up [NAME]      start (idempotent); returns once the discovery document is served
#   hack/dex/dex.sh down [NAME]    stop it and remove its directory
#   hack/dex/dex.sh env [NAME]     print shell variables: eval "$(hack/dex/dex.sh env)"
#   hack/dex/dex.sh restart [NAME] stop and start it again on the same port with the same config; storage is in
#                                  memory, so this rotates Dex's signing keys and revokes every refresh token
#
# KEDGE_DEX_ID_TOKEN_EXPIRY (at `up`; default 1h) sets how long ID tokens live, e.g. 20s to exercise refresh.
#
# NAME defaults to "dex"; state lives in ${KEDGE_DEX_DIR:-${TMPDIR:-/tmp}/kedge-dex}/NAME. Binary: $KEDGE_CACHE/bin/dex
# (hack/tools/build.sh dex).
#
# Users (password "password" for all; ids are stable): alice@example.com and bob@example.com (group "acme"),
# carol@example.com (group "globex"), admin@example.com (group "kedge-admins").
# Clients: "kedge-cli" is public (PKCE; any http://127.0.0.1:<port>/… or http://localhost:<port>/… redirect, as Dex
# allows for public clients); "kedge-hub" is confidential (secret in KEDGE_DEX_HUB_CLIENT_SECRET; redirect URIs from
# KEDGE_DEX_REDIRECT_URIS, comma-separated, at `up`). The password grant (connector "local") is on, so tests can get
# id_tokens without a browser:
#   curl --cacert "$KEDGE_DEX_CA_FILE" -d grant_type=password -d scope='openid email groups profile' \
#     -d username=alice@example.com -d password=password -u kedge-cli: "$KEDGE_DEX_ISSUER/token"
set -euo pipefail

KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
ROOT=${KEDGE_DEX_DIR:-${TMPDIR:-/tmp}/kedge-dex}
# bcrypt (cost 10) of "password"
PASSWORD_HASH='$2a$10$fM67Az/iN/Ipmd45MpNM9u2nLKv/8U2fQGsAR5Do5k.dAwux.s7OG'

die() { echo "dex.sh: $*" >&2; exit 1; }

free_port() {
	local lo hi used p
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	hi=$((lo - 1)) lo=20000
	used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
	while :; do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		case "$used" in *" $p "*) continue ;; esac
		echo "$p"
		return
	done
}

our_pid() {
	local pid
	pid=$(cat "$D/dex.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$D/" && echo "$pid"
}

stop() {
	local pid i
	pid=$(our_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

ready() { [ -f "$D/env" ] && . "$D/env" && curl -fs --max-time 3 --cacert "$KEDGE_DEX_CA_FILE" "$KEDGE_DEX_ISSUER/.well-known/openid-configuration" >/dev/null 2>&1; }

user() { # email name uid group
	cat <<-EOF
		- email: $1
		  username: $2
		  preferredUsername: $2
		  name: $2
		  emailVerified: true
		  userID: $3
		  hash: '$PASSWORD_HASH'
		  groups: [$4]
	EOF
}

cmd_up() {
	local port secret uris
	[ -x "$KEDGE_CACHE/bin/dex" ] || die "$KEDGE_CACHE/bin/dex is missing; run: hack/tools/build.sh dex"
	if ready; then echo "dex.sh[$NAME]: already up ($KEDGE_DEX_ISSUER)" >&2; return 0; fi
	stop
	rm -rf "$D" && mkdir -p "$D"
	exec 8>"$ROOT/.ports.lock"
	flock 8
	port=$(free_port)

	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kedge-dex-ca" \
		-keyout "$D/ca.key" -out "$D/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$D/tls.key" -out "$D/tls.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$D/tls.ext"
	openssl x509 -req -in "$D/tls.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial -days 30 \
		-extfile "$D/tls.ext" -out "$D/tls.crt" 2>/dev/null
	secret=$(openssl rand -hex 24)
	uris=${KEDGE_DEX_REDIRECT_URIS:-https://127.0.0.1:8443/auth/callback}

	{
		cat <<-EOF
			issuer: https://127.0.0.1:$port/dex
			storage: {type: memory}
			web:
			  https: 127.0.0.1:$port
			  tlsCert: $D/tls.crt
			  tlsKey: $D/tls.key
			logger: {level: info, format: json}
			oauth2:
			  skipApprovalScreen: true
			  passwordConnector: local
			  responseTypes: [code]
			expiry: {idTokens: ${KEDGE_DEX_ID_TOKEN_EXPIRY:-1h}}
			staticClients:
			- id: kedge-cli
			  name: Kedge CLI
			  public: true
			- id: kedge-hub
			  name: Kedge hub
			  secret: $secret
			  redirectURIs:
		EOF
		tr ',' '\n' <<<"$uris" | sed '/^$/d; s/.*/  - "&"/'
		echo "enablePasswordDB: true"
		echo "staticPasswords:"
		user alice@example.com alice 6a5c6e0e-0001-4000-8000-00000000a11c acme
		user bob@example.com bob 6a5c6e0e-0002-4000-8000-000000000b0b acme
		user carol@example.com carol 6a5c6e0e-0003-4000-8000-0000000ca401 globex
		user admin@example.com admin 6a5c6e0e-0004-4000-8000-0000000ad814 kedge-admins
	} >"$D/config.yaml"

	cat >"$D/env" <<-EOF
		KEDGE_DEX_ISSUER=https://127.0.0.1:$port/dex
		KEDGE_DEX_PORT=$port
		KEDGE_DEX_CA_FILE=$D/ca.crt
		KEDGE_DEX_CLI_CLIENT_ID=kedge-cli
		KEDGE_DEX_HUB_CLIENT_ID=kedge-hub
		KEDGE_DEX_HUB_CLIENT_SECRET=$secret
		KEDGE_DEX_PASSWORD=password
		KEDGE_DEX_STATE_DIR=$D
	EOF
	start
	exec 8>&-
	echo "dex.sh[$NAME]: up at https://127.0.0.1:$port/dex (CA $D/ca.crt)" >&2
}

# Launches Dex on the config in $D and returns once it serves its discovery document.
start() {
	local deadline
	# 8>&-: Dex must not inherit the port lock of cmd_up, or the next `up` waits for this Dex to exit.
	setsid "$KEDGE_CACHE/bin/dex" serve "$D/config.yaml" >>"$D/dex.log" 2>&1 </dev/null 8>&- &
	echo $! >"$D/dex.pid"
	deadline=$((SECONDS + 60))
	until ready; do
		if ! our_pid >/dev/null || [ $SECONDS -ge $deadline ]; then
			tail -n 20 "$D/dex.log" >&2
			stop
			die "dex did not come up; log: $D/dex.log"
		fi
		sleep 0.2
	done
}

cmd_restart() {
	[ -f "$D/config.yaml" ] || die "$NAME is not up"
	stop
	start
	echo "dex.sh[$NAME]: restarted at $KEDGE_DEX_ISSUER (new signing keys, refresh tokens revoked)" >&2
}

main() {
	local cmd=${1:-}
	NAME=${2:-dex}
	[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] || die "NAME must match [a-z0-9][a-z0-9-]*"
	D=$ROOT/$NAME
	mkdir -p "$ROOT"
	case $cmd in
	up) cmd_up ;;
	restart) cmd_restart ;;
	down) stop; rm -rf "$D"; echo "dex.sh[$NAME]: down" >&2 ;;
	env) [ -f "$D/env" ] || die "$NAME is not up"; sed 's/^/export /' "$D/env" ;;
	*) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
}

main "$@"
