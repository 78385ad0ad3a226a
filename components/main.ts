/**
 * Runs one component as its own OS process against any broker — the scale-out path:
 *
 *   tsx components/main.ts camera   --mqtt mqtt://broker:1883 [--prefix vigil] [--cameras a,b]
 *   tsx components/main.ts detector --mqtt mqtt://broker:1883 [--workers 2] [--backend wasm]
 *
 * Options also come from the environment: `VIGIL_MQTT__URL`, `VIGIL_MQTT__USERNAME`,
 * `VIGIL_MQTT__PASSWORD` (a `component` device credential on the embedded broker),
 * `VIGIL_MQTT__PREFIX`, `VIGIL_MQTT__PROTOCOL_VERSION`, and `VIGIL_SECRET_KEY` (or
 * `--secret-key-file data/secret.key`) to open the sealed camera passwords. The component
 * learns its cameras from the retained `vigil/camera/+/config` the hub publishes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SecretBox, parseKey } from './protocol/secret-box.ts';
import { Bus } from './protocol/bus.ts';
import { Topics } from './protocol/topics.ts';
import type { Component, ComponentContext } from './protocol/component.ts';
import { CameraComponent } from './camera/index.ts';
import { DetectorComponent } from './detector/index.ts';
import { createLogger, redactUrl } from './protocol/log.ts';

const USAGE = 'usage: components/main.ts camera|detector --mqtt URL [--prefix vigil] [--cameras a,b] [--workers N] [--backend auto|wasm|tensorflow] [--secret-key-file FILE] [--recordings DIR]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mqtt: { type: 'string' }, prefix: { type: 'string' }, cameras: { type: 'string' },
      workers: { type: 'string' }, backend: { type: 'string' }, 'client-id': { type: 'string' }, 'secret-key-file': { type: 'string' }, recordings: { type: 'string' },
    },
  });
  const role = positionals[0];
  const url = values.mqtt ?? process.env.VIGIL_MQTT__URL;
  if ((role !== 'camera' && role !== 'detector') || !url) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const logger = createLogger({}).child({ component: role, pid: process.pid });
  const topics = new Topics(values.prefix ?? process.env.VIGIL_MQTT__PREFIX ?? 'vigil');
  const id = values['client-id'] ?? `${role}-${process.pid}`;
  const bus = new Bus({
    url, logger, clientId: `vigil-${id}`,
    username: process.env.VIGIL_MQTT__USERNAME, password: process.env.VIGIL_MQTT__PASSWORD,
    protocolVersion: process.env.VIGIL_MQTT__PROTOCOL_VERSION === '5' ? 5 : 4,
    availabilityTopic: topics.componentAvailability(id),
  });
  await bus.connect();
  const keyFile = values['secret-key-file'];
  const secrets = process.env.VIGIL_SECRET_KEY ? new SecretBox(parseKey(process.env.VIGIL_SECRET_KEY)) : keyFile ? new SecretBox(readFileSync(keyFile).subarray(0, 32)) : undefined;
  const ctx: ComponentContext = { bus, topics, logger, secrets };
  const backend = values.backend as 'auto' | 'wasm' | 'tensorflow' | undefined;
  const component: Component = role === 'camera'
    ? new CameraComponent(ctx, { cameras: values.cameras?.split(','), componentId: id, recordingsRoot: values.recordings })
    : new DetectorComponent(ctx, { workers: values.workers ? Number(values.workers) : undefined, backend });
  await component.start();
  logger.info({ url: redactUrl(url) }, `${role} component running`);
  const stop = async () => {
    await component.stop().catch((err: Error) => logger.error({ err: err.message }, 'stop failed'));
    await bus.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: Error) => { process.stderr.write(`${err.message}\n`); process.exit(1); });
