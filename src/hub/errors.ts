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
  /** A request body is larger than the endpoint accepts (413). */
  BodyTooLarge: 'KEDGE_HUB_BODY_TOO_LARGE',
} as const;
export type HubErrorCode = (typeof HubErrorCode)[keyof typeof HubErrorCode];

export class HubError extends KedgeError<HubErrorCode> {}
