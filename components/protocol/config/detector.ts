/** `detector:` — the object detector component. */
import { z } from 'zod';

export const detectorSection = z
  .object({
    enabled: z.boolean().default(true).describe('Run the detector inside the hub (false when it runs as its own process).'),
    workers: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(0)
      .describe('Inferences run at once (ONNX: concurrent runs of the one model; TF.js: worker threads, one model copy each); 0 = one per core.'),
    runtime: z
      .enum(['auto', 'onnx', 'tfjs'])
      .default('auto')
      .describe('Where the COCO CenterNet runs: `onnx` (onnxruntime-node, one model per process), `tfjs` (TensorFlow.js in worker threads), `auto` = ONNX, else TF.js.'),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('ONNX: intra-op threads of the one model session. 1 (default) is the least CPU per inference; 2 cuts its wall time by ~30 % for ~30–50 % more CPU (measured on 2 cores, `npm run bench -- detector`).'),
    region_size: z
      .number()
      .int()
      .min(128)
      .max(1024)
      .multipleOf(32)
      .default(320)
      .describe('Model input side for detection regions, px (ONNX; TF.js always uses 512). Regions are never smaller.'),
    backend: z
      .enum(['auto', 'wasm', 'tensorflow'])
      .default('auto')
      .describe('TensorFlow.js backend of the `tfjs` runtime: `auto` uses tfjs-node when installed, else wasm.'),
    min_score: z.number().min(0).max(1).default(0.3).describe('Lowest model score (0–1) passed on to the filters.'),
  })
  .strict();
