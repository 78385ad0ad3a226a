/**
 * Settings of a component run as its own process (`components/main.ts`), from the same
 * schema and loader as the hub: the config file (`--config`, `VIGIL_CONFIG`,
 * `./data/vigil.yaml`), then `VIGIL_<SECTION>__<KEY>` variables, then command-line flags.
 */
import { parseArgs } from 'node:util';
import { ConfigError, configPath, loadConfig } from './load.ts';
import type { VigilConfig } from './schema.ts';

/** Which component to run. */
export type ComponentRole = 'camera' | 'detector';

/** Everything `components/main.ts` needs, resolved. */
export interface ComponentSettings {
  role: ComponentRole;
  /** Broker connection of the component's client. */
  mqtt: { url: string; username?: string; password?: string; protocolVersion: 4 | 5; prefix: string };
  /** Client and component id; default `<role>-<pid>`. */
  clientId?: string;
  /** Camera component: the cameras it runs (default: every camera in the retained configs). */
  cameras?: string[];
  /** Camera component: where it writes segments (default: not recording). */
  recordingsRoot?: string;
  /** Detector component. */
  /** The hub config's `detector` section (see `config/detector.ts`). */
  detector: Pick<VigilConfig['detector'], 'workers' | 'backend' | 'runtime' | 'region_size' | 'threads' | 'min_score'>;
  /** Key file to open sealed camera passwords (`VIGIL_SECRET_KEY` wins). */
  secretKeyFile?: string;
  /** `VIGIL_SECRET_KEY` (base64url or hex), when set. */
  secretKey?: string;
  /** `log.level`. */
  logLevel: string;
}

/** The command line, as printed on a usage error. */
export const COMPONENT_USAGE =
  'usage: components/main.ts camera|detector [--config FILE] [--mqtt URL] [--prefix vigil] [--cameras a,b] [--workers N] '
  + '[--backend auto|wasm|tensorflow] [--client-id ID] [--secret-key-file FILE] [--recordings DIR]';

/**
 * Resolves a component's settings (pure: reads only `argv`, `env` and the config file).
 * Flags: `--mqtt` (= `mqtt.url`), `--prefix` (= `mqtt.prefix`), `--workers`, `--backend`
 * (= `detector.*`), `--recordings` (= `recordings.root`), plus `--cameras`, `--client-id`,
 * `--secret-key-file`.
 * @throws ConfigError naming the path (`role`, `mqtt.url`, `detector.workers`, … or a file key)
 */
export function componentSettings(argv: string[], env: NodeJS.ProcessEnv): ComponentSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        config: { type: 'string' }, mqtt: { type: 'string' }, prefix: { type: 'string' }, cameras: { type: 'string' },
        workers: { type: 'string' }, backend: { type: 'string' }, 'client-id': { type: 'string' },
        'secret-key-file': { type: 'string' }, recordings: { type: 'string' },
      },
    });
  } catch (err) {
    throw new ConfigError([`(arguments): ${(err as Error).message}`]);
  }
  const { values, positionals } = parsed;
  const role = positionals[0];
  if (role !== 'camera' && role !== 'detector') throw new ConfigError([`role: must be camera or detector, got ${JSON.stringify(role ?? '')}`]);
  // Flags become variables so the one loader validates them with the file and the environment.
  const flagEnv: NodeJS.ProcessEnv = { ...env };
  if (values.mqtt !== undefined) flagEnv.VIGIL_MQTT__URL = values.mqtt;
  if (values.prefix !== undefined) flagEnv.VIGIL_MQTT__PREFIX = values.prefix;
  if (values.workers !== undefined) flagEnv.VIGIL_DETECTOR__WORKERS = values.workers;
  if (values.backend !== undefined) flagEnv.VIGIL_DETECTOR__BACKEND = values.backend;
  if (values.recordings !== undefined) flagEnv.VIGIL_RECORDINGS__ROOT = values.recordings;
  const cfg = loadConfig({ file: values.config ?? configPath([], env), env: flagEnv });
  if (!cfg.mqtt.url) throw new ConfigError(['mqtt.url: a component needs the broker URL (--mqtt or VIGIL_MQTT__URL)']);
  const cameras = values.cameras?.split(',').map((c) => c.trim()).filter(Boolean);
  return {
    role,
    mqtt: { url: cfg.mqtt.url, username: cfg.mqtt.username, password: cfg.mqtt.password, protocolVersion: cfg.mqtt.protocol_version, prefix: cfg.mqtt.prefix },
    clientId: values['client-id'],
    cameras: cameras?.length ? cameras : undefined,
    recordingsRoot: cfg.recordings.root,
    detector: { workers: cfg.detector.workers, backend: cfg.detector.backend, runtime: cfg.detector.runtime, region_size: cfg.detector.region_size, threads: cfg.detector.threads, min_score: cfg.detector.min_score },
    secretKeyFile: values['secret-key-file'],
    secretKey: env.VIGIL_SECRET_KEY,
    logLevel: cfg.log.level,
  };
}
