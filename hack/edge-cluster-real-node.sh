# shellcheck shell=bash
# The real node of `hack/edge-cluster.sh up NAME --real-node` (docs/real-node.md), sourced by edge-cluster.sh:
# containerd + runc, a CNI bridge, kube-proxy (iptables) and a kubelet that registers NODE with the cluster's
# apiserver. Needs root. Machine-wide state lives in fixed directories, so one real-node cluster runs per machine;
# RN_LOCK records which cluster owns them.
#
# Uses from edge-cluster.sh: $D $NAME $BIN $UP_TIMEOUT die log start our_pid stop_components wait_for kc fail.

RN_VAR=${KEDGE_REAL_NODE_VAR:-/var/lib/kedge-real-node} # containerd root, kubelet root, pod logs, CNI IPAM
RN_RUN=${KEDGE_REAL_NODE_RUN:-/run/kedge-real-node}     # containerd state and socket, network namespaces
RN_LOCK=$RN_VAR/owner                                     # "<cluster dir>" of the cluster that owns the node
RN_CLAIM_LOCK=/run/lock/kedge-real-node.lock              # flock'ed while a cluster checks and writes RN_LOCK
RN_SOCK=$RN_RUN/containerd.sock
RN_BRIDGE=kedge0
RN_POD_CIDR=${KEDGE_REAL_NODE_POD_CIDR:-10.85.0.0/24}
RN_CNI_BIN=${KEDGE_REAL_NODE_CNI_BIN:-/usr/lib/cni}        # Debian's containernetworking-plugins

# The IPv4 address of the interface of the default route: pods reach the apiserver there and the apiserver the kubelet.
node_ip() {
	local ip=${KEDGE_EDGE_NODE_IP:-}
	[ -n "$ip" ] || ip=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1)
	[ -n "$ip" ] || ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' | grep '\.' | head -1)
	[ -n "$ip" ] || die "no non-loopback IPv4 address found for the node; set KEDGE_EDGE_NODE_IP"
	case $ip in 127.*) die "the node IP cannot be loopback ($ip); set KEDGE_EDGE_NODE_IP" ;; esac
	echo "$ip"
}

rn_ctr() { ctr --address "$RN_SOCK" --namespace k8s.io "$@"; }

# Everything --real-node needs before anything starts; nothing is changed when a check fails.
rn_preflight() {
	local b owner
	[ "$(id -u)" -eq 0 ] || die "--real-node needs root (containerd, the kubelet, iptables and a bridge are machine-wide)"
	bash "$(dirname "${BASH_SOURCE[0]}")/tools/os-packages.sh" real-node || die "the real node's OS packages are missing (see above)"
	for b in kubelet kube-proxy; do
		[ -x "$BIN/$b" ] || die "$BIN/$b is missing; run: hack/tools/build.sh kube"
	done
	[ -x "$RN_CNI_BIN/bridge" ] || die "CNI plugins not found in $RN_CNI_BIN; set KEDGE_REAL_NODE_CNI_BIN"
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || die "the kernel has no overlay filesystem"
	# The early, friendly refusal; rn_claim decides for good.
	if owner=$(cat "$RN_LOCK" 2>/dev/null) && [ "$owner" != "$D" ] && [ -d "$owner" ]; then
		die "the real node is in use by the edge cluster in $owner (stop it with: $0 down $(basename "$owner"))"
	fi
	if iptables-save 2>/dev/null | grep -q '^:KUBE-' && [ ! -f "$RN_LOCK" ]; then
		die "iptables already has KUBE-* chains: another Kubernetes node runs here, and a real-node cluster would clash with it"
	fi
}

# Claims the machine's node for this cluster (RN_LOCK names its directory). Check and write happen under one flock, so
# two `up`s at once cannot both pass. Another owner whose directory exists holds the node; so does one whose claim is
# younger than an `up` may take (its directory may not exist yet); an older claim without a directory is a crashed
# cluster's, whose leftovers are removed. Called by cmd_up just before this cluster's directory is made; from then on
# a failing `up` runs stop_all, and rn_down (owner = this cluster) cleans up and drops the claim.
rn_claim() {
	local owner age
	exec 7>"$RN_CLAIM_LOCK"
	flock -w 60 7 || die "timed out waiting for another 'up' to claim the real node ($RN_CLAIM_LOCK)"
	if owner=$(cat "$RN_LOCK" 2>/dev/null) && [ "$owner" != "$D" ]; then
		age=$(($(date +%s) - $(stat -c %Y "$RN_LOCK")))
		if [ -d "$owner" ] || [ "$age" -lt "$UP_TIMEOUT" ]; then
			exec 7>&-
			die "the real node is in use by the edge cluster in $owner (stop it with: $0 down $(basename "$owner"))"
		fi
		log "cleaning up after the real node of $owner, whose directory is gone"
		rn_reclaim "$owner"
	fi
	mkdir -p "$RN_VAR" && echo "$D" >"$RN_LOCK"
	exec 7>&- # closed before any daemon starts, so none inherits the lock
}

# Host settings a node needs; idempotent. Pod traffic is forwarded and bridged traffic passes iptables (Services).
rn_host_setup() {
	modprobe br_netfilter 2>/dev/null || true
	sysctl -qw net.ipv4.ip_forward=1
	[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || sysctl -qw net.bridge.bridge-nf-call-iptables=1
}

rn_write_configs() {
	local ip=$1 kubelet_port=$2 kubelet_healthz=$3 proxy_healthz=$4 proxy_metrics=$5 c=$D/real-node
	mkdir -p "$c/cni"
	# containerd: its own socket, root and state (never the host's /run/containerd); the 4 settings that differ from
	# `containerd config default` on these machines are explained in docs/real-node.md.
	cat >"$c/containerd.toml" <<-EOF
		version = 2
		root = "$RN_VAR/containerd"
		state = "$RN_RUN/containerd"
		[grpc]
		  address = "$RN_SOCK"
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "$RN_PAUSE_IMAGE"
		  restrict_oom_score_adj = true
		  netns_mounts_under_state_dir = true
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    snapshotter = "overlayfs"
		    default_runtime_name = "runc"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        SystemdCgroup = false
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "$RN_CNI_BIN"
		    conf_dir = "$c/cni"
	EOF
	cat >"$c/cni/10-kedge.conflist" <<-EOF
		{
		  "cniVersion": "1.0.0",
		  "name": "kedge-real-node",
		  "plugins": [
		    {"type": "bridge", "bridge": "$RN_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
		     "ipam": {"type": "host-local", "dataDir": "$RN_VAR/cni", "ranges": [[{"subnet": "$RN_POD_CIDR"}]],
		              "routes": [{"dst": "0.0.0.0/0"}]}},
		    {"type": "portmap", "capabilities": {"portMappings": true}}
		  ]
		}
	EOF
	# The kubelet trusts only the apiserver's client certificate (x509) and asks the apiserver before serving
	# (Webhook), on the node IP alone; its serving certificate is signed by the cluster's CA (the apiserver checks it).
	cat >"$c/kubelet.yaml" <<-EOF
		apiVersion: kubelet.config.k8s.io/v1beta1
		kind: KubeletConfiguration
		failCgroupV1: false
		cgroupDriver: cgroupfs
		failSwapOn: false
		containerRuntimeEndpoint: unix://$RN_SOCK
		podLogsDir: $RN_VAR/pod-logs
		address: $ip
		port: $kubelet_port
		readOnlyPort: 0
		healthzBindAddress: 127.0.0.1
		healthzPort: $kubelet_healthz
		tlsCertFile: $D/pki/kubelet.crt
		tlsPrivateKeyFile: $D/pki/kubelet.key
		authentication:
		  anonymous: {enabled: false}
		  webhook: {enabled: true}
		  x509: {clientCAFile: $D/pki/ca.crt}
		authorization: {mode: Webhook}
		clusterDomain: cluster.local
		resolvConf: /etc/resolv.conf
		serializeImagePulls: false
		evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%", nodefs.inodesFree: "2%"}
		imageGCHighThresholdPercent: 100
		imageGCLowThresholdPercent: 99
		oomScoreAdj: 0
	EOF
	cat >"$c/kube-proxy.yaml" <<-EOF
		apiVersion: kubeproxy.config.k8s.io/v1alpha1
		kind: KubeProxyConfiguration
		mode: iptables
		hostnameOverride: $NODE
		clusterCIDR: $RN_POD_CIDR
		bindAddress: $ip
		healthzBindAddress: 127.0.0.1:$proxy_healthz
		metricsBindAddress: 127.0.0.1:$proxy_metrics
		nodePortAddresses: [primary]
		conntrack: {maxPerCore: 0}
		clientConnection: {kubeconfig: $D/kubeconfig}
	EOF
}

# A CA for the node's TLS: the kubelet's serving certificate (node IP) and the apiserver's kubelet-client certificate.
rn_pki() {
	local ip=$1 p=$D/pki
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kedge-edge-$NAME-ca" \
		-keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
		-keyout "$p/kubelet-client.key" -out "$p/kubelet-client.csr" 2>/dev/null
	openssl x509 -req -in "$p/kubelet-client.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
		-extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$p/kubelet-client.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:$NODE" \
		-keyout "$p/kubelet.key" -out "$p/kubelet.csr" 2>/dev/null
	openssl x509 -req -in "$p/kubelet.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
		-extfile <(printf 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:%s,DNS:%s\n' "$ip" "$NODE") \
		-out "$p/kubelet.crt" 2>/dev/null
	chmod 600 "$p"/*.key
}

# Starts containerd and imports the test images built by rn_build_images.
rn_start_containerd() {
	local tar
	start containerd containerd --config "$D/real-node/containerd.toml"
	wait_for "containerd" containerd rn_ctr version
	for tar in "${RN_IMAGE_TARS[@]}"; do
		rn_ctr images import "$tar" >>"$D/containerd-import.log" 2>&1 ||
			fail "importing $tar into containerd" containerd-import
	done
}

# Called by cmd_up after the control plane: containerd, kube-proxy and the kubelet; returns once NODE is Ready.
rn_up() {
	local ip=$1 kubelet_port=$2 kubelet_healthz=$3 proxy_healthz=$4 proxy_metrics=$5
	mkdir -p "$RN_VAR" "$RN_RUN"
	rn_host_setup
	rn_write_configs "$ip" "$kubelet_port" "$kubelet_healthz" "$proxy_healthz" "$proxy_metrics"
	rn_start_containerd
	start kube-proxy "$BIN/kube-proxy" --config="$D/real-node/kube-proxy.yaml" --v=1
	start kubelet "$BIN/kubelet" --config="$D/real-node/kubelet.yaml" --kubeconfig="$D/kubeconfig" \
		--root-dir="$RN_VAR/kubelet" --hostname-override="$NODE" --node-ip="$ip" --v=1
	wait_for "node $NODE registered" kubelet kc get node "$NODE"
	wait_for "node $NODE Ready" kubelet kc wait --for=condition=Ready --timeout=2s node/"$NODE"
}

# The images the real node needs, built (or taken from the cache) before anything starts: sets RN_PAUSE_IMAGE,
# RN_WEB_IMAGE (their references) and RN_IMAGE_TARS (what containerd imports).
rn_build_images() {
	local lines name ref tar
	lines=$(bash "$(dirname "${BASH_SOURCE[0]}")/images/build.sh" pause web) || die "building the test images failed"
	RN_IMAGE_TARS=()
	while read -r name ref tar; do
		RN_IMAGE_TARS+=("$tar")
		case $name in pause) RN_PAUSE_IMAGE=$ref ;; web) RN_WEB_IMAGE=$ref ;; esac
	done <<<"$lines"
}

# Stops the node and removes what it created: pods first (the kubelet tears down their network through the CNI),
# then processes by pid, kube-proxy's and the kubelet's iptables chains, mounts, the bridge, the state directories.
# Only when this cluster owns the node (RN_LOCK); another cluster's node is never touched.
rn_down() {
	local owner deadline ch
	owner=$(cat "$RN_LOCK" 2>/dev/null) || return 0
	[ "$owner" = "$D" ] || return 0
	if our_pid kubelet >/dev/null && our_pid kube-apiserver >/dev/null; then
		# No controller recreates what is deleted, then every pod goes at once; the kubelet stops their sandboxes.
		stop_components kube-controller-manager kube-scheduler
		kc delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
		deadline=$((SECONDS + 30))
		while [ -n "$(rn_ctr tasks ls -q 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
	fi
	stop_components kubelet kube-proxy
	if our_pid containerd >/dev/null; then
		# Containers the kubelet did not stop (it was gone, or too slow): kill their tasks before containerd.
		for ch in $(rn_ctr tasks ls -q 2>/dev/null); do rn_ctr tasks kill -s SIGKILL "$ch" >/dev/null 2>&1 || true; done
	fi
	stop_components containerd
	rn_clean_host
}

# A crashed or removed cluster's node: its processes by command line (they name its directory), then the host.
rn_reclaim() {
	local p
	for p in $(pgrep -f -- "$1/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
	rn_clean_host
}

# What a node leaves on the host once its processes are gone.
rn_clean_host() {
	rn_kill_shims
	"$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
	rn_remove_kube_chains
	rn_unmount_under "$RN_RUN" "$RN_VAR"
	ip link del "$RN_BRIDGE" 2>/dev/null || true
	rn_remove_cgroups
	rm -rf "$RN_RUN" "${RN_VAR:?}/containerd" "$RN_VAR/kubelet" "$RN_VAR/pod-logs" "$RN_VAR/cni" "$RN_LOCK"
	rmdir "$RN_VAR" 2>/dev/null || true
}

# containerd-shim-runc-v2 processes outlive containerd; ours name our socket on their command line.
rn_kill_shims() {
	local p
	for p in $(pgrep -f "containerd-shim.*-address $RN_SOCK" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
}

# The KUBE-* chains of kube-proxy (left by a crash) and of the kubelet (KUBE-FIREWALL, KUBE-KUBELET-CANARY …).
rn_remove_kube_chains() {
	local ipt table chain rule
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		for table in filter nat mangle; do
			"$ipt-save" -t "$table" 2>/dev/null | grep -E '^-A [A-Z-]+ .*-j KUBE-' | while read -r rule; do
				# shellcheck disable=SC2086 # the rule is iptables-save's own word list
				"$ipt" -t "$table" ${rule/-A/-D} 2>/dev/null || true
			done || true # no such rule: grep's status 1
			for chain in $("$ipt-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
				"$ipt" -t "$table" -F "$chain" 2>/dev/null || true
			done
			for chain in $("$ipt-save" -t "$table" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p'); do
				"$ipt" -t "$table" -X "$chain" 2>/dev/null || true
			done
		done
	done
}

# Unmounts everything mounted below the given directories, deepest first (netns, shm, overlay rootfs, the kubelet's
# self bind mount of its root directory).
rn_unmount_under() {
	local dir m
	for dir in "$@"; do
		while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
			awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
		)
	done
}

# The kubelet's cgroups (cgroupfs driver: kubepods under every v1 controller, or in the v2 tree), deepest first.
rn_remove_cgroups() {
	local top
	for top in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
		[ -d "$top" ] && find "$top" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}
