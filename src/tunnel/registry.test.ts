// Registry rules: one session per edge key; a new session replaces and closes the old; only the registered session
// can deregister itself; connect/disconnect events follow the key, not every session.
import { describe, it, expect } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { TunnelError, TunnelErrorCode } from './errors.ts';
import { SessionRegistry } from './registry.ts';
import type { RegistrableSession } from './registry.ts';
import { testLogger } from './test-support.ts';

class FakeSession extends EventEmitter implements RegistrableSession {
  closed = false;
  closedWith: TunnelError | undefined;
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
  close(reason?: TunnelError): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = reason;
    this.emit('close', reason);
  }
}

function recorder(registry: SessionRegistry<FakeSession>): string[] {
  const events: string[] = [];
  registry.on('connect', (key, s, replaced) =>
    events.push(`connect ${key} ${s.name}${replaced ? ` replacing ${replaced.name}` : ''}`),
  );
  registry.on('disconnect', (key, s, reason) =>
    events.push(`disconnect ${key} ${s.name} ${reason?.code ?? 'orderly'}`),
  );
  return events;
}

describe('SessionRegistry', () => {
  it('registers one session per key and disconnects when it closes', () => {
    const registry = new SessionRegistry<FakeSession>(testLogger);
    const events = recorder(registry);
    const a = new FakeSession('a');
    registry.register('root:org|e1', a);
    expect(registry.get('root:org|e1')).toBe(a);
    a.close(new TunnelError(TunnelErrorCode.KeepAliveTimeout, 'x'));
    expect(registry.get('root:org|e1')).toBeUndefined();
    expect(events).toEqual(['connect root:org|e1 a', `disconnect root:org|e1 a ${TunnelErrorCode.KeepAliveTimeout}`]);
  });

  it('a new session replaces the old one, closes it with SESSION_REPLACED, and the old close does not disconnect', () => {
    const registry = new SessionRegistry<FakeSession>(testLogger);
    const events = recorder(registry);
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    registry.register('c|e', a);
    registry.register('c|e', b);
    expect(a.closed).toBe(true);
    expect(a.closedWith?.code).toBe(TunnelErrorCode.SessionReplaced);
    expect(registry.get('c|e')).toBe(b);
    expect(events).toEqual(['connect c|e a', 'connect c|e b replacing a']);
    b.close();
    expect(events.at(-1)).toBe('disconnect c|e b orderly');
    expect(registry.size).toBe(0);
  });

  it('deregister removes only the session that is still registered', () => {
    const registry = new SessionRegistry<FakeSession>(testLogger);
    const events = recorder(registry);
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    registry.register('c|e', a);
    registry.register('c|e', b);
    expect(registry.deregister('c|e', a)).toBe(false);
    expect(registry.get('c|e')).toBe(b);
    expect(registry.deregister('c|e', b)).toBe(true);
    expect(registry.get('c|e')).toBeUndefined();
    expect(registry.deregister('c|e', b)).toBe(false);
    expect(b.closed).toBe(false); // deregister does not close
    b.close(); // its later close changes nothing
    expect(events).toEqual(['connect c|e a', 'connect c|e b replacing a', 'disconnect c|e b orderly']);
  });

  it('keeps keys apart and ignores an already closed session or a repeated register', () => {
    const registry = new SessionRegistry<FakeSession>(testLogger);
    const events = recorder(registry);
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    const dead = new FakeSession('dead');
    dead.close();
    registry.register('c1|e', a);
    registry.register('c2|e', b);
    registry.register('c1|e', a);
    registry.register('c3|e', dead);
    expect(registry.keys().sort()).toEqual(['c1|e', 'c2|e']);
    expect(a.closed).toBe(false);
    expect(events).toEqual(['connect c1|e a', 'connect c2|e b']);
  });

  it('closeAll closes every session and empties the registry', async () => {
    const registry = new SessionRegistry<FakeSession>(testLogger);
    const sessions = [new FakeSession('a'), new FakeSession('b')];
    sessions.forEach((s, i) => registry.register(`c|e${i}`, s));
    await registry.closeAll();
    expect(sessions.every((s) => s.closed)).toBe(true);
    expect(registry.size).toBe(0);
  });
});
