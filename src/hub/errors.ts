// Coded errors of the hub (see src/api/errors.ts for the shape). Each code says what the operator or caller should
// do; the list with remedies is docs/errors.md. Callers match on `code`, never on message text.
import { KedgeError } from '../api/errors.ts';

export const HubErrorCode = {
  /** The --static-tokens-file cannot be read (missing, a directory, no permission). */
  StaticTokensFileUnreadable: 'KEDGE_HUB_STATIC_TOKENS_FILE_UNREADABLE',
  /** The --static-tokens-file is readable or writable by every local user. */
  StaticTokensFileUnsafe: 'KEDGE_HUB_STATIC_TOKENS_FILE_UNSAFE',
  /** A line of the --static-tokens-file (or a --static-token value) is not a valid `[name=]token`. */
  StaticTokensInvalid: 'KEDGE_HUB_STATIC_TOKENS_INVALID',
  /** The --kcp-webhook-token-file cannot be read, is empty, is not one token, or every local user can read it. */
  WebhookTokenFileInvalid: 'KEDGE_HUB_WEBHOOK_TOKEN_FILE_INVALID',
  /** The external kcp's --kcp-kubeconfig, or a file it names, did not appear in time (a kcp sidecar not started). */
  KcpKubeconfigMissing: 'KEDGE_HUB_KCP_KUBECONFIG_MISSING',
  /** The OIDC settings are invalid, or the issuer's discovery document cannot be used. */
  OidcInvalid: 'KEDGE_HUB_OIDC_INVALID',
  /** A request body is larger than the endpoint accepts (413). */
  BodyTooLarge: 'KEDGE_HUB_BODY_TOO_LARGE',
  /** The request line and headers are larger than the hub accepts (431). */
  HeadersTooLarge: 'KEDGE_HUB_HEADERS_TOO_LARGE',
  /** No credential, or one the hub does not accept (401). */
  Unauthorized: 'KEDGE_HUB_UNAUTHORIZED',
  /** The caller is authenticated but may not do this (403). */
  Forbidden: 'KEDGE_HUB_FORBIDDEN',
  /** No such path, edge or object (404). */
  NotFound: 'KEDGE_HUB_NOT_FOUND',
  /** Malformed path, query or body (400), wrong method (405), media type (415) or a request sent too slowly (408). */
  BadRequest: 'KEDGE_HUB_BAD_REQUEST',
  /** kcp refused an edge agent's write (409 conflict, 422 invalid); passed through. */
  Rejected: 'KEDGE_HUB_REJECTED',
  /** The hub is starting, or kcp does not answer its readiness probe (503). */
  NotReady: 'KEDGE_HUB_NOT_READY',
  /** kcp could not be reached or failed to serve the request (502/503). */
  ControlPlaneUnavailable: 'KEDGE_HUB_CONTROL_PLANE_UNAVAILABLE',
  /** The edge's agent has no tunnel to this hub (502). */
  EdgeNotConnected: 'KEDGE_HUB_EDGE_NOT_CONNECTED',
  /** The edge's agent took the request but did not answer (502). */
  EdgeNoAnswer: 'KEDGE_HUB_EDGE_NO_ANSWER',
  /** A bug or an unexpected failure inside the hub (500); its log has the details. */
  Internal: 'KEDGE_HUB_INTERNAL',
} as const;
export type HubErrorCode = (typeof HubErrorCode)[keyof typeof HubErrorCode];

export class HubError extends KedgeError<HubErrorCode> {}

/** The code a hub HTTP error carries when the caller names none: by HTTP status. */
export function hubCodeForStatus(status: number): HubErrorCode {
  switch (status) {
    case 401:
      return HubErrorCode.Unauthorized;
    case 403:
      return HubErrorCode.Forbidden;
    case 404:
      return HubErrorCode.NotFound;
    case 409:
    case 422:
      return HubErrorCode.Rejected;
    case 413:
      return HubErrorCode.BodyTooLarge;
    case 431:
      return HubErrorCode.HeadersTooLarge;
    case 502:
    case 503:
      return HubErrorCode.ControlPlaneUnavailable;
    default:
      return status >= 500 ? HubErrorCode.Internal : HubErrorCode.BadRequest;
  }
}
