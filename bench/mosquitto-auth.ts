/**
 * A Mosquitto 2 for the benchmarks that, like Vigil's embedded broker, lets no anonymous
 * client in: a password file (`mosquitto_passwd`) with one user and an ACL file giving it
 * `readwrite` on `<prefix>/#` — so Mosquitto checks a password at CONNECT and an ACL on
 * every PUBLISH and delivery, as the embedded broker does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../test/helpers/ports.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/** A running, password-protected Mosquitto on 127.0.0.1. */
export interface AuthMosquitto {
  readonly pid: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** SIGTERM (SIGKILL after 3 s), then removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `/usr/sbin/mosquitto` with `allow_anonymous false`, a password file holding
 * `username` and an ACL file (`user <username>` / `topic readwrite <prefix>/#`), no
 * persistence, `max_queued_messages 10000` (as `test/helpers/mosquitto.ts`). Resolves once
 * the user can log in.
 * @throws Error when mosquitto or mosquitto_passwd is missing (`apt-get install mosquitto`),
 *   exits early, or does not accept the user within 10 s; the message has its stderr.
 */
export async function startAuthMosquitto(opts: { username?: string; password?: string; prefix?: string } = {}): Promise<AuthMosquitto> {
  const username = opts.username ?? 'bench';
  const password = opts.password ?? `bench-${Math.random().toString(36).slice(2)}`;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-auth-'));
  const port = await freePort();
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  const conf = join(dir, 'mosquitto.conf');
  try {
    execFileSync(MOSQUITTO_PASSWD, ['-b', '-c', passwd, username, password], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto_passwd failed (apt-get install mosquitto): ${(err as Error).message}`);
  }
  writeFileSync(acl, `user ${username}\ntopic readwrite ${opts.prefix ?? 'vigil'}/#\n`);
  // Started as root, mosquitto drops to its own user before it reads these files.
  chmodSync(dir, 0o755);
  chmodSync(passwd, 0o644);
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${passwd}`,
    `acl_file ${acl}`,
    'persistence false',
    'max_queued_messages 10000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    '',
  ].join('\n'));

  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-16_384); });
  let spawnError: Error | undefined;
  child.on('error', (err) => { spawnError = err; });
  const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.once('error', () => resolve()); });
  const running = (): boolean => spawnError === undefined && child.exitCode === null && child.signalCode === null;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= (async () => {
    if (running()) {
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(grace);
    }
    rmSync(dir, { recursive: true, force: true });
  })());

  const url = `mqtt://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!running()) {
      await stop();
      throw new Error(`mosquitto ${spawnError ? `could not be spawned: ${spawnError.message} (apt-get install mosquitto)` : `exited early (code ${child.exitCode})`}; stderr:\n${stderr.trim()}`);
    }
    if (/mosquitto version \S+ running/.test(stderr)) {
      const ok = await mqtt.connectAsync(url, { protocolVersion: 4, username, password, reconnectPeriod: 0, connectTimeout: 1_000 })
        .then((c) => c.endAsync(true).then(() => true), () => false);
      if (ok) break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not accept ${username} within ${READY_TIMEOUT_MS / 1000} s; stderr:\n${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { pid: child.pid!, url, username, password, stop };
}
