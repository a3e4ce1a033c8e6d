/**
 * Authenticates `/api/*` calls as Mautic 5.1 does (docs/protocol.md §10.5): the API switch first,
 * then `Authorization: Bearer <token>` (OAuth2) or HTTP Basic when enabled. Each failure has
 * Mautic's own status, type and message.
 */
import { basicCredentials, sameSecret, type OAuthServer } from './oauth.js';
import { apiDisabledReply, oauthErrorReply, type Reply } from './reply.js';

export type ApiAuthResult =
  | {
      ok: true;
      /** Who called: 'oauth:<client id>' or 'basic:<username>' (never a secret). */
      caller: string;
      /** The name Mautic shows as `createdByUser`/`modifiedByUser`. */
      userName: string;
      /** Rate-limit key: the token or the Basic user. */
      key: string;
    }
  | { ok: false; reply: Reply };

export interface ApiAuthSettings {
  enabled: boolean;
  basicAuth: boolean;
  basicUsers: { username: string; password: string }[];
}

export class ApiAuthenticator {
  constructor(
    private readonly oauth: OAuthServer,
    private readonly settings: ApiAuthSettings,
  ) {}

  authenticate(authorization: string | undefined, nowMs: number): ApiAuthResult {
    if (!this.settings.enabled) return { ok: false, reply: apiDisabledReply() };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (bearer?.[1]) {
      const check = this.oauth.check(bearer[1], nowMs);
      if (check.ok) return { ok: true, caller: `oauth:${check.clientId}`, userName: check.userName, key: `token:${bearer[1]}` };
      const message = check.reason === 'expired' ? 'The access token provided has expired.' : 'The access token provided is invalid.';
      return { ok: false, reply: oauthErrorReply(401, 'invalid_grant', message) };
    }
    const basic = basicCredentials(authorization);
    if (basic) {
      if (!this.settings.basicAuth) {
        return {
          ok: false,
          reply: oauthErrorReply(403, 'access_denied', "Basic Auth disabled. You need to enable HTTP basic auth in the API settings of Mautic's Configuration."),
        };
      }
      const user = this.settings.basicUsers.find((candidate) => candidate.username === basic.username);
      if (user && sameSecret(user.password, basic.password)) {
        return { ok: true, caller: `basic:${user.username}`, userName: user.username, key: `basic:${user.username}` };
      }
      return { ok: false, reply: oauthErrorReply(401, 'access_denied', 'Authorization denied, invalid credentials.') };
    }
    return { ok: false, reply: oauthErrorReply(401, 'access_denied', 'API authorization denied.') };
  }
}
