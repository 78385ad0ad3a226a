/**
 * Hub memory/CPU benchmark: a real hub as its own process (`node --import tsx hub/main.ts`,
 * embedded broker, 2 detector workers, demo off), measured idle and then with cameras on
 * a real RTSP test camera (`test/helpers/rtsp.ts`, the 384×288 `/sub` stream, decoded at
 * 640 px / 5 fps per camera).
 *
 * Figures come from `/proc`: `VmRSS` of the hub process (its worker threads included) and
 * of its ffmpeg children, and `utime + stime` for CPU. Linux only.
 *
 * Run: `npx tsx bench/hub-rss.ts [cameras] [settleMs]`.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { freePort } from '../test/helpers/ports.ts';
import { startRtspServer, type RtspServer } from '../test/helpers/rtsp.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MIB = 1024 * 1024;
const HEALTH_TIMEOUT_MS = 60_000;
const ONLINE_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const SAMPLES = 5;
const SAMPLE_GAP_MS = 1_000;
const KEEP = 32 * 1024;

/** Options of {@link benchHubRss}. */
export interface BenchHubRssOptions {
  /** Cameras created on the one RTSP test camera; default 4. */
  cameras?: number;
  /** Settle time after all cameras are online, ms; default 20 000. The idle settle is half of it (default 10 s). */
  settleMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits = 1): number => Number(v.toFixed(digits));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** Clock ticks per second of `/proc/<pid>/stat` times. */
function clockTicks(): number {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return v > 0 ? v : 100;
  } catch { return 100; }
}

/** `VmRSS` of a process, bytes; 0 when it is gone. */
function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** Proportional set size (shared pages split between their users), bytes; 0 when unknown. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch { return 0; }
}

/** The fields of `/proc/<pid>/stat` that matter here; null when the process is gone. */
function procStat(pid: number | string): { comm: string; ppid: number; cpuTicks: number } | null {
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
function children(ppid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(e);
    if (st?.ppid === ppid) out.push({ pid: Number(e), comm: st.comm });
  }
  return out;
}

const BENCH_PASSWORD = 'bench-admin-password';

async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body };
}

/** Polls `check` every 250 ms until it returns true; throws `describe()` after `ms`. */
async function waitFor(check: () => Promise<boolean>, ms: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(describe());
    await sleep(250);
  }
}

/**
 * Starts a hub process and measures its memory idle and with `cameras` cameras on a real
 * RTSP stream (640 px wide, 5 fps detect each), then stops everything it started.
 *
 * @returns flat figures: `idle_rss_mib` (median of 5 hub VmRSS samples 1 s apart after the idle
 *   settle, MiB),
 *   `cams<N>_rss_mib` (median of 5 hub VmRSS samples 1 s apart, MiB), `cams<N>_rss_delta_mib`,
 *   `ffmpeg_count` and `ffmpeg_rss_mib_total` (summed VmRSS of the hub's ffmpeg children,
 *   median over the samples, MiB; shared library pages counted in every process),
 *   `ffmpeg_pss_mib_total` (the same as PSS from `smaps_rollup`, shared pages split, MiB),
 *   `cams<N>_hub_cpu_pct` and `ffmpeg_cpu_pct_total` (CPU time over the sampling window,
 *   % of one core, so up to 100 × cores), `other_children` (names of non-ffmpeg children,
 *   e.g. tsx's `esbuild`), `cameras_online_s` (POST of the first camera → all
 *   online, s), `hub_start_s` (spawn → `/api/health` 200, s), `hub_stop_s`, `hub_exit_code`,
 *   `hub_warnings_running` / `hub_warnings_stopping` (hub log lines at warn or above plus
 *   stderr lines, before / after SIGTERM) with up to 5 `…_distinct` messages.
 * @throws Error when the hub does not become healthy or the cameras do not come online
 *   within 60 s (the message includes the tail of the hub's output); the hub, the RTSP
 *   server and the temp dir are cleaned up first.
 */
export async function benchHubRss(opts: BenchHubRssOptions = {}): Promise<Record<string, number | string>> {
  const nCams = opts.cameras ?? 4;
  const settleMs = opts.settleMs ?? 20_000;
  const idleSettleMs = Math.round(settleMs / 2);
  const ticks = clockTicks();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-hub-'));
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${httpPort}`;
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(configFile, toYaml({
    data_dir: join(dir, 'data'),
    http: { port: httpPort, host: '127.0.0.1' },
    mqtt: { port: mqttPort, host: '127.0.0.1' },
    demo: { mode: 'off' },
    log: { level: 'warn' },
    detector: { workers: 2 },
  }));

  let hub: ChildProcess | undefined;
  let rtsp: RtspServer | undefined;
  let stdout = '';
  let stderr = '';
  const out: Record<string, number | string> = { cameras: nCams };
  const tail = (): string => `hub stderr:\n${stderr.trim().slice(-4000) || '(empty)'}\nhub stdout:\n${stdout.trim().slice(-4000) || '(empty)'}`;
  let exited: Promise<number | null> = Promise.resolve(null);
  /** Hub log lines at warn or above and stderr lines, tagged with whether SIGTERM had been sent. */
  const warnings: Array<{ stopping: boolean; line: string }> = [];
  let stopping = false;

  try {
    // An admin for the REST calls (no default password): the CLI, as a user would.
    const add = spawnSync(process.execPath, ['--import', 'tsx', 'hub/cli.ts', 'user', 'add', 'bench', '--role', 'admin', '--config', configFile], { cwd: ROOT, input: `${BENCH_PASSWORD}\n`, encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`vigil user add failed: ${add.stderr}`);
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_LOG_FORMAT: 'json' },
    });
    hub = child;
    exited = new Promise((resolve) => {
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
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not spawn the hub');
    const alive = (): boolean => child.exitCode === null && child.signalCode === null;

    await waitFor(async () => {
      if (!alive()) throw new Error('hub exited');
      return (await getJson(`${base}/api/health`)).status === 200;
    }, HEALTH_TIMEOUT_MS, () => `hub not healthy within ${HEALTH_TIMEOUT_MS / 1000} s (exit code ${child.exitCode})\n${tail()}`);
    if (!alive()) throw new Error(`hub exited (code ${child.exitCode})\n${tail()}`);
    out.hub_start_s = round((performance.now() - t0) / 1000);
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: BENCH_PASSWORD }) });
    const token = ((await login.json()) as { access_token: string }).access_token;

    // Idle RSS falls for a while after start (model load garbage freed), so take a median too.
    await sleep(idleSettleMs);
    const idle: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await sleep(SAMPLE_GAP_MS);
      idle.push(rssBytes(pid));
    }
    out.idle_rss_mib = round(median(idle) / MIB);

    rtsp = await startRtspServer();
    const tCams = performance.now();
    const names = Array.from({ length: nCams }, (_, i) => `cam${i + 1}`);
    for (const name of names) {
      const res = await fetch(`${base}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name, paths: { detect: rtsp.subUrl }, detect: { width: 640, fps: 5 } }),
      });
      if (res.status !== 201) throw new Error(`POST /api/cameras ${name}: ${res.status} ${await res.text()}`);
    }
    let lastSystem: unknown;
    await waitFor(async () => {
      if (!alive()) throw new Error('hub exited');
      const { body } = await getJson(`${base}/api/system`, token);
      lastSystem = body;
      const cams = (body as { cameras?: Record<string, { availability?: string }> }).cameras ?? {};
      return names.every((n) => cams[n]?.availability === 'online');
    }, ONLINE_TIMEOUT_MS, () => `cameras not all online within ${ONLINE_TIMEOUT_MS / 1000} s; /api/system cameras: ${JSON.stringify((lastSystem as { cameras?: unknown })?.cameras)}\n${tail()}`);
    out.cameras_online_s = round((performance.now() - tCams) / 1000);

    await sleep(settleMs);

    // Sampling window: hub RSS and ffmpeg RSS per sample, CPU over the whole window.
    const hubRss: number[] = [];
    const ffRss: number[] = [];
    const ffPss: number[] = [];
    const ffCount: number[] = [];
    const ffmpegs = (): Array<{ pid: number; comm: string }> => children(pid).filter((c) => c.comm === 'ffmpeg');
    const ffCpu = (pids: number[]): number => pids.reduce((s, p) => s + (procStat(p)?.cpuTicks ?? 0), 0);
    const ff0 = ffmpegs().map((c) => c.pid);
    const hubCpu0 = procStat(pid)?.cpuTicks ?? 0;
    const ffCpu0 = ffCpu(ff0);
    const w0 = performance.now();
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await sleep(SAMPLE_GAP_MS);
      hubRss.push(rssBytes(pid));
      const ff = ffmpegs();
      ffCount.push(ff.length);
      ffRss.push(ff.reduce((s, c) => s + rssBytes(c.pid), 0));
      ffPss.push(ff.reduce((s, c) => s + pssBytes(c.pid), 0));
    }
    const wall = (performance.now() - w0) / 1000;
    const hubCpu1 = procStat(pid)?.cpuTicks ?? 0;
    const ffCpu1 = ffCpu(ff0); // same processes (a restarted ffmpeg would count as gone)

    const k = `cams${nCams}`;
    out[`${k}_rss_mib`] = round(median(hubRss) / MIB);
    out[`${k}_rss_delta_mib`] = round(Number(out[`${k}_rss_mib`]) - Number(out.idle_rss_mib));
    out.ffmpeg_count = median(ffCount);
    out.ffmpeg_rss_mib_total = round(median(ffRss) / MIB);
    out.ffmpeg_pss_mib_total = round(median(ffPss) / MIB);
    out[`${k}_hub_cpu_pct`] = round(((hubCpu1 - hubCpu0) / ticks / wall) * 100);
    out.ffmpeg_cpu_pct_total = round(((ffCpu1 - ffCpu0) / ticks / wall) * 100);
    out.other_children = children(pid).filter((c) => c.comm !== 'ffmpeg').map((c) => c.comm).join(',') || '-';

    const tStop = performance.now();
    stopping = true;
    child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)]);
    out.hub_stop_s = round((performance.now() - tStop) / 1000);
    out.hub_exit_code = code === 'timeout' ? 'timeout (SIGKILL)' : String(code ?? child.signalCode);
  } finally {
    if (hub && hub.exitCode === null && hub.signalCode === null) {
      stopping = true;
      hub.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!done) { hub.kill('SIGKILL'); await exited; }
    }
    await rtsp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // Anything the hub logged at warn or above, and anything on stderr, while running and while stopping.
  for (const phase of ['running', 'stopping'] as const) {
    const lines = warnings.filter((w) => w.stopping === (phase === 'stopping')).map((w) => w.line);
    out[`hub_warnings_${phase}`] = lines.length;
    if (lines.length) out[`hub_warnings_${phase}_distinct`] = [...new Set(lines.map(summarize))].slice(0, 5).join(' | ');
  }
  return out;
}

/** True for a hub log line at warn (40) or above; non-JSON output counts too. */
function isWarning(line: string): boolean {
  try { return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40; } catch { return true; }
}

/** `level msg (err)` of a JSON log line, for grouping; other lines as they are (shortened). */
function summarize(line: string): string {
  try {
    const j = JSON.parse(line) as { level?: number; msg?: string; err?: unknown; component?: string; module?: string };
    const who = j.component ?? j.module;
    return `${j.level} ${who ? `${who}: ` : ''}${j.msg ?? ''}${j.err ? ` (${String(typeof j.err === 'string' ? j.err : JSON.stringify(j.err)).slice(0, 120)})` : ''}`;
  } catch { return line.slice(0, 200); }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cameras = process.argv[2] ? Number(process.argv[2]) : undefined;
  const settleMs = process.argv[3] ? Number(process.argv[3]) : undefined;
  const figures = await benchHubRss({ cameras, settleMs });
  console.log('Hub memory/CPU benchmark (MiB = VmRSS / 2^20; CPU % of one core)');
  const pad = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(pad)}  ${v}`);
}
