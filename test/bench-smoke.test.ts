/**
 * The benchmarks keep working as the hub changes (they broke once when every MQTT client
 * had to authenticate): short runs of the broker, detector and capacity benchmarks end to
 * end on real parts. Figures are not asserted here — they live in `npm run bench`.
 */
import { expect, it } from 'vitest';
import { benchBroker } from '../bench/broker.ts';
import { benchCapacity } from '../bench/capacity.ts';
import { benchDetector } from '../bench/detector.ts';

it('runs the broker benchmark end to end on aedes and Mosquitto', async () => {
  const r = await benchBroker({ messages: 400 });
  for (const b of ['aedes', 'mosquitto']) {
    for (const q of [0, 1]) {
      expect(r[`${b}_qos${q}_received`]).toBe(r[`${b}_qos${q}_sent`]);
      expect(Number(r[`${b}_qos${q}_msgs_per_s`])).toBeGreaterThan(0);
    }
  }
}, 120_000);

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
