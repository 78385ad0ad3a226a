/**
 * The benchmarks keep working as the hub changes (they broke once when every MQTT client
 * had to authenticate): short runs of the broker, REST-under-load, detector, capacity and
 * store benchmarks end to end on real parts. Figures are not asserted here — they live in `npm run bench`.
 */
import { expect, it } from 'vitest';
import { benchBroker } from '../bench/broker.ts';
import { benchCapacity } from '../bench/capacity.ts';
import { benchDetector } from '../bench/detector.ts';
import { benchRestUnderLoad } from '../bench/rest-under-load.ts';
import { benchStore } from '../bench/store.ts';

it('runs the broker benchmark end to end on aedes in a hub process and Mosquitto, authenticated', async () => {
  const r = await benchBroker({ messages: 400, rounds: 1 });
  for (const b of ['aedes', 'mosquitto']) {
    for (const q of [0, 1]) {
      expect(r[`${b}_qos${q}_received`]).toBe(r[`${b}_qos${q}_sent`]);
      expect(Number(r[`${b}_qos${q}_msgs_per_s`])).toBeGreaterThan(0);
      expect(Number.isFinite(Number(r[`${b}_qos${q}_broker_cpu_us_per_msg`]))).toBe(true); // 400 messages may take less than a clock tick
    }
    expect(Number(r[`qos0_throughput_aedes_over_mosquitto`])).toBeGreaterThan(0);
  }
}, 120_000);

it('runs the REST-under-load benchmark: GET /api/events with and without a camera streaming frames', async () => {
  const r = await benchRestUnderLoad({ cameras: 1, measureS: 2, rounds: 1, warmupS: 1, rate: 10, events: 60 });
  for (const phase of ['idle', 'frames']) {
    expect(Number(r[`${phase}_requests`])).toBeGreaterThan(5);
    expect(Number(r[`${phase}_p95_ms`])).toBeGreaterThanOrEqual(Number(r[`${phase}_p50_ms`]));
    expect(Number(r[`${phase}_loop_utilisation`])).toBeGreaterThanOrEqual(0);
  }
  expect(Number(r.frames_per_s)).toBeGreaterThan(0); // the camera's frames reached the bus consumer
  expect(Number.isFinite(Number(r.p95_frames_over_idle))).toBe(true);
}, 180_000);

it('runs the detector benchmark (today\'s path vs regions on ONNX) on a few real frames', async () => {
  const r = await benchDetector({ frames: 8, modelFrames: 3, rss: false });
  expect(r.frames).toBe(8);
  expect(r.today_inferences_per_frame).toBe(1); // the whole frame, once
  expect(String(r.new_runtime)).toMatch(/^onnx regions/);
  for (const path of ['today', 'new', 'onnx_full']) {
    expect(Number(r[`${path}_cpu_ms_per_frame`])).toBeGreaterThan(0);
    expect(Number(r[`${path}_detections_per_frame`])).toBeGreaterThan(0); // pedestrians are in view
  }
  expect(Number(r.inference_per_core_new_over_today)).toBeGreaterThan(0);
  expect(Number.isFinite(Number(r.model_ratio_onnx512_vs_wasm512_cpu))).toBe(true);
}, 120_000);

it('runs the capacity benchmark with one camera on a hub process: idle without a model, events with latency', async () => {
  const r = await benchCapacity({ steps: [1], measureS: 5, warmupS: 3, reference: false, rssCameras: 1, idleSettleS: 1, peopleS: 6, emptyS: 4 });
  expect(r.summary.idle_detector_runtime).toBe('not loaded');
  expect(Number(r.summary.idle_rss_mib)).toBeGreaterThan(0);
  expect(String(r.summary.runtime)).toMatch(/^(onnx|tfjs)/);
  expect(r.steps).toHaveLength(1);
  const step = r.steps[0]!;
  expect(step.cameras).toBe(1);
  expect(step.frames_received).toBeGreaterThan(0);
  expect(step.events).toBeGreaterThan(0); // people walk through the clip
  expect(step.latency_p50_ms).toBeGreaterThan(0);
  expect(Number(r.summary.rss_1cams_mib)).toBeGreaterThan(Number(r.summary.idle_rss_mib));
}, 120_000);

it('runs the store benchmark on SQLite and PostgreSQL (inserts as the event store writes, /api/events queries)', async () => {
  const r = await benchStore({ objects: 20, updates: 2, rows: 300, queries: 12, rounds: 1 });
  expect(r.upserts_per_round).toBe(20 * 4);
  for (const k of ['sqlite_upserts_per_s', 'postgres_upserts_per_s', 'postgres_sync_commit_upserts_per_s', 'sqlite_queries_per_s_x4', 'postgres_queries_per_s_x4']) {
    expect(Number(r[k]), k).toBeGreaterThan(0);
  }
  expect(Number(r.postgres_query_ms_p95)).toBeGreaterThanOrEqual(Number(r.postgres_query_ms_p50));
  expect(Number.isFinite(Number(r.insert_ratio_postgres_over_sqlite))).toBe(true);
}, 120_000);
