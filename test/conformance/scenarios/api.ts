/** Scenarios of authentication, OAuth2 and the contact actions (`oauth_*`, `api_basic_*`, `api_points_*`, …). */
import type { Scenarios } from '../scenario.js';

export const apiScenarios: Scenarios = {};
