/**
 * Live view through the real hub: a camera on the RTSP fixture, one ffmpeg for detect and
 * live, MSE in real Chromium with a media token in the URL (never the session), MJPEG
 * through the same auth, and refusals for other cameras. A second RTSP camera with a main
 * and a sub URL (`paths: {detect: sub, live: main}`) is served per stream
 * (`?stream=main|sub`), and the GOP cache starts new viewers at once.
 */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Fmp4Splitter, type Fmp4FragmentUnit, type Fmp4InitUnit } from '../hub/live/fmp4.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { readMjpegFrames } from './helpers/mjpeg.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';

let rtsp: RtspServer;
/** The wall camera's own RTSP server, so the ffmpeg count per URL of `porch` stays exact. */
let wallRtsp: RtspServer;
let h: TestHub;
let browser: Browser | undefined;

beforeAll(async () => {
  [rtsp, wallRtsp] = await Promise.all([startRtspServer(), startRtspServer()]);
  h = await startTestHub({ detector: { enabled: false } });
  const cameras: Array<[string, Record<string, string>]> = [
    ['porch', { detect: rtsp.mainUrl }], ['other', { detect: rtsp.subUrl }], ['wall', { detect: wallRtsp.subUrl, live: wallRtsp.mainUrl }],
  ];
  for (const [name, paths] of cameras) {
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, paths, detect: { fps: 5, width: 320 } })).status).toBe(201);
  }
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await Promise.all([rtsp?.stop(), wallRtsp?.stop()]);
});

/** The test's Chromium, launched on first use. */
async function chromiumBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'] });
  return browser;
}

/** A media token for `camera`. */
async function mediaToken(camera: string): Promise<string> {
  return (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera })).body.token as string;
}

/** Our ffmpeg processes (children of this process, where the hub runs) reading `url`. */
function ffmpegsOf(url: string): string[] {
  return execFileSync('ps', ['-eo', 'ppid,args']).toString().split('\n').filter((l) => l.includes(url) && l.includes('ffmpeg') && Number(l.trim().split(/\s+/)[0]) === process.pid);
}

/** One live WebSocket viewer: what it got, and when (ms since epoch). */
interface LiveClient {
  ws: WebSocket;
  createdAt: number;
  openedAt: number;
  /** The `init` text messages. */
  texts: Array<{ type: string; codec: string; mime: string; stream: string }>;
  init?: Fmp4InitUnit;
  frags: Array<{ at: number; f: Fmp4FragmentUnit }>;
}

/** Opens `/api/cameras/<camera>/live[?stream=]` with a media token; resolves once open. */
function openLive(camera: string, token: string, stream?: string): Promise<LiveClient> {
  const query = `?token=${token}${stream === undefined ? '' : `&stream=${stream}`}`;
  const c: LiveClient = { ws: new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/cameras/${camera}/live${query}`), createdAt: Date.now(), openedAt: 0, texts: [], frags: [] };
  const splitter = new Fmp4Splitter();
  c.ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) { c.texts.push(JSON.parse(data.toString())); return; }
    for (const u of splitter.push(data)) {
      if (u.kind === 'init') c.init ??= u;
      else c.frags.push({ at: Date.now(), f: u });
    }
  });
  return new Promise((resolve, reject) => {
    c.ws.once('open', () => { c.openedAt = Date.now(); resolve(c); });
    c.ws.once('error', reject);
  });
}

/** Waits until `c` has an init segment and a media fragment (20 s at most), then closes it unless `keepOpen`. */
async function receive(c: LiveClient, keepOpen = false): Promise<LiveClient> {
  for (const t = Date.now(); !c.init || !c.frags.length; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - t > 20_000) throw new Error(`live: ${c.frags.length} fragments, init ${c.init ? 'yes' : 'no'} after 20 s`);
  }
  if (!keepOpen) c.ws.close();
  return c;
}

it('plays MSE live in Chromium from the one ffmpeg of the camera input', async () => {
  const token = await mediaToken('porch');
  const page = await (await chromiumBrowser()).newPage();
  await page.goto(`${h.baseUrl}/live.html?camera=porch&token=${token}`);
  await page.waitForFunction(() => (window as unknown as { __live?: { mode?: string; video?: HTMLVideoElement } }).__live?.video?.currentTime! > 0.5, undefined, { timeout: 20_000 });
  const t1 = await page.evaluate(() => (window as unknown as { __live: { video: HTMLVideoElement; mode: string } }).__live.video.currentTime);
  const mode = await page.evaluate(() => (window as unknown as { __live: { mode: string } }).__live.mode);
  expect(mode).toBe('mse');
  const grab = () => page.evaluate(() => {
    const v = (window as unknown as { __live: { video: HTMLVideoElement } }).__live.video;
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    c.getContext('2d')!.drawImage(v, 0, 0, 64, 48);
    return Array.from(c.getContext('2d')!.getImageData(0, 0, 64, 48).data).join(',');
  });
  const a = await grab();
  await page.waitForTimeout(1500);
  const b = await grab();
  const t2 = await page.evaluate(() => (window as unknown as { __live: { video: HTMLVideoElement } }).__live.video.currentTime);
  expect(t2).toBeGreaterThan(t1 + 1);
  expect(a).not.toBe(b); // frames change: people walk
  // Still one ffmpeg per camera input, although detect and live both read it.
  const ps = ffmpegsOf(rtsp.mainUrl);
  expect(ps).toHaveLength(1);
  expect(ps[0]).toContain('pipe:4');
}, 60_000);

it('serves MJPEG with the same access rules', async () => {
  const res = await fetch(`${h.baseUrl}/api/cameras/porch/live.mjpeg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace/);
  const { jpegs } = await readMjpegFrames(res, 3, 15_000);
  expect(jpegs.length).toBeGreaterThanOrEqual(3);
  expect((await sharp(jpegs[2]!).metadata()).width).toBe(320);

  const otherToken = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'other' })).body.token as string;
  expect((await fetch(`${h.baseUrl}/api/cameras/porch/live.mjpeg?token=${otherToken}`)).status).toBe(404);
  expect((await fetch(`${h.baseUrl}/api/cameras/porch/live.jpg`)).status).toBe(401);
  expect((await fetch(`${h.baseUrl}/api/cameras/ghost/live.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } })).status).toBe(404);
});

it('serves ?stream=main and ?stream=sub of a camera with a main and a sub URL at their own sizes, one ffmpeg per input URL', async () => {
  const token = await mediaToken('wall');
  // Main first: once it has video, the camera runs, so its sub feed exists (no fallback race).
  const main = await receive(await openLive('wall', token, 'main'));
  const [sub, byDefault] = await Promise.all([receive(await openLive('wall', token, 'sub')), receive(await openLive('wall', token))]);
  expect(main.texts[0]).toMatchObject({ type: 'init', stream: 'main', codec: expect.stringMatching(/^avc1\./) });
  expect(sub.texts[0]).toMatchObject({ type: 'init', stream: 'sub', codec: expect.stringMatching(/^avc1\./) });
  expect(byDefault.texts[0]).toMatchObject({ stream: 'main' });
  expect([main.init!.width, main.init!.height]).toEqual([768, 576]);
  expect([sub.init!.width, sub.init!.height]).toEqual([384, 288]);
  expect([byDefault.init!.width, byDefault.init!.height]).toEqual([768, 576]);
  for (const c of [main, sub, byDefault]) expect(c.frags[0]!.f.keyframe).toBe(true);
  // One ffmpeg per input URL: the main URL's carries live only, the sub URL's detect frames and the sub live stream.
  const [mainPs, subPs] = [ffmpegsOf(wallRtsp.mainUrl), ffmpegsOf(wallRtsp.subUrl)];
  expect(mainPs).toHaveLength(1);
  expect(subPs).toHaveLength(1);
  expect(mainPs[0]).toContain('pipe:4');
  expect(mainPs[0]).not.toContain('rawvideo');
  expect(subPs[0]).toContain('pipe:4');
  expect(subPs[0]).toContain('rawvideo');

  // The page plays the sub stream in Chromium when asked to.
  const page = await (await chromiumBrowser()).newPage();
  await page.goto(`${h.baseUrl}/live.html?camera=wall&stream=sub&token=${token}`);
  type Live = { video: HTMLVideoElement; stream: string; mode: string; frames: number; edgeSeeks: number; lastError: string | null };
  await page.waitForFunction(() => (window as unknown as { __live: Live }).__live.frames > 2, undefined, { timeout: 20_000 });
  // It seeked to the live edge once the cached GOP was appended, and plays near it.
  const { t0, behind } = await page.evaluate(() => {
    const v = (window as unknown as { __live: Live }).__live.video;
    return { t0: v.currentTime, behind: v.buffered.end(v.buffered.length - 1) - v.currentTime };
  });
  expect(behind).toBeLessThan(1);
  await page.waitForFunction((t) => (window as unknown as { __live: Live }).__live.video.currentTime > t + 1, t0, { timeout: 20_000 });
  const played = await page.evaluate(() => {
    const l = (window as unknown as { __live: Live }).__live;
    return { mode: l.mode, stream: l.stream, w: l.video.videoWidth, h: l.video.videoHeight, edgeSeeks: l.edgeSeeks, lastError: l.lastError };
  });
  await page.close();
  expect(played).toEqual({ mode: 'mse', stream: 'sub', w: 384, h: 288, edgeSeeks: 1, lastError: null });
}, 60_000);

it('answers ?stream=sub of a camera with one URL with its main feed (the same bytes)', async () => {
  const token = await mediaToken('porch');
  const main = await receive(await openLive('porch', token, 'main'));
  const sub = await receive(await openLive('porch', token, 'sub'));
  expect(sub.texts[0]).toMatchObject({ type: 'init', stream: 'main' });
  expect([sub.init!.width, sub.init!.height]).toEqual([768, 576]);
  expect(sub.init!.data.equals(main.init!.data)).toBe(true);
  expect(ffmpegsOf(rtsp.mainUrl)).toHaveLength(1);
});

it('refuses an unknown ?stream= with 400 JSON', async () => {
  const token = await mediaToken('wall');
  const refusal = (stream: string) => new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const ws = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/cameras/wall/live?token=${token}&stream=${stream}`);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    ws.once('open', () => { ws.close(); reject(new Error(`stream=${stream} was accepted`)); });
    ws.once('error', () => {});
  });
  for (const stream of ['bogus', 'SUB', '']) {
    expect(await refusal(stream)).toEqual({ status: 400, body: { error: { code: 'validation_failed', message: 'stream must be one of main, sub', field: 'stream' } } });
  }
});

it('GOP cache: a new viewer gets init, then at once the fragments from the last keyframe', async () => {
  const token = await mediaToken('wall');
  await receive(await openLive('wall', token, 'main')); // the stream is up
  const waits: number[] = [];
  // Connects spread over more than one GOP (1 s), so some land late in it.
  for (let i = 0; i < 8; i++) {
    await new Promise((r) => setTimeout(r, 170));
    const c = await receive(await openLive('wall', token, i % 2 ? 'sub' : 'main'));
    expect(c.frags[0]!.f.keyframe).toBe(true);
    waits.push(c.frags[0]!.at - c.createdAt);
  }
  // Without the cache a viewer waits for the next keyframe: up to 1 s here. Generous bound: figures belong in benchmarks.
  for (const ms of waits) expect(ms).toBeLessThan(300);
}, 60_000);

it('a config change that leaves a camera without a sub stream closes its sub viewers; reconnecting, they get the main feed', async () => {
  const token = await mediaToken('wall');
  const sub = await receive(await openLive('wall', token, 'sub'), true);
  expect(sub.texts[0]).toMatchObject({ stream: 'sub' });
  const closed = new Promise<number>((resolve) => sub.ws.once('close', (code) => resolve(code)));
  expect((await api(h.baseUrl, 'PATCH', '/api/cameras/wall', { paths: { detect: wallRtsp.mainUrl, live: wallRtsp.mainUrl } })).status).toBe(200);
  expect(await closed).toBe(1001);
  const again = await receive(await openLive('wall', token, 'sub'));
  expect(again.texts[0]).toMatchObject({ stream: 'main' });
  expect([again.init!.width, again.init!.height]).toEqual([768, 576]);
  // Now one URL: one ffmpeg with detect and live, none on the sub URL.
  const mainPs = ffmpegsOf(wallRtsp.mainUrl);
  expect(mainPs).toHaveLength(1);
  expect(mainPs[0]).toContain('rawvideo');
  expect(ffmpegsOf(wallRtsp.subUrl)).toEqual([]);
}, 60_000);
