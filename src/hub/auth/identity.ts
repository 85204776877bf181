// Who a caller is once the hub has authenticated them. The same shape answers kcp's TokenReview webhook.

export interface UserInfo {
  /** Kubernetes user name as kcp sees it; always `kedge:…`, never `system:…`. */
  username: string;
  uid: string;
  groups: string[];
  /** Tenant id: the last segment of the tenant workspace path `root:kedge:tenants:<tenant>`. */
  tenant: string;
}

export interface Authenticator {
  /** Returns the user for a bearer token, or undefined when this authenticator does not know the token. */
  authenticate(token: string): Promise<UserInfo | undefined>;
}

export const USERS_GROUP = 'kedge:users';

/** Reads `Authorization: Bearer <token>`; undefined when absent or of another scheme. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Tries each authenticator in order. */
export function unionAuthenticator(authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(token) {
      for (const a of authenticators) {
        const user = await a.authenticate(token);
        if (user) return user;
      }
      return undefined;
    },
  };
}
