import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferencePool } from '../components/detector/inference-pool.ts';
import type { RawDetection } from '../components/detector/types.ts';

const run = promisify(execFile);
const VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

/** One frame of vtest.avi at `seconds`, scaled to 640 px wide, as a JPEG. */
async function frameAt(seconds: number): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(seconds), '-i', VIDEO, '-frames:v', '1', '-vf', 'scale=640:-2', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-'],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

function expectInside(d: RawDetection, width: number, height: number): void {
  const [x0, y0, x1, y1] = d.box;
  expect(d.box.every(Number.isFinite)).toBe(true);
  expect(x0).toBeGreaterThanOrEqual(0);
  expect(y0).toBeGreaterThanOrEqual(0);
  expect(x1).toBeLessThanOrEqual(width);
  expect(y1).toBeLessThanOrEqual(height);
  expect(x1).toBeGreaterThan(x0);
  expect(y1).toBeGreaterThan(y0);
  expect(d.score).toBeGreaterThan(0);
  expect(d.score).toBeLessThanOrEqual(1);
  expect(typeof d.label).toBe('string');
}

describe.skipIf(!existsSync(VIDEO))('InferencePool on vtest.avi', () => {
  let frames: Buffer[] = [];
  let pool: InferencePool;

  beforeAll(async () => {
    frames = await Promise.all([5, 30, 60].map(frameAt));
    pool = new InferencePool({ size: 2 });
    await pool.start();
  });

  afterAll(async () => {
    await pool?.stop();
  });

  it('loads the model in both workers', () => {
    expect(pool.size).toBe(2);
    expect(pool.workerInfo?.inputSize).toBe(512);
    expect(['wasm', 'tensorflow']).toContain(pool.workerInfo?.backend);
  });

  it('finds people in real frames, boxes inside the frame', async () => {
    const pending = frames.map((jpeg) => pool.detect({ jpeg }));
    const all = Promise.all(pending);
    // 3 frames, 2 workers: two run, one waits.
    expect(pool.busy).toBe(2);
    expect(pool.queued).toBe(1);
    const results = await all;
    for (const r of results) {
      expect(r.width).toBe(640);
      expect(r.height).toBe(480);
      expect(r.inferenceMs).toBeGreaterThan(0);
      expect(r.queuedMs).toBeGreaterThanOrEqual(0);
      const people = r.detections.filter((d) => d.label === 'person' && d.score > 0.5);
      expect(people.length).toBeGreaterThanOrEqual(1);
      for (const d of r.detections) expectInside(d, r.width, r.height);
    }
    expect(results[2]!.queuedMs).toBeGreaterThan(0);
    expect(pool.busy).toBe(0);
    expect(pool.queued).toBe(0);
  });

  it('accepts raw RGB24 frames and gives the same detections as the JPEG', async () => {
    const jpeg = frames[0]!;
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const fromRgb = await pool.detect({ rgb: data, width: info.width, height: info.height });
    const fromJpeg = await pool.detect({ jpeg });
    expect(fromRgb.decodeMs).toBe(0);
    expect(fromRgb.detections).toEqual(fromJpeg.detections);
    expect(data.length).toBe(info.width * info.height * 3); // the caller's buffer was copied, not detached
  });

  it('rejects a garbage JPEG with a clear message and keeps working', async () => {
    await expect(pool.detect({ jpeg: Buffer.from('definitely not a jpeg') })).rejects.toThrow(/JPEG decode failed/);
    await expect(pool.detect({ jpeg: frames[0]!.subarray(0, 200) })).rejects.toThrow(/JPEG decode failed/);
    const r = await pool.detect({ jpeg: frames[1]! });
    expect(r.detections.some((d) => d.label === 'person')).toBe(true);
  });

  it('rejects a mismatched RGB buffer without reaching a worker', async () => {
    await expect(pool.detect({ rgb: Buffer.alloc(10), width: 640, height: 480 })).rejects.toThrow(/expected 921600/);
  });

  it('replaces a worker that dies and rejects its frame', async () => {
    const inFlight = pool.detect({ jpeg: frames[2]! });
    const slots = Reflect.get(pool, 'slots') as Array<{ worker: Worker; job: unknown }>;
    const busySlot = slots.find((s) => s.job !== null);
    expect(busySlot).toBeDefined();
    await busySlot!.worker.terminate(); // looks like a crash to the pool
    await expect(inFlight).rejects.toThrow(/exited/);
    const r = await pool.detect({ jpeg: frames[0]! }); // served by the survivor or the replacement
    expect(r.detections.length).toBeGreaterThan(0);
    const readyWorkers = (): number => (Reflect.get(pool, 'slots') as Array<{ ready: boolean }>).filter((s) => s.ready).length;
    await expect.poll(readyWorkers, { timeout: 60_000, interval: 50 }).toBe(2);
    await Promise.all([pool.detect({ jpeg: frames[0]! }), pool.detect({ jpeg: frames[1]! })]);
  });

  it('stop() rejects queued and in-flight frames, and new ones', async () => {
    const pending = [0, 1, 2, 0, 1].map((i) => pool.detect({ jpeg: frames[i]! }));
    const settled = Promise.allSettled(pending);
    expect(pool.busy).toBe(2);
    expect(pool.queued).toBe(3);
    await pool.stop();
    for (const s of await settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason.message).toMatch(/stopped/);
    }
    await expect(pool.detect({ jpeg: frames[0]! })).rejects.toThrow(/stopped/);
    expect(pool.busy).toBe(0);
    expect(pool.queued).toBe(0);
  });
});

describe('InferencePool misuse', () => {
  it('rejects detect() before start()', async () => {
    const pool = new InferencePool({ size: 1 });
    await expect(pool.detect({ jpeg: Buffer.from([0xff, 0xd8]) })).rejects.toThrow(/start\(\) has not been called/);
  });

  it('rejects start() with a clear error when the model cannot load', async () => {
    const pool = new InferencePool({ size: 1, backend: 'tensorflow' }); // tfjs-node is not installed here
    let tfjsNode = true;
    try {
      const name = '@tensorflow/tfjs-node';
      await import(name);
    } catch {
      tfjsNode = false;
    }
    if (tfjsNode) return; // nothing to prove where tfjs-node exists
    await expect(pool.start()).rejects.toThrow(/detector model failed to load: .*tfjs-node/);
    await expect(pool.detect({ jpeg: Buffer.from([0xff, 0xd8]) })).rejects.toThrow(/stopped/);
  });
});
