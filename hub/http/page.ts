/**
 * The status page at `/status` (the web UI, www/, is at `/`): first-admin setup or login, then
 * the cameras with a live snapshot each and the latest events. Plain HTML plus one
 * script served from `/app.js` (the CSP allows scripts from this origin only).
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil</title>
<style>
 :root { --bg:#111418; --fg:#e6e6e6; --muted:#8a939c; --card:#1b2026; --accent:#4caf50; --warn:#e57373; }
 body { margin:0; font:14px system-ui,sans-serif; background:var(--bg); color:var(--fg); }
 header { padding:12px 20px; border-bottom:1px solid #2a3038; display:flex; gap:16px; align-items:baseline; }
 h1 { font-size:18px; margin:0; } h2 { font-size:15px; margin:20px 20px 8px; }
 .muted { color:var(--muted); } [hidden] { display:none !important; }
 #cameras { display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:12px; padding:0 20px; }
 .cam { background:var(--card); border-radius:8px; overflow:hidden; }
 .cam img { width:100%; aspect-ratio:4/3; object-fit:contain; background:#000; display:block; }
 .cam .meta { padding:8px 10px; display:flex; justify-content:space-between; }
 .online { color:var(--accent); } .offline { color:var(--warn); }
 table { border-collapse:collapse; margin:0 20px 20px; width:calc(100% - 40px); }
 td, th { text-align:left; padding:6px 8px; border-bottom:1px solid #2a3038; }
 td img { height:48px; border-radius:4px; }
 form { background:var(--card); max-width:320px; margin:40px auto; padding:20px; border-radius:8px; display:grid; gap:10px; }
 input, button { font:inherit; padding:8px; border-radius:4px; border:1px solid #2a3038; background:#0d1014; color:var(--fg); }
 button { background:#2d6cdf; border:0; cursor:pointer; } .error { color:var(--warn); min-height:1em; }
 #logout { margin-left:auto; background:none; color:var(--muted); border:1px solid #2a3038; padding:4px 10px; }
</style></head>
<body>
<header><h1>Vigil</h1><span class="muted" id="sys"></span><button id="logout" hidden>Log out</button></header>
<form id="setup" hidden><b>Create the first admin</b><span class="muted">Use the one-time setup token printed at start-up.</span>
 <input name="token" placeholder="setup token" autocomplete="off" required><input name="username" placeholder="username" autocomplete="username" required>
 <input name="password" type="password" placeholder="password (8+ characters)" autocomplete="new-password" required><button>Create admin</button><span class="error"></span></form>
<form id="login" hidden><b>Log in</b>
 <input name="username" placeholder="username" autocomplete="username" required><input name="password" type="password" placeholder="password" autocomplete="current-password" required>
 <input name="totp" placeholder="2FA code (if enabled)" autocomplete="one-time-code"><button>Log in</button><span class="error"></span></form>
<main id="dash" hidden>
<h2>Cameras</h2><div id="cameras"></div>
<h2>Latest events</h2>
<table><thead><tr><th></th><th>Camera</th><th>Label</th><th>Score</th><th>Zones</th><th>Start</th><th>End</th></tr></thead><tbody id="events"></tbody></table>
</main>
<script type="module" src="/app.js"></script>
</body></html>`;

export const PAGE_SCRIPT = `
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const t = (s) => s ? new Date(s * 1000).toLocaleTimeString() : '…';
const csrf = () => (document.cookie.match(/(?:^|; )vigil_csrf=([^;]*)/) || [])[1] || '';
const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() }, body: JSON.stringify(body || {}) });
function formHandler(form, url) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
    const r = await post(url, body);
    if (r.ok) return start();
    const e = await r.json().catch(() => ({}));
    form.querySelector('.error').textContent = (e.error && e.error.message) || ('HTTP ' + r.status);
  });
}
formHandler($('setup'), '/api/auth/setup');
formHandler($('login'), '/api/auth/login');
$('logout').addEventListener('click', async () => { await post('/api/auth/logout'); location.reload(); });
let timer;
async function refresh() {
  try {
    const res = await Promise.all(['/api/system', '/api/cameras', '/api/events?limit=20'].map((u) => fetch(u)));
    if (res.some((r) => r.status === 401)) return start();
    const [sys, cams, events] = await Promise.all(res.map((r) => r.json()));
    $('sys').textContent = 'v' + sys.version + ' · up ' + Math.round(sys.uptime_s) + ' s';
    $('cameras').innerHTML = cams.map((c) => {
      const live = sys.cameras[c.name] || {};
      return '<div class="cam"><img alt="' + esc(c.name) + '" src="/api/cameras/' + encodeURIComponent(c.name) + '/latest.jpg?t=' + Date.now() + '">' +
        '<div class="meta"><b>' + esc(c.name) + '</b><span class="' + esc(live.availability) + '">' + esc(live.availability || 'unknown') +
        (live.fps !== undefined ? ' · ' + esc(live.fps) + ' fps' : '') + (live.motion === 'ON' ? ' · motion' : '') + '</span></div></div>';
    }).join('');
    $('events').innerHTML = events.map((e) =>
      '<tr><td>' + (e.has_snapshot ? '<img alt="" src="/api/events/' + encodeURIComponent(e.id) + '/thumbnail.jpg">' : '') + '</td><td>' + esc(e.camera) + '</td><td>' + esc(e.label) +
      '</td><td>' + Math.round(e.top_score * 100) + '%</td><td>' + esc(e.zones.join(', ')) + '</td><td>' + t(e.start_time) + '</td><td>' + t(e.end_time) + '</td></tr>').join('');
  } catch (err) { $('sys').textContent = 'hub unreachable: ' + err.message; }
}
async function start() {
  clearInterval(timer);
  const st = await fetch('/api/auth/status').then((r) => r.json());
  if (!st.authenticated && document.cookie.includes('vigil_csrf=')) {
    const r = await post('/api/auth/refresh');
    if (r.ok) return start();
  }
  $('setup').hidden = !st.setup_required;
  $('login').hidden = st.setup_required || st.authenticated;
  $('dash').hidden = $('logout').hidden = !st.authenticated;
  if (st.authenticated) { refresh(); timer = setInterval(refresh, 3000); }
}
start();
`;
