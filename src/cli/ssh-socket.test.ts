import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { WebSocketServer } from 'ws';
import { isKedgeError } from '../api/errors.ts';
import { SshCloseCode } from '../api/ssh.ts';
import { closeError, openEdgeSocket, refusalError } from './ssh-socket.ts';

const status = (code: number, message: string): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'Forbidden', code });

describe("the hub's refusals", () => {
  test.each([
    [401, 'KEDGE_CLI_UNAUTHORIZED', "run 'kedge login' again"],
    [403, 'KEDGE_CLI_FORBIDDEN', "not allowed to SSH to edge pi: nope (SSH needs 'create' on edges/ssh"],
    [404, 'KEDGE_CLI_NOT_FOUND', 'edge pi not found by the hub: nope'],
    [502, 'KEDGE_CLI_EDGE_NOT_CONNECTED', 'edge pi is not connected: nope'],
    [500, 'KEDGE_CLI_REJECTED', 'the hub answered 500: nope'],
  ])('%d → %s', (code, want, text) => {
    const err = refusalError(code, status(code, 'nope'), 'pi');
    expect(err.code).toBe(want);
    expect(err.message).toContain(text);
  });

  test('a body that is not a Status is cut short', () => {
    expect(refusalError(502, 'x'.repeat(1000), 'pi').message.length).toBeLessThan(300);
  });
});

describe('close codes', () => {
  test.each([
    [SshCloseCode.Normal, undefined],
    [SshCloseCode.GoingAway, 'the hub is shutting down'],
    [SshCloseCode.EdgeDisconnected, "the edge's agent disconnected"],
    [SshCloseCode.EdgeReset, 'could not reach sshd'],
    [1006, 'the hub connection dropped'],
    [4999, 'code 4999'],
  ])('%d', (code, text) => {
    const err = closeError(code, '', 'pi');
    if (text === undefined) expect(err).toBeUndefined();
    else expect(err?.code === 'KEDGE_CLI_SSH_CONNECTION_LOST' && err.message.includes(text)).toBe(true);
  });
});

describe('openEdgeSocket against a real WebSocket server', () => {
  let server: Server;
  let url: string;
  const seen: { authorization?: string; origin?: string }[] = [];
  beforeAll(async () => {
    const wss = new WebSocketServer({ noServer: true });
    server = createServer();
    server.on('upgrade', (req, sock, head) => {
      seen.push({ authorization: req.headers.authorization, origin: req.headers.origin });
      if (req.url?.endsWith('/forbidden')) {
        const body = status(403, 'user "u" cannot create edges/ssh');
        sock.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, sock, head, (ws) => {
        // Echo, then close with the code the path asks for.
        ws.on('message', (m: Buffer) => {
          ws.send(m);
          if (req.url?.endsWith('/cut')) ws.close(SshCloseCode.EdgeDisconnected, 'agent gone');
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('carries bytes both ways with the bearer header and no Origin, and reports the close code', async () => {
    const s = await openEdgeSocket(`${url}/x/cut`, 'pi', 'Bearer t0k', {});
    const got = new Promise<Buffer>((resolve) => s.stream.once('data', resolve));
    s.stream.write(Buffer.from([0, 1, 2, 255]));
    expect([...(await got)]).toEqual([0, 1, 2, 255]);
    expect(await s.closed).toEqual({ code: SshCloseCode.EdgeDisconnected, reason: 'agent gone' });
    expect(seen.at(-1)).toEqual({ authorization: 'Bearer t0k', origin: undefined });
  });

  test('a refusal before the upgrade becomes the Status message', async () => {
    await expect(openEdgeSocket(`${url}/x/forbidden`, 'pi', 'Bearer t0k', {})).rejects.toMatchObject({
      code: 'KEDGE_CLI_FORBIDDEN',
      message: expect.stringContaining('user "u" cannot create edges/ssh'),
    });
  });

  test('an unreachable hub says so', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await openEdgeSocket(`http://127.0.0.1:${port}/x`, 'pi', undefined, {}).catch((e: unknown) => e);
    expect(isKedgeError(err, 'KEDGE_CLI_HUB_UNREACHABLE')).toBe(true);
  });
});
