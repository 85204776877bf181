// Secrets the hub generates once and keeps in its data dir: the kcp admin token it uses for itself, and the
// token kcp presents to the hub's TokenReview webhook. File mode 0600; never logged.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface HubSecrets {
  kcpAdminToken: string;
  webhookToken: string;
}

export function loadOrCreateSecrets(file: string): HubSecrets {
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<HubSecrets>;
    if (s.kcpAdminToken && s.webhookToken) return { kcpAdminToken: s.kcpAdminToken, webhookToken: s.webhookToken };
  }
  const secrets: HubSecrets = { kcpAdminToken: randomToken(), webhookToken: randomToken() };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
