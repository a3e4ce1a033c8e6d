// A minimal stand-in for a tag manager container (GTM, Matomo Tag Manager, …): after `load`,
// it injects a "Custom HTML" tag, i.e. Mautic's snippet, exactly as a tag manager would.
(function () {
  var customHtmlTag = [
    "(function(w,d,t,u,n,a,m){w['MauticTrackingObject']=n;",
    "w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)},a=d.createElement(t),",
    "m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)",
    "})(window,document,'script','/mt/mtc.js','mt');",
    "mt('send', 'pageview', { tags: 'demo-tag-manager' });",
  ].join('\n');

  function fire() {
    var source = document.getElementById('tag-source');
    if (source) source.textContent = '<script>\n' + customHtmlTag + '\n</script>';
    // Tag managers run Custom HTML by inserting a new inline script element.
    var script = document.createElement('script');
    script.text = customHtmlTag;
    document.body.appendChild(script);
    document.documentElement.dataset.tagFired = 'true';
  }

  if (document.readyState === 'complete') setTimeout(fire, 300);
  else window.addEventListener('load', function () { setTimeout(fire, 300); });
})();
