/**
 * Authenticates `/api/*` calls: `Authorization: Bearer <token>` (OAuth2) or HTTP Basic when users
 * are configured (Mautic has Basic off by default). Failures use Mautic's rewritten OAuth errors.
 */
import { basicCredentials, sameSecret, type OAuthServer } from './oauth.js';
import { oauthErrorReply, type Reply } from './reply.js';

export type ApiAuthResult =
  | { ok: true; caller: string; /** Rate-limit key: the token or the Basic user. */ key: string }
  | { ok: false; reply: Reply };

export class ApiAuthenticator {
  constructor(
    private readonly oauth: OAuthServer,
    private readonly basicUsers: { username: string; password: string }[],
  ) {}

  authenticate(authorization: string | undefined, nowMs: number): ApiAuthResult {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (bearer?.[1]) {
      const check = this.oauth.check(bearer[1], nowMs);
      if (check.ok) return { ok: true, caller: `oauth:${check.clientId}`, key: `token:${bearer[1]}` };
      return { ok: false, reply: oauthErrorReply(401, 'invalid_grant', 'The access token provided is invalid.') };
    }
    const basic = basicCredentials(authorization);
    if (basic && this.basicUsers.length > 0) {
      const user = this.basicUsers.find((candidate) => candidate.username === basic.username);
      if (user && sameSecret(user.password, basic.password)) {
        return { ok: true, caller: `basic:${user.username}`, key: `basic:${user.username}` };
      }
      return { ok: false, reply: oauthErrorReply(401, 'access_denied', 'Invalid credentials.') };
    }
    return { ok: false, reply: oauthErrorReply(401, 'access_denied', 'OAuth2 authentication required') };
  }
}
