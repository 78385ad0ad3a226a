/**
 * Live view benchmarks:
 *
 * - **Fan-out CPU**: one real ffmpeg (`-c copy` fragmented MP4 from the RTSP test camera,
 *   768×576 H.264 10 fps) feeding a {@link LiveFeed}, served by {@link attachLive} on a
 *   plain HTTP server in this process; 1, 10, 50 and 0 WebSocket MSE viewers in a child
 *   process (so their cost is not counted). Figure: this process's CPU
 *   (`process.cpuUsage`, % of one core) over each window, and the ratio to 1 viewer.
 *   Target: flat beyond the first viewer apart from the socket writes. Each viewer's
 *   fragment rate is checked (≈ 5/s = nothing dropped).
 * - **Glass-to-glass latency**: frames generated here at 10 fps (640×360 RGB) carrying
 *   `Date.now()` as a 48-block barcode (44 bits of ms + 4-bit checksum), H.264-encoded by
 *   ffmpeg (`libx264 -tune zerolatency -g 10`, the live path's fMP4 flags) for MSE, and
 *   JPEG-encoded (sharp) for MJPEG; real Chromium shows the live page and decodes the
 *   barcode from each displayed frame (video: `requestVideoFrameCallback`; MJPEG `<img>`:
 *   polled every animation frame) and subtracts it from its own `Date.now()` (same
 *   machine clock). Figures: median and p95, ms. Target: MSE ≤ 1000 ms.
 *
 * Run: `npx tsx bench/live.ts [windowSeconds]` (default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express from 'express';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { LiveRegistry } from '../hub/live/live-feed.ts';
import { attachLive, liveRouter, type LiveAttachment } from '../hub/http/live.ts';
import { LIVE_PAGE, LIVE_PAGE_PATH, LIVE_SCRIPT, LIVE_SCRIPT_PATH } from '../hub/http/live-page.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { startRtspServer } from '../test/helpers/rtsp.ts';
import { percentile, round } from './frames.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FMP4_ARGS = ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '200000'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Source frame size for the latency run, px. */
const W = 640;
const H = 360;
/** Barcode: 48 blocks of BLOCK×BAR_H px from (BAR_X, BAR_Y); bits 0–43 the ms stamp, 44–47 a checksum. */
const BITS = 48;
const BLOCK = 13;
const BAR_X = 8;
const BAR_Y = 12;
const BAR_H = 36;

/** Options of {@link benchLive}. */
export interface BenchLiveOptions {
  /** Length of each measuring window, s. Default 10. */
  seconds?: number;
  /** Viewer counts of the CPU run, in order, after an unreported warm-up window with 10. Default [1, 10, 50, 0]. */
  viewers?: number[];
}

/** The app + servers both parts use: page, script, MJPEG routes and the live WebSocket, no auth. */
async function startServer(registry: LiveRegistry): Promise<{ server: Server; base: string; live: LiveAttachment }> {
  const app = express();
  const authorize = async () => 'ok' as const;
  app.get(LIVE_PAGE_PATH, (_req, res) => { res.type('html').send(LIVE_PAGE); });
  app.get(LIVE_SCRIPT_PATH, (_req, res) => { res.type('text/javascript').send(LIVE_SCRIPT); });
  app.use('/api/cameras', liveRouter({ authorize, registry, logger: silentLogger }));
  const server = createServer(app);
  const live = attachLive(server, { authorize, registry, logger: silentLogger });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, live, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopServer(s: { server: Server; live: LiveAttachment }): Promise<void> {
  s.live.close();
  s.server.closeAllConnections();
  await new Promise((r) => s.server.close(r));
}

/** Child-process WebSocket viewers: opens `n` clients to `url`, reports fragments/bytes per client on 'report'. */
const VIEWER_CHILD = `
import { WebSocket } from 'ws';
const [url, n] = [process.argv[1], Number(process.argv[2])];
const stats = [];
let opened = 0;
for (let i = 0; i < n; i++) {
  const s = { msgs: 0, bytes: 0 };
  stats.push(s);
  const ws = new WebSocket(url);
  ws.on('open', () => { if (++opened === n) process.send({ type: 'open' }); });
  ws.on('message', (d, bin) => { if (bin) { s.msgs++; s.bytes += d.length; } });
  ws.on('error', (e) => process.send({ type: 'error', message: e.message }));
}
process.on('message', (m) => {
  if (m === 'mark') { for (const s of stats) { s.msgs0 = s.msgs; s.bytes0 = s.bytes; } process.send({ type: 'marked' }); }
  if (m === 'report') process.send({ type: 'report', stats: stats.map((s) => ({ msgs: s.msgs - s.msgs0, bytes: s.bytes - s.bytes0 })) });
});
`;

type ChildMsg = { type: 'open' | 'marked' } | { type: 'error'; message: string } | { type: 'report'; stats: Array<{ msgs: number; bytes: number }> };

function waitFor(child: ChildProcess, type: string, timeoutMs = 20_000): Promise<ChildMsg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', on); reject(new Error(`viewer child: no '${type}' within ${timeoutMs} ms`)); }, timeoutMs);
    const on = (m: ChildMsg) => {
      if (m.type === 'error') { clearTimeout(timer); child.off('message', on); reject(new Error(`viewer child: ${m.message}`)); }
      if (m.type === type) { clearTimeout(timer); child.off('message', on); resolve(m); }
    };
    child.on('message', on);
  });
}

/** Part (a): process CPU with 1/10/50 MSE viewers of one ffmpeg, and with none (the feed alone). */
async function fanOutCpu(seconds: number, counts: number[]): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  const rtsp = await startRtspServer();
  const registry = new LiveRegistry();
  const feed = registry.ensure('cam');
  const srv = await startServer(registry);
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp.mainUrl, '-map', '0:v:0', '-c', 'copy', ...FMP4_ARGS, 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  ffmpeg.stdout.on('data', (c: Buffer) => feed.pushFmp4(c));
  try {
    for (const t = Date.now(); feed.stats.keyframes === 0; await sleep(100)) if (Date.now() - t > 20_000) throw new Error('no video from ffmpeg');
    await sleep(1000);
    const cpu: Record<number, number> = {};
    // The first window carries warm-up costs (JIT of the send path, first GCs): one unreported run.
    for (const [i, n] of [10, ...counts].entries()) {
      const warmUp = i === 0;
      let child: ChildProcess | undefined;
      if (n > 0) {
        child = spawn(process.execPath, ['--input-type=module', '-e', VIEWER_CHILD, `${srv.base.replace('http', 'ws')}/api/cameras/cam/live`, String(n)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        await waitFor(child, 'open');
        await sleep(2000); // every viewer past its first keyframe
        child.send('mark');
        await waitFor(child, 'marked');
      }
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const frags0 = feed.stats.fragments;
      await sleep(seconds * 1000);
      const c1 = process.cpuUsage(c0);
      const ms = performance.now() - t0;
      const frags = feed.stats.fragments - frags0;
      if (!warmUp) {
        cpu[n] = ((c1.user + c1.system) / 1000 / ms) * 100;
        out[`cpu_pct_${n}_viewers`] = round(cpu[n], 2);
      }
      if (child) {
        child.send('report');
        const r = (await waitFor(child, 'report')) as Extract<ChildMsg, { type: 'report' }>;
        const rates = r.stats.map((s) => s.msgs / (ms / 1000));
        if (!warmUp) {
          out[`min_fragments_per_s_${n}_viewers`] = round(Math.min(...rates), 2);
          out[`delivered_pct_${n}_viewers`] = round((Math.min(...r.stats.map((s) => s.msgs)) / Math.max(1, frags)) * 100, 1);
        }
        child.kill();
        await new Promise((res) => child!.once('exit', res));
        for (const t = Date.now(); feed.viewers.mse > 0 && Date.now() - t < 3000;) await sleep(50);
      }
      out.feed_fragments_per_s = round(frags / (ms / 1000), 2);
    }
    out.stream_kbit_s = round((feed.stats.bytesPerMs * 8000) / 1000, 0);
    const one = cpu[1];
    if (one) for (const n of counts) if (n > 1) out[`cpu_ratio_${n}_over_1`] = round(cpu[n]! / one, 2);
    if (one !== undefined) for (const n of counts) if (n > 1) out[`cpu_pct_per_extra_viewer_${n}`] = round((cpu[n]! - one) / (n - 1), 3);
  } finally {
    ffmpeg.kill('SIGKILL');
    await stopServer(srv);
    await rtsp.stop();
  }
  return out;
}

/** One barcode frame: a moving gradient and the stamp's 48 blocks (white = 1). */
function drawFrame(stamp: number, n: number): Buffer {
  const buf = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    const row = y * W * 3;
    for (let x = 0; x < W; x++) {
      const i = row + x * 3;
      buf[i] = (x + n * 6) & 0xff;
      buf[i + 1] = (y * 2 + n * 3) & 0xff;
      buf[i + 2] = ((x ^ y) + n * 9) & 0xff;
    }
  }
  const bits = encodeStamp(stamp);
  for (let y = BAR_Y - 6; y < BAR_Y + BAR_H + 6; y++) buf.fill(0x40, (y * W + BAR_X - 6) * 3, (y * W + BAR_X + BITS * BLOCK + 6) * 3);
  for (let b = 0; b < BITS; b++) {
    const v = bits[b] ? 0xff : 0x00;
    for (let y = BAR_Y; y < BAR_Y + BAR_H; y++) buf.fill(v, (y * W + BAR_X + b * BLOCK) * 3, (y * W + BAR_X + (b + 1) * BLOCK) * 3);
  }
  return buf;
}

/** 44 bits of `ms` (LSB first) then a 4-bit checksum (sum of the 11 nibbles, mod 16). */
function encodeStamp(ms: number): number[] {
  const bits: number[] = [];
  let sum = 0;
  for (let i = 0; i < 44; i++) bits.push(Math.floor(ms / 2 ** i) % 2);
  for (let i = 0; i < 11; i++) sum += bits[i * 4]! + 2 * bits[i * 4 + 1]! + 4 * bits[i * 4 + 2]! + 8 * bits[i * 4 + 3]!;
  for (let i = 0; i < 4; i++) bits.push((sum >> i) & 1);
  return bits;
}

/**
 * Installed in the page (as source text: tsx's helpers must not leak into it): decodes
 * the barcode of the live video or MJPEG `<img>` into `window.__samples` (latency, ms).
 */
const PROBE = `(args) => {
  const live = window.__live;
  const el = args.kind === 'video' ? live.video : live.img;
  const canvas = document.createElement('canvas');
  canvas.width = args.W;
  canvas.height = args.H;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const samples = [];
  window.__samples = samples;
  window.__bad = 0;
  let last = 0;
  const read = () => {
    const now = Date.now();
    if (!(args.kind === 'video' ? live.video.videoWidth : live.img.naturalWidth)) return;
    g.drawImage(el, 0, 0, args.W, args.H);
    const px = g.getImageData(0, args.BAR_Y + (args.BAR_H >> 1), args.W, 1).data;
    const bits = [];
    for (let b = 0; b < args.BITS; b++) {
      const x = args.BAR_X + b * args.BLOCK + (args.BLOCK >> 1);
      bits.push((px[x * 4] + px[x * 4 + 1] + px[x * 4 + 2]) / 3 > 128 ? 1 : 0);
    }
    let ms = 0;
    let sum = 0;
    for (let i = 0; i < 44; i++) ms += bits[i] * 2 ** i;
    for (let i = 0; i < 11; i++) sum += bits[i * 4] + 2 * bits[i * 4 + 1] + 4 * bits[i * 4 + 2] + 8 * bits[i * 4 + 3];
    const check = bits[44] + 2 * bits[45] + 4 * bits[46] + 8 * bits[47];
    if ((sum & 15) !== check || Math.abs(now - ms) > 60000) { window.__bad++; return; }
    if (ms === last) return; // the same frame is still shown
    last = ms;
    samples.push(now - ms);
  };
  if (args.kind === 'video') {
    const onFrame = () => { read(); live.video.requestVideoFrameCallback(onFrame); };
    live.video.requestVideoFrameCallback(onFrame);
  } else {
    const loop = () => { read(); requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  }
}`;

/** Part (b): glass-to-glass latency of MSE and MJPEG. */
async function latency(seconds: number): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  const registry = new LiveRegistry();
  const feed = registry.ensure('bar');
  const srv = await startServer(registry);
  const ffmpeg = spawn('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-framerate', '10', '-i', 'pipe:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p', ...FMP4_ARGS, 'pipe:1',
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  ffmpeg.stdout.on('data', (c: Buffer) => feed.pushFmp4(c));
  ffmpeg.stdin.on('error', () => {});
  let n = 0;
  let jpegBusy = false;
  const timer = setInterval(() => {
    const stamp = Date.now();
    const frame = drawFrame(stamp, n++);
    ffmpeg.stdin.write(frame);
    if (!jpegBusy) {
      jpegBusy = true;
      sharp(frame, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 80 }).toBuffer()
        .then((jpeg) => feed.pushJpeg(jpeg, stamp), () => {})
        .finally(() => { jpegBusy = false; });
    }
  }, 100);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    for (const t = Date.now(); feed.stats.keyframes === 0; await sleep(100)) if (Date.now() - t > 20_000) throw new Error('no video from ffmpeg');
    const probe = { W, H, BITS, BLOCK, BAR_X, BAR_Y, BAR_H };
    for (const mode of ['mse', 'mjpeg'] as const) {
      const page = await browser.newPage();
      await page.goto(`${srv.base}${LIVE_PAGE_PATH}?camera=bar${mode === 'mjpeg' ? '&mode=mjpeg' : ''}`);
      await page.waitForFunction(`window.__live.mode === '${mode}' && (${mode === 'mse'} ? window.__live.video.readyState >= 2 : window.__live.img.naturalWidth > 0)`, undefined, { timeout: 20_000 });
      await page.evaluate(`(${PROBE})(${JSON.stringify({ kind: mode === 'mse' ? 'video' : 'img', ...probe })})`);
      await sleep(2000); // settle at the live edge
      await page.evaluate('window.__samples.length = 0');
      await sleep(seconds * 1000);
      const r = (await page.evaluate('({ samples: [...window.__samples], bad: window.__bad, lastError: window.__live.lastError, lagMs: window.__live.lagMs })')) as { samples: number[]; bad: number; lastError: string | null; lagMs: number };
      await page.close();
      out[`${mode}_latency_median_ms`] = round(percentile(r.samples, 50), 0);
      out[`${mode}_latency_p95_ms`] = round(percentile(r.samples, 95), 0);
      out[`${mode}_latency_max_ms`] = round(percentile(r.samples, 100), 0);
      out[`${mode}_frames_read`] = r.samples.length;
      if (r.bad) out[`${mode}_unreadable_frames`] = r.bad;
      if (r.lastError) out[`${mode}_page_error`] = r.lastError;
    }
  } finally {
    clearInterval(timer);
    await browser.close();
    ffmpeg.stdin.end();
    ffmpeg.kill('SIGKILL');
    await stopServer(srv);
  }
  return out;
}

/**
 * Runs both parts one after the other.
 * @returns CPU % per viewer count (and ratios to 1 viewer), per-viewer fragment rates, and
 *   latency median/p95/max (ms) for MSE and MJPEG.
 */
export async function benchLive(opts: BenchLiveOptions = {}): Promise<Record<string, number | string>> {
  const seconds = opts.seconds ?? 10;
  const cpu = await fanOutCpu(seconds, opts.viewers ?? [1, 10, 50, 0]);
  const lat = await latency(seconds);
  return { ...cpu, ...lat, mse_target_met: Number(lat.mse_latency_p95_ms) <= 1000 ? 'yes' : 'no' };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.table(await benchLive({ seconds }));
  process.exit();
}
