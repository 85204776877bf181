// The hub's unauthenticated login discovery document (SPEC §7 "login discovery"): which login methods it offers, so
// `kedge login --hub-url URL` picks one by itself. Served at LOGIN_CONFIG_PATH; shared by the hub and the CLI.
import type { API_VERSION } from './constants.ts';

export const LOGIN_CONFIG_PATH = '/auth/config';
export const LOGIN_CONFIG_KIND = 'LoginConfig';

export const LoginMethod = {
  /** POST /auth/token-login with a static token issued by the hub operator. */
  Token: 'token',
  /** Authorization code + PKCE (or the device grant) with the issuer directly, then token-login with the ID token. */
  Oidc: 'oidc',
} as const;
export type LoginMethod = (typeof LoginMethod)[keyof typeof LoginMethod];

export interface OidcLoginConfig {
  /** Exactly the issuer's `iss`. */
  issuerURL: string;
  /** The public client the CLI logs in with; the ID token's audience. */
  clientID: string;
  /** Scopes the CLI asks for: openid plus the claims the hub maps, and offline_access for a refresh token. */
  scopes: string[];
  /** Prefix the hub puts before OIDC user and group names (`kedge workspace share` uses it). */
  prefix: string;
  /** PEM of the issuer's CA when the hub was given one (--oidc-ca-file): a self-signed IdP such as the test Dex. */
  caPEM?: string;
}

export interface LoginConfig {
  apiVersion: typeof API_VERSION;
  kind: typeof LOGIN_CONFIG_KIND;
  methods: LoginMethod[];
  oidc?: OidcLoginConfig;
}
