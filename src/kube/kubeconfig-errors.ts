// The KEDGE_KUBECONFIG_* error codes of kubeconfig loading (kubeconfig.ts) and conversion (kubeconfig-options.ts).
import { KedgeError } from '../api/errors.ts';

export const KubeconfigErrorCode = {
  /** The kubeconfig is missing, not YAML, or lacks the named context/cluster/user; the message names file and context. */
  Invalid: 'KEDGE_KUBECONFIG_INVALID',
  /** The kubeconfig asks for something the Kedge client cannot do (proxy-url, impersonation, exec client certs). */
  Unsupported: 'KEDGE_KUBECONFIG_UNSUPPORTED',
  /** An exec or auth-provider plugin failed or returned no credential; retried on the next request. */
  Credential: 'KEDGE_KUBECONFIG_CREDENTIAL',
} as const;
export type KubeconfigErrorCode = (typeof KubeconfigErrorCode)[keyof typeof KubeconfigErrorCode];

export function kubeconfigError(
  code: KubeconfigErrorCode,
  message: string,
  cause?: unknown,
): KedgeError<KubeconfigErrorCode> {
  return new KedgeError(code, message, { cause });
}
