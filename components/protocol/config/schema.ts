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
        /** Directories `file://` camera URLs may point into (besides the demo footage's folder and `<data_dir>/media`). */
        file_roots: z.array(z.string().min(1)).default([]),
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
    recordings: z
      .object({
        /** Where segments, clips and exports live; default `<data_dir>/recordings`. */
        root: z.string().min(1).optional(),
        /** Disk cap for segments, GB (10^9 bytes); unset = no cap by size. */
        max_size_gb: z.number().positive().optional(),
        /** Disk cap as % of the volume the root is on: the oldest segments go above it. */
        max_percent: z.number().min(1).max(100).default(90),
        /** Free space always kept on the volume, GB, so writes never fail. */
        min_free_gb: z.number().min(0).default(1),
        /** Days event clips are kept (exports are kept until deleted). */
        clip_retain_days: z.number().min(0).default(30),
        /** Seconds between retention sweeps. */
        sweep_interval_s: z.number().min(1).default(30),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** Login attempts allowed per client IP (Frigate-like defaults: 1/s, 5/min, 20/h). */
        login_limits: z
          .object({ per_second: z.number().int().min(1).default(1), per_minute: z.number().int().min(1).default(5), per_hour: z.number().int().min(1).default(20) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    rules: z
      .object({
        /** Run the embedded Node-RED rules engine (editor and admin API for admins only, at `/rules`). */
        enabled: z.boolean().default(true),
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
