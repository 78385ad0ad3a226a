/**
 * Face recognition figures (Vigil issue #12): what one attempt of the face enricher costs,
 * and how far apart same-person and different-person similarities are on real photos (the
 * ground for `face_recognition.recognition_threshold`'s default).
 *
 * - **Attempt time**: one `FaceRunner.frame()` call as the enricher makes it (JPEG frame →
 *   decode, cut the person's upper part, BlazeFace, FaceRes on the biggest face) in the
 *   face worker, timed from the caller (round trip) and as the worker reports it (decode,
 *   model); median and p95 over `rounds` passes of: Messi in OpenCV's `messi5.jpg` (548×342,
 *   a real full-body frame) and the 7 held-out tiles of person A in human's 1920×954
 *   face-match screenshot (a large frame to decode).
 * - **Similarities** (human's `faceres` similarity, 0–1): 3 tiles of person A enrolled;
 *   each held-out photo of A and each photo of someone else (19 women's tiles,
 *   `face_swapped.jpg`, Messi) scored against its best enrolled image.
 * - **Memory**: process RSS before and after the face worker loads its models.
 *
 * Run: `npx tsx bench/faces.ts [rounds]` (default 5), or `npm run bench -- faces`; `npm run bench -- detector` adds its attempt times.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { faceRegion } from '../components/detector/faces/face-images.ts';
import { FaceRunner } from '../components/detector/faces/face-runner.ts';
import { FaceLibrary } from '../components/detector/faces/library.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { A_ENROL, A_HELD_OUT, FACE_SWAPPED, FACEMATCH, MESSI, MESSI_BOX, OTHERS, tile, tileJpeg } from '../test/helpers/face-photos.ts';
import { percentile, round } from './frames.ts';

const MIB = 1024 * 1024;

/** Figures of {@link benchFaces}; times in ms, similarities 0–1, memory MiB. */
export interface FaceBenchResult {
  backend: string;
  load_ms: number;
  rss_added_mib: number;
  attempts: number;
  attempt_ms: { median: number; p95: number };
  worker_decode_ms: { median: number; p95: number };
  worker_model_ms: { median: number; p95: number };
  same_person: { min: number; median: number; scores: number[] };
  other_people: { max: number; median: number; scores: number[] };
}

/** Runs the measurements (see the file header). @param rounds passes over the attempt frames */
export async function benchFaces(rounds = 5): Promise<FaceBenchResult> {
  const runner = new FaceRunner({});
  const facematch = readFileSync(FACEMATCH);
  const messi = readFileSync(MESSI);
  const rss0 = process.memoryUsage.rss();
  const t0 = performance.now();
  try {
    // Enrol A (loads the models).
    const lib = new FaceLibrary();
    for (const [i, box] of A_ENROL.entries()) {
      const r = await runner.image(await tileJpeg(box));
      if (!r.face) throw new Error(`no face in enrolment tile ${i}`);
      lib.set('a', String(i), r.face.descriptor);
    }
    const loadMs = runner.info?.loadMs ?? performance.now() - t0;
    const rssAdded = (process.memoryUsage.rss() - rss0) / MIB;

    const frame = async (jpeg: Buffer, person: Box, width: number, height: number) => {
      const region = faceRegion(person, width, height)!;
      const t = performance.now();
      const r = await runner.frame(jpeg, region, 20, false);
      return { r, ms: performance.now() - t };
    };
    const bestScore = async (jpeg: Buffer, box: Box, w: number, h: number): Promise<number | null> => {
      const { r } = await frame(jpeg, box, w, h);
      return r.face ? lib.match(r.face.descriptor)!.score : null;
    };

    // Similarities.
    // Held-out A, and tile 10 (A too, the least like the enrolled photos).
    const same = [...A_HELD_OUT, tile(0, 10)];
    const sameScores: number[] = [];
    for (const b of same) { const s = await bestScore(facematch, b, 1920, 954); if (s !== null) sameScores.push(s); }
    const otherScores: number[] = [];
    for (const b of OTHERS) { const s = await bestScore(facematch, b, 1920, 954); if (s !== null) otherScores.push(s); }
    const swapped = readFileSync(FACE_SWAPPED);
    for (const [jpeg, box, w, h] of [[swapped, [0, 0, 320, 320], 320, 320], [messi, MESSI_BOX, 548, 342]] as const) {
      const s = await bestScore(jpeg, box as Box, w, h);
      if (s !== null) otherScores.push(s);
    }

    // Attempt times.
    const ms: number[] = [], decode: number[] = [], model: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [jpeg, box, w, h] of [[messi, MESSI_BOX, 548, 342] as const, ...A_HELD_OUT.map((b) => [facematch, b, 1920, 954] as const)]) {
        const { r, ms: t } = await frame(jpeg, box as Box, w, h);
        ms.push(t);
        decode.push(r.decodeMs);
        model.push(r.inferMs);
      }
    }
    const stat = (v: number[]) => ({ median: round(percentile(v, 50), 1), p95: round(percentile(v, 95), 1) });
    return {
      backend: runner.info?.backend ?? 'unknown',
      load_ms: round(loadMs, 0),
      rss_added_mib: round(rssAdded, 0),
      attempts: ms.length,
      attempt_ms: stat(ms),
      worker_decode_ms: stat(decode),
      worker_model_ms: stat(model),
      same_person: { min: Math.min(...sameScores), median: percentile(sameScores, 50), scores: sameScores },
      other_people: { max: Math.max(...otherScores), median: percentile(otherScores, 50), scores: otherScores },
    };
  } finally {
    await runner.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 5);
  const r = await benchFaces(Number.isFinite(rounds) && rounds > 0 ? rounds : 5);
  console.log(`face models (${r.backend}): loaded in ${r.load_ms} ms, +${r.rss_added_mib} MiB RSS`);
  console.log(`attempt (detect + descriptor), ${r.attempts} attempts: median ${r.attempt_ms.median} ms, p95 ${r.attempt_ms.p95} ms`);
  console.log(`  in the worker: decode+crop median ${r.worker_decode_ms.median} ms (p95 ${r.worker_decode_ms.p95}), models median ${r.worker_model_ms.median} ms (p95 ${r.worker_model_ms.p95})`);
  console.log(`same person (A held out vs 3 enrolled): min ${r.same_person.min}, median ${r.same_person.median} — ${r.same_person.scores.join(' ')}`);
  console.log(`other people vs A:                      max ${r.other_people.max}, median ${r.other_people.median} — ${r.other_people.scores.join(' ')}`);
}
