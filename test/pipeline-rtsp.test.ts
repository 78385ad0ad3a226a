/**
 * The main job end to end on real parts: gst-rtsp-server serving real footage → hub
 * (embedded aedes, real ffmpeg, TF.js detector in worker threads, SQLite) → independent
 * MQTT clients (mqtt.js and mosquitto_sub).
 */
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

let rtsp: RtspServer;
let h: TestHub;
let rec: MqttRecorder;

beforeAll(async () => {
  rtsp = await startRtspServer();
  h = await startTestHub({ rules: { enabled: true } });
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/event/trigger', 'vigil/events', 'vigil/camera/lobby/+', 'vigil/camera/lobby/+/active', 'vigil/camera/lobby/person/snapshot', 'vigil/zone/+/+', 'vigil/bridge/response/#']);
});

afterAll(async () => {
  await rec?.close();
  await h?.stop();
  await rtsp?.stop();
});

describe('RTSP camera → detection → MQTT events', () => {
  it('tracks people from a real RTSP stream and publishes events, counts, snapshots and rows', async () => {
    // mosquitto_sub, an independent client of the embedded broker, waits for the first event.
    const port = new URL(h.mqttUrl).port;
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-u', h.mqttCreds!.username, '-P', h.mqttCreds!.password, '-t', 'vigil/events', '-C', '1', '-W', '90'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let subOut = '';
    sub.stdout.on('data', (c: Buffer) => { subOut += c.toString(); });
    const subDone = new Promise<number>((r) => sub.on('exit', (code) => r(code ?? -1)));

    const created = Date.now();
    const res = await api(h.baseUrl, 'POST', '/api/cameras', {
      name: 'lobby',
      paths: { detect: rtsp.mainUrl, live: rtsp.subUrl },
      username: 'admin', password: 'hunter2-secret',
      detect: { width: 640, fps: 5 },
      objects: { track: ['person', 'car'], filters: { person: { min_score: 0.4, threshold: 0.55 } } },
      zones: [{ name: 'floor', coordinates: [[0, 0.3], [1, 0.3], [1, 1], [0, 1]], objects: ['person'], inertia: 2 }],
    });
    expect(res.status).toBe(201);
    expect(res.body.has_credentials).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('hunter2-secret');

    // The camera component picks the camera up: ffmpeg connects and frames flow.
    const online = await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/availability' && m.payload.toString() === 'online', 15_000, 'camera online');
    expect(online.at - created).toBeLessThan(10_000);
    expect(h.logs()).toMatch(/"camera":"lobby".*"msg":"camera started"/);

    const first = await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).after.label === 'person', 90_000, 'a person event');
    const ev = JSON.parse(first.payload.toString());
    expect(ev.type).toBe('new');
    expect(ev.after.camera).toBe('lobby');
    expect(ev.after.top_score).toBeGreaterThanOrEqual(0.55);
    const [x1, y1, x2, y2] = ev.after.box as [number, number, number, number];
    expect(x1).toBeGreaterThanOrEqual(0); expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(640); expect(y2).toBeLessThanOrEqual(480);
    expect(x2).toBeGreaterThan(x1); expect(y2).toBeGreaterThan(y1);
    expect(ev.after.area).toBeCloseTo((x2 - x1) * (y2 - y1), 0);

    expect(await subDone).toBe(0);
    expect(JSON.parse(subOut).after.id).toBeTypeOf('string');

    // Retained live count goes up …
    const up = await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/person' && Number(m.payload.toString()) >= 1, 10_000, 'person count ≥ 1');
    // … and so does the count of moving people (a new object is not stationary), retained too.
    const active = await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/person/active' && Number(m.payload.toString()) >= 1, 10_000, 'person active count ≥ 1');
    expect(rec.on('vigil/camera/lobby/all/active').length).toBeGreaterThanOrEqual(1);
    expect(Number(up.payload.toString())).toBeGreaterThanOrEqual(1);
    await rec.waitFor((m) => m.topic === 'vigil/zone/floor/person' && Number(m.payload.toString()) >= 1, 30_000, 'zone count ≥ 1');

    // … a best snapshot that decodes as JPEG …
    const snap = await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/person/snapshot', 20_000, 'person snapshot');
    const meta = await sharp(snap.payload).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(640);

    // … updates and ends as people walk through.
    await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).type === 'update', 60_000, 'an update');
    const end = await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).type === 'end', 90_000, 'an end');
    expect(JSON.parse(end.payload.toString()).after.end_time).toBeGreaterThan(0);
    const idsPerPerson = new Set(rec.events().filter((e) => e.after.label === 'person').map((e) => e.after.id));
    expect(idsPerPerson.size).toBeGreaterThanOrEqual(1);

    // Rows in the database, with their snapshots, through the REST API.
    const list = await api(h.baseUrl, 'GET', '/api/events?camera=lobby&label=person&limit=5');
    expect(list.status).toBe(200);
    expect(list.body.length).toBeGreaterThan(0);
    expect(Number(list.headers.get('x-total-count'))).toBeGreaterThanOrEqual(list.body.length);
    const withSnap = list.body.find((e: { has_snapshot: boolean }) => e.has_snapshot);
    // Media URLs carry a 5-minute media token, never the session.
    const mt = await api(h.baseUrl, 'POST', '/api/media-tokens', { event: withSnap.id });
    expect(mt.status).toBe(201);
    const img = await fetch(`${h.baseUrl}/api/events/${withSnap.id}/snapshot.jpg?token=${mt.body.token}`);
    expect(img.status).toBe(200);
    expect((await sharp(Buffer.from(await img.arrayBuffer())).metadata()).format).toBe('jpeg');
    const zoneList = await api(h.baseUrl, 'GET', '/api/events?zone=floor');
    expect(zoneList.status).toBe(200);
    for (const e of zoneList.body) expect(e.zones).toContain('floor');

    // Disabling the camera stops it: open events end and the counts go back to 0 (retained).
    const patched = await api(h.baseUrl, 'PATCH', '/api/cameras/lobby', { enabled: false });
    expect(patched.status).toBe(200);
    await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/availability' && m.payload.toString() === 'offline', 5_000, 'camera offline after disable');
    await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/person' && m.payload.toString() === '0', 10_000, 'person count back to 0');
    const late = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/lobby/person', 'vigil/camera/lobby/all']);
    const retained = await late.waitFor((m) => m.topic === 'vigil/camera/lobby/person', 5_000, 'retained count');
    expect(retained.retain).toBe(true);
    expect(retained.payload.toString()).toBe('0');
    await late.close();
    await rec.waitFor((m) => m.topic === 'vigil/camera/lobby/person/active' && m.payload.toString() === '0' && m.at >= active.at, 10_000, 'person active count back to 0');
    const lateActive = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/lobby/person/active', 'vigil/camera/lobby/all/active']);
    for (const topic of ['vigil/camera/lobby/person/active', 'vigil/camera/lobby/all/active']) {
      const r = await lateActive.waitFor((m) => m.topic === topic, 5_000, `retained ${topic}`);
      expect(r.retain).toBe(true);
      expect(r.payload.toString()).toBe('0');
    }
    await lateActive.close();
    // Counts go out only on change: no two consecutive equal values on one topic.
    for (const topic of ['vigil/camera/lobby/person', 'vigil/camera/lobby/person/active']) {
      const values = rec.on(topic).map((m) => m.payload.toString());
      expect(values.some((v, i) => i > 0 && v === values[i - 1])).toBe(false);
    }
    await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/events?camera=lobby&in_progress=1')).body.length, { timeout: 5000 }).toBe(0);

    // The password never left the hub in the clear: the retained config carries it sealed.
    const config = rec.on('vigil/camera/lobby/config').at(-1)!;
    expect(JSON.parse(config.payload.toString()).password).toMatch(/^sealed:v1:/);
    for (const m of rec.messages) expect(m.payload.includes('hunter2-secret')).toBe(false);
    expect(h.logs()).not.toContain('hunter2-secret');
  }, 300_000);

  it('a real detection fires a flow of Vigil\'s nodes in the embedded Node-RED (vigil event → change → vigil trigger)', async () => {
    const tab = {
      id: 'pipeline.tab', label: 'Person on lobby',
      nodes: [
        { id: 'pipeline.ev', type: 'vigil event', hub: 'pipeline.hub', cameras: 'lobby', labels: 'person', typeNew: true, typeUpdate: false, typeEnd: false, x: 120, y: 60, wires: [['pipeline.set']] },
        { id: 'pipeline.set', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"camera":"lobby","topic":"flow/person-seen","payload":{"id":"seen"}}', tot: 'json' }], x: 320, y: 60, wires: [['pipeline.trigger']] },
        { id: 'pipeline.trigger', type: 'vigil trigger', hub: 'pipeline.hub', topic: 'never/matches', x: 520, y: 60, wires: [[]] },
      ],
      configs: [{ id: 'pipeline.hub', type: 'vigil-hub', mode: 'embedded', name: 'this hub' }],
    };
    const deployed = await api(h.baseUrl, 'POST', '/rules/flow', tab);
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    const t0 = Date.now();
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/lobby', { enabled: true })).status).toBe(200);
    try {
      const person = await rec.waitFor((m) => m.at >= t0 && m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).type === 'new' && JSON.parse(m.payload.toString()).after.label === 'person', 90_000, 'a new person');
      const fired = await rec.waitFor((m) => m.topic === 'vigil/event/trigger' && JSON.parse(m.payload.toString()).topic === 'flow/person-seen', 5_000, 'the flow\'s trigger');
      expect(fired.at).toBeGreaterThanOrEqual(person.at);
      expect(JSON.parse(fired.payload.toString())).toMatchObject({ camera: 'lobby', origin: 'synthetic', data: { id: 'seen' } });
    } finally {
      expect((await api(h.baseUrl, 'DELETE', `/rules/flow/${deployed.body.id}`)).status).toBe(204);
      await api(h.baseUrl, 'PATCH', '/api/cameras/lobby', { enabled: false });
    }
  }, 150_000);

  it('detect OFF on the switch Home Assistant uses (…/detect/set) stops detection while the camera runs; ON brings events back', async () => {
    const ha = await h.hub.auth!.credentials.createDevice({ id: 'ha-pipeline', kind: 'ha' });
    const client = await MqttRecorder.connect(h.mqttUrl, ['homeassistant/status'], { username: 'ha-pipeline', password: ha.password });
    const frames = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/lobby/frame', 'vigil/camera/lobby/detect/state', 'vigil/camera/lobby/availability']);
    try {
      expect((await api(h.baseUrl, 'PATCH', '/api/cameras/lobby', { enabled: true })).status).toBe(200);
      const t0 = Date.now();
      await rec.waitFor((m) => m.at >= t0 && m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).after.label === 'person', 90_000, 'a person event');
      await client.client.publishAsync('vigil/camera/lobby/detect/set', 'OFF', { qos: 1 });
      const off = await frames.waitFor((m) => m.topic === 'vigil/camera/lobby/detect/state' && m.payload.toString() === 'OFF', 5_000, 'detect state OFF');
      await new Promise((r) => setTimeout(r, 8_000));
      const quiet = off.at + 1_000; // frames and results in flight at the switch
      expect(frames.messages.filter((m) => m.topic === 'vigil/camera/lobby/frame' && m.at > quiet)).toEqual([]);
      const detections = rec.messages.filter((m) => m.topic === 'vigil/events' && m.at > quiet && JSON.parse(m.payload.toString()).type !== 'end');
      expect(detections).toEqual([]);
      // The camera kept running meanwhile (still online, no restart).
      expect(frames.on('vigil/camera/lobby/availability').at(-1)!.payload.toString()).toBe('online');

      await client.client.publishAsync('vigil/camera/lobby/detect/set', 'ON', { qos: 1 });
      const on = await frames.waitFor((m) => m.topic === 'vigil/camera/lobby/detect/state' && m.payload.toString() === 'ON' && m.at > off.at, 5_000, 'detect state ON');
      await frames.waitFor((m) => m.topic === 'vigil/camera/lobby/frame' && m.at > on.at, 15_000, 'frames to the detector again');
      await rec.waitFor((m) => m.at > on.at && m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).type !== 'end', 60_000, 'detections again');
    } finally {
      await frames.close();
      await client.close();
      await api(h.baseUrl, 'PATCH', '/api/cameras/lobby', { enabled: false });
    }
  }, 200_000);
});
