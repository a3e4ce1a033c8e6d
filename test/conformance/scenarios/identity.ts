/** Scenarios of contacts, devices, fields, forms and form posts (`api_contacts_*`, `api_devices_*`, `form_*`, …). */
import type { Scenarios } from '../scenario.js';

export const identityScenarios: Scenarios = {};
