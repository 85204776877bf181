// Reads the hub's login discovery document (GET /auth/config, src/api/login-config.ts) so `kedge login --hub-url URL`
// picks the login method by itself. A hub that predates the document (404) offers static tokens only.
import { request, type Agent } from 'undici';
import { API_VERSION } from '../../api/constants.ts';
import { LOGIN_CONFIG_KIND, LOGIN_CONFIG_PATH, LoginMethod, type LoginConfig } from '../../api/login-config.ts';
import { CLIError, CLIErrorCode } from '../errors.ts';
import { explainRequestError } from '../http.ts';

export async function fetchLoginConfig(hubURL: string, dispatcher: Agent): Promise<LoginConfig> {
  let status: number;
  let text: string;
  try {
    const res = await request(`${hubURL}${LOGIN_CONFIG_PATH}`, { method: 'GET', dispatcher });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw explainRequestError(err, hubURL);
  }
  if (status === 404) return { apiVersion: API_VERSION, kind: LOGIN_CONFIG_KIND, methods: [LoginMethod.Token] };
  if (status !== 200)
    throw new CLIError(
      CLIErrorCode.Rejected,
      `the hub's login discovery (${LOGIN_CONFIG_PATH}) answered HTTP ${status}`,
    );
  let doc: LoginConfig;
  try {
    doc = JSON.parse(text) as LoginConfig;
  } catch {
    throw new CLIError(CLIErrorCode.Rejected, `the hub's login discovery (${LOGIN_CONFIG_PATH}) is not JSON`);
  }
  if (doc.kind !== LOGIN_CONFIG_KIND || !Array.isArray(doc.methods))
    throw new CLIError(CLIErrorCode.Rejected, `the hub's login discovery (${LOGIN_CONFIG_PATH}) is not a LoginConfig`);
  if (doc.methods.includes(LoginMethod.Oidc) && (!doc.oidc?.issuerURL || !doc.oidc.clientID))
    throw new CLIError(CLIErrorCode.Rejected, `the hub offers OIDC login but names no issuer or client ID`);
  return doc;
}
