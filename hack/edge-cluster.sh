#!/usr/bin/env bash
# One Kubernetes "edge cluster" on loopback for tests and demos, without Docker or root:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (one fake, untainted node).
# With --real-node (root; one per machine): no kwok, but a real node (containerd, runc, a CNI bridge, kube-proxy and a
# kubelet) that runs real containers from local images, and an apiserver on the node IP that pods reach through the
# `kubernetes` Service (docs/real-node.md).
#
#   hack/edge-cluster.sh up NAME [--real-node]  start (idempotent); returns once a Deployment can become Ready
#   hack/edge-cluster.sh down NAME        stop every process and remove the cluster's directory
#   hack/edge-cluster.sh kubeconfig NAME  print the admin kubeconfig path
#   hack/edge-cluster.sh env NAME         print shell variables (ports, server, token, kubeconfig): eval "$(… env e1)"
#   hack/edge-cluster.sh status NAME      exit 0 when the apiserver answers /readyz
#
# Binaries come from $KEDGE_CACHE/bin (hack/tools/build.sh etcd kube kwok). Data, logs and pid files live in
# ${KEDGE_EDGE_DIR:-${TMPDIR:-/tmp}/kedge-edges}/NAME. Ports are picked free at `up`, so clusters can run side by side.
# kwok also serves the kubelet API (logs, exec, port-forward, attach) on KEDGE_EDGE_KWOK_PORT with its CRDs enabled
# (Logs, ClusterLogs, Exec, …); the apiserver reaches it through the node's InternalIP 127.0.0.1.
set -euo pipefail
# shellcheck source=hack/edge-cluster-real-node.sh
. "$(dirname "${BASH_SOURCE[0]}")/edge-cluster-real-node.sh"

KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
BIN=$KEDGE_CACHE/bin
KWOK_SHARE=$KEDGE_CACHE/share/kwok
ROOT=${KEDGE_EDGE_DIR:-${TMPDIR:-/tmp}/kedge-edges}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok) # start order; stopped in reverse
KWOK_CRDS=Logs,ClusterLogs,Exec,ClusterExec,PortForward,ClusterPortForward,Attach,ClusterAttach
UP_TIMEOUT=${KEDGE_EDGE_UP_TIMEOUT:-180}

die() { echo "edge-cluster: $*" >&2; exit 1; }
log() { echo "edge-cluster[$NAME]: $*" >&2; }

usage() {
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ---- ports -------------------------------------------------------------------------------------------------------

# Ports below the kernel's ephemeral range, not listening, and not recorded by another edge cluster's env file.
# Called with $ROOT/.ports.lock held, so concurrent `up`s never pick the same port.
pick_ports() {
	local n=$1 lo hi used p picked=()
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	hi=$((lo - 1)) lo=20000
	used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un | tr '\n' ' ')"
	used+=" $(cat "$ROOT"/*/ports 2>/dev/null | tr '\n' ' ') "
	while [ ${#picked[@]} -lt "$n" ]; do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		[ "$p" -lt "$hi" ] || continue
		case "$used" in *" $p "*) continue ;; esac
		used+="$p "
		picked+=("$p")
	done
	echo "${picked[@]}"
}

# ---- processes ---------------------------------------------------------------------------------------------------

# Starts a component in its own session (a Ctrl-C in the caller's terminal does not reach it); pid in $D/<name>.pid.
start() {
	local name=$1
	shift
	setsid "$@" >"$D/$name.log" 2>&1 </dev/null &
	echo $! >"$D/$name.pid"
}

# A pid counts as ours only if its command line mentions this cluster's directory (guards against pid reuse).
our_pid() {
	local pid
	pid=$(cat "$D/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$D/" && echo "$pid"
}

# stop_components NAME...: TERM to each (in the order given), then KILL whatever still runs after 15 s.
stop_components() {
	local c pid pids=() deadline
	for c in "$@"; do
		pid=$(our_pid "$c") || continue
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	deadline=$((SECONDS + 15))
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
	done
}

stop_all() {
	local i reversed=()
	rn_down # the real node, if this cluster owns it (it needs the apiserver to delete the pods)
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do reversed+=("${COMPONENTS[$i]}"); done
	stop_components "${reversed[@]}"
}

# wait_for DESCRIPTION COMPONENT-WHOSE-LOG-TO-SHOW COMMAND...
wait_for() {
	local what=$1 comp=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ -n "$comp" ] && ! our_pid "$comp" >/dev/null; then
			fail "$comp exited while waiting for $what" "$comp"
		fi
		[ $SECONDS -lt "$DEADLINE" ] || fail "timed out waiting for $what" "$comp"
		sleep 0.5
	done
}

fail() {
	log "$1; last lines of $D/${2:-kube-apiserver}.log:"
	tail -n 25 "$D/${2:-kube-apiserver}.log" >&2 || true
	stop_all
	log "stopped; logs kept in $D (remove with: $0 down $NAME)"
	exit 1
}

kc() { "$BIN/kubectl" --kubeconfig="$D/kubeconfig" --request-timeout=20s "$@"; }

# ---- commands ----------------------------------------------------------------------------------------------------

cmd_status() { [ -f "$D/env" ] && . "$D/env" && curl -fsk --max-time 3 "$KEDGE_EDGE_SERVER/readyz" >/dev/null 2>&1; }

# kwok with its own "fast" stages and one fake node, Ready.
start_kwok() {
	local kwp=$1 stages f
	stages="$KWOK_SHARE/stages"
	for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		cat "$stages/$f"
		echo '---'
	done >"$D/kwok-stages.yaml"
	kc apply --server-side -f "$KWOK_SHARE/crds" >"$D/kwok-crds.log" 2>&1 || fail "applying kwok CRDs" kwok-crds
	kc wait --for=condition=Established --timeout=60s -f "$KWOK_SHARE/crds" >>"$D/kwok-crds.log" 2>&1 ||
		fail "kwok CRDs not Established" kwok-crds
	start kwok "$BIN/kwok" --kubeconfig="$D/kubeconfig" --config="$D/kwok-stages.yaml" --manage-all-nodes=true \
		--node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-port="$kwp" \
		--server-address="127.0.0.1:$kwp" --tls-cert-file="$D/pki/apiserver.crt" \
		--tls-private-key-file="$D/pki/apiserver.key" --enable-crds="$KWOK_CRDS"

	kc apply -f - >/dev/null <<-'EOF' || fail "creating the fake node"
		apiVersion: v1
		kind: Node
		metadata:
		  name: kwok-node-0
		  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
		  labels: {kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
		status:
		  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
		  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
	EOF
	wait_for "node kwok-node-0 Ready" kwok kc wait --for=condition=Ready --timeout=2s node/kwok-node-0
}

cmd_up() {
	local b ep pp ap kcm sch kwp token host=127.0.0.1 rn_ports=() node_ip= probe_image=kedge.invalid/probe:0
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl; do
		[ -x "$BIN/$b" ] || die "$BIN/$b is missing; run: hack/tools/build.sh etcd kube kwok"
	done
	[ -d "$KWOK_SHARE/stages" ] || die "$KWOK_SHARE/stages is missing; run: hack/tools/build.sh kwok"
	for b in openssl curl ss setsid flock; do command -v $b >/dev/null || die "'$b' is required"; done

	if cmd_status; then
		log "already up ($D)"
		return 0
	fi
	if [ -n "$REAL_NODE" ]; then
		rn_preflight
		rn_build_images
		node_ip=$(node_ip) host=$node_ip
	fi
	[ ! -d "$D" ] || { stop_all; rm -rf "$D"; }
	[ -z "$REAL_NODE" ] || rn_claim
	mkdir -p "$ROOT" "$D/pki"
	DEADLINE=$((SECONDS + UP_TIMEOUT))
	local t0=$SECONDS

	exec 8>"$ROOT/.ports.lock"
	flock 8
	read -r ep pp ap kcm sch kwp <<<"$(pick_ports 6)"
	printf '%s\n' "$ep" "$pp" "$ap" "$kcm" "$sch" "$kwp" >"$D/ports"
	if [ -n "$REAL_NODE" ]; then # kubelet, kubelet healthz, kube-proxy healthz and metrics
		read -ra rn_ports <<<"$(pick_ports 4)"
		printf '%s\n' "${rn_ports[@]}" >>"$D/ports"
	fi
	exec 8>&-

	token=$(openssl rand -hex 24)
	openssl genrsa -out "$D/pki/sa.key" 2048 2>/dev/null
	openssl rsa -in "$D/pki/sa.key" -pubout -out "$D/pki/sa.pub" 2>/dev/null
	echo "$token,kedge-edge-admin,kedge-edge-admin,\"system:masters\"" >"$D/tokens.csv"
	chmod 600 "$D/tokens.csv"

	start etcd "$BIN/etcd" --name "$NAME" --data-dir "$D/etcd" --unsafe-no-fsync \
		--listen-client-urls "http://127.0.0.1:$ep" --advertise-client-urls "http://127.0.0.1:$ep" \
		--listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
		--initial-cluster "$NAME=http://127.0.0.1:$pp" --log-level=warn
	wait_for etcd etcd curl -fs --max-time 2 "http://127.0.0.1:$ep/health"

	# Loopback and no `kubernetes` endpoints with kwok. A real node's pods reach the apiserver on the node IP through
	# the `kubernetes` Service (the lease reconciler writes its endpoints; the self-signed certificate covers the bind
	# address and 10.96.0.1), and the apiserver calls the kubelet with a client certificate and checks its certificate.
	local apiserver_node=(--endpoint-reconciler-type=none)
	if [ -n "$REAL_NODE" ]; then
		rn_pki "$node_ip"
		apiserver_node=(--kubelet-client-certificate="$D/pki/kubelet-client.crt"
			--kubelet-client-key="$D/pki/kubelet-client.key" --kubelet-certificate-authority="$D/pki/ca.crt")
	fi
	start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ep" \
		--bind-address="$host" --advertise-address="$host" --secure-port="$ap" --cert-dir="$D/pki" \
		--token-auth-file="$D/tokens.csv" --authorization-mode=RBAC "${apiserver_node[@]}" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$D/pki/sa.pub" --service-account-signing-key-file="$D/pki/sa.key" \
		--service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --profiling=false \
		--kubelet-preferred-address-types=InternalIP
	wait_for "kube-apiserver /readyz" kube-apiserver curl -fsk --max-time 2 "https://$host:$ap/readyz"

	cat >"$D/kubeconfig" <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: $NAME
		  cluster:
		    server: https://$host:$ap
		    certificate-authority-data: $(base64 -w0 <"$D/pki/apiserver.crt")
		users:
		- name: kedge-edge-admin
		  user:
		    token: $token
		contexts:
		- name: $NAME
		  context: {cluster: $NAME, user: kedge-edge-admin}
		current-context: $NAME
	EOF
	chmod 600 "$D/kubeconfig"
	cat >"$D/env" <<-EOF
		KEDGE_EDGE_NAME=$NAME
		KEDGE_EDGE_CLUSTER_DIR=$D
		KEDGE_EDGE_KUBECONFIG=$D/kubeconfig
		KEDGE_EDGE_SERVER=https://$host:$ap
		KEDGE_EDGE_TOKEN=$token
		KEDGE_EDGE_CA_FILE=$D/pki/apiserver.crt
		KEDGE_EDGE_APISERVER_PORT=$ap
		KEDGE_EDGE_ETCD_PORT=$ep
		KEDGE_EDGE_ETCD_PEER_PORT=$pp
		KEDGE_EDGE_KCM_PORT=$kcm
		KEDGE_EDGE_SCHEDULER_PORT=$sch
	EOF
	if [ -n "$REAL_NODE" ]; then
		cat >>"$D/env" <<-EOF
			KEDGE_EDGE_NODE=$NODE
			KEDGE_EDGE_NODE_IP=$node_ip
			KEDGE_EDGE_REAL_NODE=1
			KEDGE_EDGE_CONTAINERD_ADDRESS=$RN_SOCK
			KEDGE_EDGE_KUBELET_PORT=${rn_ports[0]}
		EOF
	else
		printf 'KEDGE_EDGE_KWOK_PORT=%s\nKEDGE_EDGE_NODE=kwok-node-0\n' "$kwp" >>"$D/env"
	fi

	start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$D/kubeconfig" \
		--authentication-kubeconfig="$D/kubeconfig" --authorization-kubeconfig="$D/kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --secure-port="$kcm" --cert-dir="$D/pki/kcm" \
		--service-account-private-key-file="$D/pki/sa.key" --root-ca-file="$D/pki/apiserver.crt" \
		--use-service-account-credentials=false --controllers='*' --profiling=false
	start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$D/kubeconfig" \
		--authentication-kubeconfig="$D/kubeconfig" --authorization-kubeconfig="$D/kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --secure-port="$sch" --cert-dir="$D/pki/scheduler" \
		--profiling=false

	if [ -n "$REAL_NODE" ]; then
		rn_up "$node_ip" "${rn_ports[@]}"
		printf 'KEDGE_EDGE_WEB_IMAGE=%s\nKEDGE_EDGE_PAUSE_IMAGE=%s\n' "$RN_WEB_IMAGE" "$RN_PAUSE_IMAGE" >>"$D/env"
		probe_image=$RN_WEB_IMAGE
	else
		start_kwok "$kwp"
	fi
	wait_for "ServiceAccount default/default" kube-controller-manager kc get serviceaccount default -n default

	# Prove the whole chain (controller-manager → scheduler → kwok) with a throwaway Deployment.
	kc create deployment kedge-probe -n default --image="$probe_image" --replicas=1 >/dev/null ||
		fail "creating the probe Deployment"
	wait_for "probe Deployment readyReplicas=1" kube-scheduler \
		kc wait -n default --for=jsonpath='{.status.readyReplicas}'=1 --timeout=2s deployment/kedge-probe
	kc delete deployment kedge-probe -n default --cascade=foreground --timeout=60s >/dev/null ||
		fail "deleting the probe Deployment"
	log "up in $((SECONDS - t0))s: $D/kubeconfig (server https://$host:$ap)${REAL_NODE:+, real node $NODE}"
}

cmd_down() {
	[ -d "$D" ] || { log "not running"; return 0; }
	stop_all
	rm -rf "$D"
	log "down"
}

main() {
	[ $# -eq 3 ] && [ "$1" = up ] && [ "$3" != --real-node ] && die "unknown option '$3' (up takes --real-node)"
	[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = up ]; } || usage
	NAME=$2 REAL_NODE=${3:+1}
	[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] || die "NAME must match [a-z0-9][a-z0-9-]* (got '$NAME')"
	D=$ROOT/$NAME NODE=$NAME-node
	case $1 in
	up) cmd_up ;;
	down) cmd_down ;;
	kubeconfig) [ -f "$D/kubeconfig" ] || die "$NAME is not up"; echo "$D/kubeconfig" ;;
	env) [ -f "$D/env" ] || die "$NAME is not up"; sed 's/^/export /' "$D/env" ;;
	status) cmd_status ;;
	*) usage ;;
	esac
}

main "$@"
