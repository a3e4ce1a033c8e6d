/**
 * durable-queue.ts for dist/mtc.js (rollup.config.mjs swaps it in): the default script has no
 * durable queue (its size budget has no room), so the tracker's calls into it fold away.
 * dist/mtc.durable.js and the npm entry have the real module.
 */
import type { DurableHit, SendResult } from './types.js';

export const durableHit: DurableHit | undefined = undefined;
export const timedOut: ((signal: AbortSignal) => SendResult) | undefined = undefined;
