/**
 * Detector benchmark (issue #12): today's path against the new one, on the same run of
 * consecutive real frames (OpenCV's vtest.avi, pedestrians, at 5 fps and 640×480: motion
 * and tracking are real), each path with one inference at a time:
 *
 * - **today**: TF.js wasm in one worker thread, the whole frame stretched to 512 px
 *   (`loadObjectRuntime({ runtime: 'tfjs', concurrency: 1 })` + `detectFrame` `full_frame`);
 * - **new**: ONNX (onnxruntime-node, one intra-op thread), regions of ≥ 320 px around the
 *   camera's motion boxes ({@link MotionDetector}, run on the raw RGB frames as the camera
 *   component does) and the objects a real {@link EventLifecycle} tracks from the previous
 *   frames (`detectFrame` `regions`);
 * - **onnx full frame** (`onnx_full_*`): ONNX at 512 px on the whole frame, one thread (the
 *   runtime alone, same input as today's path).
 *
 * Both paths feed their detections to their own {@link EventLifecycle} (part of the
 * detector's work, and where the next frame's regions come from). CPU time is
 * `process.cpuUsage()` deltas: user + system of every thread of this process (the main
 * thread, TF.js's worker thread, onnxruntime's worker and native threads, libvips).
 *
 * Headline: **inference per core, new ÷ today** = (frames per CPU-second, new) ÷ (frames per
 * CPU-second, today), the target being ≥ 3. Also the pure model ratios from
 * one-at-a-time calls (ONNX 320 on the new path's real regions vs wasm 512 on whole
 * frames, and ONNX 512 vs wasm 512 on whole frames), and the RSS one model adds to a fresh
 * process (each runtime probed in its own child process, so neither sees the other's pages).
 *
 * Run: `npm run bench -- detector`, or `npx tsx bench/detector.ts [frames]` (default 100).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { MotionDetector } from '../components/camera/motion.ts';
import { EventLifecycle } from '../components/detector/event-lifecycle.ts';
import { detectFrame, cropRgb, scanDue, type FrameDetections } from '../components/detector/frame-detector.ts';
import { loadObjectRuntime, type ObjectRuntime } from '../components/detector/object-runtime.ts';
import type { Region } from '../components/detector/regions.ts';
import { cameraConfig, type CameraConfig } from '../components/protocol/camera-config.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { silentLogger } from '../components/protocol/log.ts';
import type { Box } from '../components/protocol/tracked-object.ts';
import { FOOTAGE, percentile, round } from './frames.ts';
import { clockTicks, machineCpuTicks } from './hub-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIB = 1024 * 1024;
/** JPEG quality of the camera component's detect frames (`camera-runner.ts` `JPEG_QUALITY`). */
const CAMERA_JPEG_QUALITY = 80;

/** Options of {@link benchDetector}. */
export interface BenchDetectorOptions {
  /** Consecutive frames run through each path; default 100 (20 s of footage at 5 fps). */
  frames?: number;
  /** Decode rate, frames per second of video; default 5 (the default `detect.fps`). */
  fps?: number;
  /** Where in the footage the run starts, s; default 0. */
  startS?: number;
  /** Frame size, px; default 640×480. */
  width?: number;
  height?: number;
  /** Whole frames for the one-at-a-time model runs (wasm 512, ONNX 512); default 30. */
  modelFrames?: number;
  /** Probe the RSS of each runtime in a child process (≈10 s); default true. */
  rss?: boolean;
  /** Footage; default OpenCV's vtest.avi. */
  video?: string;
}

/** A decoded frame: packed RGB24 as ffmpeg hands it to the camera component, and the camera's JPEG of it. */
interface Frame {
  rgb: Buffer;
  jpeg: Buffer;
  width: number;
  height: number;
}

/** Consecutive frames of `video` from `startS`, `fps` per second of video, as RGB24 and camera JPEGs. */
async function consecutiveFrames(video: string, startS: number, count: number, fps: number, width: number, height: number): Promise<Frame[]> {
  const raw = execFileSync(ffmpegPath(), [
    '-v', 'error', '-ss', String(startS), '-i', video, '-vf', `fps=${fps},scale=${width}:${height}`,
    '-frames:v', String(count), '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ], { maxBuffer: count * width * height * 3 + MIB });
  const size = width * height * 3;
  const n = Math.floor(raw.length / size);
  if (n < count) throw new Error(`ffmpeg gave ${n} frames of ${video} from ${startS} s, expected ${count}`);
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const rgb = Buffer.from(raw.subarray(i * size, (i + 1) * size));
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: CAMERA_JPEG_QUALITY }).toBuffer();
    frames.push({ rgb, jpeg, width, height });
  }
  return frames;
}

/** CPU time (user + system, every thread of the process) and wall time of `fn`, ms. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, cpuMs: (c.user + c.system) / 1000, wallMs };
}

/** What one path did over the run. */
interface PathRun {
  frames: number;
  cpuMs: number;
  wallMs: number;
  inferences: number;
  framesWithoutInference: number;
  decodeMs: number[];
  lifecycleMs: number[];
  detections: number;
  /** Objects that became true positives (`new` messages), by label. */
  objects: Map<string, number>;
  /** Frames with at least one tracked true-positive person. */
  personFrames: number;
  /** Regions inferred, per frame (the new path's crops, for the pure model run). */
  regions: Region[][];
  /** Region sides inferred, px. */
  regionSides: number[];
  /** `regions` mode: frames inferred whole as scans, and because their regions would have cost more than one full-frame pass. */
  scans: number;
  wholeByCost: number;
}

/**
 * Runs every frame through `detectFrame` one at a time and feeds a real tracker. Motion boxes
 * come precomputed (the camera component computes them, not the detector).
 */
async function runPath(rt: ObjectRuntime, frames: Frame[], motion: Box[][], mode: 'regions' | 'full_frame', cam: CameraConfig, fps: number): Promise<PathRun> {
  const lifecycle = new EventLifecycle(cam);
  const run: PathRun = { frames: frames.length, cpuMs: 0, wallMs: 0, inferences: 0, framesWithoutInference: 0, decodeMs: [], lifecycleMs: [], detections: 0, objects: new Map(), personFrames: 0, regions: [], regionSides: [], scans: 0, wholeByCost: 0 };
  const t0 = 1_700_000_000; // frame times, Unix s
  let lastScanTs: number | undefined;
  const { cpuMs, wallMs } = await measured(async () => {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      const ts = (t0 + i / fps) * 1000;
      const scan = scanDue(lastScanTs, ts, cam.detect.interval_without_motion);
      if (scan) lastScanTs = ts;
      const r: FrameDetections = await detectFrame(rt, { jpeg: f.jpeg, mode, tracked: lifecycle.trackedBoxes, motion: motion[i]!, labels: cam.objects.track, scan, size: { width: f.width, height: f.height } });
      if (r.whole === 'scan') run.scans++;
      if (r.whole === 'cost') run.wholeByCost++;
      const l0 = performance.now();
      const out = lifecycle.processFrame(r.detections, ts / 1000, { width: r.width, height: r.height }, r.regions);
      run.lifecycleMs.push(performance.now() - l0);
      run.inferences += r.inferences;
      if (!r.inferences) run.framesWithoutInference++;
      run.decodeMs.push(r.decodeMs);
      run.detections += r.detections.length;
      run.regions.push(r.regions);
      for (const g of r.regions) run.regionSides.push(g[2] - g[0]);
      for (const m of out.messages) if (m.type === 'new') run.objects.set(m.after.label, (run.objects.get(m.after.label) ?? 0) + 1);
      if (lifecycle.objects.some((o) => o.label === 'person')) run.personFrames++;
    }
  });
  run.cpuMs = cpuMs;
  run.wallMs = wallMs;
  return run;
}

/** One model call at a time on each input; CPU and wall per call, ms, and the runtime's own model time. */
async function oneAtATime(rt: ObjectRuntime, inputs: Array<{ rgb: Buffer; width: number; height: number }>, kind: 'region' | 'full'): Promise<{ cpuMs: number; wallMs: number; modelMs: number[] }> {
  for (const x of inputs.slice(0, 2)) await rt.detect(x.rgb, x.width, x.height, kind); // warm-up
  const modelMs: number[] = [];
  const { cpuMs, wallMs } = await measured(async () => {
    for (const x of inputs) modelMs.push((await rt.detect(x.rgb, x.width, x.height, kind)).ms);
  });
  return { cpuMs: cpuMs / inputs.length, wallMs: wallMs / inputs.length, modelMs };
}

/** RSS a runtime adds to a fresh process (`--rss-probe` child), MiB; NaN with the reason when the probe fails. */
function probeRss(runtime: 'onnx' | 'tfjs'): { beforeMib: number; afterMib: number; error?: string } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--rss-probe', runtime], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) return { beforeMib: NaN, afterMib: NaN, error: (r.stderr || r.stdout || String(r.error)).trim().slice(-300) };
  return JSON.parse(line) as { beforeMib: number; afterMib: number };
}

/** The `--rss-probe` child: RSS before loading, then after loading `runtime` and running a few frames. */
async function rssProbe(runtime: 'onnx' | 'tfjs'): Promise<void> {
  const [f] = await consecutiveFrames(FOOTAGE, 10, 1, 5, 640, 480);
  const settle = async () => { await new Promise((r) => setTimeout(r, 1000)); (globalThis as { gc?: () => void }).gc?.(); };
  await sharp(f!.jpeg).raw().toBuffer(); // libvips loaded in both
  await settle();
  const before = process.memoryUsage.rss();
  const rt = await loadObjectRuntime({ runtime, concurrency: 1, threads: 1, logger: silentLogger });
  for (let i = 0; i < 3; i++) {
    await detectFrame(rt, { jpeg: f!.jpeg, mode: 'full_frame', tracked: [], motion: [], labels: ['person'] });
    await detectFrame(rt, { jpeg: f!.jpeg, mode: 'regions', tracked: [{ box: [100, 100, 200, 300], stationary: false }], motion: [[400, 200, 480, 400]], labels: ['person'] });
  }
  await settle();
  const after = process.memoryUsage.rss();
  console.log(JSON.stringify({ runtime: rt.name, beforeMib: round(before / MIB), afterMib: round(after / MIB) }));
  await rt.stop();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const perSecond = (frames: number, ms: number): number => (frames / ms) * 1000;
const labelsOf = (m: Map<string, number>): string => [...m].sort().map(([l, n]) => `${l}:${n}`).join(' ') || '-';

/**
 * Benchmarks today's detector path against the new one on the same consecutive frames.
 *
 * @returns figures keyed by name, among them: `today_*` / `new_*` / `onnx_full_*` per path — `cpu_ms_per_frame`
 *   (process CPU time, all threads, ms), `wall_ms_per_frame`, `frames_per_cpu_s`,
 *   `inferences_per_frame`, `frames_without_inference`, `decode_ms_median` (JPEG decode),
 *   `lifecycle_ms_median` (filter + track + events), `objects_found` (true-positive
 *   objects by label), `person_frames_pct`; `new_region_side_px_median`;
 *   `motion_cpu_ms_per_frame` (the camera's motion boxes, not in the detector's figures);
 *   `inference_per_core_new_over_today` (headline, target ≥ 3) and
 *   `…_with_motion` (motion CPU added to both paths), `inference_per_core_onnx_full_over_today`;
 *   `new_cpu_model_share_pct` / `new_cpu_decode_share_pct` (where the new path's CPU goes);
 *   `model_*` one-at-a-time figures
 *   (`wall_ms`, `cpu_ms` per call) for wasm 512, ONNX 320 regions (also with one intra-op
 *   thread per core, the hub's default: `model_onnx320_region_threads<cores>_*`) and ONNX 512, with
 *   `model_ratio_onnx320_regions_vs_wasm512` and `model_ratio_onnx512_vs_wasm512`
 *   (wasm ms ÷ ONNX ms, wall and CPU); `other_cpu_pct` (CPU of other processes during the
 *   runs, % of one core: should be ~0); `rss_*` (MiB a model adds to a fresh process).
 * @throws Error when ffmpeg or the footage is missing or a runtime cannot load.
 */
export async function benchDetector(opts: BenchDetectorOptions = {}): Promise<Record<string, number | string>> {
  const count = opts.frames ?? 100;
  const fps = opts.fps ?? 5;
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const frames = await consecutiveFrames(opts.video ?? FOOTAGE, opts.startS ?? 0, count, fps, width, height);
  const machine0 = machineCpuTicks();
  const self0 = process.cpuUsage();
  const wall0 = performance.now();
  const cam = cameraConfig.parse({ name: 'bench', paths: { detect: pathToFileURL(FOOTAGE).href }, detect: { width, height, fps } });

  // The camera component's motion boxes, frame by frame (its own CPU, reported apart).
  const motion = new MotionDetector(cam.motion);
  const motionRun = await measured(async () => frames.map((f) => motion.update(f.rgb, width, height)));
  const motionBoxes = motionRun.value.map((m) => m.boxes);

  const out: Record<string, number | string> = {
    footage: `${(opts.video ?? FOOTAGE).split('/').pop()} from ${opts.startS ?? 0} s`,
    frames: frames.length,
    frame_size: `${width}x${height}`,
    fps,
    cores: os.availableParallelism(),
    motion_frames_pct: round((motionRun.value.filter((m) => m.motion).length / frames.length) * 100),
    motion_boxes_per_frame: round(motionBoxes.reduce((s, b) => s + b.length, 0) / frames.length, 2),
    motion_cpu_ms_per_frame: round(motionRun.cpuMs / frames.length, 2),
  };
  const whole = frames.slice(0, opts.modelFrames ?? 30).map((f) => ({ rgb: f.rgb, width, height }));

  // --- today: TF.js wasm, one worker, full frame at 512.
  const tLoad = performance.now();
  const tfjs = await loadObjectRuntime({ runtime: 'tfjs', concurrency: 1, logger: silentLogger });
  out.today_runtime = `${tfjs.name} ${tfjs.fullFrameSize}px full frame, 1 worker`;
  out.today_load_ms = Math.round(performance.now() - tLoad);
  let today: PathRun;
  let wasm512: Awaited<ReturnType<typeof oneAtATime>>;
  try {
    for (const f of frames.slice(0, 3)) await detectFrame(tfjs, { jpeg: f.jpeg, mode: 'full_frame', tracked: [], motion: [], labels: cam.objects.track }); // warm-up
    today = await runPath(tfjs, frames, motionBoxes, 'full_frame', cam, fps);
    wasm512 = await oneAtATime(tfjs, whole, 'full');
  } finally {
    await tfjs.stop();
  }

  // --- new: ONNX, one thread, regions of ≥ 320 px; then the same runtime on whole frames at 512.
  const oLoad = performance.now();
  const onnx = await loadObjectRuntime({ runtime: 'onnx', concurrency: 1, threads: 1, logger: silentLogger });
  out.new_runtime = `${onnx.name} regions ≥${onnx.regionSize}px, 1 thread`;
  out.new_load_ms = Math.round(performance.now() - oLoad);
  let fresh: PathRun;
  let onnxFull: PathRun;
  let onnx320: Awaited<ReturnType<typeof oneAtATime>>;
  let onnx512: Awaited<ReturnType<typeof oneAtATime>>;
  let regionCrops: Array<{ rgb: Buffer; width: number; height: number }> = [];
  try {
    for (const f of frames.slice(0, 3)) await detectFrame(onnx, { jpeg: f.jpeg, mode: 'regions', tracked: [], motion: [[0, 0, width, height]], labels: cam.objects.track }); // warm-up
    fresh = await runPath(onnx, frames, motionBoxes, 'regions', cam, fps);
    onnxFull = await runPath(onnx, frames, motionBoxes, 'full_frame', cam, fps);
    // The new path's own regions, cropped from their frames, one call each.
    const crops = fresh.regions.flatMap((rs, i) => rs.map((g) => ({ rgb: cropRgb(frames[i]!.rgb, width, g), width: g[2] - g[0], height: g[3] - g[1] })));
    regionCrops = crops.filter((_, k) => k % Math.max(1, Math.floor(crops.length / 60)) === 0);
    onnx320 = await oneAtATime(onnx, regionCrops, 'region');
    onnx512 = await oneAtATime(onnx, whole, 'full');
  } finally {
    await onnx.stop();
    await sleep(500); // the session closes after stop() returns (see the report on onnx-model.ts dispose)
  }

  // The hub's default ONNX threads (one intra-op thread per core), same region crops: CPU per call vs latency.
  const cores = os.availableParallelism();
  const onnxMt = await loadObjectRuntime({ runtime: 'onnx', concurrency: 1, threads: cores, logger: silentLogger });
  let onnx320mt: Awaited<ReturnType<typeof oneAtATime>>;
  try {
    onnx320mt = await oneAtATime(onnxMt, regionCrops, 'region');
  } finally {
    await onnxMt.stop();
    await sleep(500);
  }

  for (const [k, r] of [['today', today], ['new', fresh], ['onnx_full', onnxFull]] as const) {
    out[`${k}_cpu_ms_per_frame`] = round(r.cpuMs / r.frames);
    out[`${k}_wall_ms_per_frame`] = round(r.wallMs / r.frames);
    out[`${k}_frames_per_cpu_s`] = round(perSecond(r.frames, r.cpuMs), 2);
    out[`${k}_inferences_per_frame`] = round(r.inferences / r.frames, 2);
    out[`${k}_frames_without_inference`] = r.framesWithoutInference;
    out[`${k}_decode_ms_median`] = round(percentile(r.decodeMs, 50), 2);
    out[`${k}_lifecycle_ms_median`] = round(percentile(r.lifecycleMs, 50), 2);
    out[`${k}_detections_per_frame`] = round(r.detections / r.frames, 2);
    out[`${k}_objects_found`] = labelsOf(r.objects);
    out[`${k}_person_frames_pct`] = round((r.personFrames / r.frames) * 100);
  }
  out.new_scans = fresh.scans;
  out.new_whole_by_cost = fresh.wholeByCost;
  out.new_region_side_px_median = percentile(fresh.regionSides, 50);
  out.new_region_side_px_max = Math.max(0, ...fresh.regionSides);
  out.new_cpu_ms_per_inference = round(fresh.cpuMs / Math.max(1, fresh.inferences));
  out.inference_per_core_new_over_today = round(perSecond(fresh.frames, fresh.cpuMs) / perSecond(today.frames, today.cpuMs), 2);
  out.inference_per_core_new_over_today_with_motion = round(
    perSecond(fresh.frames, fresh.cpuMs + motionRun.cpuMs) / perSecond(today.frames, today.cpuMs + motionRun.cpuMs), 2);
  out.inference_per_core_target = 3;
  out.inference_per_core_onnx_full_over_today = round(perSecond(onnxFull.frames, onnxFull.cpuMs) / perSecond(today.frames, today.cpuMs), 2);

  out.model_wasm512_calls = whole.length;
  out.model_wasm512_wall_ms = round(wasm512.wallMs);
  out.model_wasm512_cpu_ms = round(wasm512.cpuMs);
  out.model_onnx320_region_calls = onnx320.modelMs.length;
  out.model_onnx320_region_wall_ms = round(onnx320.wallMs);
  out.model_onnx320_region_cpu_ms = round(onnx320.cpuMs);
  out[`model_onnx320_region_threads${cores}_wall_ms`] = round(onnx320mt.wallMs);
  out[`model_onnx320_region_threads${cores}_cpu_ms`] = round(onnx320mt.cpuMs);
  out.model_onnx512_wall_ms = round(onnx512.wallMs);
  out.model_onnx512_cpu_ms = round(onnx512.cpuMs);
  out.model_ratio_onnx320_regions_vs_wasm512_wall = round(wasm512.wallMs / onnx320.wallMs, 2);
  out.model_ratio_onnx320_regions_vs_wasm512_cpu = round(wasm512.cpuMs / onnx320.cpuMs, 2);
  out.model_ratio_onnx512_vs_wasm512_wall = round(wasm512.wallMs / onnx512.wallMs, 2);
  out.model_ratio_onnx512_vs_wasm512_cpu = round(wasm512.cpuMs / onnx512.cpuMs, 2);
  // Where the new path's CPU goes: model calls (one-at-a-time CPU per region call × calls), JPEG decode, the rest.
  const newModelCpu = onnx320.cpuMs * (fresh.inferences / fresh.frames);
  out.new_cpu_model_share_pct = round((newModelCpu / (fresh.cpuMs / fresh.frames)) * 100);
  out.new_cpu_decode_share_pct = round((percentile(fresh.decodeMs, 50) / (fresh.cpuMs / fresh.frames)) * 100);

  // Other load on the machine during the runs above (busy CPU not of this process): it skews wall times, less CPU times.
  const machine1 = machineCpuTicks();
  const self = process.cpuUsage(self0);
  const wallS = (performance.now() - wall0) / 1000;
  out.other_cpu_pct = round(Math.max(0, ((machine1.busy - machine0.busy) / clockTicks() - (self.user + self.system) / 1e6) / wallS * 100));

  if (opts.rss ?? true) {
    for (const rt of ['tfjs', 'onnx'] as const) {
      const p = probeRss(rt);
      out[`rss_${rt}_before_mib`] = p.beforeMib;
      out[`rss_${rt}_loaded_mib`] = p.afterMib;
      out[`rss_${rt}_model_delta_mib`] = round(p.afterMib - p.beforeMib);
      if (p.error) out[`rss_${rt}_error`] = p.error;
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const probe = process.argv.indexOf('--rss-probe');
  if (probe >= 0) {
    await rssProbe(process.argv[probe + 1] === 'tfjs' ? 'tfjs' : 'onnx');
  } else {
    const frames = process.argv[2] ? Number(process.argv[2]) : undefined;
    const figures = await benchDetector({ frames });
    const pad = Math.max(...Object.keys(figures).map((k) => k.length));
    for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(pad)}  ${v}`);
  }
  process.exit(0);
}
