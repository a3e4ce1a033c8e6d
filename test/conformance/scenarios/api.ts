/** Scenarios of authentication, OAuth2 and the contact actions (`oauth_*`, `api_basic_*`, `api_points_*`, …). */
import type { Scenario, Scenarios, Setup } from '../scenario.js';

const EXPIRED_TOKEN = 'NTc1OTlkN2RhMTkwZTA0OGU3ZDE3MDVhYjk4NGYwNzE0ZDkxMWZmYzU1OWM1NmJjN2JkYWVhYmMwN2I4YmJjYw';
const RATE_LIMITED_TOKEN = 'MDc5N2Q4YmVlYmZjMzgzM2E3NmIxNDJiYTBmZDY1NzY2NGI0ZDllZWMwZmUyNTMxZjU1NDZmZjgwNGZlNDU1Mg';

/** Contact 1 of the recording: Alice, made through the API. */
async function alice(s: Setup): Promise<void> {
  await s.api('POST', '/api/contacts/new', { firstname: 'Alice', email: 'alice@example.com' });
}

/** Segment 1 of the recording. */
async function newsletter(s: Setup): Promise<void> {
  await s.api('POST', '/api/segments/new', { name: 'Newsletter', alias: 'newsletter', isPublished: true });
}

/** `count` calls with one token, which the replayed request then uses too. */
async function callsWithOneToken(s: Setup, count: number): Promise<void> {
  const token = await s.token();
  for (let i = 0; i < count; i += 1) await s.send('GET', '/api/contacts?limit=1&minimal=1', { Authorization: `Bearer ${token}` });
  s.sub(RATE_LIMITED_TOKEN, token);
}

const apiDisabled: Scenario['options'] = { api: { enabled: false } };

export const apiScenarios: Scenarios = {
  // Authentication (docs/protocol.md §10.5).
  api_basic_auth_disabled: { options: { api: { basicAuth: false } } },
  api_bearer_expired: {
    async setup(s) {
      const token = await s.token();
      s.advance(3601 * 1000);
      s.sub(EXPIRED_TOKEN, token);
    },
  },
  api_bearer_invalid: { setup: async (s) => s.keepAuthorization() },
  api_disabled_basic: { options: apiDisabled },
  api_disabled_bearer: { options: apiDisabled, setup: async (s) => s.keepAuthorization() },
  oauth_token_api_disabled: { options: apiDisabled },

  // Rate limiter (§10.7): three calls an hour per token in the recording.
  api_rate_limit_ok_with_headers: {
    options: { api: { rateLimitPerHour: 3 } },
    setup: (s) => callsWithOneToken(s, 0),
    relaxed: {
      paths: ['contacts'],
      reason: 'the recorded list holds a contact made by tracking hits of earlier recordings; this case is about the rate-limit headers',
    },
  },
  api_rate_limit_429: { options: { api: { rateLimitPerHour: 3 } }, setup: (s) => callsWithOneToken(s, 3) },

  // Points (§10.8).
  api_points_plus_200: { setup: alice },
  api_points_minus_with_names_200: { setup: alice },
  api_points_times_200: { setup: alice },

  // Segments.
  api_segment_add_contact_200: { setup: async (s) => (await newsletter(s), alice(s)) },
  api_segment_add_contact_again_200: {
    async setup(s) {
      await newsletter(s);
      await alice(s);
      await s.api('POST', '/api/segments/1/contact/1/add');
    },
  },
  api_segment_add_unknown_contact_404: { setup: newsletter },
  api_segment_add_unknown_segment_404: { setup: alice },
  api_segment_remove_contact_200: {
    async setup(s) {
      await newsletter(s);
      await alice(s);
      await s.api('POST', '/api/segments/1/contact/1/add');
    },
  },

  // Do-Not-Contact and UTM.
  api_dnc_add_200: { setup: alice },
  api_dnc_remove_200: {
    async setup(s) {
      await alice(s);
      await s.api('POST', '/api/contacts/1/dnc/email/add', { reason: 3, comments: 'via api' });
    },
  },
  api_utm_add_200: {
    setup: alice,
    relaxed: {
      paths: ['contact.fields.core.last_active'],
      reason: "Mautic's UTM controller sets the contact's lastActive from the body but answers its last_active field unchanged; the stand-in keeps one value for both",
    },
  },
};
