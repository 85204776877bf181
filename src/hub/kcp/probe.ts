// The hub's readiness check of kcp: kcp's own /readyz, asked with the hub's admin client. Failures are short fixed
// sentences (they are served unauthenticated on the hub's /readyz): a status code or a socket error code only.
import { ApiError, transportCode } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { ReadinessCheck } from '../server/readyz.ts';

export function kcpReadinessCheck(client: () => KubeClient | undefined): ReadinessCheck {
  return {
    name: 'kcp',
    async run(signal) {
      const kcp = client();
      if (!kcp) throw new Error('no kcp client yet');
      try {
        const res = await kcp.requestRaw('GET', '/readyz', { signal, headers: { accept: 'text/plain' } });
        await res.body.text();
      } catch (err) {
        if (err instanceof ApiError) throw new Error(`kcp /readyz answered ${err.code}`, { cause: err });
        if (signal.aborted) throw new Error('no answer in time', { cause: err });
        const code = transportCode(err);
        throw new Error(`kcp is unreachable${code === undefined ? '' : ` (${code})`}`, { cause: err });
      }
    },
  };
}
