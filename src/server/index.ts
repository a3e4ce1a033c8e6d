/**
 * `mautic-tracker/server`: a first-party relay for Mautic tracking plus verified identification
 * through Mautic's REST API. The core (`createMauticProxy`) is Web-standard; the Node and
 * Express adapters are thin wrappers around it.
 */
export { createMauticProxy, type MauticProxy, type ProxyContext } from './core/proxy.js';
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
  type MauticField,
  type MauticForm,
  type NewContactField,
  type NewForm,
} from './rest/client.js';
export { submitMauticForm, type FormSubmitOptions, type FormSubmitResult } from './rest/form-submit.js';
export { OAuth2ClientCredentials, BasicAuth, type AuthProvider, type OAuth2Options } from './rest/auth.js';
export {
  MauticApiError,
  MauticTimeoutError,
  MauticNetworkError,
  MauticNotFoundError,
  MauticValidationError,
  MauticRateLimitError,
  MauticAuthError,
  MauticInvalidClientError,
  MauticUnauthorizedClientError,
  MauticApiDisabledError,
  MauticBasicAuthDisabledError,
  MauticInvalidCredentialsError,
  MauticForbiddenError,
  type MauticAuthFailure,
  parseErrorBody,
} from './rest/errors.js';
export { toNodeListener, type NodeAdapterOptions } from './adapters/node.js';
export { expressMiddleware, type ConnectMiddleware } from './adapters/express.js';
export { loadSdkScript } from './node/load-script.js';
