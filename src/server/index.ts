/**
 * `mautic-tracker/server`: a first-party relay for Mautic tracking plus verified identification
 * through Mautic's REST API, for every runtime with `fetch` and WebCrypto (Workers, Deno, Bun,
 * Next.js route handlers, Node). Names no Node module: the Node listener, Express middleware,
 * script loader and keep-alive transport are `mautic-tracker/server/node` (src/server/node/).
 */
export { createMauticProxy, type MauticProxy, type ProxyContext } from './core/proxy.js';
export type { BodyRead, PlainRequest, PlainResponse } from './core/plain-message.js';
export { createLazyMauticProxy, type LazyMauticProxy } from './core/lazy-proxy.js';
export {
  MauticProxyConfigError,
  DEFAULT_PATHS,
  type MauticProxyConfig,
  type MauticAuthConfig,
  type IdentifyConfig,
  type IdentifyHistoryConfig,
  type MergeSurvivor,
  type ProxyRoutePaths,
} from './core/config.js';
export { mintIdentityToken, normalizeEmail, type MintIdentityTokenOptions } from './core/identity-token.js';
export type { IdentifyRequestBody, ServerIdentifyOptions, ServerIdentifyResult } from './core/identify.js';
export type { IdentifyFollowUps, IdentifyPoints, IdentifyStep } from './core/identify-followups.js';
export { MemoryStore, type ProxyStore, type MemoryStoreOptions } from './core/store.js';
export {
  setupIdentify,
  probeMergeSurvivor,
  SetupIdentifyError,
  DEFAULT_HISTORY_FIELD,
  DEFAULT_HISTORY_FORM_ALIAS,
  type SetupIdentifyOptions,
  type SetupIdentifyResult,
} from './setup-identify.js';
export type { Logger, LogEntry, LogLevel, LoggerOption } from './core/logger.js';
export { CLIENT_IP_HEADERS } from './core/upstream.js';
export {
  MauticRestClient,
  type MauticRestClientOptions,
  type ContactFields,
  type ContactList,
  type UtmTags,
  type MauticDeviceStat,
  type MauticDevice,
  type MauticField,
  type MauticForm,
  type NewContactField,
  type NewForm,
  type ContactListOptions,
  type PointsOperator,
  type BatchContactEdit,
  type BatchItemResult,
} from './rest/client.js';
export { submitMauticForm, type FormSubmitOptions, type FormSubmitResult } from './rest/form-submit.js';
export {
  OAuth2ClientCredentials,
  OAuth2AuthorizationCode,
  BasicAuth,
  authorizeUrl,
  exchangeAuthorizationCode,
  DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
  type AuthProvider,
  type OAuth2Options,
  type OAuth2ClientCredentialsOptions,
  type OAuth2AuthorizationCodeOptions,
} from './rest/auth.js';
export { MemoryTokenStore, KeyValueTokenStore, type TokenStore, type OAuthTokens, type KeyValueTokenStoreOptions } from './rest/token-store.js';
export {
  MauticApiError,
  MauticTimeoutError,
  MauticNetworkError,
  MauticNotFoundError,
  MauticValidationError,
  MauticRateLimitError,
  MauticServerError,
  MauticAuthError,
  MauticInvalidGrantError,
  MauticNotAuthorizedError,
  MauticMissingCredentialsError,
  MauticTokenInvalidError,
  MauticTokenExpiredError,
  MauticInvalidClientError,
  MauticUnauthorizedClientError,
  MauticApiDisabledError,
  MauticBasicAuthDisabledError,
  MauticInvalidCredentialsError,
  MauticForbiddenError,
  type MauticAuthFailure,
  parseErrorBody,
} from './rest/errors.js';
