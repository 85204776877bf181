// Server mode: a plain host behind the shared wiring (wiring.ts). `ssh` streams are relayed to sshd, `k8s` streams
// are reset (there is no Kubernetes here), and the heartbeat reports the host's facts and the host keys sshd presents
// (the hub pins them on the first report). Needs no root: it only connects to sshd like any SSH client would.
import { hostname, release } from 'node:os';
import type { Logger } from 'pino';
import { StreamKind } from '../../tunnel/index.ts';
import type { StreamHandler } from '../../tunnel/index.ts';
import { formatSshAddress } from '../options.ts';
import type { ServerAgentConfig } from '../options.ts';
import { startEdgeAgent } from '../wiring.ts';
import type { RunningAgent } from '../wiring.ts';
import { serverFacts } from './facts.ts';
import { scanHostKeys } from './host-key-scan.ts';
import { HostKeyWatch } from './host-key-watch.ts';
import { SshRelay } from './ssh-relay.ts';
import { SshTarget } from './ssh-target.ts';

/** `ssh` streams go to the relay; any other kind (`k8s`: there is no Kubernetes here) is reset. */
export function serverStreams(relay: SshRelay, log: Logger): StreamHandler {
  return (stream, header) => {
    if (header.kind === StreamKind.Ssh) relay.handle(stream);
    else {
      log.debug({ kind: header.kind }, 'stream kind not served by a server edge; reset');
      stream.destroy();
    }
  };
}

export function startServerAgent(cfg: ServerAgentConfig, logger: Logger): Promise<RunningAgent> {
  return startEdgeAgent(cfg, logger, ({ log, getEdge, beat }) => {
    const target = new SshTarget({ override: cfg.sshAddress, getEdge, logger: log });
    const relay = new SshRelay(() => target.current(), log);
    const hostKeys = new HostKeyWatch({
      address: () => target.current(),
      intervalMs: cfg.hostKeyIntervalMs,
      logger: log,
      scan: (addr) => scanHostKeys(addr),
      onChange: () => beat(),
    });
    const host = { platform: process.platform, release: release(), arch: process.arch };
    return {
      describe: {
        sshAddress: cfg.sshAddress ? formatSshAddress(cfg.sshAddress) : 'from the Edge (127.0.0.1:<sshPort>)',
      },
      // hostname() each time: a host may be renamed while the agent runs.
      facts: () => serverFacts({ hostname: hostname(), ...host }, hostKeys.keys),
      onStream: serverStreams(relay, log),
      start: () => hostKeys.start(),
      onConnected: () => {
        // The port may have been edited, or sshd restarted with other keys while the tunnel was down.
        void target.refresh().then(
          () => hostKeys.trigger(),
          () => hostKeys.trigger(),
        );
      },
      stop: async () => {
        hostKeys.stop();
        relay.close();
      },
    };
  });
}
