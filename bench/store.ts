/**
 * Store benchmark: SQLite (the default, `<data_dir>/vigil.db`) against PostgreSQL (Debian's
 * server, started in a temp dir by `test/helpers/postgres.ts`) in the same run, through the
 * hub's own code: `openStore` (same migrations) and `EventsRepo`.
 *
 * - **Insert**: the life of {@link Options.objects} tracked objects on 8 cameras — `new`,
 *   {@link Options.updates} `update`s, `end` — written as `EventStore.onEvent` writes them:
 *   one `EventsRepo.upsert` (`INSERT … ON CONFLICT DO UPDATE`) per message, chained per
 *   event id so an event's rows land in message order, different events in flight at once.
 *   Messages arrive interleaved (round-robin over the objects), all at once: the figure is
 *   the store's ceiling in upserts/s.
 * - **Query**: `GET /api/events`-like `EventsRepo.query` calls (count + one page of 50,
 *   newest first, with the `has_clip` lookup) over {@link Options.rows} stored events,
 *   filters cycling through none / camera / label / zone / one-hour window / camera+label+zone;
 *   run one at a time (latency) and {@link QUERY_CONCURRENCY} at a time (rate).
 *
 * Both parts run in {@link Options.rounds} rounds, SQLite and PostgreSQL alternating, and
 * the rates are the medians of the rounds: on a small shared machine the load changes
 * during a run, and alternating keeps it from favouring one store.
 *
 * Durability is made comparable: SQLite runs as the hub opens it (WAL, `synchronous =
 * NORMAL`: a commit does not wait for the disk), PostgreSQL with `synchronous_commit = off`
 * (same promise: a power cut may lose the last commits, never corrupts) and fsync on. The
 * insert is also run on PostgreSQL with `synchronous_commit = on` (every commit flushed),
 * for reference. Both databases live on the same disk (the temp dir).
 *
 * Run: `npm run bench -- store`, or `npx tsx bench/store.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { TrackedObjectState } from '../components/protocol/tracked-object.ts';
import { openStore } from '../hub/store/datasource.ts';
import { EventsRepo, type EventQuery } from '../hub/store/events-repo.ts';
import { EventEntity, type EventRow } from '../hub/store/entities.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { percentile, round } from './frames.ts';

/** Queries in flight at once for the query rate (a few browsers and the HA integration). */
const QUERY_CONCURRENCY = 4;
const CAMERAS = ['front', 'back', 'garage', 'driveway', 'porch', 'yard', 'side', 'gate'];
const LABELS = ['person', 'car', 'dog', 'cat', 'bicycle'];
const ZONES = ['street', 'lawn', 'door', 'drive'];
/** First event start, Unix s. */
const T0 = 1_763_700_000;

export interface Options {
  /** Tracked objects whose lives are inserted. */
  objects: number;
  /** `update` messages per object (between its `new` and `end`). */
  updates: number;
  /** Events stored before the query runs. */
  rows: number;
  /** Queries timed per backend and round (one at a time, then the same number concurrently). */
  queries: number;
  /** Rounds of each part, the two stores alternating. */
  rounds: number;
}

const DEFAULTS: Options = { objects: 300, updates: 8, rows: 20_000, queries: 120, rounds: 3 };
const median = (v: number[]) => percentile(v, 50);

/** Deterministic pseudo-random numbers (mulberry32), so both stores get the same data. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The states of object `i`'s life: `new`, updates (score, box, zones growing), `end`. */
function life(i: number, updates: number, rand: () => number): TrackedObjectState[] {
  const start = T0 + i * 7 + rand();
  const id = `${start.toFixed(6)}-${i.toString(16).padStart(6, '0')}`;
  const zones: string[] = [];
  const out: TrackedObjectState[] = [];
  for (let k = 0; k <= updates + 1; k++) {
    if (k > 0 && rand() < 0.3) { const z = ZONES[Math.floor(rand() * ZONES.length)]!; if (!zones.includes(z)) zones.push(z); }
    const score = 0.5 + rand() * 0.5;
    const x = Math.floor(rand() * 600);
    out.push({
      id, camera: CAMERAS[i % CAMERAS.length]!, frame_time: start + k, label: LABELS[i % LABELS.length]!, sub_label: null, score, top_score: Math.max(score, 0.8),
      false_positive: false, start_time: start, end_time: k === updates + 1 ? start + k : null, box: [x, 100, x + 80, 300], area: 16000, ratio: 0.4,
      current_zones: zones.slice(-1), entered_zones: [...zones], loitering: false, has_snapshot: k > 0, has_clip: false, stationary: false,
      motionless_count: 0, position_changes: k,
    });
  }
  return out;
}

/** Writes `messages` as the hub's EventStore does: one upsert each, chained per event id. @returns upserts per second */
async function insertRate(repo: EventsRepo, messages: TrackedObjectState[]): Promise<number> {
  const chains = new Map<string, Promise<void>>();
  const t0 = performance.now();
  for (const s of messages) chains.set(s.id, (chains.get(s.id) ?? Promise.resolve()).then(() => repo.upsert(s)));
  await Promise.all(chains.values());
  return messages.length / ((performance.now() - t0) / 1000);
}

/** Stores `n` finished events quickly (multi-row inserts), for the query part. */
async function fill(ds: DataSource, n: number): Promise<void> {
  const rand = rng(7);
  const rows: EventRow[] = [];
  for (let i = 0; i < n; i++) {
    const s = life(100_000 + i, 0, rand).at(-1)!;
    const zones = ZONES.filter(() => rand() < 0.3);
    rows.push({ id: s.id, camera: s.camera, label: s.label, sub_label: null, score: s.score, top_score: s.top_score, box: JSON.stringify(s.box), area: s.area,
      zones: JSON.stringify(zones), start_time: T0 + i * 10, end_time: T0 + i * 10 + 30, has_snapshot: true, false_positive: false, data: JSON.stringify({ ...s, entered_zones: zones }) });
  }
  // 14 columns a row: 60 rows stay under SQLite's 999 bound parameters.
  for (let i = 0; i < rows.length; i += 60) await ds.getRepository(EventEntity).insert(rows.slice(i, i + 60));
}

/** The i-th query of the mix. */
function queryOf(i: number, rows: number): EventQuery {
  const base = { limit: 50, offset: 0 };
  const cam = [CAMERAS[i % CAMERAS.length]!];
  const hourStart = T0 + ((i * 7919) % rows) * 10;
  switch (i % 6) {
    case 0: return base;
    case 1: return { ...base, camera: cam };
    case 2: return { ...base, label: [LABELS[i % LABELS.length]!] };
    case 3: return { ...base, zone: ZONES[i % ZONES.length]! };
    case 4: return { ...base, after: hourStart, before: hourStart + 3600 };
    default: return { ...base, camera: cam, label: [LABELS[i % LABELS.length]!], zone: ZONES[i % ZONES.length]! };
  }
}

/** One round of the query mix: sequential latencies (ms), then the rate with {@link QUERY_CONCURRENCY} in flight. */
async function queryRound(repo: EventsRepo, n: number, rows: number): Promise<{ ms: number[]; perS: number; sequentialPerS: number; found: number }> {
  const ms: number[] = [];
  let found = 0;
  const s0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    found += (await repo.query(queryOf(i, rows))).total;
    ms.push(performance.now() - t);
  }
  const sequentialPerS = n / ((performance.now() - s0) / 1000);
  let next = 0;
  const c0 = performance.now();
  await Promise.all(Array.from({ length: QUERY_CONCURRENCY }, async () => {
    while (next < n) await repo.query(queryOf(next++, rows));
  }));
  return { ms, perS: n / ((performance.now() - c0) / 1000), sequentialPerS, found };
}

/** Runs the benchmark; returns the figures printed by `bench/run.ts`. */
export async function benchStore(opts: Partial<Options> = {}): Promise<Record<string, number | string>> {
  const o = { ...DEFAULTS, ...opts };
  const rand = rng(1);
  // Each round its own objects; arrival interleaved: every object's k-th message before any object's (k+1)-th.
  const rounds = Array.from({ length: o.rounds }, (_, r) => {
    const lives = Array.from({ length: o.objects }, (_, i) => life(r * o.objects + i, o.updates, rand));
    return Array.from({ length: o.updates + 2 }, (_, k) => lives.map((l) => l[k]!)).flat();
  });

  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
  const pg = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'off' } });
  const stores: Record<string, DataSource> = {};
  try {
    stores.sqlite = await openStore(join(dir, 'vigil.db'));
    stores.postgres = await openStore(await pg.createDatabase('vigil_bench'));
    // Every commit flushed to disk: the same inserts into another database, its connections with synchronous_commit = on.
    stores.postgres_sync = await openStore(`${await pg.createDatabase('vigil_bench_sync')}?options=${encodeURIComponent('-c synchronous_commit=on')}`);
    const names = ['sqlite', 'postgres', 'postgres_sync'] as const;
    const repos = Object.fromEntries(names.map((n) => [n, new EventsRepo(stores[n]!)])) as Record<(typeof names)[number], EventsRepo>;

    const inserts: Record<string, number[]> = { sqlite: [], postgres: [], postgres_sync: [] };
    for (const messages of rounds) for (const n of names) inserts[n]!.push(await insertRate(repos[n], messages));
    for (const n of names) {
      const stored = await repos[n].query({ limit: 1, offset: 0 });
      const open = await repos[n].query({ limit: 1, offset: 0, in_progress: true });
      if (stored.total !== o.objects * o.rounds || open.total !== 0) throw new Error(`${n}: ${stored.total} events (${open.total} open) stored, expected ${o.objects * o.rounds} ended ones`);
    }

    const queries = ['sqlite', 'postgres'] as const;
    for (const n of queries) {
      await fill(stores[n]!, o.rows);
      // What autovacuum does on its own soon after a bulk load (the hub never runs ANALYZE on SQLite).
      if (n === 'postgres') await stores[n]!.query('VACUUM ANALYZE events');
      for (let i = 0; i < 12; i++) await repos[n].query(queryOf(i, o.rows)); // warm caches and plans
    }
    const q = { sqlite: [] as Awaited<ReturnType<typeof queryRound>>[], postgres: [] as Awaited<ReturnType<typeof queryRound>>[] };
    for (let r = 0; r < o.rounds; r++) for (const n of queries) q[n].push(await queryRound(repos[n], o.queries, o.rows));
    if (q.sqlite[0]!.found !== q.postgres[0]!.found) throw new Error(`the stores disagree: ${q.sqlite[0]!.found} vs ${q.postgres[0]!.found} events matched in all`);

    const ins = Object.fromEntries(names.map((n) => [n, median(inserts[n]!)])) as Record<(typeof names)[number], number>;
    const fig = (n: 'sqlite' | 'postgres') => {
      const ms = q[n].flatMap((x) => x.ms);
      return { p50: percentile(ms, 50), p95: percentile(ms, 95), perS: median(q[n].map((x) => x.perS)), seqPerS: median(q[n].map((x) => x.sequentialPerS)) };
    };
    const s = fig('sqlite');
    const p = fig('postgres');
    return {
      postgres_version: pg.version,
      upserts_per_round: rounds[0]!.length,
      rounds: o.rounds,
      events_for_queries: o.rows,
      sqlite_upserts_per_s: round(ins.sqlite, 0),
      postgres_upserts_per_s: round(ins.postgres, 0),
      insert_ratio_postgres_over_sqlite: round(ins.postgres / ins.sqlite, 2),
      postgres_sync_commit_upserts_per_s: round(ins.postgres_sync, 0),
      sqlite_query_ms_p50: round(s.p50, 2),
      sqlite_query_ms_p95: round(s.p95, 2),
      postgres_query_ms_p50: round(p.p50, 2),
      postgres_query_ms_p95: round(p.p95, 2),
      [`sqlite_queries_per_s_x${QUERY_CONCURRENCY}`]: round(s.perS, 0),
      [`postgres_queries_per_s_x${QUERY_CONCURRENCY}`]: round(p.perS, 0),
      [`query_ratio_postgres_over_sqlite_x${QUERY_CONCURRENCY}`]: round(p.perS / s.perS, 2),
      query_ratio_postgres_over_sqlite_sequential: round(p.seqPerS / s.seqPerS, 2),
    };
  } finally {
    for (const ds of Object.values(stores)) if (ds.isInitialized) await ds.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchStore());
  process.exit();
}
