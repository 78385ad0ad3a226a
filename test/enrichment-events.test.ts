/**
 * Known faces and licence plates on events, through a real hub (embedded broker, REST, the
 * detector component in process with its real models): frames published on
 * `vigil/camera/<cam>/frame` as a camera process sends them; the object model finds the
 * person or the car, the enricher looks inside, and the event gets Frigate's fields —
 * `sub_label: [name, score]` for an enrolled face, `recognized_license_plate` (and the known
 * plate's name as `sub_label`) for a plate — with `vigil/tracked_object_update`.
 *
 * Photos: person A's tiles of human's face-match screenshot (`test/helpers/face-photos.ts`;
 * 3 enrolled over REST, a held-out one shown to the camera, enlarged as a doorbell camera sees
 * a face), another person's tile, and the restored car photo of `test/helpers/plate-photo.ts`
 * in a driveway frame (its car scores ~0.4 with the model: grey, with deconvolution ringing,
 * so this camera's car filter is lowered).
 */
import sharp from 'sharp';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../components/protocol/frame-codec.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { A_ENROL, A_HELD_OUT, B_TILE, FACEMATCH, tileJpeg } from './helpers/face-photos.ts';
import { PLATE_NORMALIZED, restoredPlatePhoto } from './helpers/plate-photo.ts';

const W = 640;
const H = 480;
let h: TestHub;
let rec: MqttRecorder;
let client: mqtt.MqttClient;

/** A 640×480 grey frame with `tile` of the face-match screenshot enlarged to 300 px in its middle. */
async function faceFrame(tile: Box): Promise<{ jpeg: Buffer; box: Box }> {
  const side = 300;
  const face = await sharp(readFileSync(FACEMATCH)).extract({ left: tile[0], top: tile[1], width: tile[2] - tile[0], height: tile[3] - tile[1] }).resize(side, side).toBuffer();
  const [x, y] = [(W - side) / 2, (H - side) / 2];
  const jpeg = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 120, g: 120, b: 120 } } }).composite([{ input: face, left: x, top: y }]).jpeg({ quality: 85 }).toBuffer();
  return { jpeg, box: [x, y, x + side, y + side] };
}

/** Publishes `jpeg` as `camera`'s frames at 5 fps for `seconds`, motion over `box`. */
async function show(camera: string, jpeg: Buffer, width: number, height: number, box: Box, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    client.publish(`vigil/camera/${camera}/frame`, encodeFrame({ camera, seq: i, ts: Date.now(), width, height, motion: true, motion_boxes: [box] }, jpeg), { qos: 0 });
    await new Promise((r) => setTimeout(r, 200));
  }
}

type EventMsg = { type: string; after: { id: string; camera: string; label: string; sub_label: unknown; recognized_license_plate?: string | null } };
const eventsOf = (camera: string) => rec.on('vigil/events').map((m) => JSON.parse(m.payload.toString()) as EventMsg).filter((e) => e.after.camera === camera);
const updatesOf = (camera: string) => rec.on('vigil/tracked_object_update').map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>).filter((u) => u.camera === camera);

beforeAll(async () => {
  h = await startTestHub({ camera: { enabled: false } });
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/events', 'vigil/tracked_object_update']);
  client = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, ...h.mqttCreds });
  const cam = (name: string, extra: object) => api(h.baseUrl, 'POST', '/api/cameras', { name, paths: { detect: 'rtsp://127.0.0.1:9/none' }, detect: { width: W, height: H }, ...extra });
  expect((await cam('door', { objects: { track: ['person'] }, face_recognition: { enabled: true } })).status).toBe(201);
  expect((await cam('drive', { objects: { track: ['car'], filters: { car: { min_score: 0.3, threshold: 0.35 } } }, lpr: { enabled: true, known_plates: { "Anna's Civic": ['127-RF?'] } } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await rec?.close();
  await h?.stop();
});

describe('enrichment on events', () => {
  it('enrols person A over REST (the in-process detector describes each photo)', async () => {
    for (const box of A_ENROL) {
      const res = await fetch(`${h.baseUrl}/api/faces/vlado`, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'image/jpeg' }, body: new Uint8Array(await tileJpeg(box)) });
      expect(res.status).toBe(201);
    }
  }, 120_000);

  it("an event of A gets sub_label ['vlado', score] and a tracked_object_update of type face", async () => {
    const { jpeg, box } = await faceFrame(A_HELD_OUT[1]!);
    await show('door', jpeg, W, H, box, 6);
    await expect.poll(() => eventsOf('door').find((e) => Array.isArray(e.after.sub_label)), { timeout: 20_000 }).toBeTruthy();
    const named = eventsOf('door').find((e) => Array.isArray(e.after.sub_label))!;
    expect(named.after.label).toBe('person');
    const [name, score] = named.after.sub_label as [string, number];
    expect(name).toBe('vlado');
    expect(score).toBeGreaterThanOrEqual(0.6);
    const update = updatesOf('door').find((u) => u.type === 'face');
    expect(update).toMatchObject({ type: 'face', id: named.after.id, name: 'vlado', camera: 'door' });
    expect(typeof update!.timestamp).toBe('number');
    // The stored event carries it too.
    await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${named.after.id}`)).body?.sub_label, { timeout: 10_000 }).toBe('vlado');
  }, 60_000);

  it('another person gets no name', async () => {
    const before = new Set(eventsOf('door').map((e) => e.after.id));
    await new Promise((r) => setTimeout(r, 4000)); // A's object ends (max_disappeared)
    const { jpeg, box } = await faceFrame(B_TILE);
    await show('door', jpeg, W, H, box, 6);
    await new Promise((r) => setTimeout(r, 2000)); // room for a (wrong) enrichment
    const other = eventsOf('door').filter((e) => !before.has(e.after.id));
    expect(other.length).toBeGreaterThan(0);
    expect(other.every((e) => !Array.isArray(e.after.sub_label))).toBe(true);
    expect(updatesOf('door').filter((u) => u.type === 'face' && other.some((e) => e.after.id === u.id))).toEqual([]);
  }, 60_000);

  it('a car with a readable plate gets recognized_license_plate, the known plate its name, and a tracked_object_update of type lpr', async () => {
    // The car at 400 px in a 640×480 driveway frame (the plate ~115 px wide).
    const photo = await restoredPlatePhoto();
    const car = await sharp(photo.jpeg).resize(400, 400).toBuffer();
    const frame = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 100, b: 90 } } }).composite([{ input: car, left: 120, top: 60 }]).jpeg({ quality: 90 }).toBuffer();
    await show('drive', frame, W, H, [120, 60, 520, 460], 6);
    await expect.poll(() => eventsOf('drive').find((e) => e.after.recognized_license_plate), { timeout: 20_000 }).toBeTruthy().catch((err) => {
      console.log(JSON.stringify(eventsOf('drive').map((e) => ({ type: e.type, ...e.after }))).slice(0, 3000));
      throw err;
    });
    const read = eventsOf('drive').find((e) => e.after.recognized_license_plate)!;
    expect(read.after.label).toBe('car');
    expect(read.after.recognized_license_plate).toBe(PLATE_NORMALIZED);
    expect((read.after.sub_label as [string, number])[0]).toBe("Anna's Civic");
    expect(updatesOf('drive').find((u) => u.type === 'lpr')).toMatchObject({ type: 'lpr', id: read.after.id, plate: PLATE_NORMALIZED, name: "Anna's Civic", camera: 'drive' });
  }, 90_000);
});
