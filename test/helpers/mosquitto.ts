import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
/** Debian's `mosquitto` package ships the dynamic security plugin here. */
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const STDERR_KEEP = 16 * 1024;
/** Attempts when we picked the port ourselves and lost it to another process before mosquitto bound it. */
const PORT_ATTEMPTS = 3;

/** A running Mosquitto 2 broker on 127.0.0.1 for tests. */
export interface MosquittoBroker {
  /** TCP port of the MQTT listener on 127.0.0.1. */
  port: number;
  /** `mqtt://127.0.0.1:PORT`, ready for `mqtt.connect()`. */
  url: string;
  /** SIGTERM the broker (SIGKILL after 3 s), wait for it to exit, remove its temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * SIGKILL the broker (a crash: no clean disconnects, no wills sent, nothing saved), wait
   * for it to exit, remove its temp dir. `startMosquitto({ port })` starts it again. Idempotent.
   */
  kill(): Promise<void>;
  /** With `opts.dynsec`: the plugin's admin account and its `dynamic-security.json`. */
  dynsec?: { username: string; password: string; file: string };
  /** With `opts.passwordFile`: its user's credentials. */
  user?: { username: string; password: string };
  /** Process id of the broker (its CPU time in `/proc/<pid>/stat`). */
  pid: number;
}

/** Start options of {@link startMosquitto}. */
export interface MosquittoOptions {
  port?: number;
  config?: string[];
  /**
   * Load the dynamic security plugin ({@link DYNSEC_PLUGIN}) with a fresh
   * `dynamic-security.json` made by `mosquitto_ctrl dynsec init <file> <username> <password>`
   * (that account is the plugin's admin), `per_listener_settings false` and
   * `allow_anonymous false`: every client then logs in as a plugin client.
   */
  dynsec?: { username: string; password: string };
  /**
   * No anonymous access: a password file (`mosquitto_passwd`) holding this one user and an
   * ACL file giving it `readwrite` on `<prefix>/#` (default `vigil`) — Mosquitto then checks
   * a password at CONNECT and an ACL on every PUBLISH and delivery, as the embedded broker
   * does (`bench/broker.ts`).
   */
  passwordFile?: { username: string; password: string; prefix?: string };
}

/**
 * Start a real Mosquitto 2 broker (`/usr/sbin/mosquitto -c <conf>`) listening on
 * 127.0.0.1 only: anonymous access, no persistence, `max_queued_messages 10000`,
 * log to stderr. The config lives in a fresh `mkdtemp` directory that `stop()`
 * removes. Resolves once the listener accepts a TCP connection and answers an MQTT
 * CONNECT with CONNACK.
 *
 * @param opts.port TCP port to listen on; omitted or 0 picks a free one (via
 *   {@link freePort}, retried up to 3 times if another process takes it first).
 * @param opts.config extra `mosquitto.conf` lines after the defaults (e.g. a `plugin`,
 *   `max_packet_size`); `allow_anonymous` and the listener stay as above.
 * @param opts.dynsec the dynamic security plugin and its admin (see {@link MosquittoOptions});
 *   readiness then takes any CONNACK (an anonymous CONNECT is refused).
 * @param opts.passwordFile a password file and ACL instead of anonymous access (see {@link MosquittoOptions}).
 * @returns The running broker's handle. Always `stop()` it, e.g. in `afterAll`.
 * @throws If mosquitto cannot be spawned (`apt-get install mosquitto`), exits
 *   early (e.g. port in use) or does not accept connections within 10 s; the
 *   message includes the broker's stderr.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const fixed = opts.port !== undefined && opts.port !== 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < (fixed ? 1 : PORT_ATTEMPTS); attempt++) {
    const port = fixed ? opts.port! : await freePort();
    try {
      return await startOn(port, opts);
    } catch (err) {
      lastError = err;
      if (fixed || !(err instanceof BrokerExitedEarly)) break;
    }
  }
  throw lastError;
}

class BrokerExitedEarly extends Error {}

async function startOn(port: number, opts: MosquittoOptions): Promise<MosquittoBroker> {
  const { dynsec, passwordFile: user } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'vigil-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const dynsecFile = join(dir, 'dynamic-security.json');
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  if (dynsec) await promisify(execFile)('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, dynsec.username, dynsec.password]);
  if (user) {
    await promisify(execFile)('mosquitto_passwd', ['-b', '-c', passwd, user.username, user.password]);
    await writeFile(acl, `user ${user.username}\ntopic readwrite ${user.prefix ?? 'vigil'}/#\n`);
    // Started as root, mosquitto drops to its own user before it reads these files.
    await Promise.all([chmod(dir, 0o755), chmod(passwd, 0o644)]);
  }
  await writeFile(
    conf,
    [
      ...(dynsec ? ['per_listener_settings false'] : []),
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${dynsec || user ? 'false' : 'true'}`,
      ...(user ? [`password_file ${passwd}`, `acl_file ${acl}`] : []),
      ...(dynsec ? [
        `plugin ${DYNSEC_PLUGIN}`,
        `plugin_opt_config_file ${dynsecFile}`,
        // Plugins load after mosquitto drops root for its own user, who cannot read this temp dir.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
      ] : []),
      'persistence false',
      'max_queued_messages 10000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information', // "mosquitto version X running" marks listeners as bound
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );

  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const isRunning = (): boolean => spawnError === undefined && child.exitCode === null && child.signalCode === null;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (isRunning()) {
        child.kill('SIGTERM');
        const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(grace);
      }
      await rm(dir, { recursive: true, force: true });
    })());

  const kill = (): Promise<void> =>
    (stopped ??= (async () => {
      if (isRunning()) child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    })());

  const describe = (what: string): string =>
    `mosquitto (${MOSQUITTO} -c ${conf}, port ${port}) ${what}` +
    (stderr.trim() ? `; stderr:\n${stderr.trim()}` : '; no stderr output');

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(describe(`could not be spawned: ${spawnError.message} (apt-get install mosquitto)`));
    }
    if (!isRunning()) {
      await new Promise((r) => setTimeout(r, 50)); // let stderr flush
      await stop();
      throw new BrokerExitedEarly(describe(`exited early (code ${child.exitCode}, signal ${child.signalCode})`));
    }
    // Only trust the port once *our* broker says its listeners are bound: a connect
    // alone could reach whoever else holds the port while mosquitto fails to bind.
    if (/mosquitto version \S+ running/.test(stderr) && (await canConnect(port, dynsec !== undefined || user !== undefined))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(describe(`did not accept connections within ${READY_TIMEOUT_MS / 1000} s`));
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port, url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop, kill,
    ...(dynsec ? { dynsec: { ...dynsec, file: dynsecFile } } : {}),
    ...(user ? { user: { username: user.username, password: user.password } } : {}),
  };
}

/**
 * True when an MQTT broker answers on 127.0.0.1:port: sends an MQTT 3.1.1 CONNECT
 * (clean session, empty client id) and waits for a CONNACK, so a foreign process
 * that grabbed the port is not mistaken for our broker. `anyCode`: a refusing CONNACK
 * counts too (a broker without anonymous access answers 5).
 */
function canConnect(port: number, anyCode = false): Promise<boolean> {
  const CONNECT = Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]);
  const DISCONNECT = Buffer.from([0xe0, 0x00]);
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (ok) sock.end(DISCONNECT);
      else sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => sock.write(CONNECT));
    sock.on('data', (buf: Buffer) => done(buf.length >= 4 && buf[0] === 0x20 && (anyCode || buf[3] === 0x00)));
    sock.on('error', () => done(false));
    sock.once('close', () => done(false));
  });
}
