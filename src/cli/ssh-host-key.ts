// How `kedge ssh` holds sshd to the pinned host keys: the host-key algorithms it offers (only the pinned types, so
// negotiation cannot pick a key that could not match) and the refusal a person sees when the key differs. Pure.
import { describeHostKey, normaliseHostKeys, type HostKeyCheck } from '../api/host-keys.ts';
import { CLIError, CLIErrorCode } from './errors.ts';

/** Host-key algorithms ssh2 can verify, per key type (an RSA key signs with SHA-2 first, as OpenSSH prefers). */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};
/** Preference when several types are pinned (ssh2's own order). */
const ORDER = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'ssh-dss',
];

/** The `serverHostKey` algorithm list for the pinned keys; empty when none of them is a type ssh2 supports. */
export function hostKeyAlgorithms(pinned: readonly string[]): string[] {
  const types = new Set(normaliseHostKeys(pinned).map((k) => k.type));
  return ORDER.filter((t) => types.has(t)).flatMap((t) => ALGORITHMS[t] ?? []);
}

/** The refusal for a failed host-key check, naming both fingerprints and the deliberate way to re-pin. */
export function hostKeyError(edge: string, check: Exclude<HostKeyCheck, { ok: true }>): CLIError {
  const pinned = check.pinned.map(describeHostKey).join(', ') || '(none)';
  if (check.reason === 'nothing-pinned')
    return new CLIError(
      CLIErrorCode.HostKeyNotPinned,
      `edge ${edge}: no host key is pinned yet, so the host's identity cannot be checked`,
    );
  const presented = check.presented ? describeHostKey(check.presented) : 'a key that could not be parsed';
  return new CLIError(
    CLIErrorCode.HostKeyMismatch,
    [
      `the SSH host key of edge ${edge} is not the pinned one; refused before authenticating.`,
      `  presented: ${presented}`,
      `  pinned:    ${pinned}`,
      `Someone may be intercepting the connection, or sshd's keys were replaced. Check the new fingerprint with the host's owner; if it is right, run 'kedge edge trust-host-key ${edge}'.`,
    ].join('\n'),
  );
}
