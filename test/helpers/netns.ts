import { spawn, spawnSync } from 'node:child_process';

/**
 * Commands that make a fresh network namespace usable for multicast on loopback:
 * bring `lo` up, give it the MULTICAST flag, and route 224.0.0.0/4 through it
 * (a new namespace has no routes, so a multicast send would fail with ENETUNREACH).
 */
export const NETNS_MULTICAST_SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

const STDIO_KEEP = 256 * 1024;

/** Outcome of {@link runInNetns}. */
export interface NetnsRun {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  /** Signal that ended the process (e.g. `SIGKILL` after the timeout), or null. */
  signal: NodeJS.Signals | null;
  /** Everything it printed on stdout (the last 256 KiB). */
  stdout: string;
  /** Everything it printed on stderr (the last 256 KiB). */
  stderr: string;
  /** Whether it was killed for running past `timeoutMs`. */
  timedOut: boolean;
}

/** Options of {@link runInNetns}. */
export interface NetnsRunOptions {
  /** Kill the process (SIGKILL) after this many ms; default 30 000. */
  timeoutMs?: number;
  /** Working directory; default the current one. */
  cwd?: string;
  /** Environment; default this process's. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Whether this machine can make a private network namespace with multicast on
 * loopback: needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN), util-linux `unshare`
 * and iproute2 `ip`.
 *
 * @returns `{ ok: true }`, or `{ ok: false, reason }` with what failed (for `it.skipIf` messages).
 */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', NETNS_MULTICAST_SETUP], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `unshare could not run: ${r.error.message}` };
  if (r.status !== 0) {
    return { ok: false, reason: `unshare --net + "${NETNS_MULTICAST_SETUP}" exited ${r.status}: ${r.stderr.trim()}` };
  }
  return { ok: true };
}

/**
 * Run a command inside a new, private network namespace that has only `lo`,
 * set up by {@link NETNS_MULTICAST_SETUP}. The namespace disappears with the
 * process, so nothing it binds is visible outside and nothing needs cleaning up.
 *
 * @param argv Program and arguments, e.g. `[process.execPath, '--import', 'tsx', script]`.
 * @param opts Timeout, working directory, environment.
 * @returns Exit status and output once the process has exited (never rejects for
 *   a non-zero exit; check `code`).
 * @throws If `unshare` cannot be spawned at all.
 */
export function runInNetns(argv: string[], opts: NetnsRunOptions = {}): Promise<NetnsRun> {
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', `${NETNS_MULTICAST_SETUP} && exec "$@"`, 'netns', ...argv], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-STDIO_KEEP)));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-STDIO_KEEP)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
