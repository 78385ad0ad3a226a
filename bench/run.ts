/**
 * `npm run bench`: every benchmark, one after another (never in parallel: 2 cores),
 * each printing its figures. `npm run bench -- broker pipeline` runs a subset.
 */
import { benchBroker } from './broker.ts';
import { benchCapacity } from './capacity.ts';
import { benchDetector } from './detector.ts';
import { benchFaces } from './faces.ts';
import { benchLpr } from './lpr.ts';
import { benchHubRss } from './hub-rss.ts';
import { benchPipeline } from './pipeline.ts';
import { benchRecorder } from './recorder.ts';
import { benchLive } from './live.ts';
import { benchKiosk } from './kiosk.ts';
import { benchRules } from './rules.ts';
import { benchHeadState } from './head-state.ts';
import { benchHeadWs } from './head-ws.ts';
import { benchRestUnderLoad } from './rest-under-load.ts';
import { benchStore } from './store.ts';

const all: Record<string, () => Promise<Record<string, number | string>>> = {
  // The detector's figures, then what known faces and licence plates add to an event (one
  // enrichment attempt, off the frame path: the time until the event's `update` with the sub_label).
  detector: async () => {
    const r = await benchDetector();
    const faces = await benchFaces(3);
    const plates = await benchLpr(20);
    const lpr1 = plates.runs.find((x) => x.threads === 1)!;
    return {
      ...r,
      face_attempt_ms_median: faces.attempt_ms.median,
      face_attempt_ms_p95: faces.attempt_ms.p95,
      plate_attempt_ms_median: lpr1.attempt_ms.median,
      plate_attempt_ms_p95: lpr1.attempt_ms.p95,
      plate_reads_correct: `${lpr1.correct}/${lpr1.attempts}`,
    };
  },
  faces: async () => {
    const f = await benchFaces();
    return { backend: f.backend, attempts: f.attempts, attempt_ms_median: f.attempt_ms.median, attempt_ms_p95: f.attempt_ms.p95, same_person_min: f.same_person.min, other_people_max: f.other_people.max, rss_added_mib: f.rss_added_mib };
  },
  pipeline: () => benchPipeline(),
  // The embedded broker in a hub process vs Mosquitto (password file + ACL), authenticated clients, QoS 0 and 1 (≈ 30 s).
  broker: () => benchBroker(),
  // GET /api/events p50/p95/p99 with and without 8 cameras streaming frames, the hub's event-loop delay and GC (≈ 2 min).
  rest: () => benchRestUnderLoad(),
  'hub-rss': () => benchHubRss(),
  recorder: () => benchRecorder(),
  live: () => benchLive(),
  kiosk: () => benchKiosk(),
  rules: () => benchRules(),
  'head-state': () => benchHeadState(),
  'head-ws': () => benchHeadWs(),
  // SQLite vs PostgreSQL: event upserts as the event store writes them, /api/events queries (≈ 20 s).
  store: () => benchStore(),
  // Capacity prints its per-step table here and returns the summary (≈ 10 min).
  capacity: async () => {
    const r = await benchCapacity();
    console.table(r.steps);
    return r.summary;
  },
};

const wanted = process.argv.slice(2).filter((a) => a in all);
for (const name of wanted.length ? wanted : Object.keys(all)) {
  const t0 = Date.now();
  console.log(`\n== ${name} ==`);
  try {
    console.table(await all[name]!());
  } catch (err) {
    console.error(`${name} failed: ${(err as Error).stack}`);
    process.exitCode = 1;
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
process.exit();
