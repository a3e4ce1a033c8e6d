/**
 * The trackers of the browser benchmark: for each, the page a site owner would write (the
 * tracker's usual snippet, then the calls of the scenario), the files the sink serves for it, and
 * which requests count as "tracking requests" (the hits, not script or config downloads).
 *
 * Scenarios: 'pv1' = the snippet's single pageview; 'pv20ev20' = the snippet's pageview, then 19
 * more pageviews (each with a distinct parameter) and 20 custom events, interleaved.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { bundleForBrowser } from '../lib/bundle.mjs';
import { DIST, PEERS_NODE_MODULES } from '../lib/paths.mjs';

export const SCENARIOS = /** @type {const} */ (['pv1', 'pv20ev20']);
/** @typedef {(typeof SCENARIOS)[number]} Scenario */

/**
 * @typedef {object} TrackerSpec
 * @property {string} id
 * @property {string} name
 * @property {string} script    which file the page loads (as named in the size table)
 * @property {(method: string, path: string) => boolean} isTracking
 * @property {(s: Scenario, api: string) => string} body  HTML <head>+<body> content of the page
 */

const EXTRA_PAGEVIEWS = 19;
const EVENTS = 20;

/** @param {string} title @param {string} inner */
export const html = (title, inner) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>${inner}</head><body><h1>${title}</h1><p>Benchmark page.</p></body></html>`;

/** @type {TrackerSpec} */
const ours = {
  id: 'ours',
  name: 'mautic-tracker',
  script: 'dist/mtc.js',
  isTracking: (method, p) => (method === 'POST' && p.endsWith('/mtc/event')) || p.endsWith('/mtracking.gif'),
  body: (s, api) => html('Bench ours', `<script>
(function(w,d,t,u,n,a,m){w['MauticTrackingObject']=n;
w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)},a=d.createElement(t),
m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)
})(window,document,'script','${api}/mtc.js','mt');
mt('send', 'pageview');
${s === 'pv20ev20' ? `for (var i = 1; i <= ${EVENTS}; i++) {
  if (i <= ${EXTRA_PAGEVIEWS}) mt('send', 'pageview', { bench_seq: i });
  mt('send', 'event', 'bench', 'click', 'label' + i, i);
}` : ''}
</script>`),
};

/** @type {TrackerSpec} */
const posthog = {
  id: 'posthog',
  name: 'posthog-js',
  script: 'bench/node_modules/posthog-js/dist/array.js',
  isTracking: (method, p) => method === 'POST' && /^\/(e|i\/v0\/e|batch|capture)(\/|$)/.test(p),
  // PostHog's documented web snippet (loads {api_host}/static/array.js), with api_host on the sink.
  // opt_out_useragent_filter: PostHog otherwise drops every event of an automated Chromium as a
  // bot (its own advice for end-to-end tests); it only skips that check.
  body: (s, api) => html('Bench posthog', `<script>
!function(t,e){var o,n,p,r;e.__SV||(window.posthog=e,e._i=[],e.init=function(i,s,a){function g(t,e){var o=e.split(".");2==o.length&&(t=t[o[0]],e=o[1]),t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}}(p=t.createElement("script")).type="text/javascript",p.crossOrigin="anonymous",p.async=!0,p.src=s.api_host.replace(".i.posthog.com","-assets.i.posthog.com")+"/static/array.js",(r=t.getElementsByTagName("script")[0]).parentNode.insertBefore(p,r);var u=e;for(void 0!==a?u=e[a]=[]:a="posthog",u.people=u.people||[],u.toString=function(t){var e="posthog";return"posthog"!==a&&(e+="."+a),t||(e+=" (stub)"),e},u.people.toString=function(){return u.toString(1)+".people (stub)"},o="init capture register register_once register_for_session unregister unregister_for_session getFeatureFlag getFeatureFlagPayload isFeatureEnabled reloadFeatureFlags updateEarlyAccessFeatureEnrollment getEarlyAccessFeatures on onFeatureFlags onSessionId getSurveys getActiveMatchingSurveys renderSurvey canRenderSurvey getNextSurveyStep identify setPersonProperties group resetGroups setPersonPropertiesForFlags resetPersonPropertiesForFlags setGroupPropertiesForFlags resetGroupPropertiesForFlags reset get_distinct_id getGroups get_session_id get_session_replay_url alias set_config startSessionRecording stopSessionRecording sessionRecordingStarted captureException loadToolbar get_property getSessionProperty createPersonProfile opt_in_capturing opt_out_capturing has_opted_in_capturing has_opted_out_capturing clear_opt_in_out_capturing debug".split(" "),n=0;n<o.length;n++)g(u,o[n]);e._i.push([i,s,a])},e.__SV=1)}(document,window.posthog||[]);
posthog.init('phc_bench', { api_host: '${api}', person_profiles: 'identified_only', opt_out_useragent_filter: true });
${s === 'pv20ev20' ? `for (var i = 1; i <= ${EVENTS}; i++) {
  if (i <= ${EXTRA_PAGEVIEWS}) posthog.capture('$pageview', { bench_seq: i });
  posthog.capture('click', { category: 'bench', label: 'label' + i, value: i });
}` : ''}
</script>`),
};

const SEGMENT_KEY = 'benchWriteKey';

/** @type {TrackerSpec} */
const segment = {
  id: 'segment',
  name: '@segment/analytics-next',
  script: 'bench/node_modules/@segment/analytics-next/dist/umd/standalone.js',
  isTracking: (method, p) => method === 'POST' && /^\/v1\/(p|t|i|batch|b)$/.test(p),
  // Segment's analytics.js snippet 5.x, with _cdn and the Segment.io apiHost pointed at the sink
  // (the documented way to proxy Segment).
  body: (s, api) => html('Bench segment', `<script>
!function(){var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm","pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId","addDestinationMiddleware","register"];analytics.factory=function(e){return function(){if(window[i].initialized)return window[i][e].apply(window[i],arguments);var n=Array.prototype.slice.call(arguments);if(["track","screen","alias","group","page","identify"].indexOf(e)>-1){var c=document.querySelector("link[rel='canonical']");n.push({__t:"bpc",c:c&&c.getAttribute("href")||void 0,p:location.pathname,u:location.href,s:location.search,t:document.title,r:document.referrer})}n.unshift(e);analytics.push(n);return analytics}};for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];analytics[key]=analytics.factory(key)}analytics.load=function(key,n){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.setAttribute("data-global-segment-analytics-key",i);t.src="${api}/analytics.js/v1/" + key + "/analytics.min.js";var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n};analytics._writeKey="${SEGMENT_KEY}";analytics._cdn="${api}";analytics.SNIPPET_VERSION="5.2.0";
analytics.load("${SEGMENT_KEY}", { integrations: { 'Segment.io': { apiHost: '${api.replace(/^https?:\/\//, '')}/v1', protocol: 'http' } } });
analytics.page();
${s === 'pv20ev20' ? `for (var j = 1; j <= ${EVENTS}; j++) {
  if (j <= ${EXTRA_PAGEVIEWS}) analytics.page({ bench_seq: j });
  analytics.track('click', { category: 'bench', label: 'label' + j, value: j });
}` : ''}
}}();
</script>`),
};

/** @type {TrackerSpec} */
const plausible = {
  id: 'plausible',
  name: 'plausible-tracker',
  script: 'bench/node_modules/plausible-tracker/build/module (bundled, as in the size table)',
  isTracking: (method, p) => method === 'POST' && p === '/api/event',
  // npm-only tracker: the site's own bundle imports it; here that bundle is /plausible/<scenario>.js.
  body: (s, api) => html('Bench plausible', `<script async src="${api}/plausible/${s}.js"></script>`),
};

/** A page with no tracker: the floor every number sits on. */
/** @type {TrackerSpec} */
const none = {
  id: 'none',
  name: '(no tracker)',
  script: '–',
  isTracking: () => false,
  body: () => html('Bench none', '<script>window.noop = 1;</script>'),
};

export const TRACKERS = [ours, posthog, segment, plausible, none];

/**
 * The site bundle of the Plausible page (app code importing plausible-tracker), per scenario.
 * @param {Scenario} s
 * @param {string} api
 */
function plausibleApp(s, api) {
  return `import Plausible from 'plausible-tracker';
const { trackPageview, trackEvent } = Plausible({ domain: 'site.test', apiHost: '${api}' });
trackPageview();
${s === 'pv20ev20' ? `for (let i = 1; i <= ${EVENTS}; i++) {
  if (i <= ${EXTRA_PAGEVIEWS}) trackPageview({ url: location.href + '?bench_seq=' + i });
  trackEvent('click', { props: { category: 'bench', label: 'label' + i, value: String(i) } });
}` : ''}`;
}

/**
 * Every file the sink must serve, by pathname.
 * @param {string} api  base URL of the tracker host, e.g. http://mautic.test:1234
 * @returns {Promise<Map<string, import('./sink.mjs').Asset>>}
 */
export async function trackerAssets(api) {
  const js = 'application/javascript';
  /** @type {Map<string, import('./sink.mjs').Asset>} */
  const assets = new Map();
  if (existsSync(path.join(DIST, 'mtc.js'))) assets.set('/mtc.js', { body: readFileSync(path.join(DIST, 'mtc.js')), type: js });
  // PostHog lazily loads extensions from {api_host}/static/: serve all of its dist files there.
  const phDist = path.join(PEERS_NODE_MODULES, 'posthog-js', 'dist');
  for (const f of readdirSync(phDist)) if (f.endsWith('.js')) assets.set(`/static/${f}`, { body: readFileSync(path.join(phDist, f)), type: js });
  const segDist = path.join(PEERS_NODE_MODULES, '@segment', 'analytics-next', 'dist', 'umd');
  assets.set(`/analytics.js/v1/${SEGMENT_KEY}/analytics.min.js`, { body: readFileSync(path.join(segDist, 'standalone.js')), type: js });
  for (const f of readdirSync(segDist)) if (f.endsWith('.js')) assets.set(`/analytics-next/bundles/${f}`, { body: readFileSync(path.join(segDist, f)), type: js });
  for (const s of SCENARIOS) {
    assets.set(`/plausible/${s}.js`, { body: Buffer.from(await bundleForBrowser(plausibleApp(s, api), { format: 'iife' })), type: js });
  }
  return assets;
}

/**
 * Segment's CDN settings for our write key: only the Segment.io destination, pointed at the sink.
 * @param {string} api
 * @returns {(p: string) => string | undefined}
 */
export function segmentSettings(api) {
  const body = JSON.stringify({
    integrations: { 'Segment.io': { apiKey: SEGMENT_KEY, apiHost: `${api.replace(/^https?:\/\//, '')}/v1`, protocol: 'http', unbundledIntegrations: [], addBundledMetadata: true } },
    plan: { track: { __default: { enabled: true, integrations: {} } } },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  });
  return (p) => (p === `/v1/projects/${SEGMENT_KEY}/settings` ? body : undefined);
}
