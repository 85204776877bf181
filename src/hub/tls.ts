// Development PKI for the hub: a self-signed CA and a serving certificate signed by it, made with the
// openssl CLI (Node's crypto cannot issue certificates). Reused when present, so restarts keep the CA.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HubPki {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Ensures `<dir>/ca.crt`, `<dir>/serving.crt` and `<dir>/serving.key` exist and the serving cert covers `hosts`. */
export function ensureDevPki(dir: string, hosts: string[]): HubPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki: HubPki = {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'serving.crt'),
    keyFile: join(dir, 'serving.key'),
  };
  const caKey = join(dir, 'ca.key');
  if (!existsSync(pki.caFile) || !existsSync(caKey)) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=kedge-dev-ca',
      '-keyout',
      caKey,
      '-out',
      pki.caFile,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  if (!existsSync(pki.certFile) || !existsSync(pki.keyFile) || !coversHosts(pki.certFile, hosts)) {
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    const csr = join(dir, 'serving.csr');
    const ext = join(dir, 'serving.ext');
    writeFileSync(
      ext,
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
    );
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=kedge-hub',
      '-keyout',
      pki.keyFile,
      '-out',
      csr,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '825',
      '-extfile',
      ext,
      '-out',
      pki.certFile,
    ]);
  }
  return pki;
}

function coversHosts(certFile: string, hosts: string[]): boolean {
  const cert = new X509Certificate(readFileSync(certFile));
  if (new Date(cert.validTo).getTime() < Date.now() + 24 * 3600_000) return false;
  const names = (cert.subjectAltName ?? '').split(/,\s*/);
  return hosts.every((h) => names.includes(`DNS:${h}`) || names.includes(`IP Address:${h}`));
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error(
        'openssl is needed to generate the development CA: install it (apt-get install openssl) or pass --tls-cert-file/--tls-key-file',
        { cause: err },
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`, { cause: err });
  }
}
