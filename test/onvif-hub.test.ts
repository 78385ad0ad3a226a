/**
 * ONVIF in the hub against the ONVIF device emulator (test/fixtures/onvif-device.ts, its
 * stream URIs on the real RTSP test camera) and a real hub: a camera added from the device
 * over REST, a refused login, PullPoint events on `vigil/onvif/<cam>/event` through
 * subscription expiry and a device reboot, PTZ and relays over MQTT with their error
 * responses, removal, and WS-Discovery through the REST route inside a network namespace.
 */
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MOTION_TOPIC, startOnvifDevice, type OnvifDevice } from './fixtures/onvif-device.ts';
import type { HubDiscoveryResult } from './fixtures/onvif-hub-discovery.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder, type Recorded } from './helpers/mqtt-recorder.ts';
import { CameraLink } from '../hub/onvif/camera-link.ts';
import type { TriggerEvent } from '../components/protocol/rules.ts';
import { netnsSupport, runInNetns } from './helpers/netns.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const DISCOVERY_SCRIPT = fileURLToPath(new URL('./fixtures/onvif-hub-discovery.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

let rtsp: RtspServer;
let device: OnvifDevice;
let h: TestHub;
let rec: MqttRecorder;
const login = () => ({ url: device.url, username: 'admin', password: 'secret' });

/** Polls `check` every 20 ms until it returns something truthy (vitest's waitUntil, with what was awaited in the error). */
function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  return vi.waitUntil(check, { timeout: timeoutMs, interval: 20 }).catch(() => { throw new Error(`timed out waiting for ${what}`); }) as Promise<T>;
}

async function onvifStatus(cam: string): Promise<Record<string, any>> {
  const sys = await api(h.baseUrl, 'GET', '/api/system');
  return sys.body.components.onvif.cameras[cam];
}

const json = (m: Recorded) => JSON.parse(m.payload.toString());
const motion = (since: number) => (m: Recorded) => m.topic === 'vigil/onvif/door/event' && m.at >= since && json(m).property_op === 'Changed' && json(m).topic === MOTION_TOPIC;
const pulling = () => device.subscriptions.find((s) => s.pullPending);

async function publish(topic: string, payload: string): Promise<void> {
  await rec.client.publishAsync(topic, payload, { qos: 1 });
}

/** Publishes a command and resolves with the next answer on `vigil/bridge/response/<op>`. */
async function refusal(op: 'ptz' | 'relay', topic: string, payload: string): Promise<Record<string, any>> {
  const responses = () => rec.on(`vigil/bridge/response/${op}`);
  const n = responses().length;
  await publish(topic, payload);
  return json(await until(() => responses()[n], `the ${op} error response to ${payload}`, 2000));
}

beforeAll(async () => {
  rtsp = await startRtspServer();
  device = await startOnvifDevice({ mainUrl: rtsp.mainUrl, subUrl: rtsp.subUrl });
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/onvif/+/event', 'vigil/camera/+/relay/+/state', 'vigil/bridge/response/+', 'vigil/camera/door/config']);
});

afterAll(async () => {
  await rec?.close();
  await h?.stop();
  await device?.stop();
  await rtsp?.stop();
});

describe('ONVIF devices over REST', () => {
  it('probes a device: information, capabilities, profiles with stream URIs, the suggested config; no credentials echoed', async () => {
    const res = await api(h.baseUrl, 'POST', '/api/onvif/probe', login());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.device).toEqual({ manufacturer: 'Vigil', model: 'VirtualCam-PTZ', firmware_version: '1.0.0', serial_number: 'VC-0001', hardware_id: 'VC1' });
    expect(res.body.capabilities).toEqual({ events: true, ptz: true, relays: 2 });
    expect(res.body.profiles).toEqual([
      { token: 'main', name: expect.any(String), encoding: 'H264', width: 768, height: 576, fps: 10, ptz: true, stream_uri: rtsp.mainUrl },
      { token: 'sub', name: expect.any(String), encoding: 'H264', width: 384, height: 288, fps: 10, ptz: false, stream_uri: rtsp.subUrl },
    ]);
    expect(res.body.snapshot_uri).toBe(`http://127.0.0.1:${device.port}/onvif/snapshot/main.jpg`);
    expect(res.body.suggested).toEqual({ paths: { record: rtsp.mainUrl, live: rtsp.mainUrl, detect: rtsp.subUrl }, onvif: { url: device.url } });
    expect(JSON.stringify(res.body)).not.toContain('secret');
  });

  it('refuses a wrong password (400 on password) and an unreachable URL (400 on url), creating nothing', async () => {
    const wrong = await api(h.baseUrl, 'POST', '/api/onvif/probe', { ...login(), password: 'wrong' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'validation_failed', field: 'password', message: expect.stringMatching(/refused the login/) });
    expect(JSON.stringify(wrong.body)).not.toContain('wrong"');

    const add = await api(h.baseUrl, 'POST', '/api/cameras/onvif', { name: 'door', ...login(), password: 'wrong' });
    expect(add.status).toBe(400);
    expect(add.body.error.field).toBe('password');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/door')).status).toBe(404);

    const nowhere = await api(h.baseUrl, 'POST', '/api/onvif/probe', { url: 'http://127.0.0.1:1/onvif/device_service', username: 'admin', password: 'secret' });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.error).toMatchObject({ field: 'url', message: expect.stringMatching(/no ONVIF device reachable/) });
    const notOnvif = await api(h.baseUrl, 'POST', '/api/onvif/probe', { url: `${h.baseUrl}/api/health`, username: 'admin', password: 'secret' });
    expect(notOnvif.status).toBe(400);
    expect(notOnvif.body.error.field).toBe('url');
    const badBody = await api(h.baseUrl, 'POST', '/api/onvif/probe', { url: 'ftp://x', password: 1 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.field).toBe('url');
  });

  it('adds a camera from the device: main stream for record/live, sub for detect, the onvif block set', async () => {
    const res = await api(h.baseUrl, 'POST', '/api/cameras/onvif', { name: 'door', ...login(), detect: { fps: 4 } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: 'door', enabled: true, has_credentials: true,
      paths: { record: rtsp.mainUrl, live: rtsp.mainUrl, detect: rtsp.subUrl },
      onvif: { url: device.url, events: true, ptz: true },
      detect: { fps: 4 },
    });
    expect(res.body.password).toBeUndefined();
    expect((await api(h.baseUrl, 'GET', '/api/cameras/door')).body).toEqual(res.body);
    expect((await api(h.baseUrl, 'POST', '/api/cameras/onvif', { name: 'door', ...login() })).status).toBe(409);
    // Components run it from the retained config, which carries the onvif block and a sealed password.
    const config = json(await rec.waitFor((m) => m.topic === 'vigil/camera/door/config' && m.payload.length > 0, 2000, 'the config'));
    expect(config.onvif).toEqual({ url: device.url, events: true, ptz: true });
    expect(config.password).toMatch(/^sealed:v1:/);
  });
});

describe('the camera link', () => {
  it('connects, subscribes and publishes the Initialized states, relays retained OFF', async () => {
    await until(pulling, 'a pending PullMessages from the hub');
    const initial = await rec.waitFor((m) => m.topic === 'vigil/onvif/door/event' && json(m).property_op === 'Initialized' && json(m).topic === MOTION_TOPIC, 2000, 'the Initialized motion state');
    expect(json(initial)).toMatchObject({ camera: 'door', data: { IsMotion: false }, origin: 'onvif' });
    for (const token of ['AlarmOut_0', 'AlarmOut_1']) {
      const m = await rec.waitFor((x) => x.topic === `vigil/camera/door/relay/${token}/state`, 2000, `${token} state`);
      expect([m.payload.toString(), m.qos]).toEqual(['OFF', 1]);
    }
    const st = await onvifStatus('door');
    expect(st).toMatchObject({ url: device.url, state: 'connected', connected: true, subscribed: true, ptz: true, subscriptions: 1, resubscribes: 0, device: { model: 'VirtualCam-PTZ' }, relays: { AlarmOut_0: 'OFF', AlarmOut_1: 'OFF' } });
    expect(st.events_received).toBeGreaterThanOrEqual(3);
  });

  it('publishes a motion event normalized on vigil/onvif/<cam>/event within 2 s (QoS 1, not retained)', async () => {
    await until(pulling, 'a pending pull');
    const t0 = Date.now();
    expect(device.emitEvent({ data: { IsMotion: true } })).toBe(1);
    const m = await rec.waitFor(motion(t0), 2000, 'the motion event');
    expect([m.qos, m.retain]).toEqual([1, false]);
    const e = json(m);
    expect(e).toEqual({
      camera: 'door', topic: 'tns1:RuleEngine/CellMotionDetector/Motion', property_op: 'Changed', data: { IsMotion: true },
      source: { VideoSourceConfigurationToken: 'VideoSourceConfig_1', VideoAnalyticsConfigurationToken: 'VideoAnalyticsConfig_1', Rule: 'MyMotionDetectorRule' },
      time: expect.any(Number), origin: 'onvif',
    });
    expect(Math.abs(e.time - t0)).toBeLessThan(2000);
    expect((await onvifStatus('door')).last_event_topic).toBe(MOTION_TOPIC);
  });

  it('subscribes again when the subscription expires, and counts it', async () => {
    const before = await onvifStatus('door');
    const old = (await until(pulling, 'a pending pull')).id;
    device.expireSubscriptions();
    await until(() => device.subscriptions.find((s) => s.id !== old && s.pullPending), 'a new subscription');
    const t0 = Date.now();
    device.emitEvent({ data: { IsMotion: false } });
    await rec.waitFor(motion(t0), 2000, 'an event on the new subscription');
    const after = await onvifStatus('door');
    expect(after.resubscribes).toBe(before.resubscribes + 1);
    expect(after.errors).toBeGreaterThan(before.errors);
    expect(after.last_error).toMatch(/unknown or has expired/);
  });

  it('reconnects after a device reboot, and events flow again', async () => {
    const before = await onvifStatus('door');
    const old = (await until(pulling, 'a pending pull')).id;
    await device.restart({ downtimeMs: 300 });
    await until(() => device.subscriptions.find((s) => s.id !== old && s.pullPending), 'a subscription after the reboot', 15_000);
    const t0 = Date.now();
    device.emitEvent({ data: { IsMotion: true } });
    await rec.waitFor(motion(t0), 2000, 'an event after the reboot');
    const after = await onvifStatus('door');
    expect(after.resubscribes).toBeGreaterThan(before.resubscribes);
    expect(after).toMatchObject({ connected: true, subscribed: true });
  });

  it('PTZ: presets by name, moves, zoom and stop reach the device in order; bad commands are answered on bridge/response/ptz', async () => {
    const n = device.ptz.commands.length;
    for (const p of ['preset_door', 'MOVE_LEFT', 'ZOOM_IN', 'STOP']) await publish('vigil/camera/door/ptz', p);
    await until(() => device.ptz.commands.length >= n + 4, 'four PTZ commands');
    expect(device.ptz.commands.slice(n).map((c) => ({ op: c.operation, profile: c.profileToken, preset: c.preset, velocity: c.velocity }))).toEqual([
      { op: 'GotoPreset', profile: 'main', preset: 'door', velocity: undefined },
      { op: 'ContinuousMove', profile: 'main', preset: undefined, velocity: { x: -0.5, y: 0 } },
      { op: 'ContinuousMove', profile: 'main', preset: undefined, velocity: { zoom: 0.5 } },
      { op: 'Stop', profile: 'main', preset: undefined, velocity: undefined },
    ]);
    expect(device.ptz.lastPreset).toBe('door');

    expect(await refusal('ptz', 'vigil/camera/door/ptz', 'preset_nope')).toEqual({
      status: 'error', error: expect.stringMatching(/no preset "nope"; the camera has home, door/), data: { topic: 'vigil/camera/door/ptz', payload: 'preset_nope' },
    });
    expect((await refusal('ptz', 'vigil/camera/door/ptz', 'DANCE')).error).toMatch(/unknown command "DANCE"/);
    expect((await refusal('ptz', 'vigil/camera/ghost/ptz', 'STOP')).error).toBe('no camera ghost');
    expect(device.ptz.commands).toHaveLength(n + 4);
  });

  it('PTZ on a camera without an onvif block, or whose device has no PTZ, is answered with an error', async () => {
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'plain', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } })).status).toBe(201);
    expect((await refusal('ptz', 'vigil/camera/plain/ptz', 'STOP')).error).toBe('camera plain has no onvif block');
    const fixed = await startOnvifDevice({ profiles: [{ token: 'only', width: 640, height: 480, streamUri: rtsp.mainUrl }], relays: [] });
    try {
      // One profile: every path slot gets its stream.
      const cam = await api(h.baseUrl, 'POST', '/api/cameras/onvif', { name: 'fixed', url: fixed.url, username: 'admin', password: 'secret', onvif: { events: false } });
      expect(cam.status, JSON.stringify(cam.body)).toBe(201);
      expect(cam.body).toMatchObject({ paths: { record: rtsp.mainUrl, live: rtsp.mainUrl, detect: rtsp.mainUrl }, onvif: { url: fixed.url, events: false, ptz: true } });
      await until(async () => (await onvifStatus('fixed'))?.connected, 'the link to the PTZ-less device');
      expect((await refusal('ptz', 'vigil/camera/fixed/ptz', 'MOVE_UP')).error).toBe('camera fixed has no PTZ (no profile with a PTZ configuration)');
      expect(fixed.subscriptions).toEqual([]); // events: false
    } finally {
      await api(h.baseUrl, 'DELETE', '/api/cameras/fixed');
      await fixed.stop();
    }
  });

  it('relays: …/relay/<token>/set ON switches the device and the retained state; bad ones answer on bridge/response/relay', async () => {
    const t0 = Date.now();
    await publish('vigil/camera/door/relay/AlarmOut_0/set', 'ON');
    await until(() => device.relays.AlarmOut_0!.state === 'active', 'the relay active');
    await rec.waitFor((m) => m.topic === 'vigil/camera/door/relay/AlarmOut_0/state' && m.at >= t0 && m.payload.toString() === 'ON', 2000, 'the ON state');
    // A client connecting now gets it retained.
    const late = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/door/relay/+/state']);
    try {
      const m = await late.waitFor((x) => x.topic === 'vigil/camera/door/relay/AlarmOut_0/state', 2000, 'the retained state');
      expect([m.payload.toString(), m.retain]).toEqual(['ON', true]);
    } finally {
      await late.close();
    }
    expect((await onvifStatus('door')).relays.AlarmOut_0).toBe('ON');

    const bad: Array<[string, string, RegExp]> = [
      ['vigil/camera/door/relay/AlarmOut_9/set', 'ON', /no relay "AlarmOut_9"; relays: AlarmOut_0, AlarmOut_1/],
      ['vigil/camera/door/relay/AlarmOut_1/set', 'MAYBE', /must be ON or OFF/],
    ];
    for (const [topic, payload, error] of bad) {
      expect(await refusal('relay', topic, payload)).toEqual({ status: 'error', error: expect.stringMatching(error), data: { topic, payload } });
    }
    expect(device.relays.AlarmOut_1!.state).toBe('inactive');
  });

  it('stops the link when the camera is deleted: unsubscribes and clears the retained relay states', async () => {
    expect((await api(h.baseUrl, 'DELETE', '/api/cameras/door')).status).toBe(204);
    await until(() => device.subscriptions.length === 0, 'the Unsubscribe');
    expect(device.calls.at(-1)).toMatchObject({ operation: 'Unsubscribe', outcome: 'ok' });
    const sys = await api(h.baseUrl, 'GET', '/api/system');
    expect(sys.body.components.onvif).toMatchObject({ status: 'running', cameras: {} });
    const late = mqtt.connect(h.mqttUrl, { ...(h.mqttCreds ?? {}), protocolVersion: 4 });
    const got: string[] = [];
    late.on('message', (topic) => got.push(topic));
    await late.subscribeAsync('vigil/camera/door/relay/+/state', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    await late.endAsync();
    expect(got).toEqual([]);
  });
});

describe('CameraLink timing (short lifetimes)', () => {
  const timing = { requestTimeoutMs: 2000, pullTimeoutS: 1, lifetimeS: 3, retryMinMs: 100, retryMaxMs: 400, authRetryMs: 60_000 };
  const quiet = pino({ level: 'silent' });

  it('renews before the subscription ends instead of subscribing again, and stops at once with an Unsubscribe', async () => {
    const events: TriggerEvent[] = [];
    const link = new CameraLink('porch', login(), { events: true, ptz: true }, { event: (e) => events.push(e), relay: () => undefined }, quiet, timing);
    link.start();
    try {
      const sub = await until(pulling, 'a pending pull');
      await until(() => (device.subscriptions.find((s) => s.id === sub.id)?.renewals ?? 0) >= 1, 'a renewal', 8000);
      expect(device.subscriptions.map((s) => s.id)).toEqual([sub.id]);
      expect(link.status()).toMatchObject({ subscriptions: 1, resubscribes: 0, errors: 0 });
      expect(link.status().renewals).toBeGreaterThanOrEqual(1);
      const n = events.length;
      device.emitEvent({ data: { IsMotion: false } });
      await until(() => events.length > n, 'the event');
    } finally {
      await until(pulling, 'a pending pull before stopping');
      const t0 = Date.now();
      await link.stop();
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    expect(device.subscriptions).toEqual([]);
    expect(link.status()).toMatchObject({ state: 'stopped', connected: false, subscribed: false });
  });

  it('a refused login waits authRetryMs before trying again, and says why', async () => {
    const refusals = device.refusals.length;
    const link = new CameraLink('porch', { ...login(), password: 'wrong' }, { events: true, ptz: true }, { event: () => undefined, relay: () => undefined }, quiet, timing);
    link.start();
    try {
      const st = await until(() => (link.status().state === 'retrying' ? link.status() : undefined), 'the retry wait');
      expect(st).toMatchObject({ connected: false, errors: 1, last_error: expect.stringMatching(/^unauthorized: /) });
      expect(st.next_retry_at! - Date.now()).toBeGreaterThan(50_000);
      expect(device.refusals.slice(refusals).map((r) => r.operation)).toEqual(['GetDeviceInformation']);
    } finally {
      await link.stop();
    }
  });
});

const netns = netnsSupport();
describe('discovery', () => {
  it('POST /api/onvif/discover answers a list (here: whatever the host network has) and checks its body', async () => {
    const res = await api(h.baseUrl, 'POST', '/api/onvif/discover', { timeout_ms: 200 });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    const bad = await api(h.baseUrl, 'POST', '/api/onvif/discover', { timeout_ms: 10 });
    expect([bad.status, bad.body.error.field]).toEqual([400, 'timeout_ms']);
  });

  it.skipIf(!netns.ok)(`finds the device through the REST route in a network namespace${netns.ok ? '' : ` (skipped: ${netns.reason})`}`, async () => {
    const run = await runInNetns([process.execPath, '--import', 'tsx', DISCOVERY_SCRIPT], { cwd: PROJECT_ROOT, timeoutMs: 60_000 });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `script: code ${run.code}, stderr:\n${run.stderr.slice(-4000)}`).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length)) as HubDiscoveryResult;
    expect(result.status).toBe(200);
    expect(result.probesSeen).toBe(1);
    expect(result.body).toEqual([{
      xaddr: result.expected.xaddr, xaddrs: [result.expected.xaddr], urn: result.expected.urn,
      name: 'hub probe target', hardware: 'VirtualCam-PTZ', location: 'front door', address: '127.0.0.1',
    }]);
  });
});
