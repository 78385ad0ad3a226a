/**
 * Detector benchmark: the object model (human's COCO CenterNet, 512×512 input) through
 * {@link InferencePool} on real footage (vtest.avi, 768×576 pedestrians/cars, scaled to
 * 640×480 JPEGs by ffmpeg).
 *
 * Run: `npx tsx bench/detector.ts [frames]` (default 60 frames).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { InferencePool } from '../components/detector/inference-pool.ts';

const run = promisify(execFile);
const VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const VIDEO_SECONDS = 79.5;
const MB = 1024 * 1024;

/** Options of {@link benchDetector}. */
export interface BenchDetectorOptions {
  /** Frames of vtest.avi to run, spread over the whole clip; default 60. */
  frames?: number;
  /** Frame width, px (height keeps the 4:3 aspect); default 640. */
  width?: number;
  /** Workers of the "whole pool" run; default `os.availableParallelism()`. */
  poolSize?: number;
  /** Video to read; default the OpenCV sample `vtest.avi`. */
  video?: string;
}

/** Splits ffmpeg's `image2pipe` MJPEG stream into single JPEGs (SOI `FFD8` … EOI `FFD9`). */
function splitJpegs(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = stream.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
  while (start >= 0) {
    const end = stream.indexOf(Buffer.from([0xff, 0xd9]), start + 2);
    if (end < 0) break;
    out.push(stream.subarray(start, end + 2));
    start = stream.indexOf(Buffer.from([0xff, 0xd8, 0xff]), end + 2);
  }
  return out;
}

/** Extracts `count` JPEG frames spread evenly over the clip, `width` px wide. */
async function extractFrames(video: string, count: number, width: number): Promise<Buffer[]> {
  const fps = count / (VIDEO_SECONDS * 0.98);
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', video, '-vf', `fps=${fps.toFixed(4)},scale=${width}:-2`, '-frames:v', String(count), '-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '4', '-'],
    { encoding: 'buffer', maxBuffer: 256 * MB },
  );
  const frames = splitJpegs(stdout);
  if (frames.length === 0) throw new Error(`ffmpeg produced no frames from ${video}`);
  return frames;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

/**
 * Benchmarks the detector: one worker run sequentially (latency), then a pool of
 * `poolSize` workers fed all frames at once (throughput).
 *
 * @returns figures keyed by name: `backend`, `input_size_px`, `frames`, `frame_size`,
 *   `load_ms` (model load in a worker), `infer_ms_median` / `infer_ms_p95` (model time per
 *   frame on one worker, ms), `decode_ms_median` (JPEG decode, ms), `one_worker_inf_per_s`,
 *   `pool_size`, `pool_inf_per_s` (end-to-end JPEG→detections, frames/s),
 *   `pool_queued_ms_median`, `rss_before_mb`, `rss_one_worker_mb` / `rss_one_worker_delta_mb`
 *   (process RSS before/after loading one worker, MiB), `rss_pool_mb` /
 *   `rss_per_worker_delta_mb`, `detections_per_frame`, `person_frames_pct`.
 * @throws Error if ffmpeg or the video is missing, or the model cannot load.
 */
export async function benchDetector(opts: BenchDetectorOptions = {}): Promise<Record<string, number | string>> {
  const count = opts.frames ?? 60;
  const width = opts.width ?? 640;
  const poolSize = opts.poolSize ?? os.availableParallelism();
  const frames = await extractFrames(opts.video ?? VIDEO, count, width);

  // --- one worker, one frame at a time: latency ---
  const rssBefore = process.memoryUsage.rss();
  const one = new InferencePool({ size: 1 });
  await one.start();
  const rssOne = process.memoryUsage.rss();
  const info = one.workerInfo!;
  const infer: number[] = [];
  const decode: number[] = [];
  let detections = 0;
  let personFrames = 0;
  let oneWall = 0;
  try {
    for (const jpeg of frames.slice(0, 3)) await one.detect({ jpeg }); // warm-up, not counted
    const t0 = performance.now();
    for (const jpeg of frames) {
      const r = await one.detect({ jpeg });
      infer.push(r.inferenceMs);
      decode.push(r.decodeMs);
      detections += r.detections.length;
      if (r.detections.some((d) => d.label === 'person' && d.score >= 0.5)) personFrames++;
    }
    oneWall = performance.now() - t0;
  } finally {
    await one.stop();
  }

  // --- whole pool, all frames queued at once: throughput ---
  const rssBeforePool = process.memoryUsage.rss();
  const pool = new InferencePool({ size: poolSize });
  await pool.start();
  const rssPool = process.memoryUsage.rss();
  const queued: number[] = [];
  let poolWall = 0;
  try {
    await Promise.all(frames.slice(0, poolSize * 2).map((jpeg) => pool.detect({ jpeg }))); // warm-up
    const t0 = performance.now();
    const results = await Promise.all(frames.map((jpeg) => pool.detect({ jpeg })));
    poolWall = performance.now() - t0;
    for (const r of results) queued.push(r.queuedMs);
  } finally {
    await pool.stop();
  }

  infer.sort((a, b) => a - b);
  decode.sort((a, b) => a - b);
  queued.sort((a, b) => a - b);
  return {
    backend: info.backend,
    input_size_px: info.inputSize,
    frames: frames.length,
    frame_size: `${width}x${Math.round((width * 576) / 768)}`,
    cores: os.availableParallelism(),
    load_ms: Math.round(info.loadMs),
    infer_ms_median: round(quantile(infer, 0.5)),
    infer_ms_p95: round(quantile(infer, 0.95)),
    decode_ms_median: round(quantile(decode, 0.5), 2),
    one_worker_inf_per_s: round((frames.length / oneWall) * 1000, 2),
    pool_size: poolSize,
    pool_inf_per_s: round((frames.length / poolWall) * 1000, 2),
    pool_queued_ms_median: Math.round(quantile(queued, 0.5)),
    rss_before_mb: round(rssBefore / MB),
    rss_one_worker_mb: round(rssOne / MB),
    rss_one_worker_delta_mb: round((rssOne - rssBefore) / MB),
    rss_pool_mb: round(rssPool / MB),
    rss_per_worker_delta_mb: round((rssPool - rssBeforePool) / MB / poolSize),
    detections_per_frame: round(detections / frames.length, 2),
    person_frames_pct: round((personFrames / frames.length) * 100),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const frames = process.argv[2] ? Number(process.argv[2]) : undefined;
  const figures = await benchDetector({ frames });
  const pad = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(pad)}  ${v}`);
}
