// SSH host keys of server edges (docs/ssh.md): parsing the authorized_keys form ("<type> <base64>[ comment]"),
// OpenSSH-style fingerprints, the pinning decision and the check a client makes against the pinned keys. Pure.
import { createHash } from 'node:crypto';

export interface HostKey {
  /** Key type as sshd names it: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, … */
  type: string;
  /** The public key blob, base64 (the second field of an authorized_keys line). */
  base64: string;
  /** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

const KEY_TYPE = /^(ssh-ed25519|ssh-ed448|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A public key blob is small; anything larger is not one (RSA 16384 is about 2 KiB). */
const MAX_BLOB_BYTES = 8 * 1024;

/** SHA256 fingerprint of a raw public key blob, as OpenSSH prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses one authorized_keys-form line; undefined when it is not one (the type inside the blob must match too). */
export function parseHostKey(line: string): HostKey | undefined {
  const [type = '', b64 = ''] = line.trim().split(/\s+/);
  if (!KEY_TYPE.test(type) || !BASE64.test(b64)) return undefined;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 8 || blob.length > MAX_BLOB_BYTES) return undefined;
  const n = blob.readUInt32BE(0);
  if (n + 4 > blob.length || blob.subarray(4, 4 + n).toString('latin1') !== type) return undefined;
  return { type, base64: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}

/** The authorized_keys form of a raw blob (the type is read from the blob itself). */
export function hostKeyLine(blob: Buffer): string | undefined {
  if (blob.length < 8) return undefined;
  const n = blob.readUInt32BE(0);
  if (n + 4 > blob.length) return undefined;
  const line = `${blob.subarray(4, 4 + n).toString('latin1')} ${blob.toString('base64')}`;
  return parseHostKey(line) ? line : undefined;
}

/** Parses a list of lines, keeping the valid ones, normalised to "<type> <base64>", without duplicates, sorted by type. */
export function normaliseHostKeys(lines: readonly string[]): HostKey[] {
  const seen = new Map<string, HostKey>();
  for (const l of lines) {
    const k = parseHostKey(l);
    if (k !== undefined) seen.set(`${k.type} ${k.base64}`, k);
  }
  return [...seen.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

export function keyLine(k: HostKey): string {
  return `${k.type} ${k.base64}`;
}

/** "SHA256:… (ED25519)": how a key is shown to a person. */
export function describeHostKey(k: HostKey): string {
  const label = k.type
    .replace(/^ssh-/, '')
    .replace(/^ecdsa-sha2-nistp\d+$/, 'ecdsa')
    .toUpperCase();
  return `${k.fingerprint} (${label})`;
}

export type PinDecision =
  /** Nothing pinned yet: pin what was reported (the first report, right after the join, is the trusted moment). */
  | { action: 'pin'; keys: HostKey[] }
  /** The report equals the pinned set. */
  | { action: 'match' }
  /** The report differs: never accepted silently; `kedge edge trust-host-key` re-pins. */
  | { action: 'changed'; added: HostKey[]; removed: HostKey[] }
  /** Nothing reported (or nothing valid): keep what is pinned. */
  | { action: 'none' };

export function pinDecision(pinned: readonly string[], reported: readonly string[]): PinDecision {
  const rep = normaliseHostKeys(reported);
  if (rep.length === 0) return { action: 'none' };
  const pin = normaliseHostKeys(pinned);
  if (pin.length === 0) return { action: 'pin', keys: rep };
  const pinSet = new Set(pin.map(keyLine));
  const repSet = new Set(rep.map(keyLine));
  const added = rep.filter((k) => !pinSet.has(keyLine(k)));
  const removed = pin.filter((k) => !repSet.has(keyLine(k)));
  return added.length === 0 && removed.length === 0 ? { action: 'match' } : { action: 'changed', added, removed };
}

export type HostKeyCheck =
  | { ok: true; key: HostKey }
  | { ok: false; reason: 'nothing-pinned' | 'mismatch' | 'invalid'; presented?: HostKey; pinned: HostKey[] };

/** What a client does with the key sshd presented: accept it only when it is one of the pinned keys. */
export function checkHostKey(pinned: readonly string[], presentedBlob: Buffer): HostKeyCheck {
  const pin = normaliseHostKeys(pinned);
  const line = hostKeyLine(presentedBlob);
  const presented = line === undefined ? undefined : parseHostKey(line);
  if (presented === undefined) return { ok: false, reason: 'invalid', pinned: pin };
  if (pin.length === 0) return { ok: false, reason: 'nothing-pinned', presented, pinned: pin };
  return pin.some((k) => k.base64 === presented.base64)
    ? { ok: true, key: presented }
    : { ok: false, reason: 'mismatch', presented, pinned: pin };
}

/** The pinned keys of an Edge's status: `sshHostKeys`, else the single legacy `sshHostKey`. */
export function pinnedHostKeys(status: { sshHostKeys?: string[]; sshHostKey?: string } | undefined): string[] {
  if (status?.sshHostKeys !== undefined && status.sshHostKeys.length > 0) return status.sshHostKeys;
  return status?.sshHostKey ? [status.sshHostKey] : [];
}

/** known_hosts lines for OpenSSH (`UserKnownHostsFile`): one per pinned key, under the host alias. */
export function knownHostsLines(alias: string, keys: readonly string[]): string[] {
  return normaliseHostKeys(keys).map((k) => `${alias} ${keyLine(k)}`);
}
