/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, the `.cpuprofile` JSON of the Chrome
 * DevTools protocol's `Profiler.Profile`): self time per function and per package, and
 * the inclusive (total) time of the heaviest functions, so a profile is read as figures
 * rather than guessed at.
 *
 * Run: `npx tsx bench/cpuprofile-summary.ts <file.cpuprofile>… [--top=30] [--idle]`
 * (`--idle` keeps `(idle)` in the percentages; by default they are of busy time).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** A node of a `.cpuprofile` (Chrome DevTools protocol `Profiler.ProfileNode`). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A `.cpuprofile` file: nodes, sampled node ids and the µs between samples. */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One row of a summary: a name and its time, ms. */
export interface TimeRow {
  name: string;
  ms: number;
}

/** What {@link summarize} finds in one or more profiles. */
export interface ProfileSummary {
  /** Sampled time, ms (every sample, idle included). */
  totalMs: number;
  /** `(idle)` time, ms. */
  idleMs: number;
  /** Self time per function (`name url:line`), ms, largest first. */
  selfByFunction: TimeRow[];
  /** Self time per package (`node_modules/<pkg>`, a project folder, `node:internal`, or a V8 pseudo-frame such as `(garbage collector)`), ms, largest first. */
  selfByPackage: TimeRow[];
  /** Inclusive time per function (self plus callees, counted once per sample), ms, largest first. */
  totalByFunction: TimeRow[];
}

/** The package a script URL belongs to: `aedes`, `@scope/pkg`, `hub/broker`, `node:internal/…`, or the pseudo-frame's name. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const m = /\/(hub|components|bench|test)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]!.split('/').slice(0, -1).join('/') || '.'}`.replace(/\/\.$/, '');
  return url;
}

const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '') : '';
  return `${f.functionName || '(anonymous)'}${file ? ` ${file.replace(/^.*\/(hub|components|bench)\//, '$1/')}:${f.lineNumber + 1}` : ''}`;
};

/**
 * Self and inclusive time per function and per package over the given profiles.
 * @throws Error when a profile lacks `nodes`, `samples` or `timeDeltas` (not a `.cpuprofile`).
 */
export function summarize(profiles: CpuProfile[]): ProfileSummary {
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const p of profiles) {
    if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) throw new Error('not a .cpuprofile: nodes, samples and timeDeltas expected');
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // Sample i lasts timeDeltas[i + 1] (the delta to the next sample); the last one, the mean.
    const mean = p.timeDeltas.length ? (p.endTime - p.startTime) / p.timeDeltas.length : 0;
    for (let i = 0; i < p.samples.length; i++) {
      const ms = (p.timeDeltas[i + 1] ?? mean) / 1000;
      const n = byId.get(p.samples[i]!);
      if (!n) continue;
      totalMs += ms;
      if (n.callFrame.functionName === '(idle)') { idleMs += ms; continue; }
      const l = label(n);
      self.set(l, (self.get(l) ?? 0) + ms);
      const k = packageOf(n.callFrame.url, n.callFrame.functionName);
      pkg.set(k, (pkg.get(k) ?? 0) + ms);
      const seen = new Set<string>();
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const x = byId.get(id)!;
        const xl = label(x);
        if (seen.has(xl) || xl === '(root)') continue;
        seen.add(xl);
        total.set(xl, (total.get(xl) ?? 0) + ms);
      }
    }
  }
  const rows = (m: Map<string, number>): TimeRow[] => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, idleMs, selfByFunction: rows(self), selfByPackage: rows(pkg), totalByFunction: rows(total) };
}

/** Prints a summary: the top `top` rows of each table, in ms and % of busy time (or of all time with `withIdle`). */
export function printSummary(s: ProfileSummary, top = 30, withIdle = false): void {
  const base = withIdle ? s.totalMs : s.totalMs - s.idleMs;
  const pct = (ms: number) => `${((100 * ms) / (base || 1)).toFixed(1).padStart(5)} %`;
  console.log(`sampled ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, busy ${(s.totalMs - s.idleMs).toFixed(0)} ms; % of ${withIdle ? 'all' : 'busy'} time`);
  const table = (title: string, rows: TimeRow[]) => {
    console.log(`\n${title}`);
    for (const r of rows.slice(0, top)) console.log(`${r.ms.toFixed(0).padStart(8)} ms ${pct(r.ms)}  ${r.name}`);
  };
  table('self time by package', s.selfByPackage);
  table('self time by function', s.selfByFunction);
  table('total (inclusive) time by function', s.totalByFunction);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!files.length) {
    console.error('usage: npx tsx bench/cpuprofile-summary.ts <file.cpuprofile>… [--top=30] [--idle]');
    process.exit(2);
  }
  const top = Number(/^--top=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--top=')) ?? '')?.[1] ?? 30);
  printSummary(summarize(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)), top, process.argv.includes('--idle'));
}
