/**
 * Live view of a camera run by a camera process elsewhere (Vigil issue #12): the hub has
 * no in-process camera component; `components/main.ts camera` runs as its own OS process
 * against the hub's embedded broker with a `component` device credential, on the real RTSP
 * test camera (`paths: {detect: sub, live: main}`). A viewer of `/api/cameras/<cam>/live`
 * gets an init segment and fragments ffprobe decodes, `?stream=sub` gets the sub stream,
 * MJPEG and live.jpg work, nothing is published on the live topics while nobody watches,
 * publishing stops at once when the last viewer leaves, and a lease that is not renewed
 * (a dead hub) runs out within seconds. Plus the topic builder and ACL of the new topics.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Fmp4Splitter, type Fmp4FragmentUnit, type Fmp4InitUnit } from '../components/protocol/fmp4.ts';
import { decodeLive, encodeLive, parseLiveDemand } from '../components/protocol/live-wire.ts';
import { Topics } from '../components/protocol/topics.ts';
import { Bus } from '../components/protocol/bus.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { LiveRegistry } from '../hub/live/live-feed.ts';
import { BusLiveSource } from '../hub/live/live-over-bus.ts';
import { Acl } from '../hub/broker/acl.ts';
import type { Principal } from '../hub/auth/principal.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { readMjpegFrames } from './helpers/mjpeg.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder, type Recorded } from './helpers/mqtt-recorder.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const CAM = 'yard';
const LIVE_TOPICS = ['main', 'sub', 'jpeg'].map((m) => `vigil/camera/${CAM}/live/${m}`);

let rtsp: RtspServer;
let h: TestHub;
let rec: MqttRecorder;
let camProc: ChildProcess;
let procLogs = '';
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vigil-live-remote-'));
  rtsp = await startRtspServer();
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/+/availability', 'vigil/component/+/availability', `vigil/camera/${CAM}/live/+`]);
  const dev = await h.hub.auth!.credentials.createDevice({ id: 'camera-box', kind: 'component' });
  camProc = spawn(process.execPath, ['--import', 'tsx', 'components/main.ts', 'camera', '--mqtt', h.mqttUrl, '--client-id', 'camera-box', '--recordings', join(tmp, 'rec')], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_LOG_FORMAT: 'json', VIGIL_MQTT__USERNAME: 'camera-box', VIGIL_MQTT__PASSWORD: dev.password },
  });
  camProc.stdout!.on('data', (c: Buffer) => { procLogs += c.toString(); });
  camProc.stderr!.on('data', (c: Buffer) => { procLogs += c.toString(); });
  await rec.waitFor((m) => m.topic === 'vigil/component/camera-box/availability' && m.payload.toString() === 'online', 30_000, 'camera process online');
  const res = await api(h.baseUrl, 'POST', '/api/cameras', { name: CAM, paths: { detect: rtsp.subUrl, live: rtsp.mainUrl }, detect: { fps: 5, width: 320 } });
  expect(res.status).toBe(201);
  await rec.waitFor((m) => m.topic === `vigil/camera/${CAM}/availability` && m.payload.toString() === 'online', 30_000, 'camera online');
}, 90_000);

afterAll(async () => {
  if (camProc && camProc.exitCode === null) {
    camProc.kill('SIGTERM');
    await new Promise((r) => camProc.once('exit', r));
  }
  await rec?.close();
  await h?.stop();
  await rtsp?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const liveMessages = (since: number): Recorded[] => rec.messages.filter((m) => LIVE_TOPICS.includes(m.topic) && m.at >= since);

async function mediaToken(camera: string): Promise<string> {
  return (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera })).body.token as string;
}

interface LiveClient {
  ws: WebSocket;
  texts: Array<{ type: string; codec: string; mime: string; stream: string }>;
  /** Every binary message, in order (init segment, then fragments). */
  binary: Buffer[];
  init?: Fmp4InitUnit;
  frags: Fmp4FragmentUnit[];
}

function openLive(camera: string, token: string, stream?: string): Promise<LiveClient> {
  const query = `?token=${token}${stream === undefined ? '' : `&stream=${stream}`}`;
  const c: LiveClient = { ws: new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/cameras/${camera}/live${query}`), texts: [], binary: [], frags: [] };
  const splitter = new Fmp4Splitter();
  c.ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) { c.texts.push(JSON.parse(data.toString())); return; }
    c.binary.push(Buffer.from(data));
    for (const u of splitter.push(data)) {
      if (u.kind === 'init') c.init ??= u;
      else c.frags.push(u);
    }
  });
  return new Promise((resolve, reject) => {
    c.ws.once('open', () => resolve(c));
    c.ws.once('error', reject);
  });
}

/** Waits until `c` has an init segment and at least `n` fragments (20 s at most). */
async function receive(c: LiveClient, n: number): Promise<LiveClient> {
  for (const t = Date.now(); !c.init || c.frags.length < n; await sleep(20)) {
    if (Date.now() - t > 20_000) throw new Error(`live: ${c.frags.length} fragments, init ${c.init ? 'yes' : 'no'} after 20 s`);
  }
  return c;
}

async function close(c: LiveClient): Promise<void> {
  if (c.ws.readyState === c.ws.CLOSED) return;
  await new Promise<void>((r) => { c.ws.once('close', () => r()); c.ws.close(); });
}

/** ffprobe's view of the bytes a viewer got (init + fragments as one fMP4 file). */
function probe(c: LiveClient, name: string): { codec: string; width: number; height: number; frames: number } {
  const file = join(tmp, `${name}.mp4`);
  writeFileSync(file, Buffer.concat(c.binary));
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]).toString());
  const s = out.streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

/** Resolves once no live message arrived for `quietMs`; returns the arrival of the last one before (or `since`). */
async function untilQuiet(since: number, quietMs: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const ms = liveMessages(since);
    const last = ms.length ? ms[ms.length - 1]!.at : since;
    if (Date.now() - last >= quietMs) return last;
    if (Date.now() - t0 > timeoutMs) throw new Error(`live topics still busy after ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('live view of a camera run by another process', () => {
  it('publishes nothing on the live topics while nobody watches', async () => {
    const since = Date.now();
    await sleep(3000);
    expect(liveMessages(since - 60_000)).toEqual([]); // nothing since the camera process started
    expect(rec.messages.filter((m) => m.topic.startsWith(`vigil/camera/${CAM}/live/`))).toEqual([]);
  });

  it('serves main over MSE: init, then fragments ffprobe decodes; publishing stops when the viewer leaves', async () => {
    const token = await mediaToken(CAM);
    const opened = Date.now();
    const c = await receive(await openLive(CAM, token), 15);
    const firstAt = Date.now();
    expect(c.texts[0]).toMatchObject({ type: 'init', stream: 'main', codec: expect.stringMatching(/^avc1\./) });
    expect([c.init!.width, c.init!.height]).toEqual([768, 576]);
    expect(c.frags[0]!.keyframe).toBe(true); // the camera's GOP cache, then live fragments
    expect(c.frags.filter((f) => f.keyframe).length).toBeGreaterThanOrEqual(1);
    const p = probe(c, 'main');
    expect(p).toMatchObject({ codec: 'h264', width: 768, height: 576 });
    expect(p.frames).toBeGreaterThanOrEqual(15);

    // On the bus: the demand, then the main stream's init and fragments (whole units, keyframe flags); no sub, no jpeg.
    const onBus = liveMessages(opened);
    expect(onBus.every((m) => m.topic.endsWith('/live/main'))).toBe(true);
    const decoded = onBus.map((m) => decodeLive(m.payload).header);
    expect(decoded[0]).toMatchObject({ kind: 'init', seq: 0, codec: c.init!.codec, width: 768, height: 576 });
    expect(decoded.slice(1).every((d) => d.kind === 'fragment' && d.run === decoded[0]!.run)).toBe(true);
    expect(decoded[1]!.keyframe).toBe(true);
    const demands = rec.messages.filter((m) => m.topic === `vigil/camera/${CAM}/live/demand` && m.at >= opened).map((m) => JSON.parse(m.payload.toString()));
    expect(demands[0]).toMatchObject({ client: expect.stringMatching(/^hub-/), stream: 'main', lease_ms: 6000, init: true });
    expect(firstAt - opened).toBeLessThan(10_000);

    const closedAt = Date.now();
    await close(c);
    // The hub ends its lease at once: the stream stops within a few seconds (a fragment in flight may still land).
    const last = await untilQuiet(closedAt, 3000, 15_000);
    expect(last - closedAt).toBeLessThan(2000);
    const release = rec.messages.find((m) => m.topic === `vigil/camera/${CAM}/live/demand` && m.at >= closedAt);
    expect(release && JSON.parse(release.payload.toString())).toMatchObject({ stream: 'main', lease_ms: 0 });
  }, 60_000);

  it('serves ?stream=sub at the sub size; two viewers share one lease; it ends with the last one', async () => {
    const token = await mediaToken(CAM);
    const [a, b] = await Promise.all([openLive(CAM, token, 'sub'), openLive(CAM, token, 'sub')]);
    await Promise.all([receive(a, 10), receive(b, 10)]);
    expect(a.texts[0]).toMatchObject({ type: 'init', stream: 'sub' });
    expect([a.init!.width, a.init!.height]).toEqual([384, 288]);
    expect(a.init!.data.equals(b.init!.data)).toBe(true);
    const p = probe(a, 'sub');
    expect(p).toMatchObject({ codec: 'h264', width: 384, height: 288 });
    expect(p.frames).toBeGreaterThanOrEqual(10);
    // One medium on the bus for both viewers: only the sub topic carries media.
    const since = Date.now();
    await sleep(1000);
    expect(new Set(liveMessages(since).map((m) => m.topic))).toEqual(new Set([`vigil/camera/${CAM}/live/sub`]));

    await close(a);
    const afterFirst = Date.now();
    await sleep(1500);
    expect(liveMessages(afterFirst + 500).length).toBeGreaterThan(0); // b still watches
    expect(b.frags.length).toBeGreaterThan(10);
    const closedAt = Date.now();
    await close(b);
    const last = await untilQuiet(closedAt, 3000, 15_000);
    expect(last - closedAt).toBeLessThan(2000);
  }, 60_000);

  it('serves MJPEG and live.jpg from the remote camera\'s detect frames, only while asked', async () => {
    const res = await fetch(`${h.baseUrl}/api/cameras/${CAM}/live.mjpeg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.status).toBe(200);
    const { jpegs, closedAt } = await readMjpegFrames(res, 3, 20_000);
    expect(jpegs.length).toBeGreaterThanOrEqual(3);
    const meta = await sharp(jpegs[2]!).metadata();
    expect([meta.format, meta.width]).toEqual(['jpeg', 320]);
    const last = await untilQuiet(closedAt, 3000, 15_000);
    expect(last - closedAt).toBeLessThan(2000);

    const jpg = await fetch(`${h.baseUrl}/api/cameras/${CAM}/live.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(jpg.status).toBe(200);
    expect(jpg.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await jpg.arrayBuffer())).metadata()).width).toBe(320);
    // live.jpg keeps the JPEGs coming for 10 s (pollers), then they stop.
    const asked = Date.now();
    const lastJpeg = await untilQuiet(asked, 3000, 25_000);
    expect(lastJpeg - asked).toBeGreaterThan(5000);
    expect(lastJpeg - asked).toBeLessThan(14_000);
  }, 60_000);

  it('a lease that is not renewed (a dead hub) runs out: publishing stops within a few seconds', async () => {
    await untilQuiet(Date.now(), 1000, 20_000);
    const asked = Date.now();
    await rec.client.publishAsync(`vigil/camera/${CAM}/live/demand`, JSON.stringify({ client: 'dead-hub', stream: 'main', lease_ms: 3000 }), { qos: 1 });
    await rec.waitFor((m) => m.topic === `vigil/camera/${CAM}/live/main` && m.at >= asked, 10_000, 'main stream on the bus');
    const last = await untilQuiet(asked, 3000, 20_000);
    expect(last - asked).toBeGreaterThan(2000); // it ran for the lease…
    expect(last - asked).toBeLessThan(5000); // …and stopped when it ran out (3 s, swept every second)
    // A bad demand is ignored, and the process stays up.
    await rec.client.publishAsync(`vigil/camera/${CAM}/live/demand`, 'not json', { qos: 1 });
    await rec.client.publishAsync(`vigil/camera/${CAM}/live/demand`, JSON.stringify({ client: 'x', stream: 'bogus', lease_ms: 1 }), { qos: 1 });
    await sleep(1000);
    expect(camProc.exitCode).toBeNull();
    expect(procLogs).toMatch(/invalid live demand; ignored/);
    expect(procLogs).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('a viewer that reconnects at once (a page reload) gets a fresh stream, never a stale one', async () => {
    const token = await mediaToken(CAM);
    for (let i = 0; i < 3; i++) {
      const a = await receive(await openLive(CAM, token), 3);
      a.ws.close(); // no wait: the next one connects while the hub is still ending this lease
      const openedAt = Date.now();
      const b = await receive(await openLive(CAM, token), 5);
      expect(b.texts).toHaveLength(1);
      expect(b.frags[0]!.keyframe).toBe(true);
      expect(probe(b, `reload-${i}`).frames).toBeGreaterThanOrEqual(5);
      expect(Date.now() - openedAt).toBeLessThan(10_000);
      await close(b);
    }
  }, 60_000);

  it('a watch released and taken again at once (no await between) keeps receiving: the old watch\'s unsubscribe never drops the new one', async () => {
    const bus = new Bus({ url: h.mqttUrl, ...h.mqttCreds, logger: silentLogger });
    await bus.connect();
    const registry = new LiveRegistry();
    const src = new BusLiveSource({ bus, topics: new Topics(), registry, logger: silentLogger, hasSub: () => false, clientId: 'race-test' });
    await src.start();
    try {
      let release = src.watch(CAM, 'main');
      await expect.poll(() => registry.get(CAM)?.stats.fragments ?? 0, { timeout: 10_000 }).toBeGreaterThan(2);
      for (let i = 0; i < 3; i++) {
        release();
        release = src.watch(CAM, 'main'); // same tick: the previous watch is still ending
        const feed = registry.get(CAM)!;
        const before = feed.stats.fragments;
        await expect.poll(() => feed.stats.fragments, { timeout: 10_000 }).toBeGreaterThan(before + 3);
        expect(feed.initSegment).toBeDefined();
      }
      release();
    } finally {
      await src.stop();
      await bus.close();
    }
  }, 60_000);

  it('a viewer outlives the camera process: a new process takes over the lease and the viewer starts over with its init', async () => {
    const token = await mediaToken(CAM);
    const c = await receive(await openLive(CAM, token), 5);
    expect(c.texts).toHaveLength(1);
    camProc.kill('SIGKILL');
    await new Promise((r) => camProc.once('exit', r));
    const dev = await h.hub.auth!.credentials.createDevice({ id: 'camera-box-2', kind: 'component' });
    camProc = spawn(process.execPath, ['--import', 'tsx', 'components/main.ts', 'camera', '--mqtt', h.mqttUrl, '--client-id', 'camera-box-2', '--recordings', join(tmp, 'rec')], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_LOG_FORMAT: 'json', VIGIL_MQTT__USERNAME: 'camera-box-2', VIGIL_MQTT__PASSWORD: dev.password },
    });
    camProc.stdout!.on('data', (b: Buffer) => { procLogs += b.toString(); });
    camProc.stderr!.on('data', (b: Buffer) => { procLogs += b.toString(); });
    // The hub renews its lease every 2 s; the new process answers with a new run's init segment.
    for (const t = Date.now(); c.texts.length < 2; await sleep(100)) {
      if (Date.now() - t > 40_000) throw new Error('no second init after the camera process restarted');
    }
    expect(c.texts[1]).toMatchObject({ type: 'init', stream: 'main' });
    const before = c.binary.length;
    for (const t = Date.now(); c.binary.length < before + 5; await sleep(100)) {
      if (Date.now() - t > 20_000) throw new Error('no fragments after the second init');
    }
    const closedAt = Date.now();
    await close(c);
    const last = await untilQuiet(closedAt, 3000, 15_000);
    expect(last - closedAt).toBeLessThan(2000);
  }, 90_000);
});

describe('the hub\'s bus source against a scripted publisher (real H.264 fMP4 from ffmpeg)', () => {
  it('skips to the next keyframe after a lost fragment, drops duplicates, and asks again for a missing init', async () => {
    // A disabled camera: no camera process runs it, the test publishes its live stream itself.
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'scripted', enabled: false, paths: { detect: 'rtsp://127.0.0.1:9/none' } })).status).toBe(201);
    const fmp4 = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', '/usr/share/doc/opencv-doc/examples/data/vtest.avi', '-t', '6', '-an',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0', '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '200000', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    const units = new Fmp4Splitter().push(fmp4);
    const init = units[0] as Fmp4InitUnit;
    const frags = units.slice(1) as Fmp4FragmentUnit[];
    expect(init.kind).toBe('init');
    expect(frags.length).toBeGreaterThan(20);
    // The encoder's keyframe interval (10 frames, 2 per fragment): fragments 1, 6, 11, … start with a keyframe.
    expect(frags.slice(0, 12).map((f) => f.keyframe)).toEqual([true, false, false, false, false, true, false, false, false, false, true, false]);

    const topic = 'vigil/camera/scripted/live/main';
    const demands: Array<{ at: number; d: { stream: string; lease_ms: number; init?: boolean } }> = [];
    rec.client.on('message', (tp, payload) => { if (tp === 'vigil/camera/scripted/live/demand') demands.push({ at: Date.now(), d: JSON.parse(payload.toString()) }); });
    await rec.client.subscribeAsync('vigil/camera/scripted/live/demand', { qos: 1 });
    const send = async (kind: 'init' | 'fragment', run: number, seq: number, body: Buffer, keyframe?: boolean) => {
      await rec.client.publishAsync(topic, encodeLive({ kind, run, seq, ts: Date.now(), ...(keyframe === undefined ? {} : { keyframe }) }, body), { qos: 0 });
      await sleep(15);
    };

    const token = await mediaToken('scripted');
    const c = await openLive('scripted', token);
    for (const t = Date.now(); !demands.some((x) => x.d.lease_ms > 0 && x.d.init); await sleep(20)) {
      if (Date.now() - t > 10_000) throw new Error('no demand for the scripted camera');
    }
    const run1 = Date.now();
    await send('init', run1, 0, init.data);
    for (let i = 1; i <= 7; i++) await send('fragment', run1, i, frags[i - 1]!.data, frags[i - 1]!.keyframe);
    await send('fragment', run1, 5, frags[4]!.data, false); // a duplicate (GOP re-sent for another hub)
    await send('init', run1, 0, init.data); // the same run's init again: ignored
    for (let i = 9; i <= 20; i++) await send('fragment', run1, i, frags[i - 1]!.data, frags[i - 1]!.keyframe); // 8 is lost
    for (const t = Date.now(); c.frags.length < 12; await sleep(20)) {
      if (Date.now() - t > 10_000) throw new Error(`viewer got ${c.frags.length} fragments`);
    }
    await sleep(300);
    const seqs = c.frags.map((f) => f.sequence);
    // 1–7, then nothing until the keyframe after the gap (9, 10 are P-frames): 11–20. No duplicate, one init.
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(c.texts).toHaveLength(1);

    // Fragments of a new run whose init was lost: dropped, and the hub asks for the init again.
    const run2 = run1 + 1;
    const asked = Date.now();
    for (let i = 1; i <= 3; i++) await send('fragment', run2, i, frags[i - 1]!.data, frags[i - 1]!.keyframe);
    for (const t = Date.now(); !demands.some((x) => x.at >= asked && x.d.init && x.d.lease_ms > 0); await sleep(20)) {
      if (Date.now() - t > 5000) throw new Error('the hub did not ask for the init segment again');
    }
    await send('init', run2, 0, init.data);
    for (let i = 1; i <= 3; i++) await send('fragment', run2, i, frags[i - 1]!.data, frags[i - 1]!.keyframe);
    for (const t = Date.now(); c.texts.length < 2 || c.frags.length < seqs.length + 3; await sleep(20)) {
      if (Date.now() - t > 5000) throw new Error('no restart after the new init');
    }
    expect(c.texts[1]).toMatchObject({ type: 'init', stream: 'main' });
    expect(c.frags.slice(seqs.length).map((f) => f.sequence)).toEqual([1, 2, 3]);
    const closedAt = Date.now();
    await close(c);
    await expect.poll(() => demands.some((x) => x.at >= closedAt && x.d.lease_ms === 0), { timeout: 5000 }).toBe(true);
    await rec.client.unsubscribeAsync('vigil/camera/scripted/live/demand');
  }, 60_000);
});

describe('live topics, wire format and ACL', () => {
  const t = new Topics();
  const acl = new Acl(t);
  const none = () => [] as string[];
  const device = (deviceKind: 'component' | 'camera' | 'kiosk', id: string): Principal => ({ kind: 'device', id, name: id, role: null, cameras: null, deviceKind });
  const user = (role: 'admin' | 'viewer', cameras: string[] | null = null): Principal => ({ kind: 'user', id: `u-${role}`, name: role, role, cameras });

  it('builds and parses the live topics', () => {
    expect(t.cameraLive('door', 'main')).toBe('vigil/camera/door/live/main');
    expect(t.cameraLive('door', 'jpeg')).toBe('vigil/camera/door/live/jpeg');
    expect(t.cameraLiveDemand('door')).toBe('vigil/camera/door/live/demand');
    expect(t.sub.cameraLiveDemands()).toBe('vigil/camera/+/live/demand');
    expect(() => t.cameraLive('door', 'bogus' as 'main')).toThrow(/invalid live media/);
    expect(() => t.cameraLive('a/b', 'main')).toThrow(/invalid camera/);
    expect(t.parse('vigil/camera/door/live/sub')).toEqual({ kind: 'camera.live', camera: 'door', media: 'sub' });
    expect(t.parse('vigil/camera/door/live/demand')).toEqual({ kind: 'camera.liveDemand', camera: 'door' });
    expect(t.area('vigil/camera/door/live/main')).toEqual({ area: 'camera', id: 'door', rest: ['live', 'main'] });
    expect(new Topics('cams').cameraLive('door', 'sub')).toBe('cams/camera/door/live/sub');
  });

  it('a camera process (component device) publishes live media; only principals that see the camera receive it', () => {
    expect(acl.canPublish(device('component', 'camera-box'), 'vigil/camera/door/live/main')).toBe(true);
    expect(acl.canSubscribe(device('component', 'camera-box'), 'vigil/camera/+/live/demand')).toBe(true);
    expect(acl.canPublish(device('camera', 'door'), 'vigil/camera/door/live/main')).toBe(true);
    expect(acl.canPublish(device('camera', 'door'), 'vigil/camera/back/live/main')).toBe(false);
    expect(acl.canPublish(user('viewer'), 'vigil/camera/door/live/demand')).toBe(false);
    expect(acl.canPublish(user('admin', ['front']), 'vigil/camera/door/live/demand')).toBe(false);
    expect(acl.canReceive(user('viewer', ['front']), 'vigil/camera/door/live/main', Buffer.alloc(8), none)).toBe(false);
    expect(acl.canReceive(user('viewer', ['door']), 'vigil/camera/door/live/main', Buffer.alloc(8), none)).toBe(true);
    expect(acl.canReceive(device('kiosk', 'k1'), 'vigil/camera/door/live/main', Buffer.alloc(8), none)).toBe(false);
  });

  it('round-trips media messages and refuses bad ones; validates demands', () => {
    const init = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('ftyp'), Buffer.alloc(4)]);
    const m = decodeLive(encodeLive({ kind: 'init', run: 5, seq: 0, ts: 7, codec: 'avc1.42c01f' }, init));
    expect(m.header).toEqual({ kind: 'init', run: 5, seq: 0, ts: 7, codec: 'avc1.42c01f' });
    expect(m.body.equals(init)).toBe(true);
    expect(() => decodeLive(Buffer.alloc(2))).toThrow(/too short/);
    expect(() => decodeLive(encodeLive({ kind: 'fragment', run: 5, seq: 1, ts: 7 }, init))).toThrow(/does not start with moof/);
    expect(() => decodeLive(encodeLive({ kind: 'jpeg', run: 5, seq: 1, ts: 7 }, init))).toThrow(/not a JPEG/);
    expect(() => decodeLive(encodeLive({ kind: 'init', run: 5, seq: -1, ts: 7 }, init))).toThrow(/lacks/);
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}'), init]);
    expect(() => decodeLive(bad)).toThrow(/not JSON/);
    expect(parseLiveDemand(Buffer.from('{"client":"hub-1","stream":"sub","lease_ms":6000,"init":true}'))).toEqual({ ok: true, demand: { client: 'hub-1', stream: 'sub', lease_ms: 6000, init: true } });
    const refused = parseLiveDemand(Buffer.from('{"client":"a b","stream":"main","lease_ms":-1}'));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toMatch(/client.*lease_ms|lease_ms.*client/s);
    expect(parseLiveDemand(Buffer.from('nope'))).toEqual({ ok: false, error: 'not JSON' });
  });
});
