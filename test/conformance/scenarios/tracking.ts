/** Scenarios of the tracking endpoints, CORS and dynamic web content (`track_*`, `mtc_*`, `mtracking_*`, `options_*`, `dwc_*`). */
import type { Scenarios } from '../scenario.js';

export const trackingScenarios: Scenarios = {};
