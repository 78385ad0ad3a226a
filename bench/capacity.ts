/**
 * Capacity benchmark (issue #12): how many cameras one hub sustains on this machine.
 *
 * A real hub as its own process (`bench/hub-process.ts`: embedded broker, defaults
 * otherwise) with N cameras of real footage, each looping a `file://` clip from
 * `<data_dir>/media` at 5 fps detect, 640×480. The clip, built once per run with ffmpeg
 * (H.264 in MP4, 10 fps, 640×480), is 20 s of OpenCV's vtest.avi (pedestrians) then 40 s
 * without people ({@link EmptyScene}: by default the same street emptied of its people,
 * still, with sensor noise; `--tree` uses tree.avi instead, a tree in the wind filling the
 * frame: motion without objects, the worst case) — people in view about a third of the
 * time. Camera k loops its own copy shifted by {@link vanDerCorput}(k) × 60 s (0, 30, 15,
 * 45, 7.5 … s), so the cameras are not in lockstep and the first N of them, for every step
 * N, have people at evenly spread times (about N/3 cameras see people at any moment).
 *
 * Per camera count N (stepped, cameras added to the running hub; stops at the first N not
 * sustained), after a warm-up, over a window bounded by two `vigil/component/detector/state`
 * messages (exact counters):
 * - frame → event latency: arrival of each `new`/`update` on `vigil/events` at an
 *   independent MQTT client − `after.frame_time` × 1000 (capture time in the camera
 *   component), p50/p95/max;
 * - the detector's per-camera counters (`cameras.<cam>` of its state): frames received,
 *   dropped (replaced in the one-frame queue), inferred, skipped (no region), inferences;
 *   waiting/in-flight frames sampled every 5 s;
 * - the camera component's frames decoded and detect frames sent (`vigil/camera/<cam>/state`);
 * - hub CPU (`/proc/<pid>/stat`, every thread) and its ffmpeg children's, hub VmRSS, and
 *   the CPU of everything else on the machine (`/proc/stat` busy − those − this process),
 *   which should be near 0: other load on the 2 cores skews every figure.
 *
 * N is **sustained** when frame→event p95 ≤ 1 s and the worst camera drops ≤ 5 % of the
 * frames the detector received (its queue holds one frame per camera, so a queue that
 * cannot keep up shows as drops, not as growth).
 *
 * Also: the same at N = 2 with today's path (`detector.runtime: tfjs`, `detect.mode:
 * full_frame`) as the reference, and the hub's RSS idle (no camera: the model must not be
 * loaded — `/api/system` `components.detector.state.runtime` is `not loaded`) and with 8 cameras.
 *
 * Run: `npm run bench -- capacity` (≈ 10 min), or
 * `npx tsx bench/capacity.ts [steps,…] [measureS] [regions|full_frame] [--no-reference] [--tree] [--threads=N]`
 * (e.g. `4,6,8 45 full_frame --no-reference`: the ONNX runtime on whole frames, to see what regions cost).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { FOOTAGE, percentile, round } from './frames.ts';
import { MIB, children, clockTicks, machineCpuTicks, median, procStat, rssBytes, runtimeOf, sleep, startHub, waitFor, warningFigures, type HubProcess } from './hub-process.ts';

/** Footage without people: a tree in the wind (Debian opencv-doc, 320×240, 15 fps, 29.6 s; a hand enters after ~24 s). */
export const TREE_FOOTAGE = '/usr/share/doc/opencv-doc/examples/data/tree.avi';
/** Seconds of tree.avi used (before the hand). */
const TREE_CHUNK_S = 20;
const ONLINE_TIMEOUT_MS = 60_000;
const STATE_TIMEOUT_MS = 15_000;

/** Options of {@link benchCapacity}. */
export interface BenchCapacityOptions {
  /** Camera counts to step through (ascending); default 2, 4, 6, 8, 10, 12. */
  steps?: number[];
  /** Measuring window per step, s; default 45. */
  measureS?: number;
  /** Warm-up after the cameras of a step are online, s; default 12. */
  warmupS?: number;
  /** Run today's path (TF.js wasm, full frame) at {@link referenceCameras} first; default true. */
  reference?: boolean;
  /** Cameras of the reference run; default 2. */
  referenceCameras?: number;
  /** Cameras for the loaded-RSS figure (measured on the way, or added after an early stop); default 8. */
  rssCameras?: number;
  /** Sustained: frame→event p95 at most this, ms; default 1000. */
  p95LimitMs?: number;
  /** Sustained: the worst camera's dropped frames at most this % of its received frames; default 5. */
  dropLimitPct?: number;
  /** `detect.mode` of the new path's cameras; default `regions` (`full_frame` shows what regions cost or save). */
  mode?: 'regions' | 'full_frame';
  /** Wait before the idle RSS samples, s; default 10. */
  idleSettleS?: number;
  /** Seconds of people (vtest.avi) then without (tree.avi) in the clip; default 20 and 40. */
  peopleS?: number;
  emptyS?: number;
  /** What the cameras see without people; default `street` (see {@link EmptyScene}). */
  empty?: EmptyScene;
  /** `detector.threads` of the new path's hub (ONNX intra-op threads); default the hub's default (1). */
  threads?: number;
}

/** The detector's per-camera counters (`detector-component.ts` `CameraDetectionStats`). */
interface CamDetection {
  frames_received: number;
  frames_dropped: number;
  frames_detected: number;
  frames_skipped: number;
  inferences: number;
  frames_scanned?: number;
  frames_whole_by_cost?: number;
  queued: number;
  in_flight: number;
}

interface DetectorState {
  runtime?: string;
  workers?: number;
  inference_ms?: number;
  inferences?: number;
  busy?: number;
  cameras?: Record<string, CamDetection>;
}

interface Stamped<T> { at: number; value: T }

/** One step's figures. */
export interface StepFigures {
  cameras: number;
  window_s: number;
  runtime: string;
  events: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  latency_max_ms: number;
  frames_received: number;
  drop_pct: number;
  worst_cam_drop_pct: number;
  /** Dropped % of each camera, `cam1/cam2/…`. */
  drop_pct_per_cam: string;
  /** Frames the detector finished per second, all cameras (inferred + skipped). */
  detector_fps: number;
  skipped_pct: number;
  inferences_per_inferred_frame: number;
  /** Inferred frames inferred whole, %: as scans, and because their regions would have cost more. */
  whole_pct: string;
  inference_ms: number;
  /** Mean frames waiting + in flight per camera over the window's state samples (the queue holds ≤ 1 waiting). */
  queue_mean: number;
  /** Camera component: frames decoded per camera per s, and the share of them sent to the detector, %. */
  cam_decoded_fps: number;
  cam_sent_pct: number;
  hub_cpu_pct: number;
  /** Hub CPU (every thread) per frame the detector finished, ms: the whole hub's cost of one detect frame. */
  hub_cpu_ms_per_frame: number;
  ffmpeg_cpu_pct: number;
  /** CPU of everything else on the machine over the window (busy − hub − its ffmpeg − this bench), % of one core: other load skews the figures. */
  other_cpu_pct: number;
  hub_rss_mib: number;
  sustained: string;
}

/**
 * What the cameras see when nobody is there:
 * - `street` (default): the street of vtest.avi with its people taken out (the per-pixel
 *   temporal median of one frame per second over the clip's 79 s) held still, with
 *   temporal sensor noise (ffmpeg `noise`, strength 6) and the H.264 encoder's own artefacts
 *   — a quiet camera, where motion detection should find nothing;
 * - `tree`: tree.avi, a tree filling the frame in the wind (its first 20 s, repeated) — the
 *   worst case, motion in ~90 % of frames without any object.
 */
export type EmptyScene = 'street' | 'tree';

/** Builds the looped clip (`peopleS` of vtest.avi, then `emptyS` of the `empty` scene) and `copies` shifted copies of it in `dir` (`clip-<k>.mp4`); returns their paths, the clip length (s) and the build time (s). @throws Error when ffmpeg fails. */
export function buildClips(dir: string, copies: number, peopleS: number, emptyS: number, empty: EmptyScene = 'street'): { files: string[]; seconds: number; buildS: number } {
  const t0 = performance.now();
  const ff = ffmpegPath();
  const enc = ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '20', '-bf', '0', '-pix_fmt', 'yuv420p', '-an'];
  const inputs = ['-t', String(peopleS), '-i', FOOTAGE];
  const norm = (i: number) => `[${i}:v]fps=10,scale=640:480,setsar=1,format=yuv420p[v${i}]`;
  const filters: string[] = [norm(0)];
  if (empty === 'tree') {
    const chunks = Math.ceil(emptyS / TREE_CHUNK_S);
    for (let i = 0; i < chunks; i++) {
      inputs.push('-t', String(Math.min(TREE_CHUNK_S, emptyS - i * TREE_CHUNK_S)), '-i', TREE_FOOTAGE);
      filters.push(norm(i + 1));
    }
  } else {
    const plate = join(dir, 'street-plate.png');
    execFileSync(ff, ['-v', 'error', '-y', '-i', FOOTAGE, '-vf', 'fps=1,scale=640:480,tmedian=radius=39', '-frames:v', '1', plate]);
    inputs.push('-loop', '1', '-framerate', '10', '-t', String(emptyS), '-i', plate);
    filters.push('[1:v]fps=10,scale=640:480,setsar=1,noise=alls=6:allf=t,format=yuv420p[v1]');
  }
  const n = filters.length;
  const graph = `${filters.join(';')};${Array.from({ length: n }, (_, i) => `[v${i}]`).join('')}concat=n=${n}:v=1:a=0[out]`;
  const base = join(dir, 'clip-0.mp4');
  execFileSync(ff, ['-v', 'error', '-y', ...inputs, '-filter_complex', graph, '-map', '[out]', ...enc, base]);
  const seconds = peopleS + emptyS;
  const files = [base];
  for (let k = 1; k < copies; k++) {
    const file = join(dir, `clip-${k}.mp4`);
    const offset = round(vanDerCorput(k) * seconds, 1);
    execFileSync(ff, ['-v', 'error', '-y', '-stream_loop', '1', '-i', base, '-ss', String(offset), '-t', String(seconds), ...enc, file]);
    files.push(file);
  }
  return { files, seconds, buildS: (performance.now() - t0) / 1000 };
}

/**
 * The k-th number of the base-2 van der Corput sequence (0, 1/2, 1/4, 3/4, 1/8, 5/8, …):
 * clip offsets such that the first N cameras, for any N, are spread evenly over the loop —
 * each camera has people a third of the time, and so, at any moment, about a third of them do.
 */
export function vanDerCorput(k: number): number {
  let v = 0;
  let base = 0.5;
  for (let n = k; n > 0; n >>= 1, base /= 2) if (n & 1) v += base;
  return v;
}

/** Listens on the hub's bus: events (latency), detector state, camera states. */
class BusWatch {
  readonly latency: Array<Stamped<{ cam: string; ms: number }>> = [];
  readonly detector: Array<Stamped<DetectorState>> = [];
  readonly cams = new Map<string, Array<Stamped<{ frames: number; sent: number }>>>();
  private waiters: Array<(s: Stamped<DetectorState>) => void> = [];

  private constructor(private readonly client: mqtt.MqttClient) {}

  static async connect(hub: HubProcess): Promise<BusWatch> {
    const client = await mqtt.connectAsync(hub.mqttUrl, { protocolVersion: 4, username: hub.mqtt!.username, password: hub.mqtt!.password, reconnectPeriod: 0 });
    const w = new BusWatch(client);
    client.on('message', (topic, payload) => w.onMessage(topic, payload));
    await client.subscribeAsync('vigil/events', { qos: 1 });
    await client.subscribeAsync('vigil/component/detector/state', { qos: 0 });
    await client.subscribeAsync('vigil/camera/+/state', { qos: 0 });
    return w;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const at = Date.now();
    let m: unknown;
    try { m = JSON.parse(payload.toString('utf8')); } catch { return; }
    if (topic === 'vigil/events') {
      const e = m as { type?: string; after?: { camera?: string; frame_time?: number } };
      if ((e.type === 'new' || e.type === 'update') && e.after?.frame_time) this.latency.push({ at, value: { cam: e.after.camera ?? '?', ms: at - e.after.frame_time * 1000 } });
    } else if (topic === 'vigil/component/detector/state') {
      const s = { at, value: m as DetectorState };
      this.detector.push(s);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f(s);
    } else {
      const cam = topic.split('/')[2]!;
      const st = m as { frames?: number; detect_frames_sent?: number };
      if (typeof st.frames !== 'number') return;
      const list = this.cams.get(cam) ?? [];
      list.push({ at, value: { frames: st.frames, sent: st.detect_frames_sent ?? 0 } });
      this.cams.set(cam, list);
    }
  }

  /** The next detector state message. */
  nextDetectorState(): Promise<Stamped<DetectorState>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no vigil/component/detector/state within ${STATE_TIMEOUT_MS / 1000} s`)), STATE_TIMEOUT_MS);
      this.waiters.push((s) => { clearTimeout(timer); resolve(s); });
    });
  }

  close(): Promise<void> { return this.client.endAsync(); }
}

/** Adds cameras `cam1…camN` not yet there (camera k loops clip k-1) and waits for all of them online. */
async function ensureCameras(hub: HubProcess, clips: string[], n: number, detect: Record<string, unknown>): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
  const { body } = await hub.get('/api/cameras');
  const have = new Set(((Array.isArray(body) ? body : (body as { cameras?: unknown[] }).cameras) ?? []).map((c) => (c as { name: string }).name));
  for (const [i, name] of names.entries()) {
    if (have.has(name)) continue;
    const res = await hub.post('/api/cameras', {
      name,
      paths: { detect: pathToFileURL(clips[i % clips.length]!).href },
      detect: { width: 640, height: 480, fps: 5, ...detect },
      objects: { track: ['person', 'car'] },
    });
    if (res.status !== 201) throw new Error(`POST /api/cameras ${name}: ${res.status} ${res.text}`);
  }
  let last: unknown;
  await waitFor(async () => {
    if (!hub.alive()) throw new Error('hub exited');
    const { body: sys } = await hub.get('/api/system');
    last = (sys as { cameras?: unknown }).cameras;
    const cams = (sys as { cameras?: Record<string, { availability?: string }> }).cameras ?? {};
    return names.every((c) => cams[c]?.availability === 'online');
  }, ONLINE_TIMEOUT_MS, () => `cameras not all online within ${ONLINE_TIMEOUT_MS / 1000} s; /api/system cameras: ${JSON.stringify(last).slice(0, 2000)}\n${hub.tail()}`);
  return names;
}

/** Measures one step: warm-up, then a window between two detector state messages. */
async function measureStep(hub: HubProcess, bus: BusWatch, names: string[], o: Required<Pick<BenchCapacityOptions, 'warmupS' | 'measureS' | 'p95LimitMs' | 'dropLimitPct'>>): Promise<StepFigures> {
  const ticks = clockTicks();
  await sleep(o.warmupS * 1000);
  const cpuOf = (pids: number[]) => pids.reduce((s, p) => s + (procStat(p)?.cpuTicks ?? 0), 0);
  const start = await bus.nextDetectorState();
  const ff0 = children(hub.pid).filter((c) => c.comm === 'ffmpeg').map((c) => c.pid);
  const hubCpu0 = procStat(hub.pid)?.cpuTicks ?? 0;
  const ffCpu0 = cpuOf(ff0);
  const machine0 = machineCpuTicks();
  const self0 = process.cpuUsage();
  const rss: number[] = [];
  const deadline = start.at + o.measureS * 1000;
  while (Date.now() < deadline - 5000) { await sleep(5000); rss.push(rssBytes(hub.pid)); }
  await sleep(Math.max(0, deadline - Date.now()));
  const end = await bus.nextDetectorState();
  const wall = (end.at - start.at) / 1000;
  const hubCpu = ((procStat(hub.pid)?.cpuTicks ?? 0) - hubCpu0) / ticks / wall * 100;
  const ffCpu = (cpuOf(ff0) - ffCpu0) / ticks / wall * 100;
  const machine1 = machineCpuTicks();
  const selfCpu = ((u) => (u.user + u.system) / 1e6 / wall * 100)(process.cpuUsage(self0));
  const machineCpu = (machine1.busy - machine0.busy) / ticks / wall * 100;
  rss.push(rssBytes(hub.pid));

  const lat = bus.latency.filter((l) => l.at > start.at && l.at <= end.at && names.includes(l.value.cam)).map((l) => l.value.ms);
  const zero: CamDetection = { frames_received: 0, frames_dropped: 0, frames_detected: 0, frames_skipped: 0, inferences: 0, queued: 0, in_flight: 0 };
  const delta = (cam: string) => {
    const a = start.value.cameras?.[cam] ?? zero;
    const b = end.value.cameras?.[cam] ?? zero;
    return {
      received: b.frames_received - a.frames_received, dropped: b.frames_dropped - a.frames_dropped,
      detected: b.frames_detected - a.frames_detected, skipped: b.frames_skipped - a.frames_skipped, inferences: b.inferences - a.inferences,
      scanned: (b.frames_scanned ?? 0) - (a.frames_scanned ?? 0), wholeByCost: (b.frames_whole_by_cost ?? 0) - (a.frames_whole_by_cost ?? 0),
    };
  };
  const d = names.map(delta);
  const sum = (k: keyof ReturnType<typeof delta>) => d.reduce((s, x) => s + x[k], 0);
  const worstDrop = Math.max(...d.map((x) => (x.received ? (x.dropped / x.received) * 100 : 0)));
  const samples = bus.detector.filter((s) => s.at >= start.at && s.at <= end.at);
  const queue = samples.flatMap((s) => names.map((c) => (s.value.cameras?.[c]?.queued ?? 0) + (s.value.cameras?.[c]?.in_flight ?? 0)));
  // Camera component: frames decoded and sent over the window (its state comes every 5 s, not aligned with the window).
  const camRates = names.map((c) => {
    const list = (bus.cams.get(c) ?? []).filter((s) => s.at >= start.at - 5000 && s.at <= end.at + 1000);
    if (list.length < 2) return null;
    const [a, b] = [list[0]!, list[list.length - 1]!];
    const s = (b.at - a.at) / 1000;
    return { decodedFps: (b.value.frames - a.value.frames) / s, sent: b.value.sent - a.value.sent, decoded: b.value.frames - a.value.frames };
  }).filter((x) => x !== null);
  const p95 = percentile(lat, 95);
  const dropPct = sum('received') ? (sum('dropped') / sum('received')) * 100 : NaN;
  const sustained = lat.length > 0 && p95 <= o.p95LimitMs && worstDrop <= o.dropLimitPct;
  return {
    cameras: names.length,
    window_s: round(wall),
    runtime: end.value.runtime ?? '?',
    events: lat.length,
    latency_p50_ms: Math.round(percentile(lat, 50)),
    latency_p95_ms: Math.round(p95),
    latency_max_ms: Math.round(Math.max(...lat)),
    frames_received: sum('received'),
    drop_pct: round(dropPct),
    worst_cam_drop_pct: round(worstDrop),
    drop_pct_per_cam: d.map((x) => round(x.received ? (x.dropped / x.received) * 100 : 0, 0)).join('/'),
    detector_fps: round((sum('detected') + sum('skipped')) / wall, 2),
    skipped_pct: round((sum('skipped') / Math.max(1, sum('detected') + sum('skipped'))) * 100),
    inferences_per_inferred_frame: round(sum('inferences') / Math.max(1, sum('detected')), 2),
    whole_pct: `${round((sum('scanned') / Math.max(1, sum('detected'))) * 100)} scan / ${round((sum('wholeByCost') / Math.max(1, sum('detected'))) * 100)} cost`,
    inference_ms: end.value.inference_ms ?? NaN,
    queue_mean: round(queue.reduce((a, b) => a + b, 0) / Math.max(1, queue.length), 2),
    cam_decoded_fps: round(camRates.reduce((s, r) => s + r.decodedFps, 0) / Math.max(1, camRates.length), 2),
    cam_sent_pct: round((camRates.reduce((s, r) => s + r.sent, 0) / Math.max(1, camRates.reduce((s, r) => s + r.decoded, 0))) * 100),
    hub_cpu_pct: round(hubCpu),
    hub_cpu_ms_per_frame: round((hubCpu * 10 * wall) / Math.max(1, sum('detected') + sum('skipped'))),
    ffmpeg_cpu_pct: round(ffCpu),
    other_cpu_pct: round(Math.max(0, machineCpu - hubCpu - ffCpu - selfCpu)),
    hub_rss_mib: round(median(rss) / MIB),
    sustained: lat.length === 0 ? 'no (no events)' : sustained ? 'yes' : `no (${p95 > o.p95LimitMs ? `p95 ${Math.round(p95)} ms` : ''}${p95 > o.p95LimitMs && worstDrop > o.dropLimitPct ? ', ' : ''}${worstDrop > o.dropLimitPct ? `drops ${round(worstDrop)} %` : ''})`,
  };
}

/** `/api/system` `components.detector.state.runtime`, waiting (≤ 15 s) for the detector's first state. */
async function detectorRuntime(hub: HubProcess): Promise<string> {
  let rt = '(no detector state)';
  await waitFor(async () => {
    const { body } = await hub.get('/api/system');
    const r = runtimeOf(body);
    if (r) rt = r;
    return r !== undefined;
  }, STATE_TIMEOUT_MS, () => 'no detector state').catch(() => undefined);
  return rt;
}

/** Results of {@link benchCapacity}: a summary and one row per measured step. */
export interface CapacityResult {
  summary: Record<string, number | string>;
  steps: Array<StepFigures & { path: string }>;
}

/**
 * Runs the capacity benchmark (≈ 10 min with the defaults).
 * @returns `summary`: `largest_sustained_cameras` (new path; 0 when even the first step failed)
 *   and its target 8, `idle_rss_mib` (median of 5 samples 1 s apart, no camera) with
 *   `idle_detector_runtime` and the target 250, `rss_<n>cams_mib`,
 *   `hub_per_core_new_over_today_at_<n>cams` (today's hub CPU per frame ÷ the new path's, same
 *   cameras and footage), clip and timing figures,
 *   hub warnings; `steps`: the {@link StepFigures} of the reference (`path: today`) and of each
 *   new-path step (`path: new`).
 * @throws Error when ffmpeg or the footage is missing, or a hub does not start or its cameras
 *   do not come online (with the tail of its output); hubs and temp files are cleaned up first.
 */
export async function benchCapacity(opts: BenchCapacityOptions = {}): Promise<CapacityResult> {
  const steps = [...(opts.steps ?? [2, 4, 6, 8, 10, 12])].sort((a, b) => a - b);
  const rssCams = opts.rssCameras ?? 8;
  const refCams = opts.referenceCameras ?? 2;
  const o = { warmupS: opts.warmupS ?? 12, measureS: opts.measureS ?? 45, p95LimitMs: opts.p95LimitMs ?? 1000, dropLimitPct: opts.dropLimitPct ?? 5 };
  const mode = opts.mode ?? 'regions';
  const maxCams = Math.max(...steps, rssCams, opts.reference === false ? 0 : refCams);
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-capacity-'));
  const summary: Record<string, number | string> = {};
  const rows: CapacityResult['steps'] = [];
  try {
    // One media folder both hubs may read (`<data_dir>/media` of each: the clips are built in the first).
    const media = join(dir, 'media');
    mkdirSync(media, { recursive: true });
    const empty = opts.empty ?? 'street';
    const clips = buildClips(media, maxCams, opts.peopleS ?? 20, opts.emptyS ?? 40, empty);
    summary.clip = `${opts.peopleS ?? 20} s vtest.avi + ${opts.emptyS ?? 40} s ${empty === 'tree' ? 'tree.avi (foliage in the wind)' : 'the empty street (vtest.avi without its people, still, with sensor noise)'}, 640x480 H.264 10 fps, ${clips.files.length} shifted copies`;
    summary.clip_build_s = round(clips.buildS);
    summary.detect = '640x480 @ 5 fps per camera';
    summary.sustained_rule = `frame→event p95 ≤ ${o.p95LimitMs} ms and worst camera drops ≤ ${o.dropLimitPct} % of frames received`;

    // --- today's path as the reference: TF.js wasm (workers = cores), full frame.
    if (opts.reference ?? true) {
      const hubDir = join(dir, 'today');
      mkdirSync(hubDir);
      const hub = await startHub({ dir: hubDir, mqttDevice: true, config: { detector: { runtime: 'tfjs' }, camera: { file_roots: [media] } } });
      let bus: BusWatch | undefined;
      try {
        bus = await BusWatch.connect(hub);
        const names = await ensureCameras(hub, clips.files, refCams, { mode: 'full_frame' });
        rows.push({ path: 'today (tfjs, full_frame)', ...(await measureStep(hub, bus, names, { ...o, warmupS: o.warmupS + 5 })) });
      } finally {
        await bus?.close();
        await hub.stop();
        Object.assign(summary, warningFigures(hub.warnings, 'today_hub_warnings'));
      }
    }

    // --- the new path: the hub's defaults (runtime auto → ONNX, regions).
    const hubDir = join(dir, 'new');
    mkdirSync(hubDir);
    const hub = await startHub({ dir: hubDir, mqttDevice: true, config: { camera: { file_roots: [media] }, ...(opts.threads ? { detector: { threads: opts.threads } } : {}) } });
    let bus: BusWatch | undefined;
    try {
      summary.hub_start_s = round(hub.startS);
      bus = await BusWatch.connect(hub);
      // Idle: no camera, so no model.
      await sleep((opts.idleSettleS ?? 10) * 1000);
      const idle: number[] = [];
      for (let i = 0; i < 5; i++) { if (i) await sleep(1000); idle.push(rssBytes(hub.pid)); }
      summary.idle_rss_mib = round(median(idle) / MIB);
      summary.idle_rss_target_mib = 250;
      summary.idle_detector_runtime = await detectorRuntime(hub);

      let largest = 0;
      let failedAt: number | undefined;
      for (const n of steps) {
        const names = await ensureCameras(hub, clips.files, n, { mode });
        const f = await measureStep(hub, bus, names, { ...o, warmupS: n === steps[0] ? o.warmupS + 5 : o.warmupS });
        rows.push({ path: `new (default runtime, ${mode})`, ...f });
        if (n === rssCams) summary[`rss_${rssCams}cams_mib`] = f.hub_rss_mib;
        if (f.sustained !== 'yes') { failedAt = n; break; }
        largest = n;
      }
      summary.largest_sustained_cameras = largest;
      const ref = rows.find((r) => r.path.startsWith('today'));
      const same = rows.find((r) => r.path.startsWith('new') && r.cameras === ref?.cameras);
      if (ref && same) summary[`hub_per_core_new_over_today_at_${ref.cameras}cams`] = round(ref.hub_cpu_ms_per_frame / same.hub_cpu_ms_per_frame, 2);
      summary.largest_sustained_target = 8;
      summary.new_path_mode = mode;
      summary.first_failed_cameras = failedAt ?? `none up to ${steps[steps.length - 1]}`;
      if (summary[`rss_${rssCams}cams_mib`] === undefined) {
        // Stopped before rssCams (or never stepped there): add cameras for the RSS figure alone.
        const names = await ensureCameras(hub, clips.files, rssCams, { mode });
        await sleep(20_000);
        const rss: number[] = [];
        for (let i = 0; i < 5; i++) { if (i) await sleep(1000); rss.push(rssBytes(hub.pid)); }
        summary[`rss_${rssCams}cams_mib`] = round(median(rss) / MIB);
        summary[`rss_${rssCams}cams_note`] = `measured apart (${names.length} cameras, 20 s settle), not a capacity step`;
      }
      summary.runtime = await detectorRuntime(hub);
    } finally {
      await bus?.close();
      const stopped = await hub.stop();
      summary.hub_exit_code = stopped.exitCode;
      Object.assign(summary, warningFigures(hub.warnings));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  summary.bench_s = round((performance.now() - t0) / 1000);
  return { summary, steps: rows };
}

/** Prints the steps as a table and the summary as key/value lines. */
export function printCapacity(r: CapacityResult): void {
  console.table(r.steps);
  const pad = Math.max(...Object.keys(r.summary).map((k) => k.length));
  for (const [k, v] of Object.entries(r.summary)) console.log(`${k.padEnd(pad)}  ${v}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const steps = process.argv[2] ? process.argv[2].split(',').map(Number) : undefined;
  const measureS = process.argv[3] ? Number(process.argv[3]) : undefined;
  const mode = process.argv[4] === 'full_frame' ? 'full_frame' : undefined;
  const empty = process.argv.includes('--tree') ? 'tree' : undefined;
  const threads = Number(process.argv.find((a) => a.startsWith('--threads='))?.slice(10)) || undefined;
  printCapacity(await benchCapacity({ steps, measureS, mode, empty, threads, reference: process.argv.includes('--no-reference') ? false : undefined }));
  process.exit(0);
}
