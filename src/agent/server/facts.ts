// Server mode's heartbeat facts: the host (hostname, OS, kernel, CPU architecture in Go's spelling, as the Go Kedge
// and `kubectl get edges` show it) and the host keys sshd presented at the latest successful scan. Pure.
import { VERSION } from '../../version.ts';
import type { EdgeFacts } from '../heartbeat.ts';

/** Node's `process.arch` → Go's GOARCH (what the Go Kedge reported); unknown ones pass through. */
export function goArch(nodeArch: string): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return nodeArch; // arm64, arm, riscv64, ppc64, s390x, loong64, mips… are spelled alike
  }
}

export interface HostInfo {
  hostname: string;
  /** `process.platform`: linux, darwin, freebsd… */
  platform: string;
  /** `os.release()` */
  release: string;
  /** `process.arch` */
  arch: string;
}

/** `hostKeys` undefined = no scan succeeded yet: the field is left out, so the hub keeps what it has. */
export function serverFacts(host: HostInfo, hostKeys: readonly string[] | undefined): EdgeFacts {
  const facts: EdgeFacts = {
    hostname: host.hostname,
    agentVersion: VERSION,
    os: host.platform,
    kernelVersion: host.release,
    architecture: goArch(host.arch),
  };
  if (hostKeys !== undefined) facts.observedSSHHostKeys = [...hostKeys];
  return facts;
}
