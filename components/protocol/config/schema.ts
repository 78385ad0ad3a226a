/**
 * The one configuration schema (zod). Each section lives in its own file; unknown keys
 * are rejected everywhere. Every key carries its description (`.describe()`), from which
 * `docs.ts` generates the reference in `docs/config.md`.
 */
import { z } from 'zod';
import { detectorSection } from './detector.ts';
import { homeassistantSection } from './homeassistant.ts';
import { httpSection } from './http.ts';
import { mqttSection } from './mqtt.ts';
import { storeSection } from './store.ts';

export const configSchema = z
  .object({
    data_dir: z
      .string()
      .min(1)
      .default('./data')
      .describe('Directory for the database, snapshots and secrets. Relative paths are relative to the working directory.'),
    store: storeSection.prefault({}).describe('The database: SQLite in the data directory (default), or PostgreSQL.'),
    mqtt: mqttSection.prefault({}).describe('The bus: embedded aedes, or an external broker.'),
    http: httpSection.prefault({}).describe('The REST API, web page and MQTT-over-WebSocket listener.'),
    detector: detectorSection.prefault({}).describe('The object detector component.'),
    camera: z
      .object({
        enabled: z.boolean().default(true).describe('Run the camera component (ffmpeg ingest) inside the hub.'),
        file_roots: z
          .array(z.string().min(1))
          .default([])
          .describe("Directories `file://` camera URLs may point into (besides the demo footage's folder and `<data_dir>/media`)."),
      })
      .strict()
      .prefault({})
      .describe('The camera component (ffmpeg ingest).'),
    demo: z
      .object({
        mode: z.enum(['auto', 'on', 'off']).default('auto').describe('`auto` runs the demo camera while no camera is configured; `on`; `off`.'),
        file: z
          .string()
          .default('/usr/share/doc/opencv-doc/examples/data/vtest.avi')
          .describe("Footage looped by the demo camera (Debian's opencv-doc ships it)."),
      })
      .strict()
      .prefault({})
      .describe('Demo camera on real footage: `auto` runs it while no camera is configured.'),
    recordings: z
      .object({
        root: z.string().min(1).optional().describe('Where segments, clips and exports live; default `<data_dir>/recordings`.'),
        max_size_gb: z.number().positive().optional().describe('Disk cap for segments, GB (10^9 bytes); unset = no cap by size.'),
        max_percent: z
          .number()
          .min(1)
          .max(100)
          .default(90)
          .describe('Disk cap as % of the volume the root is on: the oldest segments go above it.'),
        min_free_gb: z.number().min(0).default(1).describe('Free space always kept on the volume, GB, so writes never fail.'),
        clip_retain_days: z.number().min(0).default(30).describe('Days event clips are kept (exports are kept until deleted).'),
        sweep_interval_s: z.number().min(1).default(30).describe('Seconds between retention sweeps.'),
      })
      .strict()
      .prefault({})
      .describe('Recording storage and retention (docs/recording.md).'),
    auth: z
      .object({
        login_limits: z
          .object({
            per_second: z.number().int().min(1).default(1).describe('Login attempts allowed per client IP per second.'),
            per_minute: z.number().int().min(1).default(5).describe('Login attempts allowed per client IP per minute.'),
            per_hour: z.number().int().min(1).default(20).describe('Login attempts allowed per client IP per hour.'),
          })
          .strict()
          .prefault({})
          .describe('Login attempts allowed per client IP (Frigate-like defaults: 1/s, 5/min, 20/h).'),
      })
      .strict()
      .prefault({})
      .describe('Authentication (docs/security.md).'),
    rules: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Run the embedded Node-RED rules engine (editor and admin API for admins only, at `/rules`).'),
      })
      .strict()
      .prefault({})
      .describe('The embedded Node-RED rules engine.'),
    homeassistant: homeassistantSection.prefault({}).describe('Home Assistant MQTT discovery (docs/home-assistant.md).'),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Lowest level of the log lines written.'),
      })
      .strict()
      .prefault({})
      .describe('Logging.'),
  })
  .strict();

/** The validated, defaulted configuration. */
export type VigilConfig = z.infer<typeof configSchema>;
