/**
 * Live view through the real hub: a camera on the RTSP fixture, one ffmpeg for detect and
 * live, MSE in real Chromium with a media token in the URL (never the session), MJPEG
 * through the same auth, and refusals for other cameras.
 */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';

let rtsp: RtspServer;
let h: TestHub;
let browser: Browser | undefined;

beforeAll(async () => {
  rtsp = await startRtspServer();
  h = await startTestHub({ detector: { enabled: false } });
  for (const [name, url] of [['porch', rtsp.mainUrl], ['other', rtsp.subUrl]]) {
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, paths: { detect: url }, detect: { fps: 5, width: 320 } })).status).toBe(201);
  }
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await rtsp?.stop();
});

it('plays MSE live in Chromium from the one ffmpeg of the camera input', async () => {
  const token = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'porch' })).body.token as string;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'] });
  const page = await browser.newPage();
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
  const ps = execFileSync('ps', ['-eo', 'ppid,args']).toString().split('\n').filter((l) => l.includes(rtsp.mainUrl) && l.includes('ffmpeg') && Number(l.trim().split(/\s+/)[0]) === process.pid);
  expect(ps).toHaveLength(1);
  expect(ps[0]).toContain('pipe:4');
}, 60_000);

it('serves MJPEG with the same access rules', async () => {
  const res = await fetch(`${h.baseUrl}/api/cameras/porch/live.mjpeg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace/);
  const reader = res.body!.getReader();
  let buf = Buffer.alloc(0);
  const jpegs: Buffer[] = [];
  const deadline = Date.now() + 15_000;
  while (jpegs.length < 3 && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf = Buffer.concat([buf, Buffer.from(value)]);
    for (;;) {
      const soi = buf.indexOf(Buffer.from([0xff, 0xd8]));
      const eoi = soi >= 0 ? buf.indexOf(Buffer.from([0xff, 0xd9]), soi + 2) : -1;
      if (soi < 0 || eoi < 0) break;
      jpegs.push(buf.subarray(soi, eoi + 2));
      buf = buf.subarray(eoi + 2);
    }
  }
  await reader.cancel();
  expect(jpegs.length).toBeGreaterThanOrEqual(3);
  expect((await sharp(jpegs[2]!).metadata()).width).toBe(320);

  const otherToken = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'other' })).body.token as string;
  expect((await fetch(`${h.baseUrl}/api/cameras/porch/live.mjpeg?token=${otherToken}`)).status).toBe(404);
  expect((await fetch(`${h.baseUrl}/api/cameras/porch/live.jpg`)).status).toBe(401);
  expect((await fetch(`${h.baseUrl}/api/cameras/ghost/live.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } })).status).toBe(404);
});
