/**
 * `npm run bench`: every benchmark, one after another (never in parallel: 2 cores),
 * each printing its figures. `npm run bench -- broker pipeline` runs a subset.
 */
import { benchBroker } from './broker.ts';
import { benchCapacity } from './capacity.ts';
import { benchDetector } from './detector.ts';
import { benchHubRss } from './hub-rss.ts';
import { benchPipeline } from './pipeline.ts';
import { benchRecorder } from './recorder.ts';
import { benchLive } from './live.ts';
import { benchKiosk } from './kiosk.ts';
import { benchRules } from './rules.ts';

const all: Record<string, () => Promise<Record<string, number | string>>> = {
  detector: () => benchDetector(),
  pipeline: () => benchPipeline(),
  broker: () => benchBroker(),
  'hub-rss': () => benchHubRss(),
  recorder: () => benchRecorder(),
  live: () => benchLive(),
  kiosk: () => benchKiosk(),
  rules: () => benchRules(),
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
