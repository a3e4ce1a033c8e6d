/**
 * consent.ts for dist/mtc.js (rollup.config.mjs swaps it in): the default script has no consent
 * mode and does not read Do Not Track or Global Privacy Control (its size budget has no room), so
 * the calls into it fold away. dist/mtc.durable.js and the npm entry have the real module.
 */
import type { Consent } from './consent.js';
import type { SendResult, TrackerConfig } from './types.js';

export const mayStore: (() => boolean) | undefined = undefined;
export const consentOptions: ((config: TrackerConfig, input: Record<string, unknown>) => void) | undefined = undefined;
export const createConsent: ((config: TrackerConfig, settle: (callbacks: unknown, result: SendResult) => SendResult) => Consent) | undefined = undefined;
