/**
 * The camera head daemon:
 *
 *   tsx head-firmware/main.ts [--config head.yaml] [--id head1] [--mqtt mqtt://hub:1883]
 *
 * Runs until SIGTERM/SIGINT, then shuts down in the seed's order (`head.ts`) and exits 0. A
 * restart or factory reset (the `system.restart` / `system.factory_reset` buttons) stops the
 * head the same way and starts this program again with the same arguments. A configuration
 * error prints `path: message` lines and exits 2.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createLogger } from '../components/protocol/log.ts';
import { HeadConfigError, loadHeadConfig } from './config.ts';
import { Head } from './head.ts';

const { values } = parseArgs({
  options: { config: { type: 'string' }, id: { type: 'string' }, mqtt: { type: 'string' }, 'data-dir': { type: 'string' } },
  strict: true,
});

const logger = createLogger({ level: process.env.VIGIL_LOG_LEVEL ?? 'info', pretty: process.stdout.isTTY && process.env.VIGIL_LOG_FORMAT !== 'json' });

let config;
try {
  const extra: Record<string, unknown> = {};
  if (values.id) extra.id = values.id;
  if (values['data-dir']) extra.data_dir = values['data-dir'];
  config = loadHeadConfig(values.config, extra);
  if (values.mqtt) config.mqtt.url = values.mqtt;
} catch (err) {
  if (err instanceof HeadConfigError) {
    process.stderr.write(`invalid head configuration:\n${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

/** Starts this program again, detached, with the same arguments (restart, factory reset). */
function reexec(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { detached: true, stdio: 'inherit', env: process.env });
  child.unref();
  process.exit(0);
}

const head = new Head({ config, logger, onRestart: reexec });
// The seed's main loop logs and runs on: one bad callback never takes the head down.
process.on('uncaughtException', (err) => logger.error({ err: err.message, stack: err.stack }, 'uncaught exception'));
process.on('unhandledRejection', (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'unhandled rejection'));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void head.shutdown('signal').then(() => process.exit(0));
  });
}

try {
  await head.start();
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'camera head failed to start');
  process.exit(1);
}
