/**
 * Camera-head WebSocket broadcast latency (the C Pro seed: "WebSocket broadcast 5-20ms
 * typical, 100ms max", "Concurrent WebSocket clients: 50+").
 *
 * A real head API on 127.0.0.1: a StateStore on a temp SQLite file (the key is persisted,
 * so each write goes through the database first), the HTTP server with the state
 * WebSocket (`head-firmware/api/ws-api.ts`), and {@link BenchHeadWsOptions.clients} `ws`
 * clients authenticated with a Bearer token, each subscribed to every key. Then
 * {@link BenchHeadWsOptions.changes} `store.set` calls, {@link BenchHeadWsOptions.spacingMs}
 * apart, each writing its sequence number; every client notes the time from the
 * `store.set` call to the arrival (parsed) of that change.
 *
 * Reference, same run: each of the same clients also opens a second socket to a bare `ws`
 * server on the same HTTP server, and the same number of messages of the same JSON shape
 * are sent to all of them with a plain loop of `ws.send` — no store, no permission check,
 * no database. The ratio head/reference is what the head's store and API add.
 *
 * Clients and server share this process (and the machine's 2 cores), so the figures
 * include the clients' own parsing; a client on another machine adds the network.
 *
 * Run: `npx tsx bench/head-ws.ts [clients] [changes] [spacingMs]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { HeadAuth } from '../head-firmware/api/auth.ts';
import { createHttpApi } from '../head-firmware/api/http-api.ts';
import { attachWsApi } from '../head-firmware/api/ws-api.ts';
import { StateDb } from '../head-firmware/state/state-db.ts';
import { StateStore } from '../head-firmware/state/store.ts';
import { UserDb } from '../head-firmware/users/user-db.ts';

export interface BenchHeadWsOptions {
  /** WebSocket clients; default 50. */
  clients?: number;
  /** Measured state changes; default 1000 (plus 50 warm-up changes, not counted). */
  changes?: number;
  /** Time between two changes, ms; default 5. */
  spacingMs?: number;
}

const WARMUP = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats { median: number; p99: number; max: number; n: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { median: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1] ?? NaN), n: s.length };
}

/** Collects per-client and per-change (last client) latencies of messages carrying a sequence number. */
class Recorder {
  readonly sentAt = new Map<number, number>();
  readonly perClient: number[] = [];
  private readonly lastArrival = new Map<number, number>();
  private measuring = false;
  start(): void { this.measuring = true; }
  arrive(seq: number): void {
    const t0 = this.sentAt.get(seq);
    if (t0 === undefined || !this.measuring) return;
    const dt = performance.now() - t0;
    this.perClient.push(dt);
    this.lastArrival.set(seq, Math.max(this.lastArrival.get(seq) ?? 0, dt));
  }
  allClients(): number[] { return [...this.lastArrival.values()]; }
}

/** Runs the benchmark; returns the figures (ms) for `bench/run.ts`. */
export async function benchHeadWs(opts: BenchHeadWsOptions = {}): Promise<Record<string, number | string>> {
  const nClients = opts.clients ?? 50;
  const nChanges = opts.changes ?? 1000;
  const spacing = opts.spacingMs ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'bench-head-ws-'));
  const store = new StateStore({ db: new StateDb(dir) });
  store.declare({ key: 'bench.seq', schema: z.number().int().nonnegative(), default: 0, read: ['camera_r'], write: ['camera_rw'], persist: true, description: 'bench' });
  await store.load();
  const users = new UserDb({ dataDir: dir });
  await users.add('bench', 'viewer', 'bench-password-1');
  const token = users.createToken('bench').token;
  const auth = new HeadAuth({ users });
  const server = createServer(createHttpApi({ store, users, auth }));
  const api = attachWsApi(server, { store, auth });
  // The reference: a bare ws server on the same HTTP server.
  const raw = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, buf) => {
    if (req.url === '/bench/raw') raw.handleUpgrade(req, socket, buf, () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  const head = new Recorder();
  const ref = new Recorder();
  const sockets: WebSocket[] = [];
  try {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: nClients }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      const subscribed = new Promise<void>((resolve) => {
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { op?: string; id?: number; value?: number };
          if (m.op === 'change') head.arrive(m.value!);
          else if (m.id === 1) resolve();
        });
      });
      ws.send(JSON.stringify({ id: 1, op: 'subscribe' }));
      await subscribed;
      const rs = new WebSocket(`ws://127.0.0.1:${port}/bench/raw`, { perMessageDeflate: false });
      sockets.push(rs);
      await new Promise<void>((resolve, reject) => { rs.once('open', () => resolve()); rs.once('error', reject); });
      rs.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { op?: string; value?: number };
        if (m.op === 'change') ref.arrive(m.value!);
      });
    }));
    const connectMs = performance.now() - t0;
    if (api.clients() !== nClients || raw.clients.size !== nClients) throw new Error(`expected ${nClients} clients, head has ${api.clients()}, reference ${raw.clients.size}`);

    // Head: store.set → store → ws-api → clients.
    for (let seq = 1; seq <= WARMUP + nChanges; seq++) {
      if (seq === WARMUP + 1) head.start();
      head.sentAt.set(seq, performance.now());
      const r = await store.set('bench.seq', seq, { kind: 'system' });
      if (!r.ok) throw new Error(`store.set refused: ${r.reason}`);
      await sleep(spacing);
    }
    await sleep(500);
    // Reference: the same payload shape, a plain send loop.
    for (let seq = 1; seq <= WARMUP + nChanges; seq++) {
      if (seq === WARMUP + 1) ref.start();
      ref.sentAt.set(seq, performance.now());
      const frame = Buffer.from(JSON.stringify({ op: 'change', key: 'bench.seq', value: seq, at: Date.now() }));
      for (const ws of raw.clients) ws.send(frame, { binary: false });
      await sleep(spacing);
    }
    await sleep(500);

    const h = stats(head.perClient);
    const hAll = stats(head.allClients());
    const r = stats(ref.perClient);
    const rAll = stats(ref.allClients());
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    return {
      clients: nClients,
      changes: nChanges,
      spacing_ms: spacing,
      connect_all_ms: Math.round(connectMs),
      received: `${h.n}/${nChanges * nClients}`,
      head_ms_median: h.median,
      head_ms_p99: h.p99,
      head_ms_max: h.max,
      head_all_clients_ms_median: hAll.median,
      head_all_clients_ms_p99: hAll.p99,
      head_all_clients_ms_max: hAll.max,
      raw_received: `${r.n}/${nChanges * nClients}`,
      raw_ms_median: r.median,
      raw_ms_p99: r.p99,
      raw_ms_max: r.max,
      raw_all_clients_ms_median: rAll.median,
      raw_all_clients_ms_p99: rAll.p99,
      ratio_median: ratio(h.median, r.median),
      ratio_p99: ratio(h.p99, r.p99),
      dropped_slow_clients: api.dropped(),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    api.close();
    raw.close();
    auth.close();
    await new Promise((r) => server.close(r));
    await store.close();
    users.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [clients, changes, spacingMs] = process.argv.slice(2).map(Number);
  console.table(await benchHeadWs({ clients: clients || undefined, changes: changes || undefined, spacingMs: spacingMs || undefined }));
  process.exit();
}
