/**
 * A throw-away PostgreSQL server for tests and benchmarks: Debian's `postgresql` package
 * (binaries in `/usr/lib/postgresql/<version>/bin`, the newest version found; PATH is not
 * used), a fresh cluster made by `initdb` in a temp dir, listening on a random
 * 127.0.0.1 port with its unix socket in the temp dir.
 *
 * PostgreSQL refuses to run as root: when we are root, `initdb` and `postgres` run as the
 * `postgres` system user the Debian package creates (spawned with its uid/gid) and the
 * temp dir is handed to it. The superuser `postgres` logs in with a password over TCP
 * (scram-sha-256), so URLs carry credentials as a real deployment's do. A process that
 * exits without `stop()` still shuts its servers down (SIGQUIT on `exit`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

const PG_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_KEEP = 16 * 1024;
/** Attempts when the random port was taken by another process before postgres bound it. */
const PORT_ATTEMPTS = 3;
/** The superuser's password (a test cluster on loopback only). */
const SUPERUSER_PASSWORD = 'vigil-test-pg';

/** Settings for test runs: no fsync at all (a lost temp cluster does not matter). */
export const FAST_SETTINGS: Readonly<Record<string, string>> = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

/** A running test cluster. */
export interface PostgresServer {
  /** TCP port on 127.0.0.1. */
  port: number;
  /** The cluster's temp dir (data in `data/`, the unix socket in `run/`). */
  dir: string;
  /** Major version of the binaries, e.g. `15`. */
  version: string;
  /** `postgres://postgres:…@127.0.0.1:<port>/<db>` as the superuser. */
  url(db?: string): string;
  /**
   * Creates a database owned by a new login role of the same name (password `<name>-pw`),
   * as docs/config.md tells users to. @returns its `postgres://<name>:<name>-pw@…/<name>` URL
   */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as the superuser with `psql` (database `postgres` unless given). @returns psql's stdout */
  psql(sql: string, db?: string): Promise<string>;
  /** Stops the server (fast shutdown: clients are disconnected), keeping its data. */
  halt(): Promise<void>;
  /** Starts a halted server again, same data and port. */
  resume(): Promise<void>;
  /** Stops the server and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `postgres`. @throws when there is none */
export function postgresBinDir(): { bin: string; version: string } {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'postgres')) && existsSync(join(PG_ROOT, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${PG_ROOT} (apt-get install postgresql)`);
  return { bin: join(PG_ROOT, versions[0], 'bin'), version: versions[0] };
}

/** uid/gid to run the server as: ours, or the `postgres` user's when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it)');
  }
}

/**
 * Makes a cluster and starts it. Always `stop()` it (e.g. in `afterAll`).
 * @param opts.settings server settings (`-c key=value`), default {@link FAST_SETTINGS}
 * @throws when the binaries are missing, `initdb` fails, or the server is not ready within 20 s (with its log)
 */
export async function startPostgres(opts: { settings?: Record<string, string> } = {}): Promise<PostgresServer> {
  const { bin, version } = postgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  const data = join(dir, 'data');
  const run = join(dir, 'run');
  const pwfile = join(dir, 'pw');
  try {
    writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
    mkdirSync(run, { mode: 0o700 });
    if (user) for (const p of [dir, pwfile, run]) chownSync(p, user.uid, user.gid);
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`initdb failed: ${(err as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }
  const settings = { ...(opts.settings ?? FAST_SETTINGS) };
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;

  const launch = async (p: number): Promise<void> => {
    log = '';
    const args = ['-D', data, '-p', String(p), '-h', '127.0.0.1', '-k', run, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const c = spawn(join(bin, 'postgres'), args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => { log = (log + s).slice(-LOG_KEEP); });
    let spawnError: Error | undefined;
    c.on('error', (e) => { spawnError = e; });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new Error(`postgres could not be spawned: ${spawnError.message}`);
      if (c.exitCode !== null || c.signalCode !== null) throw new ExitedEarly(`postgres exited early (code ${c.exitCode}) on port ${p}:\n${log.trim()}`);
      if (log.includes('database system is ready to accept connections')) return;
      if (Date.now() > deadline) { await kill(); throw new Error(`postgres not ready within ${READY_TIMEOUT_MS / 1000} s:\n${log.trim()}`); }
      await new Promise((r) => setTimeout(r, 30));
    }
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGINT'); // fast shutdown
    const grace = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  };

  // A test run that exits without stop() (a timeout, an uncaught error) must not leave a server behind.
  const onExit = (): void => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT'); // immediate shutdown
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        await launch(port);
        break;
      } catch (err) {
        if (!(err instanceof ExitedEarly) || attempt + 1 >= PORT_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
    throw err;
  }

  const url = (db = 'postgres') => `postgres://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/${db}`;
  const psql = (sql: string, db = 'postgres') => new Promise<string>((resolve, reject) => {
    const c = spawn(join(bin, 'psql'), ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: SUPERUSER_PASSWORD, PGCONNECT_TIMEOUT: '5' },
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql ${JSON.stringify(sql)} failed (${code}): ${err.trim()}`))));
  });
  let stopped: Promise<void> | undefined;
  return {
    port, dir, version, url, psql,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits and _ only`);
      await psql(`CREATE ROLE ${name} LOGIN PASSWORD '${name}-pw'`);
      await psql(`CREATE DATABASE ${name} OWNER ${name}`);
      return `postgres://${name}:${name}-pw@127.0.0.1:${port}/${name}`;
    },
    halt: kill,
    resume: () => launch(port),
    stop: () => (stopped ??= (async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    })()),
  };
}

class ExitedEarly extends Error {}
