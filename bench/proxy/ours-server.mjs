/**
 * Our relay in its own process, imported the way a user imports it (the package's `exports`, see
 * lib/entry.mjs): `createMauticProxy` + `toNodeListener`, mounted at /mt, in front of the upstream
 * given as argv[2].
 */
import http from 'node:http';
import { importOurEntry, ourProxyEntries } from '../lib/entry.mjs';
import { serveToParent } from './child.mjs';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: ours-server.mjs <upstream url>');
const entries = ourProxyEntries();
if (!entries) throw new Error('mautic-tracker/server is not built (npm run build)');
const { createMauticProxy } = await importOurEntry(entries.core);
const { toNodeListener } = await importOurEntry(entries.node);
if (typeof createMauticProxy !== 'function' || typeof toNodeListener !== 'function') throw new Error('our entries lack createMauticProxy / toNodeListener');
const proxy = createMauticProxy({
  mauticUrl: upstream,
  basePath: '/mt',
  secret: 'bench-secret-bench-secret-bench-secret-0123',
});
serveToParent(http.createServer(toNodeListener(proxy)));
