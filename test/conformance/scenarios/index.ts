/**
 * Every scenario, by exchange name. One file per area so that the people changing an area edit
 * its own file: REST and auth (api.ts), tracking, CORS and dynamic content (tracking.ts), and
 * contacts, devices, fields, forms and form posts (identity.ts).
 */
import type { Scenarios } from '../scenario.js';
import { apiScenarios } from './api.js';
import { identityScenarios } from './identity.js';
import { trackingScenarios } from './tracking.js';

export const scenarios: Scenarios = { ...apiScenarios, ...trackingScenarios, ...identityScenarios };
