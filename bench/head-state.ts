/**
 * Camera-head state benchmark (issue #13): state updates per second through the store
 * (`head-firmware/state/store.ts`) with one change listener, against the seed's figure of
 * "State updates per second: 1000+".
 *
 * The whole head state is declared (every module of the DEFAULT variant on simulated
 * drivers, their feeds stopped so only the bench writes). Each figure is sequential
 * writes, each awaited, each a real change (alternating values):
 * - `sensors.temperature_c` as the head itself: not persisted, no observer;
 * - `image.brightness` as an operator: the module's observer tells the (simulated) camera,
 *   and the value is written to SQLite (`<tmp>/state.db`, WAL) — with the default
 *   durability (`synchronous = NORMAL`) and with `durability: 'power'` (`FULL`, an fsync
 *   per write);
 * - a burst: the same non-persisted writes issued without waiting, then awaited together.
 * Reference in the same run: a plain `Map.set` + `EventEmitter.emit` loop with one
 * listener (what an update costs with no validation, permission, queue or persistence).
 *
 * Run: `npx tsx bench/head-state.ts` or `npx tsx bench/run.ts head-state`.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSimulatedDrivers } from '../head-firmware/drivers/simulated.ts';
import { declareAll } from '../head-firmware/modules/index.ts';
import { StateDb, type Durability } from '../head-firmware/state/state-db.ts';
import { StateStore } from '../head-firmware/state/store.ts';
import type { Principal } from '../head-firmware/state/types.ts';

/** Writes per figure (fewer with an fsync each). */
const N_VOLATILE = 50_000;
const N_PERSISTED = 5_000;
const N_PERSISTED_FSYNC = 500;
const N_REFERENCE = 1_000_000;

const operator: Principal = { kind: 'user', name: 'bench', role: 'operator' };
const system: Principal = { kind: 'system' };

const round = (x: number, d = 0) => Number(x.toFixed(d));

async function withHead<T>(durability: Durability, fn: (store: StateStore, listened: () => number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-head-'));
  const sim = createSimulatedDrivers({ seed: 1 });
  const store = new StateStore({ db: new StateDb(dir, { durability }) });
  const declared = declareAll(store, sim, { restart() {}, factoryReset() {} });
  try {
    declared.stop(); // no driver feeds: only the bench writes
    await store.load();
    let n = 0;
    store.onChange(() => { n++; });
    return await fn(store, () => n);
  } finally {
    sim.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sequential awaited writes of alternating values to `key`; returns updates/s. */
async function sequential(store: StateStore, key: string, by: Principal, n: number, a: number, b: number, listened: () => number): Promise<number> {
  for (let i = 0; i < Math.min(1000, n); i++) await store.set(key, i % 2 ? a : b, by); // warm-up
  const before = listened();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await store.set(key, i % 2 ? a : b, by);
    if (!r.ok) throw new Error(`${key}: ${r.reason}`);
  }
  const s = (performance.now() - t0) / 1000;
  if (listened() - before !== n) throw new Error(`listener saw ${listened() - before} of ${n} changes`);
  return n / s;
}

/** The reference: `Map.set` + `emit` to one listener; returns updates/s. */
function reference(n: number): number {
  const map = new Map<string, unknown>();
  const ee = new EventEmitter();
  let seen = 0;
  ee.on('change', () => { seen++; });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const value = i % 2 ? 40.1 : 40.2;
    const previous = map.get('sensors.temperature_c');
    map.set('sensors.temperature_c', value);
    ee.emit('change', { key: 'sensors.temperature_c', value, previous, at: Date.now(), by: 'system' });
  }
  const s = (performance.now() - t0) / 1000;
  if (seen !== n) throw new Error('reference listener missed changes');
  return n / s;
}

/** Runs the benchmark; returns the figures printed by `bench/run.ts`. */
export async function benchHeadState(): Promise<Record<string, number | string>> {
  const ref = reference(N_REFERENCE);
  const { volatile, persisted, burst } = await withHead('process', async (store, listened) => {
    const volatile = await sequential(store, 'sensors.temperature_c', system, N_VOLATILE, 40.1, 40.2, listened);
    const persisted = await sequential(store, 'image.brightness', operator, N_PERSISTED, 60, 61, listened);
    const before = listened();
    const t0 = performance.now();
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < N_VOLATILE; i++) all.push(store.set('sensors.temperature_c', i % 2 ? 41.1 : 41.2, system));
    await Promise.all(all);
    const burst = N_VOLATILE / ((performance.now() - t0) / 1000);
    if (listened() - before !== N_VOLATILE) throw new Error('burst: listener missed changes');
    return { volatile, persisted, burst };
  });
  const fsynced = await withHead('power', (store, listened) => sequential(store, 'image.brightness', operator, N_PERSISTED_FSYNC, 60, 61, listened));
  return {
    store_not_persisted_per_s: round(volatile),
    store_not_persisted_us_each: round(1e6 / volatile, 1),
    store_burst_not_persisted_per_s: round(burst),
    store_persisted_normal_per_s: round(persisted),
    store_persisted_normal_us_each: round(1e6 / persisted, 1),
    store_persisted_full_fsync_per_s: round(fsynced),
    reference_map_emit_per_s: round(ref),
    ratio_reference_to_store_not_persisted: round(ref / volatile, 1),
    ratio_reference_to_store_persisted: round(ref / persisted, 1),
    seed_target_per_s: 1000,
    within_target: Math.min(volatile, persisted) >= 1000 ? 'yes' : 'no',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchHeadState());
  process.exit(0);
}
