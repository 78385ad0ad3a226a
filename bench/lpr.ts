/**
 * Licence plate recognition benchmark: latency of one plate attempt (decode + crop, text
 * detection, text recognition) in the OCR worker thread, as the detector's thread sees it,
 * on a real car photo (OpenCV's `licenseplate_motion.jpg`, restored: test/helpers/plate-photo.ts)
 * inside the car box the COCO model finds; also an attempt on a car with no plate in view,
 * the detector thread's event-loop delay while reads run, the models' load time and RSS,
 * and how small a plate still reads (the photo scaled down).
 *
 * Run: `npx tsx bench/lpr.ts [attempts]` (default 30); `npm run bench -- detector` adds its attempt times.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { PlateOcrThread, type ReadPlateResult } from '../components/detector/lpr/index.ts';
import { loadObjectModel } from '../components/detector/model.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { PLATE_NORMALIZED, PLATE_PHOTO, restoredPlatePhoto } from '../test/helpers/plate-photo.ts';
import { percentile, round } from './frames.ts';

const SIDE_VIEW_CAR = '/usr/share/doc/opencv-doc/examples/text/scenetext01.jpg';
const MIB = 1024 * 1024;

interface Stat { median: number; p95: number }
const stat = (v: number[]): Stat => ({ median: round(percentile(v, 50)), p95: round(percentile(v, 95)) });

async function carBox(model: Awaited<ReturnType<typeof loadObjectModel>>, file: string): Promise<Box | null> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const cars = (await model.detect(data, info.width, info.height)).filter((d) => d.label === 'car').sort((a, b) => b.score - a.score);
  return cars[0]?.box ?? null;
}

/** Runs the benchmark; see the file header. */
export async function benchLpr(attempts = 30) {
  const photo = await restoredPlatePhoto();
  const model = await loadObjectModel({ backend: 'wasm' });
  let plateCar: Box, sideCar: Box;
  try {
    const found = await carBox(model, PLATE_PHOTO);
    plateCar = found ? photo.fromOriginal(found) : [0, 0, photo.width, photo.height];
    sideCar = (await carBox(model, SIDE_VIEW_CAR)) ?? [399, 424, 694, 577];
  } finally {
    model.dispose();
  }
  const sideJpeg = readFileSync(SIDE_VIEW_CAR);
  const runs = [];
  for (const threads of [1, 2]) {
    const ocr = new PlateOcrThread({ threads });
    try {
      const rss0 = process.memoryUsage().rss;
      const tLoad = performance.now();
      const first = await ocr.read(photo.jpeg, plateCar, { minPlateWidth: 40 }); // starts the worker and loads the models
      const firstMs = performance.now() - tLoad;
      const rssAdded = (process.memoryUsage().rss - rss0) / MIB;
      const wall: number[] = [], decode: number[] = [], det: number[] = [], rec: number[] = [];
      let correct = 0;
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      for (let i = 0; i < attempts; i++) {
        const t = performance.now();
        const r: ReadPlateResult = await ocr.read(photo.jpeg, plateCar, { minPlateWidth: 40 });
        wall.push(performance.now() - t);
        decode.push(r.decodeMs); det.push(r.detMs); rec.push(r.recMs);
        if (r.reading?.plate === PLATE_NORMALIZED) correct++;
      }
      loop.disable();
      const none: number[] = [];
      for (let i = 0; i < Math.max(5, Math.round(attempts / 3)); i++) {
        const t = performance.now();
        await ocr.read(sideJpeg, sideCar, { minPlateWidth: 40 });
        none.push(performance.now() - t);
      }
      runs.push({
        threads, first_read_ms: round(firstMs), first_plate: first.reading?.plate ?? null, models_load_ms: round(ocr.loadMs ?? NaN),
        rss_added_mib: round(rssAdded), attempts, correct,
        attempt_ms: stat(wall), decode_ms: stat(decode), det_ms: stat(det), rec_ms: stat(rec), no_plate_attempt_ms: stat(none),
        event_loop_delay_ms: { max: round(loop.max / 1e6), p99: round(loop.percentile(99) / 1e6) },
      });
    } finally {
      await ocr.stop();
    }
  }

  // How small a plate still reads: the restored photo scaled down, whole frame as the vehicle.
  const sizes = [];
  const ocr = new PlateOcrThread();
  try {
    for (const w of [512, 400, 340, 300, 260, 230, 200, 180, 160, 140]) {
      const jpeg = await sharp(photo.jpeg).resize(w).jpeg({ quality: 85 }).toBuffer();
      const r = await ocr.read(jpeg, [0, 0, w, w], { minPlateWidth: 10 });
      const b = r.reading?.box;
      sizes.push({ frame_px: w, plate: r.reading?.plate ?? null, score: r.reading ? round(r.reading.score, 3) : null, line_width_px: b ? round(b[2] - b[0]) : null, reason: r.reason ?? null });
    }
  } finally {
    await ocr.stop();
  }
  return { photo: 'licenseplate_motion.jpg restored (512x512)', car_box: plateCar, side_car_box: sideCar, runs, sizes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 30);
  const r = await benchLpr(Number.isInteger(n) && n > 0 ? n : 30);
  console.log(`plate photo: ${r.photo}, car box ${JSON.stringify(r.car_box)}; no-plate car box ${JSON.stringify(r.side_car_box)}`);
  for (const x of r.runs) {
    console.log(`\nonnxruntime threads=${x.threads}: models loaded in ${x.models_load_ms} ms (first read ${x.first_read_ms} ms incl. worker start, read ${x.first_plate}), +${x.rss_added_mib} MiB RSS`);
    console.log(`  plate attempt (decode+crop, detect, recognize; ${x.attempts} attempts, ${x.correct} read ${PLATE_NORMALIZED}): median ${x.attempt_ms.median} ms, p95 ${x.attempt_ms.p95} ms`);
    console.log(`    in the worker: decode+crop median ${x.decode_ms.median} (p95 ${x.decode_ms.p95}), text detection median ${x.det_ms.median} (p95 ${x.det_ms.p95}), recognition median ${x.rec_ms.median} (p95 ${x.rec_ms.p95}) ms`);
    console.log(`  no-plate attempt (side view, detection only): median ${x.no_plate_attempt_ms.median} ms, p95 ${x.no_plate_attempt_ms.p95} ms`);
    console.log(`  detector thread's event-loop delay during reads: max ${x.event_loop_delay_ms.max} ms, p99 ${x.event_loop_delay_ms.p99} ms`);
  }
  console.log('\nplate size (photo scaled to N px wide) → read:');
  for (const s of r.sizes) console.log(`  ${s.frame_px} px: text line ${s.line_width_px ?? '—'} px → ${s.plate ?? s.reason} ${s.score ?? ''}`);
}
