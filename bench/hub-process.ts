/**
 * A real hub as its own process for the benchmarks (`node --import tsx hub/main.ts`, JSON
 * logs), with an admin user and an MQTT device made by the CLI as a deployment would, and
 * `/proc` readings of it and its children. Linux only.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { freePort } from '../test/helpers/ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Bytes per MiB. */
export const MIB = 1024 * 1024;
const HEALTH_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const KEEP = 32 * 1024;
const BENCH_USER = 'bench';
const BENCH_PASSWORD = 'bench-admin-password';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Median of `xs` (the lower middle for an even count); NaN when empty. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, else 100). */
export function clockTicks(): number {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return v > 0 ? v : 100;
  } catch { return 100; }
}

/** `VmRSS` of a process, bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** Proportional set size (shared pages split between their users), bytes; 0 when unknown. */
export function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** The fields of `/proc/<pid>/stat` that matter here (CPU in clock ticks, all threads); null when the process is gone. */
export function procStat(pid: number | string): { comm: string; ppid: number; cpuTicks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const f = s.slice(close + 2).split(' ');
    return { comm, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch { return null; }
}

/** Direct children of `ppid`, with their command names. */
export function children(ppid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(e);
    if (st?.ppid === ppid) out.push({ pid: Number(e), comm: st.comm });
  }
  return out;
}

/** GET `url` (5 s timeout) with an optional bearer token; the body parsed as JSON when it is JSON. */
export async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body };
}

/** Polls `check` every 250 ms until it returns true; throws `describe()` after `ms`. Errors thrown by `check` count as "not yet" unless they say the hub exited. */
export async function waitFor(check: () => Promise<boolean>, ms: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch (err) { if ((err as Error).message === 'hub exited') throw new Error(describe()); }
    if (Date.now() > deadline) throw new Error(describe());
    await sleep(250);
  }
}

/** True for a hub log line at warn (40) or above; non-JSON output counts too. */
export function isWarning(line: string): boolean {
  try { return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40; } catch { return true; }
}

/** `level msg (err)` of a JSON log line, for grouping; other lines as they are (shortened). */
export function summarize(line: string): string {
  try {
    const j = JSON.parse(line) as { level?: number; msg?: string; err?: unknown; component?: string; module?: string };
    const who = j.component ?? j.module;
    return `${j.level} ${who ? `${who}: ` : ''}${j.msg ?? ''}${j.err ? ` (${String(typeof j.err === 'string' ? j.err : JSON.stringify(j.err)).slice(0, 120)})` : ''}`;
  } catch { return line.slice(0, 200); }
}

/** Options of {@link startHub}. */
export interface StartHubOptions {
  /** Working directory: the config file goes here, `data_dir` defaults to `<dir>/data`. */
  dir: string;
  /** Config keys merged over the bench defaults (loopback ports, demo off, warn logs). */
  config?: Record<string, unknown>;
  /** Also create an MQTT device credential (`component` kind) for a bench client. */
  mqttDevice?: boolean;
  /** Extra node flags for the hub (before `--import tsx`), after those of `BENCH_HUB_NODE_ARGS`. */
  nodeArgs?: string[];
  /** Extra environment variables of the hub process. */
  env?: Record<string, string>;
  /** Preload `bench/hub-probe.mjs` writing into this directory (event-loop delay each second; CPU profile windows on SIGUSR2, see `bench/probe.ts`). */
  probeDir?: string;
}

/** A running hub process. */
export interface HubProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly mqttUrl: string;
  /** Admin bearer token for the REST API. */
  readonly token: string;
  /** MQTT credentials of the bench device, when asked for. */
  readonly mqtt?: { username: string; password: string };
  /** `data_dir` of the hub. */
  readonly dataDir: string;
  /** spawn → `/api/health` 200, s. */
  readonly startS: number;
  /** Hub log lines at warn or above plus stderr lines, tagged with whether SIGTERM had been sent. */
  readonly warnings: Array<{ stopping: boolean; line: string }>;
  alive(): boolean;
  /** The tail of the hub's stderr and stdout, for error messages. */
  tail(): string;
  /** GET with the admin token. */
  get(path: string): Promise<{ status: number; body: unknown }>;
  /** POST JSON with the admin token. */
  post(path: string, body: unknown): Promise<{ status: number; text: string }>;
  /** SIGTERM, then SIGKILL after 20 s; the time it took (s) and the exit code (or `timeout (SIGKILL)`). Idempotent. */
  stop(): Promise<{ stopS: number; exitCode: string }>;
}

/**
 * Writes a config file into `opts.dir`, creates the admin user (and the MQTT device) with
 * the CLI, spawns the hub and waits for `/api/health` 200 (60 s), then logs in.
 * @throws Error when the CLI fails or the hub exits or is not healthy within 60 s (the
 *   message has the tail of its output); the hub is stopped first.
 */
export async function startHub(opts: StartHubOptions): Promise<HubProcess> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const dataDir = join(opts.dir, 'data');
  const configFile = join(opts.dir, 'vigil.yaml');
  writeFileSync(configFile, toYaml({
    data_dir: dataDir,
    http: { port: httpPort, host: '127.0.0.1' },
    mqtt: { port: mqttPort, host: '127.0.0.1' },
    demo: { mode: 'off' },
    log: { level: 'warn' },
    ...opts.config,
  }));
  const cli = (args: string[], input?: string): string => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'hub/cli.ts', ...args, '--config', configFile], { cwd: ROOT, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vigil ${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  // An admin for the REST calls (no default password): the CLI, as a user would.
  cli(['user', 'add', BENCH_USER, '--role', 'admin'], `${BENCH_PASSWORD}\n`);
  let mqttCreds: { username: string; password: string } | undefined;
  if (opts.mqttDevice) {
    const out = cli(['device', 'add', 'bench-client', '--kind', 'component']);
    const m = /MQTT password: (\S+)/.exec(out);
    if (!m) throw new Error(`vigil device add printed no password: ${out}`);
    mqttCreds = { username: 'bench-client', password: m[1]! };
  }

  const t0 = performance.now();
  // BENCH_HUB_NODE_ARGS: extra node flags for the hub, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under the bench.
  const nodeArgs = [...(process.env.BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(opts.nodeArgs ?? []), ...(opts.probeDir ? ['--import', join(ROOT, 'bench', 'hub-probe.mjs')] : [])];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'hub/main.ts', '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_LOG_FORMAT: 'json', ...opts.env, ...(opts.probeDir ? { VIGIL_PROBE_DIR: opts.probeDir } : {}) },
  });
  let stdout = '';
  let stderr = '';
  let stopping = false;
  const warnings: Array<{ stopping: boolean; line: string }> = [];
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout = (stdout + c).slice(-KEEP);
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim() && isWarning(l)) warnings.push({ stopping, line: l });
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-KEEP);
    for (const l of c.split('\n')) if (l.trim()) warnings.push({ stopping, line: `stderr: ${l}` });
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const tail = (): string => `hub stderr:\n${stderr.trim().slice(-4000) || '(empty)'}\nhub stdout:\n${stdout.trim().slice(-4000) || '(empty)'}`;
  let stopped: Promise<{ stopS: number; exitCode: string }> | undefined;
  const stop = (): Promise<{ stopS: number; exitCode: string }> => {
    stopped ??= (async () => {
      const t = performance.now();
      if (!alive()) return { stopS: 0, exitCode: String(child.exitCode ?? child.signalCode) };
      stopping = true;
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)]);
      if (code === 'timeout') { child.kill('SIGKILL'); await exited; }
      return { stopS: (performance.now() - t) / 1000, exitCode: code === 'timeout' ? 'timeout (SIGKILL)' : String(code ?? child.signalCode) };
    })();
    return stopped;
  };
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    if (child.pid === undefined) throw new Error('could not spawn the hub');
    await waitFor(async () => {
      if (!alive()) throw new Error('hub exited');
      return (await getJson(`${base}/api/health`)).status === 200;
    }, HEALTH_TIMEOUT_MS, () => `hub not healthy within ${HEALTH_TIMEOUT_MS / 1000} s (exit code ${child.exitCode})\n${tail()}`);
    const startS = (performance.now() - t0) / 1000;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }) });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
    const token = ((await login.json()) as { access_token: string }).access_token;
    return {
      pid: child.pid,
      base,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      token,
      mqtt: mqttCreds,
      dataDir,
      startS,
      warnings,
      alive,
      tail,
      get: (path) => getJson(`${base}${path}`, token),
      async post(path, body) {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        return { status: res.status, text: await res.text() };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Hub log lines at warn or above and stderr lines, while running and while stopping:
 * `hub_warnings_<phase>` counts and up to 5 `…_distinct` messages.
 */
export function warningFigures(warnings: HubProcess['warnings'], prefix = 'hub_warnings'): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const phase of ['running', 'stopping'] as const) {
    const lines = warnings.filter((w) => w.stopping === (phase === 'stopping')).map((w) => w.line);
    out[`${prefix}_${phase}`] = lines.length;
    if (lines.length) out[`${prefix}_${phase}_distinct`] = [...new Set(lines.map(summarize))].slice(0, 5).join(' | ');
  }
  return out;
}

/**
 * The detector runtime named in an `/api/system` body: `components.detector.runtime` (the
 * in-hub detector's status) or, for a detector in another process, `components.detector.state.runtime`;
 * `not loaded` until the first camera with detection asks for the model. Undefined when absent.
 */
export function runtimeOf(system: unknown): string | undefined {
  const d = (system as { components?: { detector?: { runtime?: string; state?: { runtime?: string } } } } | null)?.components?.detector;
  return d?.runtime ?? d?.state?.runtime;
}

/** Whole-machine CPU from `/proc/stat` (all cores), clock ticks: `busy` = everything but idle and iowait. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '))!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - v[3]! - v[4]!, total };
}

/**
 * Waits until the process `pid` (every thread) used at most `maxCpuPct` % of one core over
 * a second — a hub done starting (Node-RED loads its nodes after `/api/health` answers) —
 * or `timeoutMs` passed; returns the seconds waited.
 */
export async function waitIdle(pid: number, maxCpuPct = 10, timeoutMs = 30_000): Promise<number> {
  const ticks = clockTicks();
  const t0 = performance.now();
  let prev = procStat(pid)?.cpuTicks ?? 0;
  while (performance.now() - t0 < timeoutMs) {
    await sleep(1000);
    const now = procStat(pid)?.cpuTicks;
    if (now === undefined) break;
    const pct = ((now - prev) / ticks) * 100;
    prev = now;
    if (pct <= maxCpuPct) break;
  }
  return (performance.now() - t0) / 1000;
}
