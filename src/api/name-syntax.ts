// Name syntax shared by hub, agent and CLI (k8s.io/apimachinery/pkg/util/validation and kcp's logical cluster names).

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LOGICAL_CLUSTER = /^[a-z0-9]([a-z0-9:-]*[a-z0-9])?$/;

/** A DNS-1123 subdomain of at most 253 characters: an Edge's name, a label key's prefix. */
export function isDNS1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A DNS-1123 label of at most 63 characters: a namespace's name. */
export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** A kcp logical cluster name (or a `root:org:ws` path), as the join command prints it. */
export function isLogicalClusterName(s: string): boolean {
  return LOGICAL_CLUSTER.test(s);
}
