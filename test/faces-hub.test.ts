/**
 * Known faces end to end through a real hub (embedded broker, REST, data dir) and a real
 * face enricher on its own bus client, as a detector in another process would be: an
 * unknown face arrives and is listed, person A is enrolled over REST (raw JPEG and
 * multipart) and recognized, the unknown face is enrolled under a name, an image without
 * a face is refused, an enrolment nobody answers is kept pending, and removal clears the
 * retained topics. Real photos: `test/helpers/face-photos.ts`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceEnricher } from '../components/detector/faces/face-enricher.ts';
import type { EnrichInput } from '../components/detector/enrichment.ts';
import { Bus } from '../components/protocol/bus.ts';
import { cameraConfig } from '../components/protocol/camera-config.ts';
import { silentLogger } from '../components/protocol/log.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { A_ENROL, A_HELD_OUT, FACE_SWAPPED, FACEMATCH, FRUITS, tileJpeg } from './helpers/face-photos.ts';

let h: TestHub;
let bus: Bus;
let enricher: FaceEnricher;
let rec: MqttRecorder;
/** The hub's data dir, kept across the restart test. */
const dataDir = mkdtempSync(join(tmpdir(), 'vigil-faces-'));
const HUB_CONFIG = { camera: { enabled: false }, detector: { enabled: false } };
const facematch = readFileSync(FACEMATCH);
const CAMERA = { name: 'door', paths: { detect: 'rtsp://127.0.0.1:1/x' }, face_recognition: { enabled: true } };

/** POSTs raw bytes (or a FormData) with the admin's token unless `token` is given. */
async function post(path: string, body: Buffer | FormData, type?: string, token = h.adminToken): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (type) headers['content-type'] = type;
  const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function person(jpeg: Buffer, width: number, height: number, box: Box, id: string): EnrichInput {
  return { camera: cameraConfig.parse(CAMERA), object: { id, label: 'person', box, score: 0.8, stationary: false, sub_label: null }, frame: { jpeg, width, height }, time: Date.now() / 1000 };
}

beforeAll(async () => {
  h = await startTestHub(HUB_CONFIG, { dataDir });
  expect((await api(h.baseUrl, 'POST', '/api/cameras', CAMERA)).status).toBe(201);
  await startDetector();
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/faces/#']);
}, 60_000);

/** The detector side: its own bus client with a component device's credentials, as another process would have. */
async function startDetector(): Promise<void> {
  bus = new Bus({ url: h.mqttUrl, clientId: `test-face-detector-${Date.now()}`, ...h.mqttCreds, logger: silentLogger });
  await bus.connect();
  enricher = new FaceEnricher({ bus, topics: h.hub.topics, logger: silentLogger, detectorId: 'detector-e2e', settleMs: 50 });
  await enricher.start();
  await until(() => enricher.stats().active || undefined, 5_000, 'the enricher to see the camera with face recognition on');
}

async function stopDetector(): Promise<void> {
  await enricher?.stop();
  await bus?.close();
}

afterAll(async () => {
  await stopDetector();
  await rec?.close();
  await h?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('known faces through the hub', () => {
  let unknownId: string;
  let aId: string;

  it('an unknown face seen by a detector is kept and listed', async () => {
    const r = await enricher.enrich(person(readFileSync(FACE_SWAPPED), 320, 320, [0, 0, 320, 320], 'stranger-1'));
    expect(r).toMatchObject({ type: 'face', name: null });
    const list = await until(async () => {
      const l = await api(h.baseUrl, 'GET', '/api/faces/unknown');
      return l.body.length ? l.body : undefined;
    }, 5_000, 'the unknown face listed');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ camera: 'door' });
    expect(list[0].time).toBeCloseTo(Date.now() / 1000, -2);
    unknownId = list[0].id;
    const img = await fetch(`${h.baseUrl}/api/faces/unknown/${unknownId}.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await img.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    expect(existsSync(join(h.dataDir, 'faces', 'unknown', 'door', `${unknownId}.jpg`))).toBe(true);
  });

  it('enrols person A (raw JPEG, then multipart): 201 once the detector described the face', async () => {
    const res = await post('/api/faces/vlado', await tileJpeg(A_ENROL[0]!), 'image/jpeg');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'vlado', ok: true, detector: 'detector-e2e' });
    expect(res.body.face_score).toBeGreaterThan(0.5);
    aId = res.body.id;
    expect(existsSync(join(h.dataDir, 'faces', 'vlado', `${aId}.jpg`))).toBe(true);
    // Retained on the bus (image and outcome), for detectors that connect later.
    const late = await MqttRecorder.connect(h.mqttUrl, [`vigil/faces/+/vlado/${aId}`]);
    try {
      await late.waitFor((m) => m.topic === `vigil/faces/library/vlado/${aId}` && m.retain && m.payload[0] === 0xff, 5_000, 'the retained image');
      const d = await late.waitFor((m) => m.topic === `vigil/faces/descriptor/vlado/${aId}` && m.retain, 5_000, 'the retained descriptor');
      expect(JSON.parse(d.payload.toString()).descriptor).toHaveLength(1024);
    } finally {
      await late.close();
    }

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await tileJpeg(A_ENROL[1]!))], { type: 'image/jpeg' }), 'a.jpg');
    const multi = await post('/api/faces/vlado', form);
    expect(multi.status, JSON.stringify(multi.body)).toBe(201);

    const list = await api(h.baseUrl, 'GET', '/api/faces');
    expect(Object.keys(list.body)).toEqual(['vlado']);
    expect(list.body.vlado.map((i: { id: string; ok: boolean }) => [i.id, i.ok])).toEqual([[aId, true], [multi.body.id, true]]);
    const img = await fetch(`${h.baseUrl}/api/faces/vlado/${aId}.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(img.status).toBe(200);
    expect(Buffer.from(await img.arrayBuffer()).length).toBe(list.body.vlado[0].bytes);
  });

  it('the detector then recognizes A in a held-out photo', async () => {
    const r = await enricher.enrich(person(facematch, 1920, 954, A_HELD_OUT[1]!, 'a-walks-by'));
    expect(r).toMatchObject({ type: 'face', name: 'vlado' });
    expect(r!.type === 'face' && r!.score).toBeGreaterThanOrEqual(0.6);
  });

  it('enrols the unknown face under a name; it leaves the unknown list', async () => {
    const res = await api(h.baseUrl, 'POST', `/api/faces/unknown/${unknownId}/enrol`, { name: 'bob' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'bob', ok: true });
    expect((await api(h.baseUrl, 'GET', '/api/faces/unknown')).body).toEqual([]);
    expect(Object.keys((await api(h.baseUrl, 'GET', '/api/faces')).body)).toEqual(['bob', 'vlado']);
    const again = await enricher.enrich(person(readFileSync(FACE_SWAPPED), 320, 320, [0, 0, 320, 320], 'stranger-2'));
    expect(again).toMatchObject({ name: 'bob' });
  });

  it('refuses an image without a face: 400 no_face, nothing kept', async () => {
    const res = await post('/api/faces/nobody', readFileSync(FRUITS), 'image/jpeg');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'no_face', field: 'image' });
    expect(Object.keys((await api(h.baseUrl, 'GET', '/api/faces')).body)).not.toContain('nobody');
    expect(existsSync(join(h.dataDir, 'faces', 'nobody'))).toBe(false);
  });

  it('bad input: 400 with the field', async () => {
    const jpeg = await tileJpeg(A_ENROL[2]!);
    const cases: Array<[string, Buffer, string, string, string]> = [
      ['/api/faces/Not%20A%20Slug', jpeg, 'image/jpeg', 'validation_failed', 'name'],
      ['/api/faces/unknown', jpeg, 'image/jpeg', 'validation_failed', 'name'],
      ['/api/faces/carol', Buffer.from('hello'), 'text/plain', 'invalid_image', 'image'],
      ['/api/faces/carol', Buffer.from('not really a jpeg'), 'image/jpeg', 'invalid_image', 'image'],
    ];
    for (const [path, body, type, code, field] of cases) {
      const res = await post(path, body, type);
      expect(res.status, `${path} ${type}`).toBe(400);
      expect(res.body.error, `${path} ${type}`).toMatchObject({ code, field });
    }
    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'a.jpg');
    const wrongField = await post('/api/faces/carol', form);
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.field).toBe('file');
    expect((await api(h.baseUrl, 'POST', `/api/faces/unknown/${'1'.repeat(13)}-deadbeef/enrol`, { name: 'x' })).status).toBe(404);
    expect((await api(h.baseUrl, 'GET', '/api/faces/unknown/nope.jpg')).body.error).toMatchObject({ code: 'validation_failed', field: 'id' });
  });

  it('keeps an enrolment no detector answers: 202, ok null; described once a detector is back', async () => {
    // Face recognition off on the only camera: the detector unloads its models and stops answering.
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/door', { face_recognition: { enabled: false } })).status).toBe(200);
    await until(() => (!enricher.stats().active ? true : undefined), 5_000, 'the enricher inactive');
    const res = await post('/api/faces/vlado', await tileJpeg(A_ENROL[2]!), 'image/jpeg');
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ name: 'vlado', ok: null });
    expect(enricher.stats().loaded).toBe(false);
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/door', { face_recognition: { enabled: true } })).status).toBe(200);
    const described = await until(async () => {
      const l = await api(h.baseUrl, 'GET', '/api/faces');
      return l.body.vlado.find((i: { id: string; ok: boolean | null }) => i.id === res.body.id && i.ok === true);
    }, 20_000, 'the pending image described');
    expect(described.face_score).toBeGreaterThan(0.5);
  }, 40_000);

  it('removal clears the retained topics and the detector forgets the image', async () => {
    const before = enricher.stats().library_images;
    const del = await api(h.baseUrl, 'DELETE', `/api/faces/vlado/${aId}`);
    expect(del.status).toBe(204);
    await rec.waitFor((m) => m.topic === `vigil/faces/library/vlado/${aId}` && m.payload.length === 0, 5_000, 'the image cleared');
    await rec.waitFor((m) => m.topic === `vigil/faces/descriptor/vlado/${aId}` && m.payload.length === 0, 5_000, 'the descriptor cleared');
    await until(() => (enricher.stats().library_images === before - 1 ? true : undefined), 5_000, 'the detector to forget it');
    expect((await api(h.baseUrl, 'GET', `/api/faces/vlado/${aId}.jpg`)).status).toBe(404);

    expect((await api(h.baseUrl, 'DELETE', '/api/faces/vlado')).status).toBe(204);
    expect((await api(h.baseUrl, 'DELETE', '/api/faces/vlado')).status).toBe(404);
    expect(Object.keys((await api(h.baseUrl, 'GET', '/api/faces')).body)).toEqual(['bob']);
    expect(existsSync(join(h.dataDir, 'faces', 'vlado'))).toBe(false);
    await until(() => (enricher.stats().library_names.join() === 'bob' ? true : undefined), 5_000, 'only bob left on the detector');
  });

  it('unknown faces are per camera: a viewer of another camera sees none, and deletes none', async () => {
    await enricher.enrich(person(facematch, 1920, 954, A_HELD_OUT[2]!, 'a-again')); // A is no longer enrolled: unknown
    const [u] = await until(async () => {
      const l = await api(h.baseUrl, 'GET', '/api/faces/unknown');
      return l.body.length ? l.body : undefined;
    }, 5_000, 'a new unknown face');
    expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'yardviewer', password: 'yardviewer-password', role: 'viewer', cameras: ['yard'] })).status).toBe(201);
    const token = (await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'yardviewer', password: 'yardviewer-password' }, null)).body.access_token;
    expect((await api(h.baseUrl, 'GET', '/api/faces/unknown', undefined, { token })).body).toEqual([]);
    expect((await api(h.baseUrl, 'GET', `/api/faces/unknown/${u.id}.jpg`, undefined, { token })).status).toBe(404);
    expect((await api(h.baseUrl, 'GET', '/api/faces', undefined, { token })).status).toBe(200);
    expect((await api(h.baseUrl, 'DELETE', `/api/faces/unknown/${u.id}`)).status).toBe(204);
    expect(readdirSync(join(h.dataDir, 'faces', 'unknown', 'door'))).toEqual([]);
  });

  it('after a hub restart, the library is published again and a new detector describes it', async () => {
    const before = (await api(h.baseUrl, 'GET', '/api/faces')).body;
    await stopDetector();
    await rec.close();
    await h.stop();
    h = await startTestHub(HUB_CONFIG, { dataDir });
    const after = (await api(h.baseUrl, 'GET', '/api/faces')).body;
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after.bob.map((i: { id: string }) => i.id)).toEqual(before.bob.map((i: { id: string }) => i.id));
    await startDetector();
    await until(async () => {
      const l = (await api(h.baseUrl, 'GET', '/api/faces')).body;
      return Object.values(l).flat().every((i) => (i as { ok: boolean | null }).ok === true) || undefined;
    }, 20_000, 'every image described again');
    expect(enricher.stats().library_names).toEqual(['bob']);
    rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/faces/#']);
  }, 60_000);
});
