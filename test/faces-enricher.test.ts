/**
 * The face enricher on real photos (`test/helpers/face-photos.ts`: person A = human's
 * author in 10 photos of its face-match screenshot; others = women's tiles of the same
 * screenshot and OpenCV's `face_swapped.jpg`; Messi in `messi5.jpg`; `fruits.jpg` without a
 * face), with its real worker and models, against a real MQTT broker (aedes on a random
 * port): the library arrives as retained images, the enricher describes them and publishes
 * the descriptors, and a second detector reuses them without loading any model.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceEnricher } from '../components/detector/faces/face-enricher.ts';
import { faceRegion } from '../components/detector/faces/face-images.ts';
import { FACE_MODEL_ID } from '../components/detector/faces/face-model.ts';
import { FaceRunner, FaceRunnerError } from '../components/detector/faces/face-runner.ts';
import { descriptorSimilarity } from '../components/detector/faces/similarity.ts';
import type { EnrichInput } from '../components/detector/enrichment.ts';
import { Bus } from '../components/protocol/bus.ts';
import { cameraConfig, type CameraConfig } from '../components/protocol/camera-config.ts';
import { faceDescriptorMessage } from '../components/protocol/faces.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { Topics } from '../components/protocol/topics.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { A_ENROL, A_HELD_OUT, B_TILE, FACE_SWAPPED, FACEMATCH, FRUITS, MESSI, MESSI_BOX, OTHERS, tileJpeg } from './helpers/face-photos.ts';

const topics = new Topics();
const camera: CameraConfig = cameraConfig.parse({ name: 'door', paths: { detect: 'rtsp://127.0.0.1:1/x' }, face_recognition: { enabled: true } });
const facematch = readFileSync(FACEMATCH);
let aedes: Aedes;
let server: Server;
let url: string;
let bus: Bus;
let admin: Bus;
let rec: MqttRecorder;
let enricher: FaceEnricher;
let objectSeq = 0;

async function connect(role: string): Promise<Bus> {
  const b = new Bus({ url, clientId: `test-${role}-${Math.random().toString(16).slice(2, 8)}`, logger: silentLogger });
  await b.connect();
  return b;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One person object in a frame, as the detector component offers it. */
function input(jpeg: Buffer, width: number, height: number, box: Box, cam: CameraConfig = camera, id = `obj-${++objectSeq}`): EnrichInput {
  return { camera: cam, object: { id, label: 'person', box, score: 0.8, stationary: false, sub_label: null }, frame: { jpeg, width, height }, time: Date.now() / 1000 };
}

beforeAll(async () => {
  aedes = await Aedes.createBroker();
  server = createServer((s) => aedes.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [bus, admin] = await Promise.all([connect('detector'), connect('hub')]);
  rec = await MqttRecorder.connect(url, [topics.sub.faces()], {});
  // The hub's side: the camera config and person A's enrolled images, retained.
  await admin.publish(topics.cameraConfig('door'), camera, { retain: true, qos: 1 });
  for (const [i, box] of A_ENROL.entries()) await admin.publish(topics.faceLibrary('vlado', `enrol${i}`), await tileJpeg(box), { retain: true, qos: 1 });
  await admin.publish(topics.faceLibrary('nobody', 'fruits1'), readFileSync(FRUITS), { retain: true, qos: 1 });
  await admin.publish(topics.faceLibrary('nobody', 'garbage1'), Buffer.from('not an image at all'), { retain: true, qos: 1 });
  enricher = new FaceEnricher({ bus, topics, logger: silentLogger, detectorId: 'detector-test', settleMs: 50 });
  await enricher.start();
  await until(() => enricher.stats().library_images === A_ENROL.length, 60_000, 'the enrolled images described');
  await rec.waitFor((m) => m.topic === topics.faceDescriptor('nobody', 'fruits1'), 20_000, 'the outcome of the image without a face');
  await rec.waitFor((m) => m.topic === topics.faceDescriptor('nobody', 'garbage1'), 20_000, 'the outcome of the broken image');
}, 90_000);

afterAll(async () => {
  await enricher?.stop();
  await rec?.close();
  await Promise.all([bus?.close(), admin?.close()]);
  await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('the library over the bus', () => {
  it('describes each enrolled image once and publishes the descriptor, retained', () => {
    for (let i = 0; i < A_ENROL.length; i++) {
      const msgs = rec.on(topics.faceDescriptor('vlado', `enrol${i}`));
      expect(msgs).toHaveLength(1);
      const m = faceDescriptorMessage.parse(JSON.parse(msgs[0]!.payload.toString()));
      expect(m).toMatchObject({ ok: true, model: FACE_MODEL_ID, detector: 'detector-test' });
      expect(m.descriptor).toHaveLength(1024);
      expect(m.face_score).toBeGreaterThan(0.5);
      // The face box lies inside the ~107 px tile.
      expect(m.box![0]).toBeGreaterThanOrEqual(0);
      expect(m.box![2]).toBeLessThanOrEqual(A_ENROL[i]![2] - A_ENROL[i]![0]);
    }
    expect(enricher.stats()).toMatchObject({ library_images: 3, library_names: ['vlado'], loaded: true, active: true });
  });

  it('answers no_face for an enrolled image without a face, invalid_image for one it cannot decode; neither joins the library', () => {
    const m = faceDescriptorMessage.parse(JSON.parse(rec.on(topics.faceDescriptor('nobody', 'fruits1'))[0]!.payload.toString()));
    expect(m).toMatchObject({ ok: false, error: 'no_face' });
    expect(m.descriptor).toBeUndefined();
    const g = faceDescriptorMessage.parse(JSON.parse(rec.on(topics.faceDescriptor('nobody', 'garbage1'))[0]!.payload.toString()));
    expect(g).toMatchObject({ ok: false, error: 'invalid_image' });
    expect(enricher.stats().library_names).not.toContain('nobody');
  });

  it('a second detector takes the descriptors from the bus and loads no model', async () => {
    const other = await connect('detector2');
    const second = new FaceEnricher({ bus: other, topics, logger: silentLogger, detectorId: 'detector-two', settleMs: 50 });
    try {
      await second.start();
      await until(() => second.stats().library_images === 3, 10_000, 'the second detector\'s library');
      await new Promise((r) => setTimeout(r, 300)); // past its settle delay
      expect(second.stats()).toMatchObject({ loaded: false, library_names: ['vlado'], active: true });
      expect(rec.messages.filter((m) => m.topic.startsWith('vigil/faces/descriptor/') && m.payload.toString().includes('detector-two'))).toEqual([]);
    } finally {
      await second.stop();
      await other.close();
    }
  });

  it('forgets an image when its retained message is cleared', async () => {
    await admin.publish(topics.faceLibrary('vlado', 'extra1'), await tileJpeg(A_HELD_OUT[0]!), { retain: true, qos: 1 });
    await until(() => enricher.stats().library_images === 4, 20_000, 'the extra image described');
    await admin.publish(topics.faceLibrary('vlado', 'extra1'), '', { retain: true, qos: 1 });
    await until(() => enricher.stats().library_images === 3, 5_000, 'the extra image forgotten');
    // Its retained descriptor is cleared too (an empty retained message).
    await rec.waitFor((m) => m.topic === topics.faceDescriptor('vlado', 'extra1') && m.payload.length === 0, 5_000, 'the descriptor cleared');
  });
});

describe('recognition in frames', () => {
  it('names person A in each held-out photo, above the recognition threshold', async () => {
    for (const box of A_HELD_OUT) {
      const r = await enricher.enrich(input(facematch, 1920, 954, box));
      expect(r, `tile ${box.join(',')}`).not.toBeNull();
      expect(r).toMatchObject({ type: 'face', name: 'vlado' });
      expect(r!.type === 'face' && r!.score).toBeGreaterThanOrEqual(camera.face_recognition.recognition_threshold);
      // The face box lies in the region looked at (the person's box, 10 % wider).
      const region = faceRegion(box, 1920, 954)!;
      expect(r!.box[0]).toBeGreaterThanOrEqual(region[0]);
      expect(r!.box[2]).toBeLessThanOrEqual(region[2]);
      expect(r!.box[3]).toBeLessThanOrEqual(region[3]);
    }
  });

  it('names nobody for other people (B), and publishes each unknown face once', async () => {
    const before = rec.messages.filter((m) => m.topic.startsWith('vigil/faces/unknown/')).length;
    const r = await enricher.enrich(input(facematch, 1920, 954, B_TILE));
    expect(r).toMatchObject({ type: 'face', name: null });
    expect(r!.type === 'face' && r!.score).toBeLessThan(camera.face_recognition.recognition_threshold);
    const swapped = readFileSync(FACE_SWAPPED);
    const r2 = await enricher.enrich(input(swapped, 320, 320, [0, 0, 320, 320]));
    expect(r2).toMatchObject({ type: 'face', name: null });
    await until(() => rec.messages.filter((m) => m.topic.startsWith('vigil/faces/unknown/door/')).length === before + 2, 5_000, 'two unknown faces');
    const crop = rec.messages.filter((m) => m.topic.startsWith('vigil/faces/unknown/door/')).at(-1)!;
    expect(topics.parse(crop.topic)).toMatchObject({ kind: 'face.unknown', camera: 'door' });
    expect(crop.retain).toBe(false);
    expect([crop.payload[0], crop.payload[1]]).toEqual([0xff, 0xd8]); // JPEG
    // A second look at the same object publishes no second crop.
    const again = input(swapped, 320, 320, [0, 0, 320, 320], camera, 'same-object');
    await enricher.enrich(again);
    await enricher.enrich({ ...again, time: again.time + 2 });
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.messages.filter((m) => m.topic.startsWith('vigil/faces/unknown/door/')).length).toBe(before + 3);
  });

  it('every other person\'s tile stays unnamed', async () => {
    for (const box of OTHERS) {
      const r = await enricher.enrich(input(facematch, 1920, 954, box));
      if (r) expect(r, `tile ${box.join(',')}`).toMatchObject({ name: null });
    }
  });

  it('finds no face in a photo without one', async () => {
    const fruits = readFileSync(FRUITS);
    expect(await enricher.enrich(input(fruits, 512, 480, [0, 0, 512, 480]))).toBeNull();
  });

  it('ignores faces narrower than min_face_size', async () => {
    const messi = readFileSync(MESSI);
    const small = cameraConfig.parse({ ...camera, face_recognition: { enabled: true, min_face_size: 10 } });
    const found = await enricher.enrich(input(messi, 548, 342, MESSI_BOX, small));
    expect(found).toMatchObject({ type: 'face', name: null });
    const width = found!.box[2] - found!.box[0];
    const big = cameraConfig.parse({ ...camera, face_recognition: { enabled: true, min_face_size: width + 5 } });
    expect(await enricher.enrich(input(messi, 548, 342, MESSI_BOX, big))).toBeNull();
  });

  it('returns null for a bad frame, and never throws', async () => {
    expect(await enricher.enrich(input(Buffer.from('not a jpeg'), 640, 480, [0, 0, 100, 300]))).toBeNull();
    expect(await enricher.enrich(input(facematch, 1920, 954, [5000, 5000, 5100, 5300]))).toBeNull();
  });
});

describe('wants', () => {
  const offer = (o: Partial<EnrichInput['object']>, cam: CameraConfig = camera) =>
    enricher.wants({ camera: cam, object: { id: 'w1', label: 'person', box: [0, 0, 200, 400], score: 0.8, stationary: false, sub_label: null, ...o }, time: 0 });

  it('only person objects of cameras with face recognition on, wide enough for a face', () => {
    expect(offer({ id: 'fresh-1' })).toBe(true);
    expect(offer({ id: 'fresh-2', label: 'car' })).toBe(false);
    expect(offer({ id: 'fresh-3' }, cameraConfig.parse({ name: 'yard', paths: { detect: 'rtsp://127.0.0.1:1/x' } }))).toBe(false);
    expect(offer({ id: 'fresh-4', box: [0, 0, 30, 100] })).toBe(false); // narrower than min_face_size (40)
  });

  it('at most one attempt per object per second, up to maxAttempts, none after a confident name', async () => {
    const e = new FaceEnricher({ bus, topics, logger: silentLogger, detectorId: 'detector-wants', attemptIntervalMs: 200, maxAttempts: 2 });
    try {
      const box = A_HELD_OUT[1]!;
      const obj = input(facematch, 1920, 954, box, camera, 'throttled');
      const wants = () => e.wants({ camera, object: obj.object, time: obj.time });
      expect(wants()).toBe(true);
      const first = e.enrich(obj);
      expect(wants()).toBe(false); // in flight
      expect(await first).toMatchObject({ name: null }); // this enricher's library is empty
      expect(wants()).toBe(false); // within the interval
      await new Promise((r) => setTimeout(r, 250));
      expect(wants()).toBe(true);
      await e.enrich(obj);
      await new Promise((r) => setTimeout(r, 250));
      expect(wants()).toBe(false); // maxAttempts reached

      // The shared enricher settles once a name is confident.
      const named = input(facematch, 1920, 954, box, camera, 'settles');
      const r = await enricher.enrich(named);
      expect(r).toMatchObject({ name: 'vlado' });
      const score = r!.type === 'face' ? r!.score : 0;
      await new Promise((res) => setTimeout(res, 1100));
      const again = enricher.wants({ camera, object: named.object, time: named.time });
      expect(again).toBe(score < camera.face_recognition.recognition_threshold + 0.1);

      // Stopped: wants nothing, enrich rejects.
      await e.stop();
      await new Promise((res) => setTimeout(res, 250));
      expect(e.wants({ camera, object: { ...obj.object, id: 'after-stop' }, time: obj.time })).toBe(false);
      await expect(e.enrich({ ...obj, object: { ...obj.object, id: 'after-stop' } })).rejects.toThrow(/stopped/);
    } finally {
      await e.stop();
    }
  });
});

describe('FaceRunner', () => {
  it('a request over its time limit restarts the worker; the next one loads it again', async () => {
    const logged: string[] = [];
    const logger = { info: (_o: object, m?: string) => { logged.push(m ?? ''); }, warn: (_o: object, m?: string) => { logged.push(m ?? ''); }, error: (_o: object, m?: string) => { logged.push(m ?? ''); } };
    const runner = new FaceRunner({ jobTimeoutMs: 1, logger });
    try {
      const err = await runner.frame(facematch, A_HELD_OUT[0]!, 20, false).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(FaceRunnerError);
      expect((err as FaceRunnerError).code).toBe('failed');
      expect((err as Error).message).toMatch(/longer than 1 ms/);
      expect(runner.loaded).toBe(false);
      // The next request starts a new worker (it times out as well at 1 ms).
      await expect(runner.image(readFileSync(FACE_SWAPPED))).rejects.toBeInstanceOf(FaceRunnerError);
      expect(logged.filter((m) => m === 'face models loaded')).toHaveLength(2);
      expect(logged.filter((m) => m === 'face worker timed out; restarting it')).toHaveLength(2);
    } finally {
      await runner.stop();
    }
    await expect(runner.image(Buffer.from('x'))).rejects.toThrow(/stopped/);
  });
});

describe('similarity', () => {
  it('is human\'s own faceres similarity', async () => {
    const require = createRequire(import.meta.url);
    const human = require(path.join(path.dirname(require.resolve('@vladmandic/human')), 'human.node-wasm.js')) as { match: { similarity(a: number[], b: number[]): number } };
    const descs = rec.messages.filter((m) => m.topic.startsWith('vigil/faces/descriptor/vlado/enrol')).map((m) => JSON.parse(m.payload.toString()).descriptor as number[]);
    expect(descs).toHaveLength(3);
    const others = [[0.1, 0.2], [0.5, 0.9]].map(([a, b]) => descs[0]!.map((v, i) => v * (i % 2 ? a! : b!)));
    for (const x of [...descs, ...others]) for (const y of descs) expect(descriptorSimilarity(x, y)).toBe(human.match.similarity(x, y));
  });

  it('faceRegion keeps the upper part of a standing person, a head-and-shoulders box whole', () => {
    expect(faceRegion([100, 100, 200, 400], 640, 480)).toEqual([90, 85, 210, 250]);
    expect(faceRegion([0, 0, 100, 100], 640, 480)).toEqual([0, 0, 110, 100]);
    expect(faceRegion([700, 0, 800, 100], 640, 480)).toBeNull();
  });
});
