/**
 * `npm start`: loads the configuration (`--config`, `VIGIL_CONFIG`, `./data/vigil.yaml`),
 * starts the hub, and stops it cleanly on SIGINT/SIGTERM. A bad configuration prints
 * every problem as `path: message` and exits with status 2.
 */
import { ConfigError, configPath, loadConfig } from '../components/protocol/config/load.ts';
import { createLogger } from '../components/protocol/log.ts';
import { Hub } from './hub.ts';

async function main(): Promise<void> {
  let config;
  const file = configPath();
  try {
    config = loadConfig({ file });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // The last 1000 lines are kept for the web UI's logs tail (/api/system/logs).
  const logger = createLogger({ level: config.log.level, tail: 1000 });
  // The settings page writes changes into the same file.
  const hub = new Hub(config, logger, { configFile: file });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await hub.stop().catch((err: Error) => logger.error({ err: err.message }, 'stop failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error({ err: (err as Error)?.stack ?? String(err) }, 'unhandled rejection'));
  try {
    await hub.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'hub failed to start');
    process.exit(1);
  }
}

void main();
