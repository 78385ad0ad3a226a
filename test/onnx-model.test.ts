/**
 * The CenterNet on onnxruntime (components/detector/onnx-model.ts and onnx/*) against
 * today's TF.js wasm path (components/detector/model.ts), on real footage.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadObjectModel, type ObjectModel } from '../components/detector/model.ts';
import { loadOnnxObjectModel, ONNX_BACKEND } from '../components/detector/onnx-model.ts';
import { COCO_LABELS, decodeCenternet } from '../components/detector/onnx/centernet-decode.ts';
import { centernetSourceSha256, ensureCenternetOnnx, readCenternetOnnxMeta } from '../components/detector/onnx/centernet-onnx-cache.ts';
import { CONVERTER_VERSION, centernetModelJsonPath, convertCenternet } from '../components/detector/onnx/convert-centernet.ts';
import { resizeRgbToPlanar } from '../components/detector/onnx/resize-bilinear.ts';
import { modelInputDims } from '../components/detector/onnx/frame-checks.ts';
import type { RawDetection } from '../components/detector/types.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';

const VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const W = 768;
const H = 576;
const MIN_SCORE = 0.2;

/** 10 RGB24 frames of vtest.avi (frames 0, 80, …, 720 of its 795), decoded by ffmpeg. */
function footageFrames(): Buffer[] {
  const raw = execFileSync(
    ffmpegPath(),
    ['-v', 'error', '-i', VIDEO, '-vf', 'select=not(mod(n\\,80))', '-fps_mode', 'vfr', '-frames:v', '10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const size = W * H * 3;
  const frames: Buffer[] = [];
  for (let off = 0; off + size <= raw.length; off += size) frames.push(raw.subarray(off, off + size));
  return frames;
}

function iou(a: RawDetection['box'], b: RawDetection['box']): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Pairs detections of the same label by best IoU (greedy, best scores first). */
function match(ref: RawDetection[], got: RawDetection[]): { pairs: Array<[RawDetection, RawDetection]>; onlyRef: RawDetection[]; onlyGot: RawDetection[] } {
  const free = new Set(got);
  const pairs: Array<[RawDetection, RawDetection]> = [];
  const onlyRef: RawDetection[] = [];
  for (const r of ref) {
    let best: RawDetection | null = null;
    let bestIou = 0;
    for (const g of free) {
      const v = g.label === r.label ? iou(r.box, g.box) : 0;
      if (v > bestIou) [best, bestIou] = [g, v];
    }
    if (best && bestIou >= 0.5) {
      free.delete(best);
      pairs.push([r, best]);
    } else onlyRef.push(r);
  }
  return { pairs, onlyRef, onlyGot: [...free] };
}

function expectInside(d: RawDetection): void {
  const [x0, y0, x1, y1] = d.box;
  expect(d.box.every(Number.isInteger)).toBe(true);
  expect(x0).toBeGreaterThanOrEqual(0);
  expect(y0).toBeGreaterThanOrEqual(0);
  expect(x1).toBeLessThanOrEqual(W);
  expect(y1).toBeLessThanOrEqual(H);
  expect(x1).toBeGreaterThan(x0);
  expect(y1).toBeGreaterThan(y0);
  expect(d.score).toBeGreaterThanOrEqual(MIN_SCORE); // raw score > minScore, truncated to 2 decimals
  expect(d.score).toBeLessThanOrEqual(1);
  expect(COCO_LABELS).toContain(d.label);
}

describe.skipIf(!existsSync(VIDEO))('CenterNet on onnxruntime vs TF.js wasm, vtest.avi', () => {
  let frames: Buffer[] = [];
  let wasm: ObjectModel;
  let onnx512: ObjectModel;
  let onnx320: ObjectModel;
  const ref: RawDetection[][] = [];
  const got512: RawDetection[][] = [];

  beforeAll(async () => {
    frames = footageFrames();
    wasm = await loadObjectModel({ backend: 'wasm', minScore: MIN_SCORE });
    onnx512 = await loadOnnxObjectModel({ inputSize: 512, minScore: MIN_SCORE });
    onnx320 = await loadOnnxObjectModel({ inputSize: 320, minScore: MIN_SCORE });
    for (const f of frames) {
      ref.push(await wasm.detect(f, W, H));
      got512.push(await onnx512.detect(f, W, H));
    }
  });

  afterAll(() => {
    wasm?.dispose();
    onnx512?.dispose();
    onnx320?.dispose();
  });

  it('extracted 10 frames spread over the clip', () => {
    expect(frames).toHaveLength(10);
    expect(new Set(frames.map((f) => f.subarray(0, 4096).toString('base64'))).size).toBe(10);
  });

  it('at 512 px gives the same detections as TF.js wasm: labels, box IoU ≥ 0.9, score ±0.03, count', () => {
    expect(onnx512.backend).toBe(ONNX_BACKEND);
    expect(onnx512.inputSize).toBe(512);
    let compared = 0;
    let borderline = 0;
    for (let i = 0; i < frames.length; i++) {
      const r = ref[i]!;
      const g = got512[i]!;
      expect(r.length).toBeGreaterThan(0);
      g.forEach(expectInside);
      const m = match(r, g);
      for (const [a, b] of m.pairs) {
        expect(b.label).toBe(a.label);
        expect(iou(a.box, b.box)).toBeGreaterThanOrEqual(0.9);
        expect(Math.abs(a.score - b.score)).toBeLessThanOrEqual(0.03);
        compared++;
      }
      // Allowed difference: a detection right at the score threshold present on one side only.
      for (const d of [...m.onlyRef, ...m.onlyGot]) {
        expect(d.score).toBeLessThan(MIN_SCORE + 0.03);
        borderline++;
      }
      expect(Math.abs(r.length - g.length)).toBeLessThanOrEqual(1);
    }
    expect(compared).toBeGreaterThanOrEqual(30);
    expect(borderline).toBeLessThanOrEqual(2);
  });

  it('runs at 320 px and finds the people the 512 px model is sure of', async () => {
    expect(onnx320.inputSize).toBe(320);
    let sure = 0;
    let found = 0;
    for (let i = 0; i < frames.length; i++) {
      const d320 = await onnx320.detect(frames[i]!, W, H);
      d320.forEach(expectInside);
      expect(d320.some((d) => d.label === 'person')).toBe(true);
      const people512 = got512[i]!.filter((d) => d.label === 'person' && d.score >= 0.5);
      sure += people512.length;
      found += people512.filter((p) => d320.some((d) => d.label === 'person' && iou(d.box, p.box) >= 0.5)).length;
    }
    expect(sure).toBeGreaterThanOrEqual(10);
    expect(found / sure).toBeGreaterThanOrEqual(0.7);
  });

  it('keeping the aspect ratio (768×576 → 512×384) finds the people the square 512 px input finds', async () => {
    expect(modelInputDims(W, H, 512, true)).toEqual([512, 384]);
    expect(modelInputDims(480, 640, 512, true)).toEqual([384, 512]);
    expect(modelInputDims(1280, 720, 512, true)).toEqual([512, 288]);
    expect(modelInputDims(W, H, 512)).toEqual([512, 512]);
    const kept = await loadOnnxObjectModel({ inputSize: 512, minScore: MIN_SCORE, keepAspect: true });
    try {
      let sure = 0;
      let found = 0;
      for (let i = 0; i < frames.length; i++) {
        const d = await kept.detect(frames[i]!, W, H);
        d.forEach(expectInside);
        const people512 = got512[i]!.filter((x) => x.label === 'person' && x.score >= 0.5);
        sure += people512.length;
        found += people512.filter((p) => d.some((x) => x.label === 'person' && x.score >= 0.4 && iou(x.box, p.box) >= 0.5)).length;
      }
      expect(sure).toBeGreaterThanOrEqual(10);
      expect(found / sure).toBeGreaterThanOrEqual(0.95);
    } finally {
      await kept.release();
    }
  });

  it('maps boxes to the frame it is given (other sizes than the footage)', async () => {
    // The same frame at half size: boxes scale with it.
    const half = execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-i', '-', '-vf', 'scale=384:288', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
      input: frames[2]!,
    });
    const small = await onnx512.detect(half, 384, 288);
    const full = got512[2]!.filter((d) => d.score >= 0.5);
    expect(full.length).toBeGreaterThan(0);
    for (const d of full) {
      const scaled: RawDetection['box'] = [d.box[0] / 2, d.box[1] / 2, d.box[2] / 2, d.box[3] / 2];
      expect(small.some((s) => s.label === d.label && iou(s.box, scaled) >= 0.7)).toBe(true);
    }
  });

  it('runs concurrent detect() calls of several handles safely, each as if alone', async () => {
    const [a, b] = [frames[1]!, frames[5]!];
    const alone320 = await onnx320.detect(b, W, H);
    const results = await Promise.all([onnx512.detect(a, W, H), onnx320.detect(b, W, H), onnx512.detect(b, W, H), onnx320.detect(a, W, H)]);
    expect(results[0]).toEqual(got512[1]);
    expect(results[1]).toEqual(alone320);
    expect(results[2]).toEqual(got512[5]);
  });

  it("runIn: 'caller' (session on this thread) gives the same detections", async () => {
    const caller = await loadOnnxObjectModel({ inputSize: 512, minScore: MIN_SCORE, runIn: 'caller' });
    try {
      expect(await caller.detect(frames[3]!, W, H)).toEqual(got512[3]);
    } finally {
      caller.dispose();
    }
  });

  it('rejects bad input with a clear error and keeps working', async () => {
    const f = frames[0]!;
    await expect(onnx512.detect(f.subarray(0, f.length - 1), W, H)).rejects.toThrow(/RGB buffer is \d+ bytes, expected 1327104 for 768x576x3/);
    await expect(onnx512.detect(f, W + 1, H)).rejects.toThrow(RangeError);
    await expect(onnx512.detect(f, 0, H)).rejects.toThrow(/invalid frame size/);
    await expect(onnx512.detect(Buffer.alloc(0), W, H)).rejects.toThrow(/expected/);
    expect(await onnx512.detect(f, W, H)).toEqual(got512[0]);
  });

  it('rejects bad options, another thread count while loaded, and a disposed handle', async () => {
    await expect(loadOnnxObjectModel({ inputSize: 300 })).rejects.toThrow(/multiple of 32/);
    await expect(loadOnnxObjectModel({ inputSize: 2048 })).rejects.toThrow(RangeError);
    await expect(loadOnnxObjectModel({ minScore: 2 })).rejects.toThrow(/minScore/);
    await expect(loadOnnxObjectModel({ maxDetected: 0 })).rejects.toThrow(/maxDetected/);
    await expect(loadOnnxObjectModel({ threads: 2 })).rejects.toThrow(/already loaded/);
    const extra = await loadOnnxObjectModel({ inputSize: 416, minScore: MIN_SCORE });
    expect((await extra.detect(frames[4]!, W, H)).some((d) => d.label === 'person')).toBe(true);
    extra.dispose();
    await expect(extra.detect(frames[4]!, W, H)).rejects.toThrow(/disposed/);
    // The shared session is still up for the other handles.
    expect(await onnx512.detect(frames[4]!, W, H)).toEqual(got512[4]);
  });
});

describe('CenterNet TF.js → ONNX converter', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-onnx-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic and its output loads in onnxruntime with dynamic input sizes', async () => {
    const a = await convertCenternet();
    const b = await convertCenternet();
    expect(Buffer.compare(Buffer.from(a.onnx), Buffer.from(b.onnx))).toBe(0);
    expect(a.sourceSha256).toBe(await centernetSourceSha256());
    expect(a.converterVersion).toBe(CONVERTER_VERSION);

    const session = await ort.InferenceSession.create(a.onnx);
    try {
      expect(session.inputNames).toEqual(['images']);
      expect(session.outputNames).toEqual(['peaks', 'wh']);
      for (const size of [320, 416, 512]) {
        const out = await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
        expect(out['peaks']!.dims).toEqual([1, 80, size / 4, size / 4]);
        expect(out['wh']!.dims).toEqual([1, 4, size / 4, size / 4]);
      }
    } finally {
      await session.release();
    }
  });

  it('caches the conversion and re-converts when the cache is missing or damaged', async () => {
    const file = path.join(dir, 'sub', 'centernet.onnx');
    const first = await ensureCenternetOnnx({ path: file });
    expect(first).toMatchObject({ path: file, converted: true });
    const meta = await readCenternetOnnxMeta(file);
    expect(meta).toEqual({ converterVersion: CONVERTER_VERSION, sourceSha256: await centernetSourceSha256(), bytes: statSync(file).size });
    expect((await ensureCenternetOnnx({ path: file })).converted).toBe(false);

    writeFileSync(file, readFileSync(file).subarray(0, 1000)); // truncated
    expect((await ensureCenternetOnnx({ path: file })).converted).toBe(true);
    expect(statSync(file).size).toBe(meta!.bytes);

    writeFileSync(`${file}.json`, JSON.stringify({ ...meta, converterVersion: CONVERTER_VERSION - 1 })); // older converter
    expect((await ensureCenternetOnnx({ path: file })).converted).toBe(true);
    expect((await readCenternetOnnxMeta(file))?.converterVersion).toBe(CONVERTER_VERSION);
  });

  it('the CLI writes a model that loads', async () => {
    const out = path.join(dir, 'cli', 'c.onnx');
    const tsx = path.join(process.cwd(), 'node_modules', '.bin', 'tsx');
    execFileSync(tsx, ['components/detector/onnx/convert-centernet.ts', out], { stdio: 'pipe' });
    const session = await ort.InferenceSession.create(out);
    expect(session.outputNames).toEqual(['peaks', 'wh']);
    await session.release();
  });

  it('keeps human’s COCO label order', () => {
    const src = readFileSync(path.join(path.dirname(centernetModelJsonPath()), '..', 'src', 'object', 'labels.ts'), 'utf8');
    const labels = [...src.matchAll(/label: '([^']+)'/g)].map((m) => m[1]);
    expect(labels).toHaveLength(80);
    expect([...COCO_LABELS]).toEqual(labels);
  });
});

describe('CenterNet decode and resize', () => {
  it('resizes like TF (asymmetric bilinear): corners and exact 2× downscale', () => {
    // 4×2 frame, pixel value = 10·x + y on every channel.
    const rgb = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) rgb.fill(10 * x + y, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const out = resizeRgbToPlanar(rgb, 4, 2, 2, 1); // source x = 0, 2; y = 0
    expect(Array.from(out)).toEqual([0, 20, 0, 20, 0, 20]);
    const up = resizeRgbToPlanar(rgb, 4, 2, 8, 2); // source x = 0, 0.5, 1, …, 3.5 (clamped at 3)
    expect(Array.from(up.subarray(0, 8))).toEqual([0, 5, 10, 15, 20, 25, 30, 30]);
    expect(() => resizeRgbToPlanar(rgb.subarray(1), 4, 2, 2, 1)).toThrow(/expected 24/);
  });

  it('keeps scores above minScore only, suppresses overlaps (IoU ≥ threshold), truncates scores', () => {
    const grid = 8;
    const cells = grid * grid;
    const peaks = new Float32Array(80 * cells);
    const wh = new Float32Array(4 * cells).fill(6); // 12×12 px boxes around each cell centre
    const put = (cls: number, x: number, y: number, v: number): void => {
      peaks[cls * cells + y * grid + x] = v;
    };
    put(0, 2, 2, 0.75); // person
    put(2, 3, 2, 0.625); // car 4 px to the right: IoU 96/192 = 0.5 ≥ 0.4 → suppressed (NMS is class-agnostic, as in human)
    put(0, 6, 6, 0.456); // person far away: kept, score truncated to 0.45
    put(16, 0, 7, 0.25); // dog exactly at minScore: dropped (TF.js NMS keeps scores > threshold)
    const d = decodeCenternet(
      { peaks, wh, gridW: grid, gridH: grid, inputW: 32, inputH: 32, stride: 4, frameW: 64, frameH: 32 },
      { minScore: 0.25, maxDetected: 10, iouThreshold: 0.4 },
    );
    expect(d).toEqual([
      { label: 'person', score: 0.75, box: [4, 2, 28, 14] },
      { label: 'person', score: 0.45, box: [36, 18, 60, 30] },
    ]);
    const one = decodeCenternet(
      { peaks, wh, gridW: grid, gridH: grid, inputW: 32, inputH: 32, stride: 4, frameW: 64, frameH: 32 },
      { minScore: 0.25, maxDetected: 1, iouThreshold: 0.4 },
    );
    expect(one.map((x) => x.score)).toEqual([0.75]);
    expect(() =>
      decodeCenternet({ peaks: peaks.subarray(1), wh, gridW: grid, gridH: grid, inputW: 32, inputH: 32, stride: 4, frameW: 64, frameH: 32 }, { minScore: 0.2, maxDetected: 10, iouThreshold: 0.4 }),
    ).toThrow(RangeError);
  });
});
