/**
 * The page at `/` until the full web UI (www/) exists: cameras with a live snapshot
 * each, and the latest events. Plain HTML that polls the REST API.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil</title>
<style>
 :root { --bg:#111418; --fg:#e6e6e6; --muted:#8a939c; --card:#1b2026; --accent:#4caf50; --warn:#e57373; }
 body { margin:0; font:14px system-ui,sans-serif; background:var(--bg); color:var(--fg); }
 header { padding:12px 20px; border-bottom:1px solid #2a3038; display:flex; gap:16px; align-items:baseline; }
 h1 { font-size:18px; margin:0; } h2 { font-size:15px; margin:20px 20px 8px; }
 .muted { color:var(--muted); }
 #cameras { display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:12px; padding:0 20px; }
 .cam { background:var(--card); border-radius:8px; overflow:hidden; }
 .cam img { width:100%; aspect-ratio:4/3; object-fit:contain; background:#000; display:block; }
 .cam .meta { padding:8px 10px; display:flex; justify-content:space-between; }
 .online { color:var(--accent); } .offline { color:var(--warn); }
 table { border-collapse:collapse; margin:0 20px 20px; width:calc(100% - 40px); }
 td, th { text-align:left; padding:6px 8px; border-bottom:1px solid #2a3038; }
 td img { height:48px; border-radius:4px; }
</style></head>
<body>
<header><h1>Vigil</h1><span class="muted" id="sys"></span></header>
<h2>Cameras</h2><div id="cameras"></div>
<h2>Latest events</h2>
<table><thead><tr><th></th><th>Camera</th><th>Label</th><th>Score</th><th>Zones</th><th>Start</th><th>End</th></tr></thead><tbody id="events"></tbody></table>
<script type="module">
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const t = (s) => s ? new Date(s * 1000).toLocaleTimeString() : '…';
async function refresh() {
  try {
    const [sys, cams, events] = await Promise.all(['/api/system', '/api/cameras', '/api/events?limit=20'].map((u) => fetch(u).then((r) => r.json())));
    document.getElementById('sys').textContent = 'v' + sys.version + ' · up ' + Math.round(sys.uptime_s) + ' s';
    document.getElementById('cameras').innerHTML = cams.map((c) => {
      const live = sys.cameras[c.name] || {};
      return '<div class="cam"><img alt="' + esc(c.name) + '" src="/api/cameras/' + encodeURIComponent(c.name) + '/latest.jpg?t=' + Date.now() + '">' +
        '<div class="meta"><b>' + esc(c.name) + '</b><span class="' + esc(live.availability) + '">' + esc(live.availability || 'unknown') +
        (live.fps !== undefined ? ' · ' + esc(live.fps) + ' fps' : '') + (live.motion === 'ON' ? ' · motion' : '') + '</span></div></div>';
    }).join('');
    document.getElementById('events').innerHTML = events.map((e) =>
      '<tr><td>' + (e.has_snapshot ? '<img alt="" src="/api/events/' + encodeURIComponent(e.id) + '/thumbnail.jpg">' : '') + '</td><td>' + esc(e.camera) + '</td><td>' + esc(e.label) +
      '</td><td>' + Math.round(e.top_score * 100) + '%</td><td>' + esc(e.zones.join(', ')) + '</td><td>' + t(e.start_time) + '</td><td>' + t(e.end_time) + '</td></tr>').join('');
  } catch (err) { document.getElementById('sys').textContent = 'hub unreachable: ' + err.message; }
}
refresh(); setInterval(refresh, 3000);
</script></body></html>`;
