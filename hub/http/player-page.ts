/**
 * A minimal recordings player: `/player.html?src=<playlist URL>` plays an HLS playlist
 * (e.g. `/api/cameras/<cam>/recordings.m3u8?start=…&end=…&token=…`) with hls.js (served from
 * `node_modules/hls.js/dist/hls.min.js` at `/vendor/hls.min.js`), or natively where the
 * browser plays HLS itself (Safari). The script is a separate file (`/player.js`): the CSP
 * allows scripts from this origin only. hls.js runs without its Web Worker (a `blob:` worker
 * would need `worker-src blob:`); it attaches a MediaSource through a `blob:` URL, so the
 * CSP needs `media-src 'self' blob:`.
 *
 * The page exposes `window.__player = { video, error, hls }` for tests and embedding
 * (`error`: null, or the message of a fatal error).
 */

/** The player page (HTML). Loads `/vendor/hls.min.js` and `/player.js`. */
export const PLAYER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Vigil recordings</title>
<style>
  html, body { margin: 0; height: 100%; background: #000; color: #ddd; font: 14px system-ui, sans-serif; }
  video { display: block; width: 100%; height: 100%; object-fit: contain; background: #000; }
  #error { position: fixed; left: 0; right: 0; top: 0; padding: 8px 12px; background: #7a1d1d; color: #fff; display: none; }
</style>
</head>
<body>
<video id="video" controls playsinline muted></video>
<div id="error" role="alert"></div>
<script src="/vendor/hls.min.js"></script>
<script src="/player.js"></script>
</body>
</html>
`;

/** The player's script (served as `text/javascript` at `/player.js`). */
export const PLAYER_SCRIPT = `'use strict';
(function () {
  var video = document.getElementById('video');
  var box = document.getElementById('error');
  var player = { video: video, error: null, hls: null };
  window.__player = player;
  function fail(message) {
    player.error = String(message);
    box.textContent = player.error;
    box.style.display = 'block';
  }
  // A CSP without media-src blob: stalls MediaSource playback silently: say so instead.
  document.addEventListener('securitypolicyviolation', function (e) {
    fail('blocked by the Content-Security-Policy: ' + e.effectiveDirective + ' ' + (e.blockedURI || ''));
  });
  var src = new URLSearchParams(location.search).get('src');
  if (!src) { fail('no playlist: open /player.html?src=<playlist URL>'); return; }
  var url;
  try { url = new URL(src, location.href); } catch (e) { fail('not a URL: ' + src); return; }
  if (url.origin !== location.origin) { fail('only playlists of this hub can be played'); return; }
  video.addEventListener('error', function () {
    var e = video.error;
    if (e && !player.hls) fail('video error ' + e.code + (e.message ? ': ' + e.message : ''));
  });
  var Hls = window.Hls;
  if (Hls && Hls.isSupported()) {
    var hls = new Hls({ enableWorker: false, backBufferLength: 60 });
    player.hls = hls;
    var recovered = false;
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) { recovered = true; hls.recoverMediaError(); return; }
      var status = data.response && data.response.code ? ' (HTTP ' + data.response.code + ')' : '';
      fail(data.type + ': ' + data.details + status);
    });
    hls.loadSource(url.href);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url.href;
  } else {
    fail('this browser cannot play HLS');
    return;
  }
  video.play().catch(function () { /* autoplay may be refused; the controls remain */ });
})();
`;
