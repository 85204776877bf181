// Which host keys does sshd present? Like `ssh-keyscan`: one SSH connection per key type, each offering only that
// type, so the key exchange shows that type's key; the connection is dropped in `hostVerifier`, before NEWKEYS, so
// no username, no credential and no authentication request is ever sent (ssh2 stops at a false verifier). A
// "no matching host key format" failure means sshd has no key of that type. The key's signature is not checked:
// the scan reports what listens on the host's own sshd address, it does not authenticate it.
import type { Client as SshClient, ClientErrorExtensions, ServerHostKeyAlgorithm } from 'ssh2';
import { hostKeyLine, keyLine, normaliseHostKeys } from '../../api/host-keys.ts';
import type { SshAddress } from '../options.ts';

/** One probe per key type; the RSA key is asked for with SHA-2 signatures (ssh-rsa only for very old sshd). */
export const KEY_FAMILIES: readonly (readonly ServerHostKeyAlgorithm[])[] = [
  ['ssh-ed25519'],
  ['ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521'],
  ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
];

export const PROBE_TIMEOUT_MS = 5_000;

export type ProbeOutcome =
  /** `line`: authorized_keys form; `offered`: sshd's host key algorithms when ssh2 told us. */
  | { kind: 'key'; line: string; offered?: string[] }
  | { kind: 'not-offered'; offered?: string[] }
  /** Unreachable, timed out, or a broken answer: the scan as a whole is not trustworthy. */
  | { kind: 'failed'; code: string };

export type ScanResult = { ok: true; keys: string[] } | { ok: false; code: string };

/**
 * The scan's result from its probes. Any failed probe fails the scan: a partial list would look like a removed key
 * and make the hub report a host-key change that did not happen.
 */
export function combineProbes(outcomes: readonly ProbeOutcome[]): ScanResult {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.kind === 'failed') return { ok: false, code: o.code };
    if (o.kind === 'key') lines.push(o.line);
  }
  return { ok: true, keys: normaliseHostKeys(lines).map(keyLine) };
}

/** The families still to probe after the first probe found `first` (by key type) and sshd offered `offered`. */
export function remainingFamilies(
  first: ProbeOutcome,
  families: readonly (readonly string[])[] = KEY_FAMILIES,
): (readonly string[])[] {
  const foundType = first.kind === 'key' ? first.line.split(' ')[0] : undefined;
  const offered = first.kind === 'failed' ? undefined : first.offered;
  return families.filter((algs) => {
    if (foundType !== undefined && algs.includes(foundType)) return false; // ssh-rsa is in the RSA family's list
    return offered === undefined || algs.some((a) => offered.includes(a));
  });
}

const REMOTE_ALGS = /^Handshake: \(remote\) Host key format: (.*)$/;

let clientClass: Promise<typeof SshClient> | undefined;

/** ssh2 is loaded on the first scan only (kubernetes mode and the relay never need it). */
function loadClient(): Promise<typeof SshClient> {
  clientClass ??= import('ssh2').then((m) => m.Client);
  return clientClass;
}

/** One connection offering only `algs`; resolves with what sshd showed. Never rejects. */
export async function probeHostKey(
  addr: SshAddress,
  algs: readonly string[],
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeOutcome> {
  const Client = await loadClient();
  return new Promise<ProbeOutcome>((resolve) => {
    const client = new Client();
    let key: string | undefined;
    let invalid = false;
    let offered: string[] | undefined;
    let settled = false;
    const finish = (o: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.on('error', () => {}); // late errors of a connection being torn down
      client.end();
      client.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'failed', code: 'ETIMEDOUT' }), timeoutMs);
    const fromKey = (): ProbeOutcome | undefined =>
      key !== undefined
        ? { kind: 'key', line: key, offered }
        : invalid
          ? { kind: 'failed', code: 'EBADKEY' }
          : undefined;
    client.on('error', (err: Error & ClientErrorExtensions & { code?: string }) => {
      const got = fromKey();
      if (got !== undefined) return finish(got); // the expected "Host denied" after the verifier said no
      if (err.level === 'handshake' && /no matching host key/i.test(err.message))
        return finish({ kind: 'not-offered', offered });
      finish({ kind: 'failed', code: err.code ?? err.level ?? err.message });
    });
    client.on('close', () => finish(fromKey() ?? { kind: 'failed', code: 'ECONNRESET' }));
    // Unreachable by construction (the verifier refuses every key); if it ever happened, nothing is reported.
    client.on('ready', () => finish({ kind: 'failed', code: 'EUNEXPECTED' }));
    client.connect({
      host: addr.host,
      port: addr.port,
      username: '', // required by ssh2, never sent: the connection ends in the key exchange
      algorithms: { serverHostKey: [...algs] as ServerHostKeyAlgorithm[] },
      readyTimeout: timeoutMs * 2, // our own timer decides; this only must not fire first
      keepaliveInterval: 0,
      hostVerifier: (blob: Buffer): boolean => {
        key = hostKeyLine(blob);
        invalid = key === undefined;
        return false;
      },
      debug: (msg: string) => {
        const m = REMOTE_ALGS.exec(msg);
        if (m?.[1] !== undefined) offered = m[1].split(',');
      },
    });
  });
}

/**
 * Every host key sshd at `addr` presents. The first probe offers all types (sshd picks one and, in passing, tells
 * which it has); then one probe per remaining type sshd has, in parallel. Without that list, every type is probed.
 */
export async function scanHostKeys(addr: SshAddress, timeoutMs = PROBE_TIMEOUT_MS): Promise<ScanResult> {
  const first = await probeHostKey(addr, KEY_FAMILIES.flat(), timeoutMs);
  if (first.kind === 'failed') return { ok: false, code: first.code };
  const rest = await Promise.all(remainingFamilies(first).map((algs) => probeHostKey(addr, algs, timeoutMs)));
  return combineProbes([first, ...rest]);
}
