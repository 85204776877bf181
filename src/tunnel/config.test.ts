// verifyConfig: defaults pass; each bad value is rejected with the field named.
import { describe, it, expect } from '@jest/globals';
import { defaultTunnelConfig, verifyConfig } from './config.ts';
import type { TunnelConfig } from './config.ts';
import { TunnelErrorCode } from './errors.ts';

describe('verifyConfig', () => {
  it('returns the defaults when given nothing', () => {
    expect(verifyConfig()).toEqual(defaultTunnelConfig);
  });

  it('merges overrides', () => {
    expect(verifyConfig({ maxInboundStreams: 8, keepAliveIntervalMs: 0 })).toMatchObject({
      maxInboundStreams: 8,
      keepAliveIntervalMs: 0,
    });
  });

  it.each<[Partial<TunnelConfig>, string]>([
    [{ maxInboundStreams: 0 }, 'maxInboundStreams'],
    [{ maxOutboundStreams: 1.5 }, 'maxOutboundStreams'],
    [{ keepAliveIntervalMs: -1 }, 'keepAliveIntervalMs'],
    [{ keepAliveTimeoutMs: 0 }, 'keepAliveTimeoutMs'],
    [{ initialStreamWindowBytes: 1024 }, 'initialStreamWindowBytes'],
    [{ maxStreamWindowBytes: 2 ** 32 }, 'maxStreamWindowBytes'],
    [
      { initialStreamWindowBytes: 1024 * 1024, maxStreamWindowBytes: 512 * 1024 },
      'maxStreamWindowBytes must be at least',
    ],
    [{ maxHeaderBytes: 8 }, 'maxHeaderBytes'],
    [{ headerTimeoutMs: 0 }, 'headerTimeoutMs'],
    [{ maxMessageBytes: 100 }, 'maxMessageBytes'],
    [{ sendBufferBytes: Number.NaN }, 'sendBufferBytes'],
    [{ keepAliveTimeoutMs: '5' as unknown as number }, 'keepAliveTimeoutMs'],
    [{ bogus: 1 } as unknown as Partial<TunnelConfig>, 'unknown field bogus'],
  ])('rejects %j naming %s', (bad, field) => {
    expect(() => verifyConfig(bad)).toThrow(
      expect.objectContaining({ code: TunnelErrorCode.ConfigInvalid, message: expect.stringContaining(field) }),
    );
  });
});
