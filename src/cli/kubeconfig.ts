// Reading, merging and writing the user's kubeconfig. Merging replaces entries of the same name and keeps the rest.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../util/write-file-atomic.ts';

interface Named {
  name: string;
  [k: string]: unknown;
}
export interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  'current-context'?: string;
  [k: string]: unknown;
}

/** The file kubectl would write to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env = process.env): string {
  const first = env.KUBECONFIG?.split(delimiter).find(Boolean);
  return first ?? join(homedir(), '.kube', 'config');
}

export function parseKubeconfig(text: string): Kubeconfig {
  const doc = (parse(text) ?? {}) as Partial<Kubeconfig>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('kubeconfig is not a YAML mapping');
  return {
    ...doc,
    apiVersion: doc.apiVersion ?? 'v1',
    kind: doc.kind ?? 'Config',
    clusters: doc.clusters ?? [],
    users: doc.users ?? [],
    contexts: doc.contexts ?? [],
  };
}

/** Adds or replaces `incoming`'s clusters, users and contexts in `base`; optionally switches current-context. */
export function mergeKubeconfig(base: Kubeconfig, incoming: Kubeconfig, setCurrent: boolean): Kubeconfig {
  const merge = (a: Named[], b: Named[]): Named[] => [...a.filter((x) => !b.some((y) => y.name === x.name)), ...b];
  const out: Kubeconfig = {
    ...base,
    clusters: merge(base.clusters, incoming.clusters),
    users: merge(base.users, incoming.users),
    contexts: merge(base.contexts, incoming.contexts),
  };
  if (setCurrent && incoming['current-context']) out['current-context'] = incoming['current-context'];
  return out;
}

export function readKubeconfigFile(path: string): Kubeconfig {
  return existsSync(path) ? parseKubeconfig(readFileSync(path, 'utf8')) : parseKubeconfig('');
}

/** Writes atomically with mode 0600 (the file holds credentials). */
export function writeKubeconfigFile(path: string, kc: Kubeconfig): void {
  writeFileAtomic(path, stringify(kc));
}

/** The command kubeconfigs run as `kedge`: the launcher's absolute path (bin/kedge exports it), else from PATH. */
export function kedgeCommand(env = process.env): string {
  return env.KEDGE_CLI_PATH && env.KEDGE_CLI_PATH.startsWith('/') ? env.KEDGE_CLI_PATH : 'kedge';
}

/**
 * Makes every user of `kc` an exec credential plugin, `kedge get-token --hub-url URL`, instead of a token: an OIDC
 * login keeps no token in the kubeconfig, and kubectl asks the plugin (which renews from the token cache) each time.
 */
export function withExecUsers(kc: Kubeconfig, hubURL: string, command = kedgeCommand()): Kubeconfig {
  return {
    ...kc,
    users: kc.users.map((u) => ({
      name: u.name,
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command,
          args: ['get-token', '--hub-url', hubURL],
          interactiveMode: 'IfAvailable',
          provideClusterInfo: false,
        },
      },
    })),
  };
}
