// Shared by every demo page: the header with links, and a delivery log fed by the tracking
// script's `mauticPageEventDelivered` event and by the pages' own callbacks (window.demoLog).
(function () {
  var early = [];
  function buildHeader() {
  var pages = [
    ['/', 'Overview'],
    ['/plain.html', 'Plain snippet'],
    ['/spa/', 'SPA (npm)'],
    ['/tag-manager.html', 'Tag manager'],
    ['/login.html', 'Log in + identify'],
    ['/events.html', 'Custom events'],
  ];
  var header = document.createElement('header');
  header.className = 'site';
  var wrap = document.createElement('div');
  wrap.className = 'wrap';
  var brand = document.createElement('a');
  brand.className = 'brand';
  brand.href = '/';
  brand.textContent = 'mautic-tracker demo';
  var nav = document.createElement('nav');
  pages.forEach(function (page) {
    var a = document.createElement('a');
    a.href = page[0];
    a.textContent = page[1];
    var here = location.pathname === page[0] || (page[0] === '/spa/' && location.pathname.indexOf('/spa') === 0);
    if (here) a.setAttribute('aria-current', 'page');
    nav.appendChild(a);
  });
  var dash = document.createElement('a');
  dash.className = 'dash';
  dash.textContent = 'Open the dashboard →';
  dash.target = 'mautic-dashboard';
  dash.hidden = true;
  wrap.append(brand, nav, dash);
  header.appendChild(wrap);
  document.body.insertBefore(header, document.body.firstChild);

  fetch('/demo-config.json').then(function (r) { return r.json(); }).then(function (config) {
    if (config.dashboardUrl) {
      dash.href = config.dashboardUrl;
      dash.hidden = false;
    }
  }).catch(function () {});
  early.splice(0).forEach(function (entry) { log(entry[0], entry[1]); });
  }

  function log(kind, text) {
    var list = document.getElementById('log');
    if (!list) {
      early.push([kind, text]);
      return;
    }
    var li = document.createElement('li');
    var badge = document.createElement('span');
    badge.className = kind === 'error' ? 'bad' : 'ok';
    badge.textContent = kind === 'error' ? 'failed' : 'delivered';
    li.append(badge, ' ' + new Date().toLocaleTimeString() + ' · ' + text);
    list.insertBefore(li, list.firstChild);
  }
  window.demoLog = log;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', buildHeader);
  else buildHeader();

  document.addEventListener('mauticPageEventDelivered', function (e) {
    var d = e.detail || {};
    var params = d.params || {};
    var via = d.image ? 'pixel' : 'POST';
    var id = d.response && d.response.id ? ' → contact #' + d.response.id : '';
    log('ok', (d.event || 'hit') + ' via ' + via + ' for ' + (params.page_url || location.href) + id);
  });
})();
