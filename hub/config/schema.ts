/**
 * The one configuration schema (zod). Each section lives in its own file; unknown keys
 * are rejected everywhere. See `docs/config.md` (generated from the same shapes).
 */
import { z } from 'zod';
import { detectorSection } from './detector.ts';
import { httpSection } from './http.ts';
import { mqttSection } from './mqtt.ts';

export const configSchema = z
  .object({
    /** Directory for the database, snapshots and secrets. Relative paths are relative to the working directory. */
    data_dir: z.string().min(1).default('./data'),
    mqtt: mqttSection.prefault({}),
    http: httpSection.prefault({}),
    detector: detectorSection.prefault({}),
    camera: z
      .object({
        /** Run the camera component (ffmpeg ingest) inside the hub. */
        enabled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Demo camera on real footage: `auto` runs it while no camera is configured. */
    demo: z
      .object({
        mode: z.enum(['auto', 'on', 'off']).default('auto'),
        /** Footage looped by the demo camera (Debian's opencv-doc ships it). */
        file: z.string().default('/usr/share/doc/opencv-doc/examples/data/vtest.avi'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

/** The validated, defaulted configuration. */
export type VigilConfig = z.infer<typeof configSchema>;
