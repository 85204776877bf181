#!/usr/bin/env bash
# Builds images locally with buildah, without a registry (docs/real-node.md, docs/images.md):
#   pause        the pod sandbox image of the real-node edge cluster (pause.c, compiled static with gcc)
#   web          Debian's static busybox serving /www with httpd on :8080 (kedge-web), the test workload
#   node-base    Node.js 24 (the project's own binary) on Debian's libc and libstdc++, plus npm: what the Dockerfile
#                builds FROM here, where docker.io/library/node cannot be pulled
#   kcp          the kcp binary the tools build ($KEDGE_CACHE/bin/kcp, static), for the kedge-hub chart's sidecar
#   kedge-hub, kedge-agent, kedge
#                the repository's Dockerfile (its three targets) built FROM node-base
# Each image is tagged with the hash of its inputs and written as a docker-archive to
# $KEDGE_CACHE/images/<name>-<hash>.tar; a tar that exists is not built again.
#
# Usage: hack/images/build.sh [pause | web | kcp | node-base | kedge-hub | kedge-agent | kedge ...]
#        prints one line per image: NAME REF TARBALL
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
OUT=$KEDGE_CACHE/images
BUSYBOX=${KEDGE_BUSYBOX:-/bin/busybox}
NODE_BIN=${KEDGE_IMAGE_NODE:-$REPO/node_modules/node/bin/node}
KCP_BIN=${KEDGE_IMAGE_KCP:-$KEDGE_CACHE/bin/kcp}
# Applets the web image links; `kubectl exec` in the tests uses cat, ls and wget.
APPLETS=(sh cat echo env hostname httpd id ls nc ps sleep wget)
# Debian packages of node-base: the shared libraries Node.js links (ldd node).
BASE_DEBS=(libc6 libgcc-s1 libstdc++6)
# What the Dockerfile reads (its COPY sources).
KEDGE_INPUTS=(Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src bin crds config)

die() { echo "images: $*" >&2; exit 1; }

# buildah with its own storage under the cache (vfs: works in any filesystem, no fuse-overlayfs needed).
bah() { buildah --root "$OUT/.buildah/root" --runroot "$OUT/.buildah/run" --storage-driver vfs "$@"; }

# The hash of an image's inputs: directories (every file's name relative to the directory, and its contents), files and
# <(…) outputs (contents), and prepare(). Nothing depends on where the checkout is, so every clone on a machine shares
# the cached images (an absolute path here once made each CI clone rebuild everything, npm layer included).
input_hash() {
	local p
	{
		for p in "$@"; do
			if [ -d "$p" ]; then
				(cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
			else
				sha256sum <"$p"
			fi
		done
		# What of this script shapes an image's content: the build contexts and the lists; not comments or housekeeping,
		# so editing those does not rebuild every image (node-base's npm layer takes minutes).
		{ declare -f prepare; echo "${APPLETS[*]} ${BASE_DEBS[*]} ${KEDGE_INPUTS[*]}"; } | sha256sum
	} | sha256sum | cut -c1-12
}

# True when the ELF file has no program interpreter (static).
file_static() { ! grep -q 'ld-linux' <(head -c 4096 "$1" | tr -c '[:print:]' '\n'); }

# The candidate versions of the base's Debian packages (a security update yields a new base).
deb_versions() { apt-cache show --no-all-versions "${BASE_DEBS[@]}" 2>/dev/null | grep -E '^(Package|Version):'; }

# prepare NAME CONTEXT: fills the build context of NAME.
prepare() {
	local name=$1 ctx=$2 a root deb
	case $name in
	pause)
		cp -r "$HERE/pause/." "$ctx/"
		gcc -static -Os -s -o "$ctx/pause" "$HERE/pause/pause.c" ;;
	web)
		cp -r "$HERE/web/." "$ctx/"
		mkdir -p "$ctx/rootfs/bin"
		cp "$BUSYBOX" "$ctx/rootfs/bin/busybox"
		for a in "${APPLETS[@]}"; do ln -sf busybox "$ctx/rootfs/bin/$a"; done ;;
	kcp)
		cp -r "$HERE/kcp/." "$ctx/"
		mkdir -p "$ctx/rootfs/tmp"
		chmod 1777 "$ctx/rootfs/tmp"
		# Go keeps its symbol table (panics still name functions); the DWARF sections are most of the size.
		strip --strip-debug -o "$ctx/rootfs/kcp" "$KCP_BIN" ;;
	node-base)
		cp -r "$HERE/node-base/." "$ctx/"
		root=$ctx/rootfs
		mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/tmp" "$root/etc" "$ctx/debs"
		(cd "$ctx/debs" && apt-get download -q -o APT::Sandbox::User=root "${BASE_DEBS[@]}" >/dev/null) ||
			die "apt-get download ${BASE_DEBS[*]} failed (run apt-get update?)"
		for deb in "$ctx"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
		rm -rf "$root/usr/share/doc" "$root/usr/share/lintian" "$root/usr/share/locale" "$root/usr/share/gcc"
		# Debug sections are two thirds of the official binary; stripped it runs the same.
		strip --strip-debug -o "$root/usr/local/bin/node" "$NODE_BIN"
		(cd "$ctx" && npm pack --silent "npm@$(npm --version)" >/dev/null) || die "npm pack npm failed"
		tar -xzf "$ctx"/npm-*.tgz -C "$root/usr/local/lib/node_modules" && mv "$root/usr/local/lib/node_modules/package" "$root/usr/local/lib/node_modules/npm"
		chmod 1777 "$root/tmp" ;;
	kedge-hub | kedge-agent | kedge)
		(cd "$REPO" && cp -r "${KEDGE_INPUTS[@]}" "$ctx/") ;;
	esac
}

# Builds NAME unless its tarball exists; prints "NAME REF TARBALL".
build_one() {
	local name=$1 hash ref tar ctx base=()
	case $name in
	pause)
		command -v gcc >/dev/null || die "gcc is needed for the pause image (Debian: apt-get install gcc libc6-dev)"
		hash=$(input_hash "$HERE/pause" <(gcc --version | head -1)) ;;
	web)
		[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (Debian: apt-get install busybox-static)"
		file_static "$BUSYBOX" || die "$BUSYBOX is not statically linked (Debian's busybox-static is)"
		hash=$(input_hash "$HERE/web" "$BUSYBOX") ;;
	kcp)
		[ -x "$KCP_BIN" ] || die "$KCP_BIN is missing (make tools builds kcp)"
		file_static "$KCP_BIN" || die "$KCP_BIN is not statically linked"
		hash=$(input_hash "$HERE/kcp" "$KCP_BIN") ;;
	node-base)
		[ -x "$NODE_BIN" ] || die "$NODE_BIN is missing (make deps installs the project's Node 24)"
		"$NODE_BIN" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' ||
			die "$NODE_BIN is not Node.js 24 or newer"
		command -v npm >/dev/null || die "npm is needed to fetch npm for the base image"
		hash=$(input_hash "$HERE/node-base" "$NODE_BIN" <(deb_versions) <(npm --version)) ;;
	kedge-hub | kedge-agent | kedge)
		read -r _ base[0] _ < <(build_one node-base)
		hash=$(cd "$REPO" && input_hash "${KEDGE_INPUTS[@]}" <(echo "${base[0]}")) ;;
	*) die "unknown image '$name' (known: pause web kcp node-base kedge-hub kedge-agent kedge)" ;;
	esac
	case $name in kedge*) ref=localhost/$name:$hash ;; *) ref=localhost/kedge-$name:$hash ;; esac
	tar=$OUT/$name-$hash.tar
	if [ ! -s "$tar" ]; then
		command -v buildah >/dev/null || die "buildah is missing (Debian: apt-get install buildah)"
		mkdir -p "$OUT"
		ctx=$(mktemp -d)
		# shellcheck disable=SC2064 # expand $ctx now
		trap "rm -rf '$ctx'" RETURN
		prepare "$name" "$ctx"
		if [ ${#base[@]} -gt 0 ]; then
			# FROM node-base out of the cache; --layers keeps the npm install layer while only sources change.
			# The CA npm trusts here (a TLS-intercepting proxy's), handed to the build stage as a secret.
			local cafile ca=()
			cafile=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
			[ -f "$cafile" ] && ca=(--secret "id=ca,src=$cafile" --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/ca)
			bah inspect "${base[0]}" >/dev/null 2>&1 || bah pull -q "docker-archive:$OUT/node-base-${base[0]##*:}.tar" >/dev/null
			bah bud --quiet --isolation chroot --layers --network host --target "$name" \
				--build-arg "NODE_IMAGE=${base[0]}" --build-arg "NPM_CONFIG_REGISTRY=$(npm config get registry)" \
				"${ca[@]}" \
				-t "$ref" -f "$ctx/Dockerfile" "$ctx" >&2
		else
			bah bud --quiet --isolation chroot --layers=false -t "$ref" -f "$ctx/Containerfile" "$ctx" >/dev/null
		fi
		bah push --quiet "$ref" "docker-archive:$tar.tmp:$ref" >/dev/null
		[ "$name" = node-base ] || bah rmi "$ref" >/dev/null 2>&1 || true
		mv "$tar.tmp" "$tar"
		# Older builds of the same image are superseded.
		# (Exactly <name>-<12 hex>.tar: "kedge-*" would also match kedge-agent's and kedge-hub's.)
		find "$OUT" -maxdepth 1 -name "$name-$(printf '[0-9a-f]%.0s' {1..12}).tar" ! -name "$name-$hash.tar" -delete
	fi
	echo "$name $ref $tar"
}

[ $# -gt 0 ] || set -- pause web
for n in "$@"; do build_one "$n"; done
