/**
 * A rough User-Agent reader for device records, giving the fields Mautic's device detector
 * (Matomo's) stores: client type/name/short name/version/engine, device type, OS. Only the common
 * browsers and systems are known; anything else gets empty strings, never an error.
 */
import type { DeviceClientInfo } from './types.js';

export interface ParsedUserAgent {
  clientInfo: DeviceClientInfo;
  device: string;
  deviceBrand: string;
  deviceModel: string;
  deviceOsName: string;
  deviceOsShortName: string;
  deviceOsVersion: string;
  deviceOsPlatform: string;
}

interface BrowserRule {
  token: RegExp;
  name: string;
  short: string;
  engine: string;
  family: string;
}

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: BrowserRule[] = [
  { token: /Edg(?:e|A|iOS)?\/([\d.]+)/, name: 'Microsoft Edge', short: 'PS', engine: 'Blink', family: 'Internet Explorer' },
  { token: /OPR\/([\d.]+)/, name: 'Opera', short: 'OP', engine: 'Blink', family: 'Opera' },
  { token: /HeadlessChrome\/([\d.]+)/, name: 'Headless Chrome', short: 'HC', engine: 'Blink', family: 'Chrome' },
  { token: /(?:Chrome|CriOS)\/([\d.]+)/, name: 'Chrome', short: 'CH', engine: 'Blink', family: 'Chrome' },
  { token: /(?:Firefox|FxiOS)\/([\d.]+)/, name: 'Firefox', short: 'FF', engine: 'Gecko', family: 'Firefox' },
  { token: /Version\/([\d.]+).*Safari\//, name: 'Safari', short: 'SF', engine: 'WebKit', family: 'Safari' },
];

/** Matomo keeps major.minor. */
function shortVersion(version: string): string {
  const parts = version.split('.');
  return parts.length >= 2 ? `${parts[0]}.${parts[1]}` : `${parts[0] ?? ''}.0`;
}

function os(ua: string): { name: string; short: string; version: string } {
  let m: RegExpExecArray | null;
  if ((m = /Windows NT ([\d.]+)/.exec(ua))) {
    const versions: Record<string, string> = { '10.0': '10', '6.3': '8.1', '6.2': '8', '6.1': '7' };
    return { name: 'Windows', short: 'WIN', version: versions[m[1] ?? ''] ?? '' };
  }
  if ((m = /(?:iPhone|iPad|iPod).*? OS ([\d_]+)/.exec(ua))) return { name: 'iOS', short: 'IOS', version: (m[1] ?? '').replace(/_/g, '.') };
  if ((m = /Mac OS X ([\d_.]+)/.exec(ua))) return { name: 'Mac', short: 'MAC', version: (m[1] ?? '').replace(/_/g, '.') };
  if ((m = /Android ([\d.]+)/.exec(ua))) return { name: 'Android', short: 'AND', version: m[1] ?? '' };
  if (/CrOS/.test(ua)) return { name: 'Chrome OS', short: 'COS', version: '' };
  if (/Linux|X11/.test(ua)) return { name: 'GNU/Linux', short: 'LIN', version: '' };
  return { name: '', short: '', version: '' };
}

function platform(ua: string): string {
  if (/x86_64|x64|Win64|WOW64|amd64/i.test(ua)) return 'x64';
  if (/aarch64|arm/i.test(ua)) return 'ARM';
  if (/i[3-6]86|x86/i.test(ua)) return 'x86';
  return '';
}

function deviceType(ua: string, osName: string): string {
  if (/iPad|Tablet/.test(ua) || (osName === 'Android' && !/Mobile/.test(ua))) return 'tablet';
  if (/iPhone|iPod|Mobile/.test(ua)) return 'smartphone';
  if (['Windows', 'Mac', 'GNU/Linux', 'Chrome OS'].includes(osName)) return 'desktop';
  return '';
}

/** `undefined` for an empty User-Agent: the device then has no client info, like one made via the API. */
export function parseUserAgent(userAgent: string | undefined): ParsedUserAgent | undefined {
  const ua = (userAgent ?? '').trim();
  if (ua === '') return undefined;
  const system = os(ua);
  const clientInfo: DeviceClientInfo = { type: '', name: '', short_name: '', version: '', engine: '', engine_version: '', family: '' };
  for (const rule of BROWSERS) {
    const m = rule.token.exec(ua);
    if (!m) continue;
    Object.assign(clientInfo, {
      type: 'browser',
      name: rule.name,
      short_name: rule.short,
      version: shortVersion(m[1] ?? ''),
      engine: rule.engine,
      family: rule.family,
    });
    break;
  }
  const brand = system.name === 'iOS' || system.name === 'Mac' ? 'Apple' : '';
  const model = /iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : '';
  return {
    clientInfo,
    device: deviceType(ua, system.name),
    deviceBrand: brand,
    deviceModel: model,
    deviceOsName: system.name,
    deviceOsShortName: system.short,
    deviceOsVersion: system.version,
    deviceOsPlatform: platform(ua),
  };
}
