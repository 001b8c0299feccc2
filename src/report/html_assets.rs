//! The HTML report's inline stylesheet and script: the page stays one offline file.
//!
//! The script filters scenarios and requirement rows by status, level, feature, tag
//! and free text. Filters can also be set from the address (`report.html#status=failing&q=etag`),
//! which makes a filtered view shareable and lets a headless browser test them.

pub const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --err: #9a6700; --waived: #bf8700; --na: #57606a; --inc: #8250df; --bg: #f6f8fa; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
header { padding: 18px 28px; border-bottom: 1px solid var(--line); background: var(--bg); }
main { padding: 12px 28px 40px; max-width: 1200px; }
h1 { margin: 0 0 6px; font-size: 22px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 480px; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
/* Status colours fill badges and coverage bar segments only, never whole scenarios. */
.badge.passed, .bar .passed { background: var(--pass); }
.badge.failed, .bar .failed { background: var(--fail); }
.badge.error, .bar .error { background: var(--err); }
.badge.waived, .bar .waived { background: var(--waived); }
.badge.inconclusive, .bar .inconclusive { background: var(--inc); }
.badge.informational, .bar .informational { background: #0969da; }
.badge.not_applicable, .badge.not_run, .badge.skipped, .bar .not_applicable, .bar .not_run { background: var(--na); }
.verdict { font-size: 16px; padding: 3px 12px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 6px 14px; min-width: 96px; }
.tile b { display: block; font-size: 22px; }
.bar { display: flex; height: 18px; border-radius: 4px; overflow: hidden; border: 1px solid var(--line); margin: 6px 0 2px; }
.bar span { display: block; height: 100%; }
.legend span { margin-right: 14px; }
.meta td:first-child { width: 180px; color: #57606a; }
tr.req td:nth-child(4) { min-width: 16em; }
#filters { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 10px; align-items: center; z-index: 1; }
#filters input[type=search] { min-width: 220px; }
.scenario { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 8px 12px; }
.scenario.failed, .scenario.error { border-left: 4px solid var(--fail); }
.scenario.passed { border-left: 4px solid var(--pass); }
.scenario.waived { border-left: 4px solid var(--waived); }
.scenario.inconclusive { border-left: 4px solid var(--inc); }
.quote { font-style: italic; color: #424a53; }
.steps { margin: 6px 0 0; padding: 0; list-style: none; }
.steps li { padding: 3px 0; }
.kw { font-weight: 600; color: #8250df; }
.finding { margin: 4px 0 4px 22px; padding: 6px 10px; background: #fff1f0; border-left: 3px solid var(--fail); }
.note { margin: 4px 0; padding: 6px 10px; background: #fff8c5; border-left: 3px solid var(--waived); }
mark.hl { background: #ffd33d; display: block; }
.muted { color: #57606a; }
details { margin: 4px 0 4px 22px; }
summary { cursor: pointer; }
[hidden] { display: none !important; }
@media print {
  #filters { display: none; } pre { max-height: none; } header { background: none; }
  .scenario, tr { break-inside: avoid; } a { color: inherit; text-decoration: none; }
  .badge, .bar span, mark.hl { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

pub const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  if (!form) { return; }
  function value(name) { var e = form.elements[name]; return e ? e.value : ''; }
  function statusOk(want, status) {
    if (!want) { return true; }
    if (want === 'failing') { return status === 'failed' || status === 'error'; }
    return status === want;
  }
  function words(s) { return (s || '').split(' ').filter(Boolean); }
  function apply() {
    var status = value('status'), level = value('level'), feature = value('feature'),
        tag = value('tag'), q = value('q').toLowerCase().trim();
    var shown = 0, total = 0;
    document.querySelectorAll('.scenario').forEach(function (el) {
      total += 1;
      var ok = statusOk(status, el.dataset.status) &&
        (!level || words(el.dataset.levels).indexOf(level) >= 0) &&
        (!feature || el.dataset.feature === feature) &&
        (!tag || words(el.dataset.tags).indexOf(tag) >= 0) &&
        (!q || (el.dataset.search || '').indexOf(q) >= 0);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    document.querySelectorAll('section.feature').forEach(function (sec) {
      sec.hidden = sec.querySelector('.scenario:not([hidden])') === null;
    });
    var reqs = 0;
    document.querySelectorAll('tr.req').forEach(function (row) {
      var ok = statusOk(status, row.dataset.status) &&
        (!level || row.dataset.level === level) &&
        (!q || row.textContent.toLowerCase().indexOf(q) >= 0);
      row.hidden = !ok;
      if (ok) { reqs += 1; }
    });
    var out = document.getElementById('shown');
    out.textContent = shown + ' of ' + total + ' scenarios, ' + reqs + (reqs === 1 ? ' requirement' : ' requirements') + ' shown';
    document.body.dataset.shownScenarios = String(shown);
    document.body.dataset.shownRequirements = String(reqs);
  }
  function fromAddress() {
    var hash = window.location.hash.slice(1);
    if (hash.indexOf('=') < 0) { return; }
    hash.split('&').forEach(function (pair) {
      var kv = pair.split('=');
      var field = form.elements[decodeURIComponent(kv[0])];
      if (field) { field.value = decodeURIComponent((kv[1] || '').replace(/\+/g, ' ')); }
    });
  }
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  window.addEventListener('hashchange', function () { fromAddress(); apply(); });
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
  fromAddress();
  apply();
  document.body.dataset.ready = 'yes';
})();
"#;
