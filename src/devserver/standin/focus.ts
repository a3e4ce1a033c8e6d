/**
 * `GET /focus/{id}.js`: a focus item's script, the URL a `focus_item` campaign event names
 * (docs/protocol.md §4; set the stand-in's `trackingEvents` option to return one). Mautic
 * generates a script per focus item that draws a bar, modal or notification; the stand-in's draws
 * one small bar, through the `MauticJS` calls site code relies on, so a page shows whether the
 * tracking script offers them:
 * - `MauticJS.documentReady` puts `<div class="mautic-focus" data-focus-id="{id}">` first in the body;
 * - `MauticJS.onFirstEventDelivery` writes the delivered contact id into its `data-contact-id`.
 * It sets `window.MauticFocus{id}` as Mautic's scripts do, and draws nothing a second time.
 * Every positive integer id exists (Mautic 7 answers an unknown or unpublished one 404; so do we
 * for anything that is not such an id).
 */
import { textReply, type Reply, type RequestContext } from './reply.js';

const PATH = /^\/focus\/([1-9][0-9]{0,8})\.js$/;

/** The reply for `ctx` when it asks for a focus script, else undefined. */
export function focusScript(ctx: RequestContext): Reply | undefined {
  const id = PATH.exec(ctx.path)?.[1];
  if (!id) return undefined;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return textReply(405, 'Method Not Allowed', { Allow: 'GET' });
  const script = `(function (w, d) {
  if (w.MauticFocus${id}) return;
  w.MauticFocus${id} = true;
  w.MauticJS.documentReady(function () {
    var bar = d.createElement('div');
    bar.className = 'mautic-focus';
    bar.setAttribute('data-focus-id', '${id}');
    bar.textContent = 'Focus item ${id}';
    d.body.insertBefore(bar, d.body.firstChild);
    w.MauticJS.onFirstEventDelivery(function (detail) {
      bar.setAttribute('data-contact-id', String(detail && detail.response ? detail.response.id : ''));
    });
  });
})(window, document);
`;
  return {
    status: 200,
    headers: { 'Content-Type': 'application/javascript', 'Cache-Control': 'no-cache' },
    body: Buffer.from(script),
  };
}
