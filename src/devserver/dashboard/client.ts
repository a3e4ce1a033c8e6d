/**
 * The dashboard's browser code. Written as a real, type-checked function and served as its source
 * text (`dashboardClientSource`), so the page needs no bundler, framework or remote asset.
 * It must stay self-contained: no imports, no references to anything outside the function.
 */
function dashboardClient(): void {
  type Row = Record<string, unknown>;
  interface Snapshot {
    mauticUrl: string;
    settings: Row;
    counts: Record<string, number>;
    contacts: Row[];
    hits: Row[];
    events: Row[];
    apiCalls: Row[];
    injectedFailures: Row[];
    devices?: Row[];
    merges?: Row[];
    formSubmissions?: Row[];
  }

  const base = location.pathname.replace(/\/[^/]*$/, '');
  const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
  const filterInput = $('filter') as HTMLInputElement;
  let snapshot: Snapshot | undefined;
  let loading = false;
  let again = false;

  function text(value: unknown): string {
    if (value === null || value === undefined) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  }

  function el(tag: string, className?: string, content?: string): HTMLElement {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function time(iso: unknown): string {
    const d = new Date(text(iso));
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function shortUrl(url: unknown): string {
    try {
      const u = new URL(text(url));
      return u.host + u.pathname + u.search + u.hash;
    } catch {
      return text(url);
    }
  }

  function kv(record: unknown): HTMLElement {
    const dl = el('dl', 'kv');
    const entries = Object.entries((record ?? {}) as Row);
    for (const [key, value] of entries) {
      dl.append(el('dt', undefined, key), el('dd', undefined, text(value)));
    }
    if (entries.length === 0) dl.append(el('dd', 'muted', 'none'));
    return dl;
  }

  function details(summary: string, body: HTMLElement): HTMLElement {
    const d = el('details');
    d.append(el('summary', undefined, summary), body);
    return d;
  }

  function cell(content: string | HTMLElement, className?: string): HTMLTableCellElement {
    const td = document.createElement('td');
    if (className) td.className = className;
    if (typeof content === 'string') td.textContent = content;
    else td.append(content);
    return td;
  }

  function tags(list: unknown): HTMLElement {
    const span = el('span');
    for (const tag of Array.isArray(list) ? list : []) span.append(el('span', 'tag', text(tag)));
    return span;
  }

  function contactEmail(contact: Row): string {
    const fields = (contact.fields ?? {}) as Row;
    return text(fields.email ?? contact.email);
  }

  function renderTable(id: string, rows: Row[], render: (row: Row) => HTMLTableCellElement[]): void {
    const body = $(id).querySelector('tbody') as HTMLTableSectionElement;
    const needle = filterInput.value.trim().toLowerCase();
    body.replaceChildren();
    let shown = 0;
    for (const row of rows) {
      if (needle && !JSON.stringify(row).toLowerCase().includes(needle)) continue;
      const tr = document.createElement('tr');
      tr.append(...render(row));
      body.append(tr);
      shown++;
    }
    if (shown === 0) {
      const tr = document.createElement('tr');
      const td = cell(rows.length === 0 ? 'Nothing yet.' : 'No match for the filter.', 'muted empty');
      td.colSpan = 20;
      tr.append(td);
      body.append(tr);
    }
    const count = $(id).querySelector('.count');
    if (count) count.textContent = needle ? `${shown} of ${rows.length}` : String(rows.length);
  }

  function contactLabel(id: unknown): string {
    if (id === null || id === undefined || id === '') return '—';
    return '#' + text(id);
  }

  function render(): void {
    const s = snapshot;
    if (!s) return;
    $('mautic-url').textContent = s.mauticUrl;
    const settings = Object.entries(s.settings)
      .map(([k, v]) => `${k}: ${text(v)}`)
      .join(' · ');
    $('settings').textContent = settings ? ' · ' + settings : '';
    const byId = new Map<string, Row>();
    for (const c of s.contacts) byId.set(text(c.id), c);
    const who = (id: unknown): string => {
      const c = byId.get(text(id));
      const email = c ? contactEmail(c) : '';
      return contactLabel(id) + (email ? ' ' + email : '');
    };

    renderTable('contacts', [...s.contacts].reverse(), (c) => {
      const fields = { ...((c.fields ?? {}) as Row) };
      const nonEmpty: Row = {};
      for (const [k, v] of Object.entries(fields)) if (v !== '' && v !== null && v !== undefined) nonEmpty[k] = v;
      const name = [text(nonEmpty.firstname), text(nonEmpty.lastname)].join(' ').trim();
      const devices = Array.isArray(c.deviceIds) ? (c.deviceIds as unknown[]) : [];
      const merged = Array.isArray(c.mergedFrom) ? (c.mergedFrom as unknown[]) : [];
      return [
        cell('#' + text(c.id), 'id'),
        cell(contactEmail(c) || 'anonymous', contactEmail(c) ? 'email' : 'muted'),
        cell(name),
        cell(tags(c.tags)),
        cell(devices.map(text).join(', '), 'mono small'),
        cell(merged.length ? merged.map((m) => '#' + text(m)).join(', ') : ''),
        cell(details(`${Object.keys(nonEmpty).length} fields`, kv(nonEmpty))),
      ];
    });

    renderTable('devices', [...(s.devices ?? [])].reverse(), (d) => [
      cell('#' + text(d.id), 'id'),
      cell(d.trackingId === null ? 'none (API)' : text(d.trackingId), d.trackingId === null ? 'muted' : 'mono small'),
      cell(who(d.contactId), 'who'),
      cell(text(d.client)),
      cell(text(d.os)),
      cell(text(d.type)),
      cell(time(d.at), 'time'),
    ]);

    renderTable('forms', [...(s.formSubmissions ?? [])].reverse(), (f) => {
      const errors = f.validationErrors as Row | undefined;
      const resolution = errors ? 'validation failed' : text(f.resolution);
      return [
        cell(time(f.at), 'time'),
        cell(`${text(f.formName)} (#${text(f.formId)})`),
        cell(who(f.contactId), 'who'),
        cell(f.trackedContactId === null || f.trackedContactId === undefined ? '' : contactLabel(f.trackedContactId), 'who'),
        cell(el('span', errors || resolution === 'switched' || resolution === 'merged' ? 'badge pixel' : 'badge', resolution)),
        cell(details(`${Object.keys((f.results ?? {}) as Row).length} values`, kv(errors ?? f.results))),
      ];
    });

    renderTable('merges', [...(s.merges ?? [])].reverse(), (m) => [
      cell(time(m.at), 'time'),
      cell(who(m.winnerId), 'who'),
      cell(contactLabel(m.loserId), 'strong'),
      cell(text(m.via) + (m.formId === null || m.formId === undefined ? '' : ` #${text(m.formId)}`)),
    ]);

    renderTable('events', [...s.events].reverse(), (e) => [
      cell(time(e.at), 'time'),
      cell(text(e.category)),
      cell(text(e.action), 'strong'),
      cell(text(e.label)),
      cell(text(e.value)),
      cell(who(e.contactId), 'who'),
      cell(shortUrl(e.url), 'url'),
    ]);

    renderTable('hits', [...s.hits].reverse(), (h) => [
      cell(time(h.at), 'time'),
      cell(el('span', 'badge ' + text(h.via), text(h.via))),
      cell(who(h.contactId), 'who'),
      cell(text(h.title)),
      cell(shortUrl(h.url), 'url'),
      cell(text(h.referrer)),
      cell(details(`${Object.keys((h.params ?? {}) as Row).length} params`, kv(h.params))),
    ]);

    renderTable('api', [...s.apiCalls].reverse(), (a) => {
      const status = Number(a.status);
      const body = a.body;
      return [
        cell(time(a.at), 'time'),
        cell(el('span', 'badge method', text(a.method))),
        cell(text(a.path), 'mono'),
        cell(text(a.operation)),
        cell(el('span', status >= 400 ? 'badge pixel' : 'badge', text(a.status))),
        cell(a.contactId === null || a.contactId === undefined ? '' : who(a.contactId)),
        cell(body === undefined || body === null || body === '' ? '' : details('body', el('pre', undefined, typeof body === 'string' ? body : JSON.stringify(body, null, 2)))),
      ];
    });

    renderTable('failures', [...s.injectedFailures].reverse(), (f) => [
      cell(time(f.at), 'time'),
      cell(text(f.method)),
      cell(text(f.path), 'mono'),
      cell(text(f.status)),
    ]);
    $('failures-section').hidden = s.injectedFailures.length === 0;

    for (const [key, value] of Object.entries(s.counts)) {
      const node = document.querySelector(`[data-count="${key}"]`);
      if (node) node.textContent = String(value);
    }
  }

  async function load(): Promise<void> {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const response = await fetch(base + '/export.json', { cache: 'no-store' });
      snapshot = (await response.json()) as Snapshot;
      render();
      document.body.dataset.loaded = 'true';
    } catch {
      setLive(false);
    } finally {
      loading = false;
      if (again) {
        again = false;
        void load();
      }
    }
  }

  function setLive(live: boolean): void {
    const badge = $('live');
    badge.textContent = live ? 'live' : 'reconnecting…';
    badge.className = live ? 'live on' : 'live off';
  }

  let pending: number | undefined;
  function scheduleLoad(): void {
    if (pending !== undefined) return;
    pending = window.setTimeout(() => {
      pending = undefined;
      void load();
    }, 120);
  }

  const stream = new EventSource(base + '/events');
  stream.addEventListener('open', () => setLive(true));
  stream.addEventListener('error', () => setLive(false));
  stream.addEventListener('change', scheduleLoad);
  stream.addEventListener('hello', () => {
    setLive(true);
    scheduleLoad();
  });

  filterInput.addEventListener('input', render);
  $('reset').addEventListener('click', () => {
    if (!confirm('Forget every contact, hit and request recorded by the stand-in?')) return;
    void fetch(base + '/reset', { method: 'POST' }).then(scheduleLoad);
  });
  void load();
}

/** The client as a script body: `dashboardClient` invoked once. */
export const dashboardClientSource = `(${dashboardClient.toString()})();\n`;
