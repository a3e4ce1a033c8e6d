/** Types of bench/lib/peers.mjs, for the TypeScript tests in test/bench/. */
export function stalePeers(): string[];
export function peersInstalled(): boolean;
export function ensurePeers(log: (line: string) => void): void;
