/** `detector:` — the object detector component. */
import { z } from 'zod';

export const detectorSection = z
  .object({
    /** Run the detector inside the hub (false when it runs as its own process). */
    enabled: z.boolean().default(true),
    /** Inference worker threads; 0 = one per core. */
    workers: z.number().int().min(0).max(64).default(0),
    /** TensorFlow.js backend: `auto` uses tfjs-node when installed, else wasm. */
    backend: z.enum(['auto', 'wasm', 'tensorflow']).default('auto'),
    /** Lowest model score (0–1) passed on to the filters. */
    min_score: z.number().min(0).max(1).default(0.3),
  })
  .strict();
