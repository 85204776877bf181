import { describe, expect, it } from '@jest/globals';
import { failureStatus, statusBody, statusReason } from './status.ts';

describe('Status bodies', () => {
  it.each([
    [404, 'NotFound'],
    [413, 'RequestEntityTooLarge'],
    [431, 'RequestHeaderFieldsTooLarge'],
    [502, 'BadGateway'],
    [599, 'Unknown'],
  ])('code %i has reason %s', (code, reason) => {
    expect(statusReason(code)).toBe(reason);
  });

  it('builds a Failure Status with the code as the first cause', () => {
    expect(failureStatus(502, 'edge down', { kedgeCode: 'KEDGE_HUB_EDGE_NOT_CONNECTED' })).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'edge down',
      reason: 'BadGateway',
      code: 502,
      details: { causes: [{ type: 'KEDGE_HUB_EDGE_NOT_CONNECTED', message: 'edge down' }] },
    });
  });

  it('serialises with empty metadata and an explicit reason', () => {
    expect(JSON.parse(statusBody(502, 'x', { reason: 'ServiceUnavailable' }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'x',
      reason: 'ServiceUnavailable',
      code: 502,
    });
  });
});
