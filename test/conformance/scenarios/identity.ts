/**
 * Scenarios of contacts, devices, fields, forms and form posts (`api_contacts_*`, `api_devices_*`,
 * `api_stats_*`, `api_fields_*`, `api_forms_*`, `form_*`, `identify_*`, `track_event_after_*`).
 * Each setup rebuilds what the recorded server held, in the same order, so ids line up.
 */
import { BROWSER_UA, type Scenario, type Scenarios, type Setup, type TrackedVisitor } from '../scenario.js';
import { IDENTIFY_FORM } from '../../support/identify-form.js';


/** A standalone form with one hidden field mapped to a custom unique field (the §2 recipe). */
function mergeForm(alias: string): Record<string, unknown> {
  return {
    name: 'mergeform',
    alias: 'mergeform',
    formType: 'standalone',
    postAction: 'message',
    postActionProperty: 'ok',
    fields: [{ label: alias, alias, type: 'hidden', mappedObject: 'contact', mappedField: alias }],
  };
}

const LANDING = 'http://site.test/landing?utm_source=google&utm_campaign=spring';

async function anonymous(s: Setup, tags = 'anon-tag', pageUrl = LANDING): Promise<TrackedVisitor> {
  return s.hit({ page_url: pageUrl, page_title: 'Page', tags });
}

async function alice(s: Setup, extra: Record<string, unknown> = {}): Promise<number> {
  const answer = await s.api<{ contact: { id: number } }>('POST', '/api/contacts/new', {
    email: 'alice@example.com',
    firstname: 'Alice',
    tags: ['api-tag'],
    ...extra,
  });
  return answer.body.contact.id;
}

async function bob(s: Setup): Promise<number> {
  const answer = await s.api<{ contact: { id: number } }>('POST', '/api/contacts/new', { email: 'bob@example.com', firstname: 'Bob' });
  return answer.body.contact.id;
}

function cookieOf(visitor: TrackedVisitor): string {
  return `mautic_device_id=${visitor.deviceId}; mtc_id=${visitor.id}`;
}

/** `POST /form/submit` as the recordings send it, with the browser's cookies. */
async function submit(s: Setup, formId: number, fields: Record<string, string>, cookie: string): Promise<string[]> {
  const body = new URLSearchParams();
  for (const [alias, value] of Object.entries(fields)) body.set(`mauticform[${alias}]`, value);
  body.set('mauticform[formId]', String(formId));
  body.set('mauticform[messenger]', '1');
  const answer = await s.send('POST', `/form/submit?formId=${formId}`, { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie }, body.toString());
  return answer.headers.getSetCookie();
}

async function reassignDevice(s: Setup, visitor: TrackedVisitor, contactId: number): Promise<void> {
  const stats = await s.api<{ stats: { id: string }[] }>(
    'GET',
    `/api/stats/lead_devices?where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=${visitor.deviceId}`,
  );
  await s.api('PATCH', `/api/devices/${stats.body.stats[0]?.id}/edit`, { contact: contactId });
}

/** The browser's recorded device id (in its Cookie) stands for the one this setup's browser got. */
function recordedDevice(s: Setup, recorded: string, visitor: TrackedVisitor): void {
  s.sub(recorded, visitor.deviceId);
}

/** Anonymous B tracked (contact 1), Alice made through the API (2), the identify form, B posts Alice's email. */
async function anonymousBMergesAlice(s: Setup, recordedDeviceId?: string): Promise<TrackedVisitor> {
  const b = await anonymous(s);
  await alice(s);
  await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
  if (recordedDeviceId) recordedDevice(s, recordedDeviceId, b);
  return b;
}

/**
 * Two contacts sharing an email, which Mautic's validator only lets happen when email is not (yet)
 * a unique identifier: one made through the API, one by a tracking hit; then email becomes unique.
 */
async function twoShareEmail(s: Setup): Promise<void> {
  await s.api('POST', '/api/contacts/new', { firstname: 'Dup1', email: 'dup@example.com' });
  await s.hit({ page_url: 'http://site.test/dup', email: 'dup@example.com', firstname: 'Dup2' });
  await s.api('PATCH', '/api/fields/contact/6/edit', { isUniqueIdentifier: true, isPubliclyUpdatable: false });
  await s.api('PATCH', '/api/fields/contact/2/edit', { isPubliclyUpdatable: false });
}
const twoShareOptions: Scenario['options'] = { uniqueFields: [], publiclyUpdatableFields: ['email', 'firstname'] };

/** Alice with the recorded UTM row and points 14 (+10, −3, ×2), as in the batch and activity recordings. */
async function aliceWithHistory(s: Setup): Promise<void> {
  await s.api('POST', '/api/contacts/new', { firstname: 'Alice', email: 'alice@example.com' });
  await s.api('POST', '/api/contacts/1/utm/add', {
    utm_source: 'newsletter',
    utm_medium: 'email',
    utm_campaign: 'spring',
    url: 'http://site.test/x',
    referer: 'http://ref.test/',
    remotehost: 'host.test',
    useragent: BROWSER_UA,
    lastActive: '2026-01-01 10:00:00',
  });
  await s.api('POST', '/api/contacts/1/points/plus/10');
  await s.api('POST', '/api/contacts/1/points/minus/3');
  await s.api('POST', '/api/contacts/1/points/times/2');
}

const PUT_BLANKS =
  "after a PUT Mautic answers every field the body left out as '' (attribution 0.0); the stand-in keeps unset fields absent, so they answer null";

export const identityScenarios: Scenarios = {
  // Contacts: create, update, the unique-field validator (docs/protocol.md §10.1).
  api_contacts_new_201: { setup: async (s) => void (await anonymous(s)) },
  api_contacts_new_empty_body: { setup: async (s) => (await anonymous(s), void (await alice(s))) },
  api_contacts_new_existing_email: { setup: async (s) => (await anonymous(s), void (await alice(s))) },
  api_contacts_new_two_share_email: { options: twoShareOptions, setup: twoShareEmail },
  api_contacts_get_200: {
    async setup(s) {
      await anonymous(s);
      await alice(s);
      await s.api('POST', '/api/contacts/new', { email: 'alice@example.com', lastname: 'Smith' });
    },
  },
  api_contacts_patch_200: { setup: async (s) => void (await anonymous(s)) },
  api_contacts_patch_422_duplicate_email: { setup: async (s) => (await anonymous(s), void (await alice(s))) },
  api_contacts_patch_invalid_email: { setup: async (s) => (await anonymous(s), void (await alice(s))) },
  api_contacts_put_200_existing: {
    setup: async (s) => (await alice(s), void (await bob(s))),
    relaxed: { paths: ['contact.fields'], reason: PUT_BLANKS },
  },
  api_contacts_put_create_unknown_id: { setup: async (s) => void (await alice(s)), relaxed: { paths: ['contact.fields'], reason: PUT_BLANKS } },
  api_contacts_put_existing_duplicate_email: { setup: async (s) => (await bob(s), void (await alice(s))) },
  api_contacts_batch_new: {
    async setup(s) {
      await aliceWithHistory(s);
      await bob(s);
      await s.api('POST', '/api/contacts/new', { firstname: 'Third', email: 'third@example.com' });
    },
  },
  api_contacts_batch_edit: { setup: aliceWithHistory },

  // List and search.
  api_contacts_list_order: { setup: async (s) => (await alice(s, { tags: [] }), void (await bob(s))) },
  api_contacts_list_search_limit: { setup: async (s) => (await alice(s, { tags: [] }), void (await bob(s))) },
  api_contacts_list_search_two_share: {
    options: twoShareOptions,
    setup: twoShareEmail,
    relaxed: {
      paths: ['contacts{keyed}[1].fields.core.last_active', 'contacts{keyed}[1].fields.all.last_active'],
      reason:
        'the recorded server got its second contact with the shared email from outside the API and tracking (no last_active); the stand-in makes it with a tracking hit, which sets last_active',
    },
  },

  // Merged-away ids answer the survivor of a form-post merge.
  api_contacts_get_merged_away_id: {
    async setup(s) {
      const b = await anonymousBMergesAlice(s);
      await submit(s, 1, { email: 'alice@example.com' }, cookieOf(b));
    },
  },
  api_contacts_patch_via_merged_away_id: {
    async setup(s) {
      const b = await anonymous(s, 'x-tag', 'http://site.test/x1?utm_source=fb');
      await alice(s, { company: 'Acme' });
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      await submit(s, 1, { email: 'alice@example.com' }, cookieOf(b));
    },
  },

  api_contact_activity: {
    async setup(s) {
      await aliceWithHistory(s);
    },
    relaxed: {
      paths: ['events'],
      reason:
        'the recorded timeline also holds segment-membership events, which the stand-in does not time-stamp; points, UTM, page-hit and form events are answered in this shape',
    },
  },

  // Devices (§11).
  api_contacts_devices: { setup: async (s) => void (await anonymous(s)) },
  api_devices_get: {
    async setup(s) {
      const visitor = await anonymous(s, 'x-tag', 'http://site.test/x1?utm_source=fb');
      await s.hit({ page_url: 'http://site.test/x2' }, { cookie: cookieOf(visitor) });
    },
  },
  api_devices_list: {
    async setup(s) {
      const visitor = await anonymous(s);
      await s.api('PATCH', `/api/contacts/${visitor.id}/edit`, { email: 'bob@example.com', firstname: 'Bob' });
      await s.hit({ page_url: 'http://site.test/again' }, { cookie: cookieOf(visitor) });
    },
  },
  api_devices_new: {
    // Alice browsed before: a hit naming her email (publicly updatable) found her and tracked her.
    options: { publiclyUpdatableFields: ['email'] },
    async setup(s) {
      await anonymous(s);
      await alice(s, { tags: [] });
      await s.hit({ page_url: 'http://site.test/alice', email: 'alice@example.com' });
    },
  },
  api_devices_patch_reassign_to_A: { setup: async (s) => (await anonymous(s), void (await alice(s, { tags: [] }))) },
  api_stats_lead_devices_by_tracking_id: {
    async setup(s) {
      recordedDevice(s, 'vq4hdito8xpagw7v910gcvv', await anonymous(s));
    },
  },
  track_event_after_device_reassign: {
    async setup(s) {
      const b = await anonymous(s);
      const a = await alice(s);
      await reassignDevice(s, b, a);
      recordedDevice(s, 'vq4hdito8xpagw7v910gcvv', b);
    },
  },

  // Fields and forms.
  api_forms_new_201: {
    async setup(s) {
      // Tag 1 of the recording.
      await s.api('POST', '/api/contacts/new', { email: 'tagged@example.com', tags: ['form-tag'] });
    },
  },

  // Form posts (§11): merge with the tracked contact surviving, switch, new contacts.
  form_submit_ajax_json: { setup: async (s) => void (await s.api('POST', '/api/forms/new', IDENTIFY_FORM)) },
  form_submit_curl_ua: { setup: async (s) => void (await s.api('POST', '/api/forms/new', IDENTIFY_FORM)) },
  form_submit_get_denied: { setup: async (s) => void (await s.api('POST', '/api/forms/new', IDENTIFY_FORM)) },
  form_submit_non_messenger_redirect: { setup: async (s) => void (await s.api('POST', '/api/forms/new', IDENTIFY_FORM)) },
  form_submit_required_missing: { setup: async (s) => void (await s.api('POST', '/api/forms/new', IDENTIFY_FORM)) },
  form_submit_anon_B_existing_A_merge: { setup: async (s) => void (await anonymousBMergesAlice(s, '1mbizinfwlgo5qwwr03k7su')) },
  track_event_after_form_merge: {
    async setup(s) {
      const b = await anonymousBMergesAlice(s, '1mbizinfwlgo5qwwr03k7su');
      await submit(s, 1, { email: 'alice@example.com' }, cookieOf(b));
    },
  },
  form_submit_anon_B_A_has_device_merge: {
    async setup(s) {
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      const a = await anonymous(s);
      await s.api('PATCH', `/api/contacts/${a.id}/edit`, { email: 'alice@example.com', firstname: 'Alice' });
      recordedDevice(s, 'kamd3y6i9wzd2dfatwgxq6o', await anonymous(s));
    },
  },
  form_submit_known_B_other_email_switch_to_A: {
    async setup(s) {
      await anonymous(s);
      await alice(s);
      const b = await anonymous(s);
      await s.api('PATCH', `/api/contacts/${b.id}/edit`, { email: 'p@example.com' });
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      recordedDevice(s, '9vsdffsy7d5cw8x7nmvxln3', b);
    },
  },
  track_event_after_form_switch: {
    async setup(s) {
      await anonymous(s);
      const a = await alice(s);
      const b = await anonymous(s);
      await s.api('PATCH', `/api/contacts/${b.id}/edit`, { email: 'p@example.com' });
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      const cookies = await submit(s, 1, { email: 'alice@example.com' }, cookieOf(b));
      const device = cookies.find((line) => line.startsWith('mautic_device_id='))?.split(';')[0]?.split('=')[1];
      if (!device) throw new Error('the switch set no device cookie');
      s.sub('qyc6mn0psq704vb5wa56m81', device);
      s.sub('mtc_id=2', `mtc_id=${a}`);
    },
  },
  form_submit_new_email_B_gets_it: {
    async setup(s) {
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      recordedDevice(s, 'hieupdoo0dsgmdkv4spexgp', await anonymous(s));
    },
  },
  form_submit_no_cookies_existing_contact: {
    async setup(s) {
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      await s.api('POST', '/api/contacts/new', { email: 'dave@example.com', firstname: 'Dave' });
    },
  },
  form_submit_hidden_ref_merges_B_into_A: {
    async setup(s) {
      await s.api('POST', '/api/fields/contact/new', { label: 'Visitor ref', alias: 'visitor_ref', type: 'text', isUniqueIdentifier: true });
      await s.api('POST', '/api/forms/new', IDENTIFY_FORM);
      await s.api('POST', '/api/forms/new', mergeForm('visitor_ref'));
      const a = await alice(s);
      const b = await anonymous(s);
      await reassignDevice(s, b, a);
      await s.api('PATCH', `/api/contacts/${b.id}/edit`, { visitor_ref: 'm-36cb57df8a9f8f16' });
      recordedDevice(s, 'p3kzngu78nngmmv8nccwlv3', b);
    },
  },
  identify_merge_form_post: {
    async setup(s) {
      await s.api('POST', '/api/fields/contact/new', { label: 'Merge ref', alias: 'merge_ref', type: 'text', isUniqueIdentifier: true });
      await s.api('POST', '/api/forms/new', mergeForm('merge_ref'));
      const a = await alice(s);
      const b = await anonymous(s);
      await reassignDevice(s, b, a);
      await s.api('PATCH', `/api/contacts/${b.id}/edit`, { merge_ref: 'mr-94457a15bdd4d76376aa07eb' });
      recordedDevice(s, '222l1o8s86xsr8yrj9lzs39', b);
    },
  },
};
