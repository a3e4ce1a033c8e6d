/**
 * The binding cookie on the wire: read from a request's `Cookie` header and written as a
 * `Set-Cookie`, the same way by the relay (a Mautic answer named the contact) and identify.
 */
import type { Binding, BindingSigner } from './binding.js';
import type { ResolvedConfig } from './config.js';
import { parseCookieHeader, serializeCookie } from './cookies.js';

/** `Secure` cookies: as configured, else when the site is served over https. */
export function isSecureSite(config: ResolvedConfig, url: URL): boolean {
  return config.secureCookies ?? url.protocol === 'https:';
}

/** The binding cookie's value in a `Cookie` header, if it has one. */
export function bindingCookieValue(config: ResolvedConfig, cookieHeader: string | null): string | undefined {
  return parseCookieHeader(cookieHeader).get(config.bindingCookieName);
}

/** The verified binding a `Cookie` header carries, or null. */
export function bindingOfCookies(config: ResolvedConfig, signer: BindingSigner, cookieHeader: string | null): Promise<Binding | null> {
  return signer.verify(bindingCookieValue(config, cookieHeader));
}

/** A `Set-Cookie` value binding the browser to `contactId` on `deviceId`: HttpOnly, scoped to the proxy. */
export async function bindingSetCookie(config: ResolvedConfig, signer: BindingSigner, contactId: number, deviceId: string, url: URL): Promise<string> {
  return serializeBinding(config, await signer.sign(contactId, deviceId), url);
}

/** `bindingSetCookie` without waiting, when the signature is already known (`BindingSigner.signedNow`); else null. */
export function knownBindingSetCookie(config: ResolvedConfig, signer: BindingSigner, contactId: number, deviceId: string, url: URL): string | null {
  const token = signer.signedNow(contactId, deviceId);
  return token === undefined ? null : serializeBinding(config, token, url);
}

function serializeBinding(config: ResolvedConfig, token: string, url: URL): string {
  return serializeCookie(config.bindingCookieName, token, {
    path: config.basePath || '/',
    secure: isSecureSite(config, url),
    httpOnly: true,
    maxAge: config.bindingMaxAgeSeconds,
  });
}
