/**
 * The body of `vigil/bridge/info` (retained): what a management client needs to know
 * about the hub at a glance, as Zigbee2MQTT's `bridge/info` — the version (and git
 * commit when known), the topic prefix, the broker kind, the cameras, and a summary of
 * the configuration without secrets (the whole redacted config is `config/get`).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { VigilConfig } from '../../components/protocol/config/schema.ts';
import { redactUrl } from '../../components/protocol/log.ts';

/** `vigil/bridge/info`. */
export interface BridgeInfo {
  version: string;
  /** Short git commit of the running code: `VIGIL_COMMIT`, else `git rev-parse` of the checkout; absent when neither is known. */
  commit?: string;
  prefix: string;
  broker: 'embedded' | 'external';
  /** Names of the stored cameras, sorted. */
  cameras: string[];
  config: ConfigSummary;
}

/** The configuration keys `bridge/info` shows; URLs without credentials, no password or key. */
export type ConfigSummary = ReturnType<typeof configSummary>;

/** The summary of `config` in `bridge/info`. */
export function configSummary(c: VigilConfig) {
  return {
    log_level: c.log.level,
    mqtt: { prefix: c.mqtt.prefix, url: c.mqtt.url ? redactUrl(c.mqtt.url) : null, protocol_version: c.mqtt.protocol_version, websocket: c.mqtt.websocket, allow_anonymous: c.mqtt.allow_anonymous },
    camera: { enabled: c.camera.enabled },
    detector: { enabled: c.detector.enabled, backend: c.detector.backend, workers: c.detector.workers },
    rules: { enabled: c.rules.enabled },
    homeassistant: { enabled: c.homeassistant.enabled, discovery_prefix: c.homeassistant.discovery_prefix },
    demo: { mode: c.demo.mode },
  };
}

/**
 * The running code's commit: `VIGIL_COMMIT` when set (images built without `.git`), else
 * `git rev-parse --short HEAD` in the source tree (1 s at most); undefined when neither answers.
 */
export function readCommit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.VIGIL_COMMIT?.trim();
  if (fromEnv) return fromEnv.slice(0, 40);
  try {
    const out = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8',
    }).trim();
    return /^[0-9a-f]{4,40}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}
