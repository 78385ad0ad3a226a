/** `detector:` — the object detector component. */
import { z } from 'zod';

export const detectorSection = z
  .object({
    enabled: z.boolean().default(true).describe('Run the detector inside the hub (false when it runs as its own process).'),
    workers: z.number().int().min(0).max(64).default(0).describe('Inference worker threads; 0 = one per core.'),
    backend: z
      .enum(['auto', 'wasm', 'tensorflow'])
      .default('auto')
      .describe('TensorFlow.js backend: `auto` uses tfjs-node when installed, else wasm.'),
    min_score: z.number().min(0).max(1).default(0.3).describe('Lowest model score (0–1) passed on to the filters.'),
  })
  .strict();
