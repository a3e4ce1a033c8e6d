/** Scenarios of the tracking endpoints, CORS and dynamic web content (`track_*`, `mtc_*`, `mtracking_*`, `options_*`, `dwc_*`). */
import type { Scenario, Scenarios, Setup } from '../scenario.js';

/**
 * The recorded browser was a known visitor: one hit makes a contact with a device, and the device
 * id the recording's cookie (or parameter) carries is mapped to it.
 */
function knownDevice(recordedDeviceId: string, params: Record<string, string> = {}): (s: Setup) => Promise<void> {
  return async (s) => {
    const visitor = await s.hit({ page_url: 'http://site.test/first', ...params });
    s.sub(recordedDeviceId, visitor.deviceId);
  };
}

/** The item of api_dynamiccontents_new: "Hello {contactfield=firstname}" for contacts with an email. */
const SLOT1_KNOWN = {
  name: 'Slot1 known',
  isCampaignBased: false,
  slotName: 'slot1',
  content: '<p>Hello {contactfield=firstname}</p>',
  isPublished: true,
  filters: [{ glue: 'and', field: 'email', object: 'lead', type: 'email', filter: null, display: null, operator: '!empty' }],
};

/** Contact "Kim" (an email, so SLOT1_KNOWN matches) on the recorded device, plus the slot1 item. */
function kimWithSlot1(recordedDeviceId: string): Scenario {
  return {
    options: { publiclyUpdatableFields: ['email', 'firstname'] },
    async setup(s) {
      await s.api('POST', '/api/dynamiccontents/new', SLOT1_KNOWN);
      const kim = await s.hit({ page_url: 'http://site.test/k', email: 'kim@example.com', firstname: 'Kim' });
      s.sub(recordedDeviceId, kim.deviceId);
    },
  };
}

export const trackingScenarios: Scenarios = {
  // Returning browsers: the device cookie (or, without one, the parameter) names a known device,
  // which gets only a new mautic_referer_id.
  track_event_returning_cookie: { setup: knownDevice('47y3rn3sec4u9a3wizfvpgo') },
  track_event_returning_cookies: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  track_event_returning_device_id_param_no_cookie: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  track_event_tags_utm_company_params: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  // A refused origin is still tracked; the answer carries an empty allowed origin.
  track_event_disallowed_origin: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  mtracking_gif_returning: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  mtc_get_contact_known_cookie: { setup: knownDevice('l3kvolpvm6pfht1ry9bvoad') },
  // track_event_after_* (the hit after a device reassignment, a form merge or a form switch) are
  // in identity.ts, which rebuilds the identity flow that left the device where it is.

  track_event_email_not_publicly_updatable: {
    async setup(s) {
      await knownDevice('b9mvg8qyjra7m6pf4ef5wpa')(s); // contact 1: the browser
      await s.api('POST', '/api/contacts/new', { email: 'alice@example.com' }); // contact 2: Alice
    },
  },
  track_event_email_publicly_updatable_switch: {
    // Switches to Alice with a new device: all three cookies again.
    options: { publiclyUpdatableFields: ['email'] },
    async setup(s) {
      await knownDevice('b9mvg8qyjra7m6pf4ef5wpa')(s);
      await s.api('POST', '/api/contacts/new', { email: 'alice@example.com' });
    },
  },
  track_event_public_email_new_identifies_B: {
    // Nobody has walt@: B (the browser) simply gets the email and stays, referer cookie only.
    options: { publiclyUpdatableFields: ['email'] },
    async setup(s) {
      await s.api('POST', '/api/contacts/new', { email: 'alice@example.com' }); // contact 1: A
      await knownDevice('jemllavhb09q7zjd8t7m900')(s); // contact 2: B
    },
  },
  track_event_ct_lead_track_by_tracking_url_off: {
    // `ct` names contact 1; with the setting off (Mautic's default) the hit stays the device's.
    async setup(s) {
      await s.api('POST', '/api/contacts/new', { email: 'lead@example.com' }); // contact 1
      await knownDevice('xo10vpmm2inf7xymf96vyuo')(s);
    },
  },
  track_event_ct_lead_track_by_tracking_url_on_public_email: {
    // With the setting on, `ct` switches the browser to contact 1 on a new device.
    options: { trackByTrackingUrl: true, publiclyUpdatableFields: ['email'] },
    async setup(s) {
      await s.api('POST', '/api/contacts/new', { email: 'lead@example.com' }); // contact 1
      await knownDevice('xo10vpmm2inf7xymf96vyuo')(s);
    },
  },
  track_event_legacy_session_cookie_claims_A: {
    // Contact A exists without a device; `mautic_session_id=legacyabc; legacyabc=1` claims it.
    async setup(s) {
      await s.api('POST', '/api/contacts/new', { email: 'a@example.com' }); // contact 1
    },
  },

  dwc_slot_with_content: kimWithSlot1('6r4ylxihaiomt5y0sv637fl'),
  dwc_unknown_slot: kimWithSlot1('6r4ylxihaiomt5y0sv637fl'),
  dwc_slot_post: kimWithSlot1('6r4ylxihaiomt5y0sv637fl'),
  dwc_slot_no_content_anonymous: {
    // The slot has an item, but only for contacts with an email; this browser's contact has none.
    async setup(s) {
      await s.api('POST', '/api/dynamiccontents/new', SLOT1_KNOWN);
      await knownDevice('l3kvolpvm6pfht1ry9bvoad')(s);
    },
  },
};
