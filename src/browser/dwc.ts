/**
 * Dynamic web content (docs/protocol.md §8, §10.14): each slot on the page, `.mautic-slot` or
 * `[data-slot="dwc"]` named by `data-slot-name` or `data-param-slot-name`, is asked for with
 * `GET {base}/dwc/{slot}?<pageview parameters>&mautic_device_id=…`, credentials included and with
 * `X-Requested-With` (without it Mautic sends no CORS headers and the answer cannot be read).
 * A 200 `{content, id, sid, device_id}` replaces the slot's content and its ids are stored; a 204,
 * an error or an empty content keeps what the page put in the slot (its fallback).
 */
import { encodeParams, mergeParams } from './encode.js';
import { readDeviceId, storeIds } from './identity.js';
import { insertMauticScript, originOf } from './mautic-script.js';
import { getJson } from './transport.js';
import type { HitParams, TrackerConfig } from './types.js';

/** The slots of a page (also read by anonymous-content.ts). */
export const SLOTS = '.mautic-slot,[data-slot="dwc"]';

/**
 * Content that holds a Mautic form needs Mautic's form script (`{base}/media/js/mautic-form.js`),
 * whose `MauticSDK.onLoad()` prepares every form on the page. That script reads the page globals
 * `MauticDomain` (whose messages to trust) and `MauticLang` (the "Please wait..." label): they are
 * set, as Mautic's script does, unless the page did, and only here, when a form needs them.
 */
const loadFormScript = (config: TrackerConfig): void => {
  const page = window as unknown as Record<string, unknown> & { MauticSDK?: { onLoad(): void } };
  const prepare = () => page.MauticSDK?.onLoad();
  page.MauticDomain ??= originOf(config);
  page.MauticLang ??= { submittingMessage: 'Please wait...' };
  // Already there (the page embeds a form itself, or an earlier slot loaded it): prepare at once.
  prepare();
  // Inserted once per URL (the script itself defines MauticSDK only once): a second form arriving
  // while it loads is prepared by the same onLoad, which prepares every form of the page.
  insertMauticScript(config, config._url + '/media/js/mautic-form.js', prepare);
};

/**
 * Puts `content` into `slot` and loads what it needs from Mautic, as Mautic's script does. A focus
 * item in the content (Mautic's `{focus=…}` token) is a `<script src="…/focus/{id}.js">`, which
 * `innerHTML` does not run: it is inserted as a campaign's focus item is, only from Mautic's origin.
 */
export const fillSlot = (config: TrackerConfig, slot: Element, answer: unknown): void => {
  const content = (answer as Record<string, unknown>).content as string;
  // A non-string content makes `includes` throw after it was put in: harmless, and the caller's catch ends it.
  if (content) {
    slot.innerHTML = content;
    storeIds(answer);
    slot.querySelectorAll<HTMLScriptElement>('script[src*="/focus/"]').forEach((script) => insertMauticScript(config, script.src));
    if (content.includes('mauticform_wrapper')) loadFormScript(config);
  }
};

/**
 * Returns `fill(params)`, which asks once for every named slot now in the document that it has
 * not asked for yet. A slot inside another slot is left alone: Mautic refuses nested slots, and
 * content that held its own slot could otherwise ask forever.
 *
 * @example const fill = createSlotFiller(config); fill(deliveredPageview.params);
 */
export const createSlotFiller = (config: TrackerConfig): ((params?: HitParams) => void) => {
  const asked = new WeakSet<Element>();
  return (params) =>
    document.querySelectorAll<HTMLElement>(SLOTS).forEach((slot) => {
      const name = slot.dataset.slotName || slot.dataset.paramSlotName;
      if (name && !asked.has(slot) && !slot.parentElement?.closest(SLOTS)) {
        asked.add(slot);
        const query = encodeParams(mergeParams({ ...params }, { mautic_device_id: readDeviceId() }));
        getJson(config._url + '/dwc/' + encodeURIComponent(name) + '?' + query)
          .then((answer) => fillSlot(config, slot, answer))
          // 204, network error, CORS refusal, odd answer: the fallback stays.
          .catch(() => 0);
      }
    });
};
