#!/usr/bin/env bash
# Builds Kedge's external tools from the pinned Go modules under hack/tools/<name>/ into a versioned cache:
#   $KEDGE_CACHE/tools/<name>/<stamp>/bin/<binary>   one directory per input hash (go.mod, go.sum, sources, flags)
#   $KEDGE_CACHE/bin/<binary>                        symlink to the current stamp's binary
#   $KEDGE_CACHE/share/kwok/{stages,crds}            kwok's own stage and CRD YAMLs, from its module
# A tool whose stamp directory is complete is not rebuilt (no `go` invocation). See hack/README.md.
#
# Usage: hack/tools/build.sh [all | kcp | kcp-cli | kube | etcd | kwok | dex | helm ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
ALL_TOOLS=(kcp kcp-cli kube etcd kwok dex helm)

# Per tool: packages to build, binaries they produce, cgo, extra ldflags. Versions for ldflags come from go.mod.
require_version() { awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$HERE/$1/go.mod"; }

tool_spec() {
	local t=$1 kv minor
	CGO=0 LDFLAGS="-s -w" PKGS=() BINS=()
	case $t in
	kcp)
		# Same as kcp's Makefile: Kubernetes version + "+kcp-" + kcp tag. Never gitVersion=<kcp tag> alone.
		kv="$(require_version kcp k8s.io/kubernetes)+kcp-$(require_version kcp github.com/kcp-dev/kcp)"
		minor=$(echo "$kv" | cut -d. -f2)
		LDFLAGS="-X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=1"
		LDFLAGS+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
		LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitVersion=$kv -X k8s.io/client-go/pkg/version.gitMajor=1"
		LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
		PKGS=(github.com/kcp-dev/kcp/cmd/kcp) BINS=(kcp) ;;
	kcp-cli)
		PKGS=(github.com/kcp-dev/cli/cmd/kubectl-kcp github.com/kcp-dev/cli/cmd/kubectl-ws
			github.com/kcp-dev/cli/cmd/kubectl-create-workspace)
		BINS=(kubectl-kcp kubectl-ws kubectl-create-workspace) ;;
	kube)
		kv=$(require_version kube k8s.io/kubernetes)
		minor=$(echo "$kv" | cut -d. -f2)
		LDFLAGS+=" -X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=1"
		LDFLAGS+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
		LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitVersion=$kv -X k8s.io/client-go/pkg/version.gitMajor=1"
		LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
		# kubelet and kube-proxy: the real node of `hack/edge-cluster.sh up NAME --real-node` (docs/real-node.md).
		PKGS=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
			k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
			k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
		BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy) ;;
	etcd)
		PKGS=(.) BINS=(etcd) ;;
	kwok)
		LDFLAGS+=" -X sigs.k8s.io/kwok/pkg/consts.Version=$(require_version kwok sigs.k8s.io/kwok)"
		PKGS=(sigs.k8s.io/kwok/cmd/kwok) BINS=(kwok) ;;
	dex)
		CGO=1 # github.com/mattn/go-sqlite3
		LDFLAGS+=" -X main.version=v2.45.1" # the tag of the pseudo-version pinned in dex/go.mod
		PKGS=(github.com/dexidp/dex/cmd/dex) BINS=(dex) ;;
	helm)
		LDFLAGS+=" -X helm.sh/helm/v3/internal/version.version=$(require_version helm helm.sh/helm/v3)"
		LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
		PKGS=(helm.sh/helm/v3/cmd/helm) BINS=(helm) ;;
	*) echo "build.sh: unknown tool '$t' (known: ${ALL_TOOLS[*]})" >&2; return 1 ;;
	esac
}

# The stamp covers every file of the tools module (go.mod, go.sum, main.go …) plus the build flags and this
# script's tool spec, so changing any of them yields a new directory and the old one stays usable until pruned.
stamp_of() {
	local t=$1
	{
		(cd "$HERE/$t" && find . -type f ! -name '*.log' -print0 | sort -z | xargs -0 sha256sum)
		echo "cgo=$CGO ldflags=$LDFLAGS pkgs=${PKGS[*]} bins=${BINS[*]} goos=$(uname -s) goarch=$(uname -m) format=1"
	} | sha256sum | cut -c1-16
}

link_bins() {
	local t=$1 dir=$2 b
	mkdir -p "$KEDGE_CACHE/bin"
	for b in "${BINS[@]}"; do
		ln -sfn "../tools/$t/$(basename "$dir")/bin/$b" "$KEDGE_CACHE/bin/$b"
	done
	if [ "$t" = kwok ]; then # $KEDGE_CACHE/share/kwok/{stages,crds}
		ln -sfn "../tools/kwok/$(basename "$dir")/share" "$KEDGE_CACHE/share/kwok.tmp" &&
			mv -T "$KEDGE_CACHE/share/kwok.tmp" "$KEDGE_CACHE/share/kwok"
	fi
}

# Keeps the two newest stamps of a tool (the current one and the previous, e.g. for switching branches).
prune() {
	local old
	for old in $(cd "$KEDGE_CACHE/tools/$1" && ls -1td -- */ 2>/dev/null | grep -v '\.tmp\.' | sed 's|/$||' | tail -n +3); do
		rm -rf "${KEDGE_CACHE:?}/tools/$1/$old" "$KEDGE_CACHE/tools/$1/build-$old.log"
	done
}

GO_CHECKED=
check_go() {
	local want=$1 have
	if ! command -v go >/dev/null 2>&1; then
		echo "build.sh: 'go' is not on PATH. Install Go >= $want (https://go.dev/dl/) and retry." >&2
		exit 2
	fi
	have=$(GOTOOLCHAIN=local go env GOVERSION) have=${have#go}
	have=${have%%[!0-9.]*}
	if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
		echo "build.sh: Go $have is older than the 'go $want' directive of hack/tools/*/go.mod. Install Go >= $want." >&2
		exit 2
	fi
	GO_CHECKED=1
}

# Runs with the global build lock held (one build at a time: 2 cores, and a kcp link alone peaks at several GiB).
build_tool() {
	local t=$1 stamp=$2 final=$3 log=$4 tmp start go_dir
	tmp="$final.tmp.$$"
	rm -rf "$tmp" && mkdir -p "$tmp/bin"
	start=$SECONDS
	exec >"$log" 2>&1 # build_tool runs in a subshell; everything below goes to the tool's log
	echo "# $(date -u +%FT%TZ) building $t (stamp $stamp) with $(go env GOVERSION)"
	cd "$HERE/$t" || return 1
	set -x
	CGO_ENABLED=$CGO GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false" \
		GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/kcp-dev/*" \
		go build -trimpath -ldflags "$LDFLAGS" -o "$tmp/bin/" "${PKGS[@]}" 9>&- || return 1
	{ set +x; } 2>/dev/null
	for b in "${BINS[@]}"; do [ -x "$tmp/bin/$b" ] || { echo "missing binary $b" >>"$log"; return 1; }; done
	if [ "$t" = kwok ]; then
		# kwok's own stage YAMLs (fast node/pod lifecycle), taken from the module cache, never copied into the repo.
		go_dir=$(cd "$HERE/kwok" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) || return 1
		# Also its CRDs (Logs, Exec, PortForward, Attach …) for `kwok --enable-crds`.
		mkdir -p "$tmp/share" &&
			cp -r "$go_dir/kustomize/stage" "$tmp/share/stages" &&
			cp -r "$go_dir/kustomize/crd/bases" "$tmp/share/crds" && chmod -R u+w "$tmp/share" || return 1
	fi
	echo "built_in=$((SECONDS - start))s go=$(go env GOVERSION) date=$(date -u +%FT%TZ)" >"$tmp/STAMP" || return 1
	rm -rf "$final" && mv "$tmp" "$final" || return 1
}

main() {
	local tools=() t stamp final log rc=0
	[ $# -gt 0 ] || set -- all
	for t in "$@"; do
		if [ "$t" = all ]; then tools+=("${ALL_TOOLS[@]}"); else tools+=("$t"); fi
	done
	mkdir -p "$KEDGE_CACHE/tools" "$KEDGE_CACHE/bin" "$KEDGE_CACHE/share"
	for t in "${tools[@]}"; do
		tool_spec "$t" || exit 2
		stamp=$(stamp_of "$t")
		final="$KEDGE_CACHE/tools/$t/$stamp"
		log="$KEDGE_CACHE/tools/$t/build-$stamp.log"
		mkdir -p "$KEDGE_CACHE/tools/$t"
		if [ -f "$final/STAMP" ]; then
			link_bins "$t" "$final"
			echo "$t: cached"
			continue
		fi
		exec 9>"$KEDGE_CACHE/tools/.build.lock"
		if ! flock -n 9; then
			echo "$t: waiting for another build.sh to finish its build …"
			flock 9
		fi
		if [ -f "$final/STAMP" ]; then # built by the other invocation while we waited
			echo "$t: cached (built by a concurrent build.sh)"
		else
			[ -n "$GO_CHECKED" ] || check_go "$(awk '$1 == "go" { print $2; exit }' "$HERE/$t/go.mod")"
			echo "$t: building (log: $log) …"
			if ! (build_tool "$t" "$stamp" "$final" "$log"); then
				rm -rf "$final.tmp."*
				echo "$t: FAILED; last lines of $log:" >&2
				tail -n 40 "$log" >&2
				exec 9>&-
				rc=1
				break
			fi
			echo "$t: built in $(sed -n 's/^built_in=\([0-9]*\)s.*/\1/p' "$final/STAMP")s"
			prune "$t"
		fi
		exec 9>&-
		link_bins "$t" "$final"
	done
	return $rc
}

main "$@"
