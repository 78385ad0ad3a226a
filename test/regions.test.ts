/**
 * Detection regions: the pure geometry (Frigate's region maths), and on real footage
 * (OpenCV's vtest.avi, decoded by ffmpeg at the hub's default detect size) the region
 * path against the full-frame path with the same model: it finds the people the full frame
 * finds (≥ 90 % of full-frame person boxes scoring ≥ 0.5 matched at IoU ≥ 0.5) and small
 * distant people the full frame misses; motion comes from the camera's own motion detector.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import sharp from 'sharp';
import { MotionDetector } from '../components/camera/motion.ts';
import { detectFrame, cropRgb, type TrackedBox } from '../components/detector/frame-detector.ts';
import { loadObjectRuntime, type ObjectRuntime } from '../components/detector/object-runtime.ts';
import { calculateRegion, clippedBy, clusterBoxes, frameRegions, iou, reduceDetections } from '../components/detector/regions.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import type { RawDetection } from '../components/detector/types.ts';

const FOOTAGE = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const W = 640;
const H = 480;
const frame = { width: W, height: H };
/** The footage's native size: the detect size of a camera set to `detect.width: 768`. */
const FW = 768;
const FH = 576;

describe('region geometry', () => {
  it('makes square regions at least the model size, centred and shifted inside the frame', () => {
    expect(calculateRegion(frame, [300, 200, 340, 300], 320)).toEqual([160, 90, 480, 410]);
    // Near the corner: shifted inside.
    expect(calculateRegion(frame, [0, 0, 20, 40], 320)).toEqual([0, 0, 320, 320]);
    expect(calculateRegion(frame, [620, 440, 640, 480], 320)).toEqual([320, 160, 640, 480]);
    // A big object: 1.35 × its longest side (a multiple of 4), capped to the frame's shorter side.
    expect(calculateRegion(frame, [100, 100, 400, 300], 320)).toEqual([48, 0, 452, 404]);
    expect(calculateRegion(frame, [0, 0, 640, 480], 320)).toEqual([80, 0, 560, 480]);
  });

  it('clusters nearby motion boxes into one region, keeps far ones apart, merges overlapping object regions', () => {
    const boxes: Box[] = [[100, 100, 130, 160], [150, 110, 180, 170], [550, 400, 580, 460]];
    const clusters = clusterBoxes(frame, 320, boxes).map((c) => c.sort());
    expect(clusters).toEqual(expect.arrayContaining([[0, 1], [2]]));
    expect(frameRegions(frame, [], boxes, 320)).toHaveLength(2);
    // Two tracked objects side by side: one region; motion inside it adds none.
    const regions = frameRegions(frame, [[300, 200, 330, 280], [310, 210, 345, 290]], [[305, 220, 320, 260]], 320);
    expect(regions).toHaveLength(1);
    // Nothing tracked, no motion: no region, no inference.
    expect(frameRegions(frame, [], [], 320)).toEqual([]);
  });

  it('knows a box cut by an inner region edge, not by a frame edge', () => {
    expect(clippedBy([160, 100, 200, 200], [160, 90, 480, 410], frame)).toBe(true);
    expect(clippedBy([0, 100, 40, 200], [0, 0, 320, 320], frame)).toBe(false);
    expect(clippedBy([200, 150, 260, 250], [160, 90, 480, 410], frame)).toBe(false);
  });

  it('reduces detections across regions: NMS per label, clipped views lose to whole ones, nested duplicates consolidated', () => {
    const d = (label: string, score: number, box: Box, clipped = false) => ({ label, score, box, clipped });
    const out = reduceDetections([
      d('person', 0.9, [100, 100, 150, 220], true),
      d('person', 0.7, [98, 96, 152, 226]),
      d('person', 0.6, [400, 100, 440, 200]),
      d('car', 0.8, [100, 100, 150, 220]),
      d('person', 0.5, [402, 102, 436, 190]),
    ]);
    expect(out.filter((x) => x.label === 'person').map((x) => x.score).sort()).toEqual([0.6, 0.7]);
    expect(out.filter((x) => x.label === 'car')).toHaveLength(1);
  });

  it('crops RGB rows exactly', () => {
    const rgb = Buffer.alloc(4 * 3 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = i;
    expect([...cropRgb(rgb, 4, [1, 1, 3, 3])]).toEqual([15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  });
});

describe('regions on real footage', () => {
  let runtime: ObjectRuntime;
  const frames: Buffer[] = [];

  beforeAll(async () => {
    runtime = await loadObjectRuntime({ concurrency: 2, logger: pino({ level: 'silent' }) });
    // The first 12 s of the clip at 5 fps (the hub's default detect rate), at its native 768×576.
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', FOOTAGE, '-vf', 'fps=5', '-frames:v', '60', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
    for (let i = 0; i + FW * FH * 3 <= raw.length; i += FW * FH * 3) frames.push(raw.subarray(i, i + FW * FH * 3));
  }, 120_000);

  afterAll(async () => { await runtime?.stop(); });

  it('finds ≥ 90 % of the people the full frame finds, and small distant ones it misses', async () => {
    expect(frames.length).toBe(60);
    const motion = new MotionDetector({ threshold: 30, min_area: 0.001 });
    let tracked: TrackedBox[] = [];
    const person = (ds: RawDetection[]) => ds.filter((x) => x.label === 'person' && x.score >= 0.5);
    let fullBoxes = 0;
    let matched = 0;
    let extraSmall = 0;
    let regionInferences = 0;
    let compared = 0;
    for (let i = 0; i < frames.length; i++) {
      const rgb = frames[i]!;
      const m = motion.update(rgb, FW, FH);
      const jpeg = await sharp(rgb, { raw: { width: FW, height: FH, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
      const regions = await detectFrame(runtime, { jpeg, mode: 'regions', tracked, motion: m.boxes, labels: ['person', 'car'], maxCost: Infinity });
      tracked = regions.detections.filter((x) => x.score >= 0.3).map((x) => ({ box: x.box, stationary: false }));
      regionInferences += regions.inferences;
      if (i < 10) continue; // let the motion background and the tracked set settle
      compared++;
      const full = await detectFrame(runtime, { jpeg, mode: 'full_frame', tracked: [], motion: [], labels: [] });
      const fp = person(full.detections);
      const rp = regions.detections.filter((x) => x.label === 'person' && x.score >= 0.3);
      fullBoxes += fp.length;
      matched += fp.filter((f) => rp.some((r) => iou(f.box, r.box) >= 0.5)).length;
      // People the region path sees (≥ 0.5) that the full frame misses — no full-frame box the
      // tracker would take (≥ 0.4, the default person min_score) covers them — and that are small.
      const fullAny = full.detections.filter((x) => x.label === 'person' && x.score >= 0.4);
      extraSmall += person(regions.detections).filter((r) => !fullAny.some((f) => iou(f.box, r.box) >= 0.3) && (r.box[3] - r.box[1]) < FH / 4).length;
    }
    const recall = matched / fullBoxes;
    console.log(`regions: ${compared} frames, full-frame people ≥ 0.5: ${fullBoxes}, matched by regions: ${matched} (${(recall * 100).toFixed(1)} %), small people only regions see: ${extraSmall}, region inferences per frame: ${(regionInferences / frames.length).toFixed(2)} (${runtime.name}, region ${runtime.regionSize} px)`);
    expect(fullBoxes).toBeGreaterThan(50);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(extraSmall).toBeGreaterThan(0);
  }, 600_000);

  it('never spends more than one full-frame pass on regions: a busier frame is inferred whole', async () => {
    const jpeg = await sharp(frames[30]!, { raw: { width: FW, height: FH, channels: 3 } }).jpeg().toBuffer();
    // Motion in the four corners: four regions of 320 px cost 4 × 320² > one whole pass (768×576 → 512×384).
    const corners: Box[] = [[0, 0, 40, 80], [FW - 40, 0, FW, 80], [0, FH - 80, 40, FH], [FW - 40, FH - 80, FW, FH]];
    const capped = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: corners, labels: ['person'] });
    expect(capped).toMatchObject({ whole: 'cost', inferences: 1, regions: [[0, 0, FW, FH]] });
    const full = await detectFrame(runtime, { jpeg, mode: 'full_frame', tracked: [], motion: [], labels: [] });
    expect(capped.detections).toEqual(full.detections);
    const uncapped = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: corners, labels: ['person'], maxCost: Infinity });
    expect(uncapped.whole).toBeUndefined();
    expect(uncapped.inferences).toBeGreaterThanOrEqual(4);
    // One region fits the budget (320² ≤ 512×384), two do not (2 × 320² > 512×384).
    const one = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: corners.slice(0, 1), labels: ['person'] });
    expect(one).toMatchObject({ inferences: 1, regions: [[0, 0, 320, 320]] });
    expect(one.whole).toBeUndefined();
    const two = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: corners.slice(0, 2), labels: ['person'] });
    expect(two).toMatchObject({ whole: 'cost', inferences: 1 });
    expect(runtime.inputPixels('full', FW, FH)).toBe(512 * 384);
  });

  it('scans the whole frame when asked, and gives stationary objects no region unless motion touches them', async () => {
    const jpeg = await sharp(frames[0]!, { raw: { width: FW, height: FH, channels: 3 } }).jpeg().toBuffer();
    const scan = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: [], labels: ['person'], scan: true });
    expect(scan).toMatchObject({ whole: 'scan', inferences: 1, regions: [[0, 0, FW, FH]] });
    expect(scan.detections.some((d) => d.label === 'person')).toBe(true);
    const parked: Box = [100, 100, 200, 160];
    const still = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [{ box: parked, stationary: true }], motion: [], labels: ['car'] });
    expect(still.inferences).toBe(0);
    const touched = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [{ box: parked, stationary: true }], motion: [[190, 150, 230, 200]], labels: ['car'] });
    expect(touched.inferences).toBe(1);
    expect(touched.regions[0]![0]).toBeLessThanOrEqual(parked[0]);
    const moving = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [{ box: parked, stationary: false }], motion: [], labels: ['car'] });
    expect(moving.inferences).toBe(1);
  });

  it('costs no inference on a frame with no motion and nothing tracked', async () => {
    const jpeg = await sharp(frames[0]!, { raw: { width: FW, height: FH, channels: 3 } }).jpeg().toBuffer();
    const r = await detectFrame(runtime, { jpeg, mode: 'regions', tracked: [], motion: [], labels: ['person'] });
    expect(r.inferences).toBe(0);
    expect(r.detections).toEqual([]);
    // Knowing the size from the frame header, it does not even decode the JPEG.
    const lazy = await detectFrame(runtime, { jpeg: Buffer.from('not a jpeg'), mode: 'regions', tracked: [{ box: [10, 10, 50, 90], stationary: true }], motion: [], labels: ['person'], size: { width: FW, height: FH } });
    expect(lazy).toMatchObject({ inferences: 0, decodeMs: 0, width: FW, height: FH });
  });
});
