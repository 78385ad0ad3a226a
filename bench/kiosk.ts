/**
 * Camera-wall kiosk benchmarks (issue #9): the built kiosk page (`kiosk-client/dist`,
 * served by a real hub at `/kiosk`) in real headless Chromium, paired from the code on
 * screen, fed by {@link CAMERA_COUNT} hub cameras reading one real RTSP test camera
 * (`/sub` 384×288 and `/main` 768×576 H.264, 10 fps, a keyframe each second).
 *
 * 1. **Switch latency**: an operator API key (as MQTT password) publishes a layout id on
 *    `vigil/display/<d>/layout/set`; the bench takes `Date.now()` just before publishing,
 *    the kiosk records when the bundle arrived (`lastSwitch.received_at`, Unix ms, page
 *    clock = machine clock) and how long until every camera cell showed a decoded frame
 *    and the page painted (`painted_ms`). Latency = `received_at + painted_ms − t_publish`.
 *    - **warm**: two 2-cell layouts, each preloading the other's cameras, switched back and
 *      forth; before each switch the target's players are checked warm with a frame.
 *      Target: p95 ≤ {@link WARM_TARGET_MS} ms.
 *    - **cold**: two 2-cell layouts on disjoint cameras with `cooling_timeout_seconds` 0
 *      and no preload, so the target's streams were closed when the switch is sent
 *      (checked with `players()`: none of its keys open). Cold = WebSocket connect +
 *      MediaSource + the hub's cached GOP + first decoded frame. Target: p95 ≤
 *      {@link COLD_TARGET_MS} ms.
 *    - **reference**: the MQTT leg alone, publish → the same bundle received by an
 *      independent mqtt.js subscriber (`…/layout/state`) in this process, for every switch.
 *    Requests are published at QoS {@link SET_QOS} (as an operator's automation would);
 *    a few more warm switches at QoS 0 show how much of the latency is the QoS 1 path.
 *    Figures: median and p95 (ms), the ratios cold/warm and warm/MQTT leg, and the
 *    decomposition of warm and cold (publish → bundle at the kiosk, `painted_ms`).
 * 2. **Page CPU and memory per cell count**: layouts of 1 (reference), 9 (`3x3`), 16
 *    (`4x4`) and 32 cells (eight rows of four), each cell a camera's sub stream (the
 *    cameras repeat; the kiosk gives each repeated cell its own player and decoder).
 *    After {@link WARMUP_S} s of playback, over a {@link WINDOW_S} s window: Chromium's CPU
 *    (utime + stime + reaped children's, from `/proc/<pid>/stat`, summed over the process
 *    tree of the browser playwright launched; % of one core), its memory at the end of the
 *    window (PSS from `/proc/<pid>/smaps_rollup` and RSS, summed, MiB), decoded fps and
 *    dropped frames summed over cells (`__vigilKiosk.state()` deltas), the slowest cell's
 *    fps, and this Node process's CPU for context (the hub runs in it: one live WebSocket
 *    per player). Ratios: CPU per cell relative to the 1-cell wall, memory per extra cell.
 *
 * No figure is asserted (benchmarks print, tests assert); `*_target_met` columns only say
 * whether the run met issue #9's targets. The machine has 2 cores shared by the hub, its
 * ffmpegs, the RTSP camera and Chromium: absolute figures include that contention.
 *
 * Run: `npx tsx bench/kiosk.ts` (or `npx tsx bench/run.ts kiosk`). Needs `/usr/bin/chromium`
 * (or `CHROMIUM_PATH`); builds the kiosk page first. About 2–3 minutes.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Bundle, KioskState, Region } from '../components/protocol/layout.ts';
import { writeKioskDist } from '../kiosk-client/build.ts';
import type { PlayerInfo } from '../kiosk-client/src/test-hook.ts';
import type { SwitchRecord } from '../kiosk-client/src/switch-timer.ts';
import { api, startTestHub, type TestHub } from '../test/helpers/hub.ts';
import { startRtspServer, type RtspServer } from '../test/helpers/rtsp.ts';
import { percentile, round } from './frames.ts';

declare global {
  /** Installed by the bench: every painted switch, in order (copies of `SwitchRecord`). */
  interface Window { __benchPainted?: SwitchRecord[] }
}

/** Issue #9: p95 of a switch between warm layouts, ms. */
export const WARM_TARGET_MS = 100;
/** Issue #9: p95 of a switch to a layout whose streams are cold, ms. */
export const COLD_TARGET_MS = 1_500;

/** Hub cameras (`cam1`…), all reading the one RTSP test camera (main and sub). */
const CAMERA_COUNT = 4;
const KIOSK = 'bench-wall';
const DISPLAY = `${KIOSK}-hdmi-0`;
/** The kiosk's window = its display, px. */
const VIEW = { width: 1280, height: 720 };
/** QoS of the measured `…/layout/set` publishes. */
const SET_QOS = 1;
/** Default warm and cold switches measured (QoS {@link SET_QOS}), and warm ones at QoS 0. */
const WARM_SWITCHES = 20;
const COLD_SWITCHES = 10;
const WARM_QOS0_SWITCHES = 10;
/** Default cell counts of the CPU part, in order; the first is the reference (1 cell). */
const CELL_COUNTS = [1, 9, 16, 32];
/** Playback before a CPU window, s. */
const WARMUP_S = 5;
/** Length of a CPU window, s. */
const WINDOW_S = 12;
/** Pause after a warm switch painted before the next one, ms. */
const WARM_SETTLE_MS = 400;
/** Pause after a cold switch painted (the new streams settle at the live edge), ms. */
const COLD_SETTLE_MS = 1_200;
/** Longest wait for a switch to paint, ms (a cold 32-cell wall on 2 cores is the slowest). */
const PAINT_TIMEOUT_MS = 60_000;
/** Longest wait for the pairing code, the kiosk online, or warm players with frames, ms. */
const READY_TIMEOUT_MS = 30_000;
/** Clock ticks per second of `/proc/<pid>/stat` times. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const MIB = 1024 * 1024;

/** Options of {@link benchKiosk}. */
export interface BenchKioskOptions {
  /** Warm switches measured (default 20). */
  warmSwitches?: number;
  /** Cold switches measured (default 10). */
  coldSwitches?: number;
  /** Extra warm switches published at QoS 0 (default 10). */
  warmQos0Switches?: number;
  /** Cell counts of the CPU part, each of 1, 4, 9, 16, 32; the first is the reference (default [1, 9, 16, 32]). */
  cellCounts?: number[];
  /** Warm-up before each CPU window, s (default 5). */
  warmupSeconds?: number;
  /** Length of each CPU window, s (default 12). */
  windowSeconds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cam = (i: number) => `cam${(i % CAMERA_COUNT) + 1}`;
const subCell = (camera: string) => ({ type: 'camera', camera, stream: 'sub' }) as const;

// ---- the kiosk page ---------------------------------------------------------------------

/** Everything a run holds open. */
interface Rig {
  rtsp: RtspServer;
  hub: TestHub;
  browser: Browser;
  page: Page;
  /** Root pid of the Chromium process tree (the browser process). */
  browserPid: number;
  /** Operator (API key as MQTT password): publishes `…/layout/set`. */
  operator: MqttClient;
  /** Independent subscriber of `…/layout/state`: the MQTT-leg reference. */
  observer: MqttClient;
  /** Page errors and console errors seen so far. */
  problems: string[];
}

/** Pid of the Chromium that playwright launched: our child with `--remote-debugging-pipe`. */
function findBrowserPid(): number {
  for (const pid of listPids()) {
    const st = readStat(pid);
    if (st?.ppid !== process.pid) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (/chrom/i.test(cmd) && cmd.includes('--remote-debugging-pipe')) return pid;
  }
  throw new Error('cannot find the Chromium browser process among this process\'s children');
}

function listPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** `/proc/<pid>/stat`: parent and CPU ticks (own + reaped children's), or null if gone. */
function readStat(pid: number): { ppid: number; ticks: number } | null {
  let s: string;
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] = field 3 (state)
  const n = (i: number) => Number(f[i - 3]);
  return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
}

/** `root` and all its descendants now. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    const st = readStat(pid);
    if (st) children.set(st.ppid, [...(children.get(st.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  for (const todo = [root]; todo.length;) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU ticks of the tree under `root`. */
function treeTicks(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (readStat(pid)?.ticks ?? 0), 0);
}

/** PSS and RSS of the tree under `root`, bytes. */
function treeMemory(root: number): { pss: number; rss: number } {
  let pss = 0, rss = 0;
  for (const pid of processTree(root)) {
    try {
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
      rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch { /* exited meanwhile */ }
  }
  return { pss, rss };
}

async function startRig(): Promise<Rig> {
  await writeKioskDist(); // the hub serves the built page: build it from the current sources
  const rtsp = await startRtspServer();
  const problems: string[] = [];
  let hub: TestHub | undefined;
  let browser: Browser | undefined;
  try {
    hub = await startTestHub({ detector: { enabled: false } });
    for (let i = 0; i < CAMERA_COUNT; i++) {
      const r = await api(hub.baseUrl, 'POST', '/api/cameras', {
        name: cam(i), paths: { detect: rtsp.subUrl, live: rtsp.mainUrl },
        detect: { enabled: false }, record: { enabled: false }, snapshots: { enabled: false }, motion: { enabled: false },
      });
      if (r.status !== 201) throw new Error(`POST /api/cameras ${cam(i)}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const key = await api(hub.baseUrl, 'POST', '/api/api-keys', { name: 'bench-operator', scope: 'control' });
    if (key.status !== 201) throw new Error(`POST /api/api-keys: ${key.status} ${JSON.stringify(key.body)}`);
    const operator = await mqtt.connectAsync(hub.mqttUrl, { protocolVersion: 4, username: 'bench-operator', password: key.body.key as string, reconnectPeriod: 0 });
    const observer = await mqtt.connectAsync(hub.mqttUrl, { protocolVersion: 4, ...hub.mqttCreds, reconnectPeriod: 0 });
    await observer.subscribeAsync(`vigil/display/${DISPLAY}/layout/state`, { qos: 0 });

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    });
    const browserPid = findBrowserPid();
    const page = await browser.newPage({ viewport: VIEW });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
    await pair(page, hub);
    // A string, not a function: tsx's name helpers must not leak into the page.
    await page.evaluate('window.__benchPainted = []; window.__vigilKiosk.onSwitchPainted((s) => window.__benchPainted.push({ ...s }))');
    return { rtsp, hub, browser, page, browserPid, operator, observer, problems };
  } catch (e) {
    await browser?.close();
    await hub?.stop();
    await rtsp.stop();
    throw e;
  }
}

async function stopRig(r: Rig): Promise<void> {
  await r.browser.close().catch(() => {});
  await r.operator.endAsync().catch(() => {});
  await r.observer.endAsync().catch(() => {});
  await r.hub.stop();
  await r.rtsp.stop();
}

/** Opens `/kiosk`, pairs the code it shows as {@link KIOSK}, waits until it is online. */
async function pair(page: Page, hub: TestHub): Promise<void> {
  await page.goto(`${hub.baseUrl}/kiosk`);
  const codeEl = page.locator('[data-pairing-code]');
  await codeEl.waitFor({ timeout: READY_TIMEOUT_MS });
  let code: string | null = null;
  for (const t = Date.now(); !code && Date.now() - t < READY_TIMEOUT_MS; await sleep(200)) code = await codeEl.getAttribute('data-pairing-code');
  if (!code) throw new Error('the kiosk page showed no pairing code');
  const paired = await api(hub.baseUrl, 'POST', '/api/kiosks/pair', { code, id: KIOSK, name: 'Bench wall' });
  if (paired.status !== 201) throw new Error(`POST /api/kiosks/pair: ${paired.status} ${JSON.stringify(paired.body)}`);
  await page.waitForFunction(() => window.__vigilKiosk?.phase === 'online', undefined, { timeout: READY_TIMEOUT_MS });
}

async function createLayout(r: Rig, body: Record<string, unknown>): Promise<void> {
  const res = await api(r.hub.baseUrl, 'POST', '/api/layouts', body);
  if (res.status !== 201) throw new Error(`POST /api/layouts ${String(body.id)}: ${res.status} ${JSON.stringify(res.body)}`);
}

const players = (r: Rig) => r.page.evaluate(() => window.__vigilKiosk!.players()) as Promise<Record<string, PlayerInfo>>;

/** One measured switch. */
interface SwitchSample {
  /** Publish → the kiosk painted the new layout (page clock − bench clock), ms. */
  totalMs: number;
  /** Publish → the observer received the bundle, ms. */
  mqttMs: number;
  /** Publish → the kiosk received the bundle, ms. */
  atKioskMs: number;
  /** The kiosk's `painted_ms`. */
  paintedMs: number;
}

/** Resolves with the next bundle for `layout` that the observer receives, and when (performance.now()). */
function nextBundle(r: Rig, layout: string, timeoutMs = 10_000): Promise<{ bundle: Bundle; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { r.observer.off('message', on); reject(new Error(`no bundle for ${layout} within ${timeoutMs} ms`)); }, timeoutMs);
    function on(_topic: string, payload: Buffer): void {
      const at = performance.now();
      if (!payload.length) return;
      const b = JSON.parse(payload.toString()) as Bundle;
      if (b.layout !== layout) return;
      clearTimeout(timer);
      r.observer.off('message', on);
      resolve({ bundle: b, at });
    }
    r.observer.on('message', on);
  });
}

/** Publishes `layout` on `…/layout/set` as the operator and waits until the kiosk painted it. */
async function switchTo(r: Rig, layout: string, qos: 0 | 1 = SET_QOS): Promise<SwitchSample> {
  const arrived = nextBundle(r, layout);
  const t0 = Date.now();
  const p0 = performance.now();
  await r.operator.publishAsync(`vigil/display/${DISPLAY}/layout/set`, layout, { qos });
  const { bundle, at } = await arrived;
  const handle = await r.page.waitForFunction(
    (seq) => window.__benchPainted!.find((s) => s.seq === seq) ?? false,
    bundle.seq, { timeout: PAINT_TIMEOUT_MS, polling: 50 },
  );
  const rec = (await handle.jsonValue()) as SwitchRecord;
  await handle.dispose();
  return { totalMs: rec.received_at + rec.painted_ms! - t0, mqttMs: at - p0, atKioskMs: rec.received_at - t0, paintedMs: rec.painted_ms! };
}

/** Activates `layout` (not measured) and waits until it painted. */
async function showUnmeasured(r: Rig, layout: string): Promise<void> {
  await switchTo(r, layout);
}

/** Waits until every key of `keys` is an open player with a decoded frame; false on timeout. */
async function waitWarm(r: Rig, keys: string[], timeoutMs = READY_TIMEOUT_MS): Promise<boolean> {
  try {
    await r.page.waitForFunction((ks) => {
      const ps = window.__vigilKiosk!.players();
      return ks.every((k) => (ps[k]?.readyState ?? 0) >= 2 && ps[k]!.frames > 0);
    }, keys, { timeout: timeoutMs, polling: 100 });
    return true;
  } catch {
    return false;
  }
}

const stats = (xs: number[], prefix: string): Record<string, number> => ({
  [`${prefix}_median_ms`]: round(percentile(xs, 50), 0),
  [`${prefix}_p95_ms`]: round(percentile(xs, 95), 0),
  [`${prefix}_max_ms`]: round(percentile(xs, 100), 0),
});

// ---- part 1: switch latency ------------------------------------------------------------

async function switchLatency(r: Rig, warmN: number, coldN: number, warmQos0N: number): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  // Warm: A shows cam1+cam2 and preloads cam3+cam4; B the other way round.
  const [c1, c2, c3, c4] = [cam(0), cam(1), cam(2), cam(3)];
  const warm = {
    'warm-a': { cells: [c1, c2], preload: [c3, c4] },
    'warm-b': { cells: [c3, c4], preload: [c1, c2] },
  };
  for (const [id, l] of Object.entries(warm)) {
    await createLayout(r, { id, name: id, preset: '2x2', cells: [subCell(l.cells[0]!), subCell(l.cells[1]!), null, null], preload_camera_ids: l.preload, cooling_timeout_seconds: 0 });
  }
  // Cold: disjoint cameras, nothing preloaded, cooling 0: leaving one closes its streams.
  const cold = { 'cold-a': [c1, c2], 'cold-b': [c3, c4] };
  for (const [id, cams] of Object.entries(cold)) {
    await createLayout(r, { id, name: id, preset: '2x2', cells: [subCell(cams[0]!), subCell(cams[1]!), null, null], cooling_timeout_seconds: 0 });
  }

  const mqttMs: number[] = [];
  await showUnmeasured(r, 'warm-a');
  const allSub = [c1, c2, c3, c4].map((c) => `${c}/sub`);
  if (!(await waitWarm(r, allSub))) throw new Error(`warm players never all had frames: ${JSON.stringify(await players(r))}`);
  let current: keyof typeof warm = 'warm-a';
  /** `n` warm switches back and forth at `qos`; counts those whose target was really warm with a frame. */
  const warmRun = async (n: number, qos: 0 | 1): Promise<{ samples: SwitchSample[]; verified: number }> => {
    const samples: SwitchSample[] = [];
    let verified = 0;
    for (let i = 0; i < n; i++) {
      const target = current === 'warm-a' ? 'warm-b' : 'warm-a';
      const keys = warm[target].cells.map((c) => `${c}/sub`);
      // A warm switch is one to a target kept warm: give its players up to 3 s to have a frame
      // again (on a loaded machine a preloaded player can be between frames right after a switch).
      const isWarm = (ps: Awaited<ReturnType<typeof players>>): boolean => keys.every((k) => ps[k]?.warmth === 'warm' && ps[k]!.readyState >= 2);
      let ps = await players(r);
      for (const until = Date.now() + 3_000; !isWarm(ps) && Date.now() < until;) { await sleep(100); ps = await players(r); }
      if (isWarm(ps)) verified++;
      samples.push(await switchTo(r, target, qos));
      current = target;
      await sleep(WARM_SETTLE_MS);
    }
    return { samples, verified };
  };
  const { samples: warmS, verified: warmVerified } = await warmRun(warmN, SET_QOS);
  mqttMs.push(...warmS.map((s) => s.mqttMs));
  const { samples: warm0S } = await warmRun(warmQos0N, 0);

  const coldS: SwitchSample[] = [];
  let coldVerified = 0;
  await showUnmeasured(r, 'cold-b'); // cam1/cam2 (warm until now) close; cold-a is cold from here
  for (let i = 0; i < coldN; i++) {
    const target = i % 2 === 0 ? 'cold-a' : 'cold-b';
    const keys = cold[target].map((c) => `${c}/sub`);
    await sleep(COLD_SETTLE_MS);
    const ps = await players(r);
    if (!keys.some((k) => Object.keys(ps).some((p) => p === k || p.startsWith(`${k}#`)))) coldVerified++;
    const s = await switchTo(r, target);
    coldS.push(s);
    mqttMs.push(s.mqttMs);
  }

  const w = warmS.map((s) => s.totalMs), c = coldS.map((s) => s.totalMs);
  Object.assign(out, stats(mqttMs, 'mqtt_leg'));
  out.warm_switches = warmS.length;
  out.warm_switches_target_was_warm = warmVerified;
  Object.assign(out, stats(w, 'warm_switch'));
  out.warm_publish_to_kiosk_median_ms = round(percentile(warmS.map((s) => s.atKioskMs), 50), 0);
  out.warm_painted_median_ms = round(percentile(warmS.map((s) => s.paintedMs), 50), 0);
  out.warm_target_p95_ms = WARM_TARGET_MS;
  out.warm_target_met = percentile(w, 95) <= WARM_TARGET_MS ? 'yes' : 'no';
  out.cold_switches = coldS.length;
  out.cold_switches_target_was_cold = coldVerified;
  Object.assign(out, stats(c, 'cold_switch'));
  out.cold_publish_to_kiosk_median_ms = round(percentile(coldS.map((s) => s.atKioskMs), 50), 0);
  out.cold_painted_median_ms = round(percentile(coldS.map((s) => s.paintedMs), 50), 0);
  out.cold_target_p95_ms = COLD_TARGET_MS;
  out.cold_target_met = percentile(c, 95) <= COLD_TARGET_MS ? 'yes' : 'no';
  out.ratio_cold_over_warm_median = round(percentile(c, 50) / percentile(w, 50), 1);
  out.ratio_warm_over_mqtt_leg_median = round(percentile(w, 50) / percentile(mqttMs, 50), 1);
  if (warm0S.length) {
    Object.assign(out, stats(warm0S.map((s) => s.mqttMs), 'qos0_mqtt_leg'));
    Object.assign(out, stats(warm0S.map((s) => s.totalMs), 'qos0_warm_switch'));
  }
  return out;
}

// ---- part 2: CPU and memory per cell count ---------------------------------------------

/** Regions of an `n`-cell wall on the 12×12 grid: n ∈ {1, 4, 9, 16} equal tiles, 32 = eight rows of four. */
function wallRegions(n: number): Region[] {
  const cell = (i: number) => subCell(cam(i));
  if (n === 32) {
    const regions: Region[] = [];
    let y = 0;
    for (let row = 0; row < 8; row++) {
      const h = row % 2 ? 2 : 1; // 1+2+1+2… = 12
      for (let col = 0; col < 4; col++) regions.push({ name: `c${regions.length + 1}`, x: col * 3, y, w: 3, h, cell: cell(regions.length) });
      y += h;
    }
    return regions;
  }
  const side = Math.sqrt(n);
  if (!Number.isInteger(side) || 12 % side !== 0) throw new RangeError(`cell count ${n}: use 1, 4, 9, 16 or 32`);
  const size = 12 / side;
  return Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, x: (i % side) * size, y: Math.floor(i / side) * size, w: size, h: size, cell: cell(i) }));
}

interface CpuSample { cpuPct: number; nodeCpuPct: number; pss: number; rss: number; fpsSum: number; fpsMin: number; dropped: number; cells: number }

async function measureCells(r: Rig, n: number, warmupS: number, windowS: number): Promise<CpuSample> {
  const id = `wall-${n}`;
  await createLayout(r, { id, name: `${n} cells`, regions: wallRegions(n), cooling_timeout_seconds: 0 });
  await showUnmeasured(r, id);
  await sleep(warmupS * 1000);
  await r.page.evaluate(() => window.__vigilKiosk!.state()); // starts the per-cell fps interval
  const ticks0 = treeTicks(r.browserPid);
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const ticks1 = treeTicks(r.browserPid);
  const node1 = process.cpuUsage(node0);
  const ms = performance.now() - t0;
  const st = (await r.page.evaluate(() => window.__vigilKiosk!.state())) as KioskState;
  const mem = treeMemory(r.browserPid);
  const cells = Object.values(st.displays[DISPLAY]?.cells ?? {});
  return {
    cpuPct: ((ticks1 - ticks0) / CLK_TCK) / (ms / 1000) * 100,
    nodeCpuPct: ((node1.user + node1.system) / 1000 / ms) * 100,
    pss: mem.pss, rss: mem.rss,
    fpsSum: cells.reduce((s, c) => s + c.fps, 0),
    fpsMin: cells.length ? Math.min(...cells.map((c) => c.fps)) : 0,
    dropped: cells.reduce((s, c) => s + c.dropped, 0),
    cells: cells.length,
  };
}

async function cellCost(r: Rig, counts: number[], warmupS: number, windowS: number): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  const res = new Map<number, CpuSample>();
  for (const n of counts) {
    const s = await measureCells(r, n, warmupS, windowS);
    res.set(n, s);
    out[`cells_${n}_chromium_cpu_pct`] = round(s.cpuPct, 1);
    out[`cells_${n}_chromium_pss_mib`] = round(s.pss / MIB, 0);
    out[`cells_${n}_chromium_rss_mib`] = round(s.rss / MIB, 0);
    out[`cells_${n}_decoded_fps_sum`] = round(s.fpsSum, 1);
    out[`cells_${n}_slowest_cell_fps`] = round(s.fpsMin, 1);
    out[`cells_${n}_dropped_frames`] = s.dropped;
    if (s.cells !== n) out[`cells_${n}_cells_reporting`] = s.cells;
    out[`cells_${n}_node_hub_cpu_pct`] = round(s.nodeCpuPct, 1);
  }
  const ref = res.get(counts[0]!)!;
  const refN = counts[0]!;
  for (const n of counts.slice(1)) {
    const s = res.get(n)!;
    // CPU of one cell in an n-cell wall over the reference's per-cell CPU (1 = linear).
    out[`cells_${n}_cpu_per_cell_ratio_to_${refN}`] = round((s.cpuPct / n) / (ref.cpuPct / refN), 2);
    out[`cells_${n}_cpu_pct_per_extra_cell`] = round((s.cpuPct - ref.cpuPct) / (n - refN), 2);
    out[`cells_${n}_pss_mib_per_extra_cell`] = round((s.pss - ref.pss) / MIB / (n - refN), 1);
  }
  return out;
}

/**
 * Runs both parts in one hub and one paired kiosk.
 * @returns switch latencies (median/p95/max, ms; MQTT-leg reference and ratios), and per
 *   cell count Chromium CPU %, PSS/RSS MiB, decoded fps, dropped frames and per-cell ratios.
 */
export async function benchKiosk(opts: BenchKioskOptions = {}): Promise<Record<string, number | string>> {
  const rig = await startRig();
  try {
    const latency = await switchLatency(rig, opts.warmSwitches ?? WARM_SWITCHES, opts.coldSwitches ?? COLD_SWITCHES, opts.warmQos0Switches ?? WARM_QOS0_SWITCHES);
    const cost = await cellCost(rig, opts.cellCounts ?? CELL_COUNTS, opts.warmupSeconds ?? WARMUP_S, opts.windowSeconds ?? WINDOW_S);
    const out: Record<string, number | string> = { ...latency, ...cost, page_problems: rig.problems.length };
    if (rig.problems.length) out.first_page_problem = rig.problems[0]!.slice(0, 200);
    return out;
  } finally {
    await stopRig(rig);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchKiosk());
  process.exit();
}
