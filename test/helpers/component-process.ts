/**
 * A Vigil component (`components/main.ts camera|detector`) as its own OS process, the
 * scale-out path, for tests: JSON logs captured per process, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** How long `stop()` waits after SIGTERM before SIGKILL, ms. */
const STOP_GRACE_MS = 10_000;
/** Log bytes kept per process (the newest). */
const LOG_KEEP = 4 * 1024 * 1024;

/** A running component process. */
export interface ComponentProcess {
  role: 'camera' | 'detector';
  /** OS process id. */
  pid: number;
  /** Its component id on the bus: `<role>-<pid>` (`vigil/component/<id>/…`). */
  id: string;
  /** Everything it wrote to stdout and stderr so far (JSON log lines with `VIGIL_LOG_FORMAT=json`). */
  logs(): string;
  /** Its log lines that parse as JSON, in order. */
  records(): Array<Record<string, unknown> & { msg?: string; level?: number; time?: number }>;
  /** Exit code or signal once it has exited, else null. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** SIGTERM (SIGKILL after 10 s) and wait for the exit. Idempotent. */
  stop(): Promise<void>;
  child: ChildProcess;
}

/**
 * Starts `node --import tsx components/main.ts <role> --mqtt <url>` in the repository root.
 *
 * @param role `camera` or `detector`
 * @param opts.url the broker, `mqtt://127.0.0.1:PORT`
 * @param opts.username, opts.password MQTT credentials (a `component` device on the embedded
 *   broker; omitted: anonymous), passed as `VIGIL_MQTT__USERNAME` / `VIGIL_MQTT__PASSWORD`
 * @param opts.args extra flags (e.g. `['--workers', '1']`)
 * @returns at once (the process connects in the background: wait for its
 *   `vigil/component/<id>/availability` = `online`)
 * @throws nothing: a spawn failure shows as an exit with its error in `logs()`
 */
export function spawnComponent(role: 'camera' | 'detector', opts: { url: string; username?: string; password?: string; args?: string[] }): ComponentProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_LOG_FORMAT: 'json' };
  delete env.VIGIL_MQTT__USERNAME;
  delete env.VIGIL_MQTT__PASSWORD;
  if (opts.username !== undefined) env.VIGIL_MQTT__USERNAME = opts.username;
  if (opts.password !== undefined) env.VIGIL_MQTT__PASSWORD = opts.password;
  const child = spawn(process.execPath, ['--import', 'tsx', 'components/main.ts', role, '--mqtt', opts.url, ...(opts.args ?? [])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  let out = '';
  const keep = (c: Buffer): void => { out = (out + c.toString()).slice(-LOG_KEEP); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (err) => { out += `\nspawn error: ${err.message}\n`; });
  const exit = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else { child.once('exit', () => resolve()); child.once('error', () => resolve()); }
  });
  let stopping: Promise<void> | undefined;
  return {
    role,
    pid: child.pid ?? -1,
    id: `${role}-${child.pid}`,
    child,
    logs: () => out,
    records: () => out.split('\n').flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
    }),
    exited: () => (child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : null),
    stop: () => (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exit;
        clearTimeout(grace);
      }
      await exit;
    })()),
  };
}
