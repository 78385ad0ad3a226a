/**
 * Pipeline benchmarks on real frames, in one process:
 *
 * - **Efficiency**: frames/s through the whole detector pipeline (MQTT frame in →
 *   worker inference → tracking → events out, flooded faster than it can take) ÷
 *   raw model inferences/s of an `InferencePool` of the same size on the same frames.
 *   Target ≥ 0.9.
 * - **Latency**: from a frame's capture (when it leaves ffmpeg in the camera component,
 *   `frame_time`) to its `vigil/events` message at an independent MQTT client, with a
 *   real camera on the looping footage at 5 fps. Target p95 ≤ one inference + 100 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { InferencePool } from '../components/detector/inference-pool.ts';
import { encodeFrame } from '../components/protocol/frame-codec.ts';
import { configSchema } from '../components/protocol/config/schema.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { Hub } from '../hub/hub.ts';
import { FOOTAGE, footageFrames, percentile, round } from './frames.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raw pool throughput: every frame through `pool.detect`, all at once, `rounds` times. Returns inferences/s and median ms. */
async function rawPool(frames: Buffer[], workers: number, rounds: number): Promise<{ ips: number; medianMs: number }> {
  const pool = new InferencePool({ size: workers });
  await pool.start();
  try {
    await Promise.all(frames.slice(0, workers * 2).map((jpeg) => pool.detect({ jpeg }))); // warm-up
    const ms: number[] = [];
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      const res = await Promise.all(frames.map((jpeg) => pool.detect({ jpeg })));
      ms.push(...res.map((x) => x.inferenceMs));
    }
    return { ips: (frames.length * rounds) / ((performance.now() - t0) / 1000), medianMs: percentile(ms, 50) };
  } finally {
    await pool.stop();
  }
}

/** Runs both measurements; `seconds` is the length of each measuring window. */
export async function benchPipeline(opts: { workers?: number; seconds?: number } = {}): Promise<Record<string, number | string>> {
  const workers = opts.workers ?? 2;
  const seconds = opts.seconds ?? 30;
  const frames = footageFrames(40);
  const raw = await rawPool(frames, workers, 2);

  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const hub = new Hub(configSchema.parse({
    data_dir: dataDir, http: { port: 0, host: '127.0.0.1' }, mqtt: { port: 0, host: '127.0.0.1' },
    demo: { mode: 'off' }, detector: { workers }, log: { level: 'silent' }, rules: { enabled: false },
    recordings: { max_percent: 100, min_free_gb: 0 },
  }), silentLogger);
  await hub.start();
  // Credentials as a deployment would have them: an admin session for REST, a component device for MQTT.
  const admin = await hub.auth!.users.create({ username: 'bench', password: 'bench-admin-password', role: 'admin' });
  const token = (await hub.auth!.sessions.open(admin.id, '127.0.0.1')).access_token;
  const device = await hub.auth!.credentials.createDevice({ id: 'bench', kind: 'component' });
  const client = await mqtt.connectAsync(hub.mqttUrl, { protocolVersion: 4, username: 'bench', password: device.password });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const post = (body: unknown) => fetch(`http://127.0.0.1:${hub.httpPort}/api/cameras`, { method: 'POST', headers, body: JSON.stringify(body) });
  try {
    // --- efficiency: flood a camera's frame topic at 20 fps.
    let states: Array<{ at: number; inferences: number }> = [];
    client.on('message', (topic, payload) => {
      if (topic === 'vigil/component/detector/state') states.push({ at: Date.now(), inferences: JSON.parse(payload.toString()).inferences as number });
    });
    await client.subscribeAsync('vigil/component/detector/state');
    // An enabled camera whose own input is unreachable (no ffmpeg frames): the bench publishes its frames.
    await post({ name: 'flood', paths: { detect: 'rtsp://127.0.0.1:1/none' }, objects: { track: ['person', 'car'] } });
    await sleep(500);
    let seq = 0;
    const flood = setInterval(() => {
      const jpeg = frames[seq % frames.length]!;
      client.publish('vigil/camera/flood/frame', encodeFrame({ camera: 'flood', seq: seq++, ts: Date.now(), width: 640, height: 480, motion: true }, jpeg));
    }, 50);
    await sleep(3000);
    states = [];
    await sleep((seconds + 6) * 1000);
    clearInterval(flood);
    const first = states[0]!;
    const last = states[states.length - 1]!;
    const pipelineIps = (last.inferences - first.inferences) / ((last.at - first.at) / 1000);
    await fetch(`http://127.0.0.1:${hub.httpPort}/api/cameras/flood`, { method: 'DELETE', headers });
    await sleep(1000);

    // --- latency: a real camera (ffmpeg on the looping footage, 5 fps) → vigil/events.
    const lat: number[] = [];
    client.on('message', (topic, payload) => {
      if (topic !== 'vigil/events') return;
      const m = JSON.parse(payload.toString()) as { type: string; after: { frame_time: number } };
      if (m.type !== 'end') lat.push(Date.now() - m.after.frame_time * 1000);
    });
    await client.subscribeAsync('vigil/events', { qos: 1 });
    await post({ name: 'lat', paths: { detect: pathToFileURL(FOOTAGE).toString() }, detect: { width: 640, height: 480, fps: 5 }, objects: { track: ['person'] } });
    await sleep(5000);
    lat.length = 0;
    await sleep(seconds * 1000);
    const p95 = percentile(lat, 95);
    return {
      workers,
      raw_pool_inferences_per_s: round(raw.ips, 2),
      raw_median_inference_ms: round(raw.medianMs),
      pipeline_frames_per_s: round(pipelineIps, 2),
      pipeline_efficiency: round(pipelineIps / raw.ips, 3),
      latency_samples: lat.length,
      latency_median_ms: round(percentile(lat, 50)),
      latency_p95_ms: round(p95),
      latency_target_ms: round(raw.medianMs + 100),
      latency_p95_within_target: p95 <= raw.medianMs + 100 ? 'yes' : 'no',
    };
  } finally {
    await client.endAsync();
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchPipeline();
  console.table(r);
  process.exit(0);
}
