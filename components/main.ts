/**
 * Runs one component as its own OS process against any broker — the scale-out path:
 *
 *   tsx components/main.ts camera   --mqtt mqtt://broker:1883 [--prefix vigil] [--cameras a,b]
 *   tsx components/main.ts detector --mqtt mqtt://broker:1883 [--workers 2] [--backend wasm]
 *
 * Settings come from the hub's schema and loader (`protocol/config/component.ts`): the
 * config file (`--config`, `VIGIL_CONFIG`, `./data/vigil.yaml`), every `VIGIL_<SECTION>__<KEY>`
 * variable (`VIGIL_MQTT__URL`, `VIGIL_MQTT__USERNAME`/`PASSWORD` — a `component` device
 * credential on the embedded broker — `VIGIL_MQTT__PREFIX`, `VIGIL_MQTT__PROTOCOL_VERSION`,
 * `VIGIL_DETECTOR__WORKERS`, …), then the flags. `VIGIL_SECRET_KEY` (or
 * `--secret-key-file data/secret.key`) opens the sealed camera passwords. A bad setting
 * prints `path: message` and exits with status 2, like the hub. The component
 * learns its cameras from the retained `vigil/camera/+/config` the hub publishes.
 */
import { readFileSync } from 'node:fs';
import { SecretBox, parseKey } from './protocol/secret-box.ts';
import { Bus } from './protocol/bus.ts';
import { Topics } from './protocol/topics.ts';
import type { Component, ComponentContext } from './protocol/component.ts';
import { COMPONENT_USAGE, componentSettings, type ComponentSettings } from './protocol/config/component.ts';
import { ConfigError } from './protocol/config/load.ts';
import { CameraComponent } from './camera/index.ts';
import { DetectorComponent, detectorOptions } from './detector/index.ts';
import { createLogger, redactUrl } from './protocol/log.ts';

async function main(): Promise<void> {
  let s: ComponentSettings;
  try {
    s = componentSettings(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n${COMPONENT_USAGE}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: s.logLevel }).child({ component: s.role, pid: process.pid });
  const topics = new Topics(s.mqtt.prefix);
  const id = s.clientId ?? `${s.role}-${process.pid}`;
  const bus = new Bus({
    url: s.mqtt.url, logger, clientId: `vigil-${id}`,
    username: s.mqtt.username, password: s.mqtt.password, protocolVersion: s.mqtt.protocolVersion,
    availabilityTopic: topics.componentAvailability(id),
  });
  await bus.connect();
  const secrets = s.secretKey ? new SecretBox(parseKey(s.secretKey)) : s.secretKeyFile ? new SecretBox(readFileSync(s.secretKeyFile).subarray(0, 32)) : undefined;
  const ctx: ComponentContext = { bus, topics, logger, secrets };
  const component: Component = s.role === 'camera'
    ? new CameraComponent(ctx, { cameras: s.cameras, componentId: id, recordingsRoot: s.recordingsRoot })
    : new DetectorComponent(ctx, detectorOptions(s.detector));
  await component.start();
  logger.info({ url: redactUrl(s.mqtt.url) }, `${s.role} component running`);
  const stop = async () => {
    await component.stop().catch((err: Error) => logger.error({ err: err.message }, 'stop failed'));
    await bus.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: Error) => { process.stderr.write(`${err.message}\n`); process.exit(1); });
