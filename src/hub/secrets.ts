// Secrets the hub generates once and keeps in its data dir: the kcp admin token it uses for itself, and the
// token kcp presents to the hub's TokenReview webhook. File mode 0600; never logged. In a pod the webhook token comes
// from a mounted Secret instead (`--kcp-webhook-token-file`, readTokenFile), shared with the kcp beside the hub.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFileWithMode } from '../util/secret-file.ts';
import { HubError, HubErrorCode } from './errors.ts';

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

/**
 * A token kept in a file of its own (`--kcp-webhook-token-file`, e.g. a mounted Secret key): one token, surrounding
 * whitespace ignored. Refused when unreadable, empty, more than one word, or readable by every local user.
 */
export function readTokenFile(path: string, flag: string): string {
  let text: string;
  let mode: number;
  try {
    ({ text, mode } = readFileWithMode(path));
  } catch (err) {
    const why = (err as Error).message;
    throw new HubError(HubErrorCode.WebhookTokenFileInvalid, `${flag} ${path} cannot be read (${why})`, { cause: err });
  }
  if (mode & 0o004)
    throw new HubError(
      HubErrorCode.WebhookTokenFileInvalid,
      `${flag} ${path} is readable by every local user (mode 0${mode.toString(8)}); run: chmod 600 ${path}`,
    );
  const token = text.trim();
  if (token === '' || /\s/.test(token))
    throw new HubError(HubErrorCode.WebhookTokenFileInvalid, `${flag} ${path} must hold exactly one token`);
  return token;
}
