/**
 * The live view page: `/live.html?camera=<name>&token=<media token>&stream=main|sub`
 * (the token is optional with a session cookie; `stream` defaults to `main` and is passed
 * to the live WebSocket). Plays the camera's fMP4 over the live WebSocket with
 * Media Source Extensions, seeks to the live edge (`buffered.end - 0.1` s) once the first
 * fragments after an init segment are appended (the hub's GOP cache starts a viewer up to
 * one GOP behind), and falls back to the MJPEG stream in an `<img>` when MSE or
 * the codec is unsupported, when no init segment comes within 5 s of connecting (a camera
 * without an fMP4 output), or with `&mode=mjpeg`. The script is served separately at
 * {@link LIVE_SCRIPT_PATH} because the CSP allows scripts from this origin only; MSE
 * plays from a `blob:` URL, so the CSP's `media-src` must allow `blob:`.
 *
 * For tests the page exposes `window.__live = { video, img, mode, stream, edgeSeeks, frames,
 * fragments, bytes, lastError, lagMs }`: `mode` is `'mse'`, `'mjpeg'` or null (not started),
 * `stream` the stream the hub serves (`'main'` or `'sub'`, from its init message),
 * `edgeSeeks` how often it jumped to the live edge after an init segment,
 * `frames` counts video frames presented (requestVideoFrameCallback), `fragments` the
 * fMP4 messages received, `lastError` the last error text.
 */

/** Where the hub serves {@link LIVE_PAGE}. */
export const LIVE_PAGE_PATH = '/live.html';
/** Where the hub serves {@link LIVE_SCRIPT} (as `text/javascript`). */
export const LIVE_SCRIPT_PATH = '/live.js';

/** HTML of the live page (no inline script). */
export const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil live</title>
<link rel="icon" href="data:,">
<style>
 html, body { margin:0; height:100%; background:#000; color:#ccc; font:13px system-ui,sans-serif; }
 #live-video, #live-img { position:absolute; inset:0; width:100%; height:100%; object-fit:contain; background:#000; }
 #live-status { position:absolute; left:8px; bottom:8px; padding:2px 6px; background:rgba(0,0,0,.55); border-radius:4px; }
 [hidden] { display:none !important; }
</style></head>
<body>
<video id="live-video" muted autoplay playsinline disablepictureinpicture></video>
<img id="live-img" alt="" hidden>
<span id="live-status">connecting…</span>
<script src="${LIVE_SCRIPT_PATH}"></script>
</body></html>`;

/** The live page's script (plain ES2020, no modules needed). */
export const LIVE_SCRIPT = `'use strict';
(() => {
  const params = new URLSearchParams(location.search);
  const camera = params.get('camera') || '';
  const token = params.get('token');
  const stream = params.get('stream');
  const query = token ? '?token=' + encodeURIComponent(token) : '';
  const wsQuery = stream ? (query ? query + '&' : '?') + 'stream=' + encodeURIComponent(stream) : query;
  const base = '/api/cameras/' + encodeURIComponent(camera);
  const video = document.getElementById('live-video');
  const img = document.getElementById('live-img');
  const statusEl = document.getElementById('live-status');
  const live = { video, img, mode: null, stream: null, edgeSeeks: 0, frames: 0, fragments: 0, bytes: 0, lastError: null, lagMs: 0, reconnects: 0 };
  window.__live = live;
  const status = (s) => { statusEl.textContent = s; };
  const fail = (e) => { live.lastError = String((e && e.message) || e); status(live.lastError); };

  /** Behind the live edge by more than this, jump (s). */
  const MAX_LAG_S = 1.0;
  /** Land this far before the end of the buffer when jumping (s). */
  const EDGE_S = 0.25;
  /** After an init segment, land this far before the end of the first appended fragments (s): the GOP cache starts us behind. */
  const START_EDGE_S = 0.1;
  /** Keep this much played video in the SourceBuffer (s). */
  const KEEP_S = 4;
  /** More queued messages than this: the browser cannot keep up, start over. */
  const MAX_QUEUE = 60;
  /** Connected but no init segment after this long (ms): the camera has no fMP4 output (e.g. a file source), use MJPEG. */
  const NO_INIT_MS = 5000;

  if (!camera) { fail('no camera (?camera=<name>)'); return; }
  if (video.requestVideoFrameCallback) {
    const onFrame = () => { live.frames++; video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
  }

  function startMjpeg(why) {
    if (live.mode === 'mjpeg') return;
    gaveUp = true;
    if (ws) { try { ws.close(); } catch {} }
    teardown();
    video.removeAttribute('src');
    live.mode = 'mjpeg';
    video.hidden = true;
    img.hidden = false;
    img.addEventListener('load', () => { live.frames++; });
    img.addEventListener('error', () => { fail('MJPEG stream failed'); setTimeout(() => { img.src = base + '/live.mjpeg' + query + (query ? '&' : '?') + 'r=' + Date.now(); }, 2000); });
    img.src = base + '/live.mjpeg' + query;
    status('MJPEG' + (why ? ' (' + why + ')' : ''));
  }

  let ws = null;
  let ms = null;
  let sb = null;
  let queue = [];
  let lastTrim = 0;
  let retryMs = 1000;
  let gaveUp = false;
  let gotInit = false;
  /** True from an init segment until the first fragments are appended and we seeked to the live edge. */
  let seekEdge = false;

  const MS = window.MediaSource || window.ManagedMediaSource;
  if (params.get('mode') === 'mjpeg' || !MS) { startMjpeg(MS ? '' : 'no MSE'); return; }
  live.mode = 'mse';
  video.addEventListener('error', () => {
    if (live.mode !== 'mse' || !video.getAttribute('src')) return;
    fail('video: ' + ((video.error && video.error.message) || 'error ' + (video.error && video.error.code)));
    // Nothing ever played (e.g. a CSP without blob: in media-src rejects the MediaSource URL): use MJPEG.
    if (live.frames === 0) startMjpeg('MSE failed');
    else if (ws) ws.close(); // a decode error mid-stream: reconnect, start over from the next init
  });

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + base + '/live' + wsQuery);
    ws.binaryType = 'arraybuffer';
    status('connecting…');
    ws.onopen = () => {
      retryMs = 1000;
      status('waiting for video…');
      if (!gotInit) setTimeout(() => { if (!gotInit) startMjpeg('no MSE stream'); }, NO_INIT_MS);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let m;
        try { m = JSON.parse(ev.data); } catch { return; }
        if (m.type === 'init') { gotInit = true; live.stream = m.stream || null; setup(m.mime); }
        return;
      }
      live.fragments++;
      live.bytes += ev.data.byteLength;
      if (!ms) return;
      queue.push(ev.data);
      if (queue.length > MAX_QUEUE) { fail('too far behind, reconnecting'); ws.close(); return; }
      pump();
    };
    ws.onerror = () => { live.lastError = 'websocket error'; };
    ws.onclose = (ev) => {
      teardown();
      if (gaveUp) return;
      if (ev.code === 1006 && live.fragments === 0 && live.reconnects >= 2) {
        // Refused before any video (auth, or WebSocket blocked): try MJPEG instead.
        startMjpeg('WebSocket refused');
        return;
      }
      live.reconnects++;
      status('reconnecting…');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  function teardown() {
    queue = [];
    sb = null;
    if (ms && ms.readyState === 'open') { try { ms.endOfStream(); } catch {} }
    ms = null;
  }

  function setup(mime) {
    teardown();
    if (!MS.isTypeSupported(mime)) {
      startMjpeg('codec ' + mime + ' unsupported');
      return;
    }
    const source = new MS();
    ms = source;
    seekEdge = true;
    video.disableRemotePlayback = true;
    const url = URL.createObjectURL(source);
    video.src = url;
    source.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(url);
      if (ms !== source) return;
      try {
        sb = source.addSourceBuffer(mime);
        sb.mode = 'segments';
      } catch (e) { fail(e); return; }
      sb.addEventListener('updateend', () => { toEdge(); chase(); pump(); });
      sb.addEventListener('error', () => fail('SourceBuffer error'));
      status('live');
      pump();
    }, { once: true });
  }

  function pump() {
    if (!sb || sb.updating || !ms || ms.readyState !== 'open') return;
    const b = sb.buffered;
    const now = performance.now();
    if (b.length && now - lastTrim > 2000) {
      const start = b.start(0);
      const until = Math.min(video.currentTime, b.end(b.length - 1)) - KEEP_S;
      if (until - start > 1) { lastTrim = now; try { sb.remove(start, until); return; } catch (e) { fail(e); } }
    }
    const next = queue.shift();
    if (!next) return;
    try {
      sb.appendBuffer(next);
    } catch (e) {
      if (e && e.name === 'QuotaExceededError' && b.length) {
        queue.unshift(next);
        lastTrim = 0;
        try { sb.remove(b.start(0), Math.max(b.start(0) + 0.1, video.currentTime - 1)); } catch {}
      } else fail(e);
    }
  }

  /** Once the burst after an init (init + cached GOP) is appended: jump to the live edge. */
  function toEdge() {
    if (!seekEdge || !sb || queue.length) return;
    const b = sb.buffered;
    if (!b.length) return;
    seekEdge = false;
    live.edgeSeeks++;
    video.currentTime = Math.max(b.start(b.length - 1), b.end(b.length - 1) - START_EDGE_S);
  }

  /** Keeps playback at the live edge. */
  function chase() {
    if (!sb) return;
    const b = sb.buffered;
    if (!b.length) return;
    const end = b.end(b.length - 1);
    const lag = end - video.currentTime;
    live.lagMs = Math.round(lag * 1000);
    if (video.currentTime < b.start(b.length - 1) - 0.05 || lag > MAX_LAG_S) {
      video.currentTime = Math.max(b.start(b.length - 1), end - EDGE_S);
    }
    if (video.paused) video.play().catch((e) => { live.lastError = 'play: ' + e.message; });
  }
  setInterval(chase, 500);
  connect();
})();
`;
