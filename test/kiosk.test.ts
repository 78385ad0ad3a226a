/**
 * The kiosk camera wall end to end: the built page (kiosk-client/dist, served by the hub at
 * `/kiosk`) in real Chromium, a real hub, the real RTSP camera. Pairing from the code on
 * screen, layouts activated over MQTT (as an operator API key) and REST, camera cells with
 * moving video, web and html cells, a refused layout that changes nothing, warm promotion
 * (the first paint after the switch already shows video) against a cold start, a 32-cell
 * wall for 60 s, and a revoked kiosk pairing again. Also the launcher's arguments.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kioskState as kioskStateSchema, type KioskState, type Region } from '../components/protocol/layout.ts';
import { writeKioskDist } from '../kiosk-client/build.ts';
import { chromiumArgs, parseLauncherArgs, UsageError } from '../kiosk-client/launcher.ts';
import type { PlayerInfo } from '../kiosk-client/src/test-hook.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

declare global {
  /** Test helper installed by `addInitScript`: a 48×27 grey-level grab of a video, or null without a decoded frame. */
  interface Window { __grab?: (v: HTMLVideoElement | null) => number[] | null }
}

const CAMERAS = ['front', 'back', 'side'];
const KIOSK = 'wall1';
const DISPLAY = `${KIOSK}-hdmi-0`;
const VIEW = { width: 1280, height: 720 };

let rtsp: RtspServer;
let h: TestHub;
let rec: MqttRecorder;
let web: Server;
let webUrl: string;
let operatorKey: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];
/** Console reports of scripts the html cell's sandbox blocked (expected: its test HTML has one). */
const blockedScripts: string[] = [];

const camera = (name: string) => ({
  name, paths: { detect: rtsp.subUrl, live: rtsp.mainUrl },
  detect: { enabled: false }, record: { enabled: false }, snapshots: { enabled: false }, motion: { enabled: false },
});

beforeAll(async () => {
  await writeKioskDist(); // the hub serves the built page; build it from the sources under test
  rtsp = await startRtspServer();
  h = await startTestHub({ detector: { enabled: false } });
  for (const c of CAMERAS) expect((await api(h.baseUrl, 'POST', '/api/cameras', camera(c))).status).toBe(201);
  operatorKey = (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'wall-operator', scope: 'control' })).body.key;
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/display/#', 'vigil/kiosk/#']);
  web = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><body style="background:#0a0"><h1 id="hello">hello from the web cell</h1></body>'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
  page = await browser.newPage({ viewport: VIEW });
  await page.addInitScript(() => {
    window.__grab = (v) => {
      if (!v || v.readyState < 2) return null;
      const c = document.createElement('canvas');
      c.width = 48; c.height = 27;
      const g = c.getContext('2d')!;
      g.drawImage(v, 0, 0, 48, 27);
      const d = g.getImageData(0, 0, 48, 27).data;
      return Array.from({ length: d.length / 4 }, (_, i) => Math.round((d[i * 4]! + d[i * 4 + 1]! + d[i * 4 + 2]!) / 3));
    };
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/about:srcdoc.*'allow-scripts'/.test(m.text())) blockedScripts.push(m.text());
    else problems.push(`console: ${m.text()}`);
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rec?.close();
  await new Promise((r) => (web ? web.close(r) : r(undefined)));
  await h?.stop();
  await rtsp?.stop();
});

// ---- helpers ----------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publishAsOperator(topic: string, payload: string): Promise<void> {
  const c = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'wall-operator', password: operatorKey });
  await c.publishAsync(topic, payload, { qos: 1 });
  await c.endAsync();
}

async function createLayout(body: Record<string, unknown>): Promise<void> {
  const r = await api(h.baseUrl, 'POST', '/api/layouts', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

const activateRest = async (layout: string) => {
  const r = await api(h.baseUrl, 'POST', `/api/displays/${DISPLAY}/activate`, { layout });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.seq as number;
};

/** Waits until the page shows `layout` and it has painted; returns `painted_ms`. */
async function painted(layout: string, timeout = 30_000): Promise<number> {
  await page.waitForFunction((l) => {
    const s = window.__vigilKiosk?.lastSwitch;
    return s?.layout === l && s.painted_ms !== null;
  }, layout, { timeout });
  return page.evaluate(() => window.__vigilKiosk!.lastSwitch!.painted_ms!);
}

const players = () => page.evaluate(() => window.__vigilKiosk!.players()) as Promise<Record<string, PlayerInfo>>;

/** A 48×27 grab of the video in cell `name`: grey levels, or null without a decoded frame. */
const grab = (name: string) => page.evaluate((n) => window.__grab!(window.__vigilKiosk!.cellVideo(n)), name);

/**
 * Resolves when the switch to `layout` has painted, with its `painted_ms` and a grab of the
 * video in `cell` taken in that moment (before any later frame).
 */
const paintedPicture = (layout: string, cell: string) => page.evaluate(([l, c]) => new Promise<{ ms: number; px: number[] | null }>((resolve) => {
  const off = window.__vigilKiosk!.onSwitchPainted((s) => {
    if (s.layout !== l) return;
    off();
    resolve({ ms: s.painted_ms!, px: window.__grab!(window.__vigilKiosk!.cellVideo(c)) });
  });
}), [layout, cell] as const);

const spread = (px: number[]) => Math.max(...px) - Math.min(...px);
const diff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

/** Asserts the video of cell `name` moves: time and decoded frames grow and the picture changes. */
async function expectMoving(name: string): Promise<void> {
  await page.waitForFunction((n) => (window.__vigilKiosk!.cellVideo(n)?.readyState ?? 0) >= 2, name, { timeout: 20_000 });
  const key = await page.evaluate((n) => Object.entries(window.__vigilKiosk!.players()).find(([, p]) => p.cell === n)?.[0], name);
  expect(key, `a player in cell ${name}`).toBeTruthy();
  const before = (await players())[key!]!;
  const a = (await grab(name))!;
  await sleep(2_000);
  const after = (await players())[key!]!;
  const b = (await grab(name))!;
  expect(after.currentTime, `${name} plays`).toBeGreaterThan(before.currentTime + 1);
  expect(after.frames, `${name} decodes`).toBeGreaterThan(before.frames + 5);
  expect(spread(b), `${name} shows a picture`).toBeGreaterThan(40);
  expect(diff(a, b), `${name} changes (people walk)`).toBeGreaterThan(0.3);
}

const lastState = (): KioskState | undefined => {
  const m = rec.on(`vigil/kiosk/${KIOSK}/state`).at(-1);
  return m && m.payload.length ? JSON.parse(m.payload.toString()) : undefined;
};

// ---- the wall -----------------------------------------------------------------------------

describe('kiosk page', () => {
  it('pairs from the code on screen and comes online on MQTT', async () => {
    await page.goto(`${h.baseUrl}/kiosk`);
    const codeEl = page.locator('[data-pairing-code]');
    await expect.poll(() => codeEl.getAttribute('data-pairing-code'), { timeout: 15_000 }).toMatch(/^[346789ABCDEFGHJKMNPQRTUVWXY]{6}$/);
    const code = (await codeEl.getAttribute('data-pairing-code'))!;
    expect((await codeEl.textContent())!.replace(/\s/g, '')).toBe(code); // shown, grouped for reading
    if (process.env.KIOSK_SCREENSHOT) await page.screenshot({ path: process.env.KIOSK_SCREENSHOT.replace(/\.png$/, '-pairing.png') });
    expect(await page.locator('vigil-pairing .hub').textContent()).toBe(h.baseUrl);

    const paired = await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code, id: KIOSK, name: 'Test wall' });
    expect(paired.status, JSON.stringify(paired.body)).toBe(201);
    expect(paired.body.displays[0]).toMatchObject({ id: DISPLAY, ...VIEW }); // the page reported its size

    await rec.waitFor((m) => m.topic === `vigil/kiosk/${KIOSK}/availability` && m.payload.toString() === 'online', 20_000, 'kiosk online');
    await page.waitForFunction(() => window.__vigilKiosk?.phase === 'online', undefined, { timeout: 10_000 });
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('vigil.kiosk.pairing') ?? 'null'));
    expect(stored).toMatchObject({ status: 'paired', kiosk_id: KIOSK, displays: [DISPLAY] });
    await rec.waitFor((m) => m.topic === `vigil/kiosk/${KIOSK}/state` && m.payload.length > 0, 10_000, 'kiosk state');
    // Both retained: a client arriving later gets them.
    const late = await MqttRecorder.connect(h.mqttUrl, [`vigil/kiosk/${KIOSK}/#`]);
    try {
      const avail = await late.waitFor((m) => m.topic === `vigil/kiosk/${KIOSK}/availability`, 5_000, 'retained availability');
      expect([avail.payload.toString(), avail.retain]).toEqual(['online', true]);
      const st = await late.waitFor((m) => m.topic === `vigil/kiosk/${KIOSK}/state`, 5_000, 'retained state');
      expect(st.retain).toBe(true);
      expect(JSON.parse(st.payload.toString())).toMatchObject({ kiosk: KIOSK, displays: { [DISPLAY]: { layout: null, seq: null } } });
    } finally {
      await late.close();
    }
  }, 60_000);

  it('shows a layout activated over MQTT: moving camera cells, a web cell and an html cell', async () => {
    await createLayout({
      id: 'quad', name: 'Quad', preset: '2x2',
      cells: [
        { type: 'camera', camera: 'front', stream: 'sub' }, { type: 'camera', camera: 'back', stream: 'main' },
        { type: 'web', url: webUrl }, { type: 'html', html: '<body style="background:#123;color:#fff"><p id="msg">hello from the html cell</p><script>document.body.textContent="scripts ran"</script></body>' },
      ],
    });
    await publishAsOperator(`vigil/display/${DISPLAY}/layout/set`, 'quad');
    const ms = await painted('quad');
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(20_000);
    await expectMoving('r1');
    await expectMoving('r2');
    // Camera cells sit on their rectangles (1280×720 display = window: 1:1).
    const box = await page.evaluate(() => window.__vigilKiosk!.cellVideo('r2')!.getBoundingClientRect().toJSON());
    expect(box).toMatchObject({ x: 640, y: 0, width: 640, height: 360 });

    const webFrame = page.frameLocator('iframe[data-cell="r3"]');
    await expect.poll(() => webFrame.locator('#hello').textContent(), { timeout: 10_000 }).toBe('hello from the web cell');
    const htmlFrame = page.frameLocator('iframe[data-cell="r4"]');
    await expect.poll(() => htmlFrame.locator('#msg').textContent(), { timeout: 10_000 }).toBe('hello from the html cell'); // and no script ran
    expect(await page.locator('iframe[data-cell="r4"]').getAttribute('sandbox')).toBe('');
    await expect.poll(() => blockedScripts.length).toBeGreaterThan(0); // Chromium says so, too

    // State on MQTT: the switch, the streams hot, and frame rates once a report has a delta.
    await expect.poll(() => lastState()?.displays[DISPLAY]?.last_switch?.painted_ms ?? null, { timeout: 10_000 }).not.toBeNull();
    await expect.poll(() => lastState()?.displays[DISPLAY]?.cells.r1?.fps ?? 0, { timeout: 15_000, interval: 1000 }).toBeGreaterThan(3);
    const s = kioskStateSchema.parse(lastState()); // the published state keeps to the contract
    expect(s.displays[DISPLAY]).toMatchObject({ layout: 'quad', width: 1280, height: 720, last_switch: { layout: 'quad' } });
    expect(s.streams).toMatchObject({ 'front/sub': 'hot', 'back/main': 'hot' });
    expect(s.displays[DISPLAY]!.cells.r2).toMatchObject({ stream: 'back/main' });
    if (process.env.KIOSK_SCREENSHOT) await page.screenshot({ path: process.env.KIOSK_SCREENSHOT });
  }, 90_000);

  it('refuses a bad layout on MQTT with an error and changes nothing on the page', async () => {
    const before = await page.evaluate(() => window.__vigilKiosk!.lastSwitch);
    const n = rec.on(`vigil/display/${DISPLAY}/layout/error`).length;
    await publishAsOperator(`vigil/display/${DISPLAY}/layout/set`, 'no-such-layout');
    await publishAsOperator(`vigil/display/${DISPLAY}/layout/set`, JSON.stringify({ layout: { id: 'bad', name: 'Bad', regions: [{ name: 'a', x: 0, y: 0, w: 8, h: 8 }, { name: 'b', x: 4, y: 4, w: 8, h: 8 }] } }));
    await expect.poll(() => rec.on(`vigil/display/${DISPLAY}/layout/error`).length, { timeout: 10_000 }).toBe(n + 2);
    const errors = rec.on(`vigil/display/${DISPLAY}/layout/error`).slice(n).map((m) => JSON.parse(m.payload.toString()));
    expect(errors[0].error.code).toBe('not_found');
    expect(errors[1].error.message).toMatch(/overlaps/);
    await sleep(1_500);
    expect(await page.evaluate(() => window.__vigilKiosk!.lastSwitch)).toEqual(before);
    await expectMoving('r1');
  }, 30_000);

  it('promotes a preloaded (warm) stream so the first paint after the switch shows video; a cold one starts and plays', async () => {
    await createLayout({ id: 'side-full', name: 'Side', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'side', stream: 'main' }] });
    await createLayout({
      id: 'pre', name: 'Quad preloading side', preset: '2x2', preload_camera_ids: ['side'],
      cells: [{ type: 'camera', camera: 'front', stream: 'sub' }, { type: 'camera', camera: 'back', stream: 'main' }, null, null],
    });
    await activateRest('pre');
    await painted('pre');
    // side/main decodes off-screen, warm, with a frame, before the switch.
    await page.waitForFunction(() => {
      const p = window.__vigilKiosk!.players()['side/main'];
      return p?.warmth === 'warm' && p.readyState >= 2 && p.frames > 5;
    }, undefined, { timeout: 20_000 });
    const warmBefore = (await players())['side/main']!;
    expect(warmBefore.cell).toBeNull();
    const box = await page.evaluate(() => document.querySelector('vigil-kiosk')!.shadowRoot!.querySelector('vigil-wall')!.shadowRoot!
      .querySelector<HTMLElement>('[data-player="side/main"]')!.getBoundingClientRect().toJSON());
    expect(box.width).toBeGreaterThan(0); // in the viewport, not display:none

    // Switch by MQTT; grab the picture the moment the switch has painted.
    const firstPaint = paintedPicture('side-full', 'main');
    await publishAsOperator(`vigil/display/${DISPLAY}/layout/set`, 'side-full');
    const warm = await firstPaint;
    expect(warm.ms).toBeLessThan(400); // ~1 frame, not a cold start's 1–3 s
    expect(warm.px, 'a decoded frame at the first paint').not.toBeNull();
    expect(spread(warm.px!)).toBeGreaterThan(40); // the first painted frame is video, not black
    const afterSwitch = await players();
    expect(afterSwitch['side/main']).toMatchObject({ warmth: 'hot', cell: 'main' });
    expect(afterSwitch['side/main']!.frames).toBeGreaterThanOrEqual(warmBefore.frames); // same decoder, not restarted
    expect(afterSwitch['front/sub']?.warmth).toBe('cooling');
    await expectMoving('main');

    // Cold: a stream no layout has played yet.
    await createLayout({ id: 'cold', name: 'Cold', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'side', stream: 'sub' }] });
    expect((await players())['side/sub']).toBeUndefined();
    const coldPaint = paintedPicture('cold', 'main');
    await activateRest('cold');
    const cold = await coldPaint;
    expect(cold.ms).toBeLessThan(10_000); // connect + MediaSource + the hub's cached GOP (~20–50 ms on loopback)
    expect(cold.px, 'a decoded frame at the first paint').not.toBeNull();
    expect(spread(cold.px!)).toBeGreaterThan(40); // painted means a decoded frame, here too
    expect((await players())['side/sub']).toMatchObject({ warmth: 'hot', status: 'live', cell: 'main' });
    await expectMoving('main');
  }, 120_000);

  it('shows NO SIGNAL for a camera that sends nothing, keeps retrying, and plays once it answers', async () => {
    const dead = { ...camera('dead'), paths: { live: 'rtsp://127.0.0.1:9/nothing' } };
    expect((await api(h.baseUrl, 'POST', '/api/cameras', dead)).status).toBe(201);
    await createLayout({ id: 'dead', name: 'Dead', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'dead', stream: 'main' }] });
    await activateRest('dead');
    const player = page.locator('[data-player="dead/main"]');
    await expect.poll(() => player.getAttribute('data-status'), { timeout: 30_000 }).toBe('no-signal');
    expect(await player.textContent()).toContain('NO SIGNAL');
    if (process.env.KIOSK_SCREENSHOT) await page.screenshot({ path: process.env.KIOSK_SCREENSHOT.replace(/\.png$/, '-nosignal.png') });
    expect(await page.evaluate(() => window.__vigilKiosk!.lastSwitch)).toMatchObject({ layout: 'dead', painted_ms: null });
    // The camera comes back (same name, working stream): the player's next retry plays it.
    expect((await api(h.baseUrl, 'DELETE', '/api/cameras/dead')).status).toBe(204);
    expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('dead'))).status).toBe(201);
    await expect.poll(() => player.getAttribute('data-status'), { timeout: 60_000, interval: 1_000 }).toBe('live');
    await expectMoving('main');
    expect(await page.evaluate(() => window.__vigilKiosk!.lastSwitch!.painted_ms)).toBeGreaterThan(5_000); // painted once it recovered
  }, 120_000);

  it('runs a 32-cell wall for 60 s with every cell decoding and no page error', async () => {
    // Eight rows of four 3-wide cells, heights 1,2,1,2… (= 12): 32 regions on the 12×12 grid.
    const regions: Region[] = [];
    let y = 0;
    for (let row = 0; row < 8; row++) {
      const hgt = row % 2 ? 2 : 1;
      for (let col = 0; col < 4; col++) {
        regions.push({ name: `c${regions.length + 1}`, x: col * 3, y, w: 3, h: hgt, cell: { type: 'camera', camera: CAMERAS[regions.length % 3]!, stream: 'sub' } });
      }
      y += hgt;
    }
    await createLayout({ id: 'wall32', name: '32 cells', regions });
    await activateRest('wall32');
    await painted('wall32', 60_000);
    const names = regions.map((r) => r.name);
    const frames = async () => {
      const ps = await players();
      return Object.fromEntries(names.map((n) => [n, Object.values(ps).find((p) => p.cell === n)?.frames ?? -1]));
    };
    const p = await players();
    expect(Object.values(p).filter((x) => x.cell !== null)).toHaveLength(32);
    let prev = await frames();
    for (let t = 0; t < 4; t++) {
      await sleep(15_000);
      const now = await frames();
      for (const n of names) expect(now[n], `cell ${n} frames grow (${prev[n]} → ${now[n]})`).toBeGreaterThan(prev[n]!);
      prev = now;
    }
    const st = await page.evaluate(() => window.__vigilKiosk!.state()!);
    expect(Object.keys(st.displays[DISPLAY]!.cells)).toHaveLength(32);
    if (process.env.KIOSK_SCREENSHOT) await page.screenshot({ path: process.env.KIOSK_SCREENSHOT.replace(/\.png$/, '-32.png') });
    // MSE buffers stay trimmed: nothing much older than 10 s behind the playhead is kept.
    const spans = await page.evaluate((ns) => ns.map((n) => {
      const b = window.__vigilKiosk!.cellVideo(n)!.buffered;
      return b.length ? b.end(b.length - 1) - b.start(0) : 0;
    }), names);
    expect(Math.max(...spans), `buffered spans ${spans.map((x) => x.toFixed(1)).join(' ')}`).toBeLessThan(16);
    expect(problems).toEqual([]);
  }, 150_000);

  it('pairs again at once when the kiosk is removed (the broker drops it and refuses it)', async () => {
    expect((await api(h.baseUrl, 'DELETE', `/api/kiosks/${KIOSK}`)).status).toBe(204);
    // No reload: the broker drops the kiosk's connection, the reconnect is refused, the page forgets its credential.
    const codeEl = page.locator('[data-pairing-code]');
    await expect.poll(() => codeEl.getAttribute('data-pairing-code'), { timeout: 20_000 }).toMatch(/^[346789ABCDEFGHJKMNPQRTUVWXY]{6}$/);
    expect(await page.evaluate(() => localStorage.getItem('vigil.kiosk.pairing'))).toBeNull();
    expect(await page.evaluate(() => window.__vigilKiosk!.phase)).toBe('pairing');
    // The wall and its players are gone with the session: no stream stays open.
    expect(await page.locator('vigil-wall .cell').count()).toBe(0);
    expect(await players()).toEqual({});
    expect(problems).toEqual([]);
  }, 40_000);
});

describe('kiosk launcher arguments', () => {
  it('builds the kiosk URL, profile and Chromium command line', () => {
    const o = parseLauncherArgs(['--hub', 'http://hub.local:8080', '--display', 'wall1-hdmi-0', '--profile', '/tmp/kp'], { CHROMIUM_PATH: '/opt/chromium' });
    expect(o).toEqual({ url: 'http://hub.local:8080/kiosk?display=wall1-hdmi-0', profile: '/tmp/kp', chromium: '/opt/chromium' });
    const args = chromiumArgs(o);
    expect(args).toEqual(expect.arrayContaining(['--kiosk', '--user-data-dir=/tmp/kp', '--autoplay-policy=no-user-gesture-required', '--noerrdialogs', '--disable-infobars', '--disable-session-crashed-bubble']));
    expect(args.at(-1)).toBe(o.url);
    expect(parseLauncherArgs(['--hub', 'https://h/'], { XDG_CONFIG_HOME: '/cfg' })).toEqual({ url: 'https://h/kiosk', profile: '/cfg/vigil-kiosk', chromium: '/usr/bin/chromium' });
  });

  it('refuses bad arguments with a usage line', () => {
    for (const argv of [[], ['--hub'], ['--hub', 'ftp://x'], ['--hub', 'not a url'], ['--hub', 'http://x', '--display', 'Bad Id'], ['--hub', 'http://x', '--bogus'], ['stray']]) {
      expect(() => parseLauncherArgs(argv, {}), argv.join(' ')).toThrow(UsageError);
      expect(() => parseLauncherArgs(argv, {})).toThrow(/usage: npm run kiosk -- --hub/);
    }
  });
});
