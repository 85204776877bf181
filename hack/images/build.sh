#!/usr/bin/env bash
# Builds the local test images of the real-node edge cluster (docs/real-node.md) with buildah, no registry:
#   pause  the pod sandbox image (pause.c, compiled static with gcc)
#   web    Debian's static busybox serving /www with httpd on :8080 (kedge-web)
# Each image is tagged with the hash of its inputs (the files here, the busybox binary, gcc's version) and written as a
# docker-archive to $KEDGE_CACHE/images/<name>-<hash>.tar; a tar that exists is not built again.
#
# Usage: hack/images/build.sh [pause | web ...]    prints one line per image: NAME REF TARBALL
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
OUT=$KEDGE_CACHE/images
BUSYBOX=${KEDGE_BUSYBOX:-/bin/busybox}
# Applets the web image links; `kubectl exec` in the tests uses cat, ls and wget.
APPLETS=(sh cat echo env hostname httpd id ls nc ps sleep wget)

die() { echo "images: $*" >&2; exit 1; }

# buildah with its own storage under the cache (vfs: works in any filesystem, no fuse-overlayfs needed).
bah() { buildah --root "$OUT/.buildah/root" --runroot "$OUT/.buildah/run" --storage-driver vfs "$@"; }

# The hash of an image's inputs: its directory, the extra inputs named on the command line, and this script.
input_hash() {
	local dir=$1
	shift
	{
		(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		sha256sum "$@" "${BASH_SOURCE[0]}" | cut -d' ' -f1
	} | sha256sum | cut -c1-12
}

# Builds NAME unless its tarball exists; prints "NAME REF TARBALL".
build_one() {
	local name=$1 hash ref tar ctx
	case $name in
	pause)
		command -v gcc >/dev/null || die "gcc is needed for the pause image (Debian: apt-get install gcc libc6-dev)"
		hash=$(input_hash "$HERE/pause" <(gcc --version | head -1)) ;;
	web)
		[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (Debian: apt-get install busybox-static)"
		file_static "$BUSYBOX" || die "$BUSYBOX is not statically linked (Debian's busybox-static is)"
		hash=$(input_hash "$HERE/web" "$BUSYBOX") ;;
	*) die "unknown image '$name' (known: pause web)" ;;
	esac
	ref=localhost/kedge-$name:$hash
	tar=$OUT/$name-$hash.tar
	if [ ! -s "$tar" ]; then
		command -v buildah >/dev/null || die "buildah is missing (Debian: apt-get install buildah)"
		mkdir -p "$OUT"
		ctx=$(mktemp -d)
		trap 'rm -rf "$ctx"' RETURN
		cp -r "$HERE/$name/." "$ctx/"
		if [ "$name" = pause ]; then
			gcc -static -Os -s -o "$ctx/pause" "$HERE/pause/pause.c"
		else
			mkdir -p "$ctx/rootfs/bin"
			cp "$BUSYBOX" "$ctx/rootfs/bin/busybox"
			for a in "${APPLETS[@]}"; do ln -sf busybox "$ctx/rootfs/bin/$a"; done
		fi
		bah bud --quiet --isolation chroot --layers=false -t "$ref" -f "$ctx/Containerfile" "$ctx" >/dev/null
		bah push --quiet "$ref" "docker-archive:$tar.tmp:$ref" >/dev/null
		bah rmi "$ref" >/dev/null 2>&1 || true
		mv "$tar.tmp" "$tar"
		# Older builds of the same image are superseded.
		find "$OUT" -maxdepth 1 -name "$name-*.tar" ! -name "$name-$hash.tar" -delete
	fi
	echo "$name $ref $tar"
}

# True when the ELF file has no program interpreter (static). Reads the header with od; no `file` needed.
file_static() { ! grep -q 'ld-linux' <(head -c 4096 "$1" | tr -c '[:print:]' '\n'); }

[ $# -gt 0 ] || set -- pause web
for n in "$@"; do build_one "$n"; done
