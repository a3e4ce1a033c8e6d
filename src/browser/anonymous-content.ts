/**
 * Dynamic web content before consent, for the npm entry's `contentBeforeConsent: true` (not in
 * dist/mtc.js: its size budget). While the tracker may not track (consent pending or refused, or a
 * privacy signal), each named slot on the page is asked for once, without any identifier: no
 * device id, no cookies (`credentials: 'omit'`), and nothing from the answer is stored (consent.ts).
 * Mautic then answers what it shows a visitor it does not know, or 204 (the fallback stays). Once
 * consent is given, the first delivered hit asks for every slot again, with the ids (mautic-js.ts),
 * so personal content replaces the anonymous one.
 */
import { REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../protocol/wire.js';
import { mayTrack } from './consent.js';
import { fillSlot, SLOTS } from './dwc.js';
import { encodeParams } from './encode.js';
import { pageParams } from './page-params.js';
import type { TrackerConfig } from './types.js';

/**
 * Asks for the page's slots without identifiers, once the document is parsed, unless the tracker
 * may track by then. Never throws; a failed request keeps the slot's fallback.
 *
 * @example fillWithoutIds(config); // createTracker({ url, consent: 'required', contentBeforeConsent: true })
 */
export const fillWithoutIds = (config: TrackerConfig): void => {
  const run = (): void => {
    if (mayTrack(config)) return;
    // The pageview's parameters for Mautic's filters (URL, language, …), without a device id.
    const query = encodeParams(pageParams(0, location.href, document.title));
    document.querySelectorAll<HTMLElement>(SLOTS).forEach((slot) => {
      const name = slot.dataset.slotName || slot.dataset.paramSlotName;
      if (name && !slot.parentElement?.closest(SLOTS)) {
        fetch(config._url + '/dwc/' + encodeURIComponent(name) + '?' + query, {
          headers: { [REQUESTED_WITH_HEADER]: REQUESTED_WITH_VALUE },
          credentials: 'omit',
        })
          .then((response) => (response.status == 200 ? response.json() : Promise.reject()))
          // Granted meanwhile: the first delivered hit asks again, with the ids.
          .then((answer) => mayTrack(config) || fillSlot(config, slot, answer))
          .catch(() => 0);
      }
    });
  };
  if (document.readyState == 'loading') addEventListener('DOMContentLoaded', run);
  else run();
};
