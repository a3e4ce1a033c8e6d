/** The dashboard's HTML and CSS: static, no remote assets, served by the dev server. */

export const DASHBOARD_BASE = '/_dashboard';

function section(id: string, title: string, hint: string, headings: string[]): string {
  return `
  <section id="${id}">
    <h2>${title} <span class="count">0</span></h2>
    <p class="hint">${hint}</p>
    <div class="scroll"><table>
      <thead><tr>${headings.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
      <tbody></tbody>
    </table></div>
  </section>`;
}

export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mautic stand-in · dashboard</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%234e5e9e'/%3E%3C/svg%3E">
<link rel="stylesheet" href="${DASHBOARD_BASE}/dashboard.css">
</head>
<body>
<header>
  <div class="title">
    <h1>Mautic stand-in</h1>
    <span id="live" class="live off">connecting…</span>
  </div>
  <p class="sub">Tracking endpoint <code id="mautic-url"></code> <span id="settings" class="muted"></span></p>
  <div class="toolbar">
    <ul class="stats">
      <li><b data-count="contacts">0</b> contacts</li>
      <li><b data-count="hits">0</b> hits</li>
      <li><b data-count="events">0</b> custom events</li>
      <li><b data-count="apiCalls">0</b> identify/API calls</li>
      <li><b data-count="devices">0</b> devices</li>
      <li><b data-count="formSubmissions">0</b> form posts</li>
      <li><b data-count="merges">0</b> merges</li>
    </ul>
    <input id="filter" type="search" placeholder="Filter everything (email, URL, action, param…)" aria-label="Filter">
    <a class="button" href="${DASHBOARD_BASE}/export.json" download="mautic-standin-export.json">Export JSON</a>
    <button id="reset" class="button" type="button">Reset</button>
  </div>
</header>
<main>
${section('contacts', 'Contacts', 'Who Mautic knows: anonymous visitors get a contact on their first hit; identification fills in the email.', ['ID', 'Email', 'Name', 'Tags', 'Devices', 'Merged from', 'Fields'])}
${section('devices', 'Devices', 'Browsers Mautic knows (its mautic_device_id cookie): a hit counts for the contact its device belongs to. Reassigning a device (PATCH /api/devices/{id}/edit) moves a browser to another contact.', ['ID', 'Tracking id', 'Contact', 'Client', 'System', 'Type', 'Since'])}
${section('events', 'Custom events', 'Hits whose page_url carries mt_category / mt_action / mt_label / mt_value.', ['Time', 'Category', 'Action', 'Label', 'Value', 'Contact', 'Page'])}
${section('hits', 'Hits', 'Every pageview and event received on /mtc/event (post) or /mtracking.gif (pixel), newest first.', ['Time', 'Via', 'Contact', 'Title', 'URL', 'Referrer', 'Params'])}
${section('api', 'Identify / API calls', 'REST calls from your server (the proxy\'s identify endpoint uses these). Secrets are redacted.', ['Time', 'Method', 'Path', 'Operation', 'Status', 'Contact', 'Body'])}
${section('forms', 'Form submissions', 'Posts to /form/submit and the contact each landed on: tracked (the browser\'s own), created, found, merged (two contacts became one) or switched (the browser moved to the found contact).', ['Time', 'Form', 'Contact', 'Tracked before', 'Resolution', 'Values'])}
${section('merges', 'Merges', 'Contacts merged into another and deleted. Only a form post merges; the REST API never does (Mautic 5.1).', ['Time', 'Survivor', 'Merged away', 'Via'])}
<div id="failures-section" hidden>
${section('failures', 'Injected failures', 'Requests the dev server failed on purpose (--fail-rate).', ['Time', 'Method', 'Path', 'Status'])}
</div>
</main>
<script src="${DASHBOARD_BASE}/dashboard.js"></script>
</body>
</html>
`;

export const dashboardCss = `
:root { --fg:#1d232b; --muted:#6a7380; --line:#e3e7ec; --bg:#f6f7f9; --card:#fff; --accent:#4e5fd6; --ok:#1f8a4c; --warn:#b4501b; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { position:sticky; top:0; z-index:1; background:var(--card); border-bottom:1px solid var(--line); padding:12px 20px 10px; }
.title { display:flex; align-items:center; gap:12px; }
h1 { font-size:18px; margin:0; }
h2 { font-size:15px; margin:0 0 2px; display:flex; align-items:center; gap:8px; }
.sub { margin:4px 0 8px; color:var(--muted); }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
.toolbar { display:flex; flex-wrap:wrap; gap:10px; align-items:center; }
.stats { display:flex; gap:16px; margin:0; padding:0; list-style:none; color:var(--muted); }
.stats b { color:var(--fg); font-size:16px; }
#filter { flex:1; min-width:220px; padding:6px 10px; border:1px solid var(--line); border-radius:6px; font:inherit; }
.button { padding:6px 12px; border:1px solid var(--line); border-radius:6px; background:var(--card); color:var(--fg); font:inherit; text-decoration:none; cursor:pointer; }
.button:hover { border-color:var(--accent); color:var(--accent); }
.live { font-size:12px; padding:2px 8px; border-radius:10px; }
.live.on { background:#e3f5ea; color:var(--ok); }
.live.on::before { content:"● "; }
.live.off { background:#fbeee6; color:var(--warn); }
main { padding:14px 20px 40px; display:grid; gap:16px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.hint { margin:0 0 8px; color:var(--muted); font-size:12.5px; }
.count { background:#eef0fb; color:var(--accent); border-radius:10px; padding:0 8px; font-size:12px; }
.scroll { overflow:auto; max-height:420px; }
table { border-collapse:collapse; width:100%; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; padding:4px 8px; border-bottom:1px solid var(--line); position:sticky; top:0; background:var(--card); }
td { padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
tr:last-child td { border-bottom:0; }
td.time { white-space:nowrap; color:var(--muted); font-variant-numeric:tabular-nums; }
td.id { font-weight:600; white-space:nowrap; }
td.email { font-weight:600; }
td.who { white-space:nowrap; }
td.strong { font-weight:600; }
td.url { word-break:break-all; max-width:420px; }
td.small { font-size:11.5px; max-width:220px; word-break:break-all; }
td.empty { text-align:center; padding:14px; }
.muted { color:var(--muted); }
.tag { display:inline-block; background:#eef0fb; color:var(--accent); border-radius:4px; padding:0 6px; margin:0 4px 2px 0; font-size:12px; }
.badge { display:inline-block; border-radius:4px; padding:0 6px; font-size:12px; background:#e3f5ea; color:var(--ok); }
.badge.pixel { background:#fbeee6; color:var(--warn); }
.badge.beacon { background:#eef0fb; color:var(--accent); }
.badge.method { background:#eef0fb; color:var(--accent); font-family:ui-monospace,monospace; }
details summary { cursor:pointer; color:var(--accent); white-space:nowrap; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:1px 10px; margin:6px 0 0; font-size:12.5px; }
dl.kv dt { color:var(--muted); font-family:ui-monospace,monospace; }
dl.kv dd { margin:0; word-break:break-all; }
pre { margin:6px 0 0; font-size:12px; white-space:pre-wrap; word-break:break-all; }
`;
