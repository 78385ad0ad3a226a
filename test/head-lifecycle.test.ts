/**
 * The head daemon's restart and factory reset, end to end (issue #13): the real daemon
 * (`head-firmware/main.ts`, no bus) in its own process; the `system.restart` and
 * `system.factory_reset` buttons pressed over its HTTP API (admin, Basic auth) stop it in
 * order and start it again as a new process with the same arguments. After a restart every
 * persisted value is back; after a factory reset they are defaults again — except the tag
 * categories (the seed's issue #150).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const ROOT = new URL('..', import.meta.url).pathname;
const PASSWORD = 'head-admin-password';
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };
let dir: string;
let child: ChildProcess;
let log = '';
/** Pids of every head process seen (the re-executed ones are detached: killed in afterAll). */
const pids = new Set<number>();

type Running = { pid: number; http: string };
/** The `camera head running` lines so far, in order. */
const running = (): Running[] => [...log.matchAll(/\{[^\n]*"msg":"camera head running"[^\n]*\}/g)].map((m) => {
  const j = JSON.parse(m[0]) as { pid: number; http: number };
  pids.add(j.pid);
  return { pid: j.pid, http: `http://127.0.0.1:${j.http}` };
});

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const put = (base: string, key: string, value: unknown) => fetch(`${base}/api/state/${key}`, { method: 'PUT', headers: auth, body: JSON.stringify({ value }) });
const get = async (base: string, key: string) => ((await (await fetch(`${base}/api/state/${key}`, { headers: auth })).json()) as { value: unknown }).value;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-head-life-'));
  writeFileSync(join(dir, 'head.yaml'), YAML.stringify({
    id: 'life1', data_dir: join(dir, 'data'), admin_password: PASSWORD, http: { port: 0 }, rtsp: { port: 0 }, camera: { kind: 'test', clock: false },
    overrides: { DEFAULT: { defaults: { 'stream.resolution': '640x480', 'stream.fps': 5, 'stream.bitrate_kbps': 300 } } },
  }));
  child = spawn(process.execPath, ['--import', 'tsx', 'head-firmware/main.ts', '--config', join(dir, 'head.yaml')], { cwd: ROOT, env: { ...process.env, VIGIL_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  await until(() => running()[0], 30_000, 'the head to start');
}, 60_000);

afterAll(() => {
  running();
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  rmSync(dir, { recursive: true, force: true });
});

describe('head restart and factory reset', () => {
  it('a restart stops the head and starts it again as a new process with its persisted state', async () => {
    const first = running()[0]!;
    expect((await put(first.http, 'light.level', 37)).status).toBe(200);
    expect((await put(first.http, 'recording.categories', [{ id: 1, name: 'Surgery', color: '#ff0000' }])).status).toBe(200);
    expect((await put(first.http, 'recording.category_counter', 1)).status).toBe(200);
    expect((await put(first.http, 'system.restart', true)).status).toBe(200);
    const second = await until(() => running()[1], 40_000, 'the restarted head');
    expect(second.pid).not.toBe(first.pid);
    expect(log).toMatch(/"reason":"restart","msg":"camera head stopped"/);
    expect(await get(second.http, 'light.level')).toBe(37);
    expect(await get(second.http, 'recording.categories')).toEqual([{ id: 1, name: 'Surgery', color: '#ff0000' }]);
  }, 60_000);

  it('a factory reset restarts with defaults, keeping the tag categories', async () => {
    const second = running()[1]!;
    expect((await put(second.http, 'system.factory_reset', true)).status).toBe(200);
    const third = await until(() => running()[2], 40_000, 'the head after the factory reset');
    expect(third.pid).not.toBe(second.pid);
    expect(await get(third.http, 'light.level')).toBe(100);
    expect(await get(third.http, 'recording.categories')).toEqual([{ id: 1, name: 'Surgery', color: '#ff0000' }]);
    expect(await get(third.http, 'recording.category_counter')).toBe(1);
  }, 60_000);
});
