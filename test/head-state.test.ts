/**
 * The camera head's observable state (issue #13, part 1): permissions, validation,
 * observers, persistence in a real SQLite file (also after `kill -9`), factory reset,
 * change listeners, the simulated drivers and the variants.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../components/protocol/log.ts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSimulatedDrivers, type SimulatedDrivers, type SimulatedOptions } from '../head-firmware/drivers/simulated.ts';
import { declareAll, FACTORY_RESET_KEEP, type DeclaredState, type LifecycleHooks } from '../head-firmware/modules/index.ts';
import { ROLE_PERMISSIONS, canRead, canWrite, principalPermissions } from '../head-firmware/state/permissions.ts';
import { StateDb } from '../head-firmware/state/state-db.ts';
import { StateStore } from '../head-firmware/state/store.ts';
import { PERMISSIONS, ROLES, type KeySpec, type Principal, type StateChange } from '../head-firmware/state/types.ts';
import type { VariantConfigInput } from '../head-firmware/variants.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmpRoot = mkdtempSync(join(tmpdir(), 'vigil-head-state-'));
let dirN = 0;
const newDir = () => join(tmpRoot, `d${++dirN}`);

const SYSTEM: Principal = { kind: 'system' };
const user = (role: 'viewer' | 'operator' | 'admin'): Principal => ({ kind: 'user', name: role, role });
const admin = user('admin');
const operator = user('operator');
const viewer = user('viewer');

interface Head {
  store: StateStore;
  db: StateDb;
  sim: SimulatedDrivers;
  declared: DeclaredState;
  hooks: { restarts: number; resets: number };
  close(): Promise<void>;
}

const open: Head[] = [];

/** A head on `dir` (real SQLite file) with simulated drivers, declared and loaded. */
async function startHead(dir: string, opts: { variant?: VariantConfigInput; sim?: SimulatedOptions; hooks?: (h: Head) => Partial<LifecycleHooks> } = {}): Promise<Head> {
  const db = new StateDb(dir);
  const store = new StateStore({ db });
  const sim = createSimulatedDrivers({ seed: 1, ...opts.sim });
  const counts = { restarts: 0, resets: 0 };
  const head = { store, db, sim, hooks: counts } as Head;
  const extra = opts.hooks?.(head) ?? {};
  const hooks: LifecycleHooks = {
    restart: extra.restart ?? (() => { counts.restarts++; }),
    factoryReset: extra.factoryReset ?? (() => { counts.resets++; }),
  };
  head.declared = declareAll(store, sim, hooks, opts.variant ?? {});
  head.close = async () => {
    head.declared.stop();
    sim.stop();
    await store.close();
  };
  await store.load();
  open.push(head);
  return head;
}

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('permissions', () => {
  it('roles hold the permissions of the brief', () => {
    const r = (p: string) => p.endsWith('_r');
    expect([...ROLE_PERMISSIONS.viewer].sort()).toEqual(PERMISSIONS.filter(r).sort());
    expect([...ROLE_PERMISSIONS.operator].sort()).toEqual([...PERMISSIONS.filter(r), 'camera_rw', 'light_rw', 'recording_rw'].sort());
    expect([...ROLE_PERMISSIONS.admin].sort()).toEqual([...PERMISSIONS].sort());
    expect([...principalPermissions(SYSTEM)].sort()).toEqual([...PERMISSIONS].sort());
    expect(principalPermissions({ kind: 'mqtt', role: 'operator' })).toEqual(ROLE_PERMISSIONS.operator);
    // Bad input from an API holds nothing and never throws.
    expect(principalPermissions({ kind: 'user', name: 'x', role: 'root' } as unknown as Principal)).toEqual([]);
    expect(principalPermissions(undefined as unknown as Principal)).toEqual([]);
    // A _rw implies its _r.
    expect(canRead(operator, { read: ['camera_r'] })).toBe(true);
    expect(canRead({ kind: 'mqtt', role: 'viewer' }, { read: ['users_rw'] })).toBe(false);
    expect(canWrite(viewer, { write: ['camera_rw'] })).toBe(false);
    expect(canWrite(SYSTEM, { write: [] })).toBe(true);
  });

  it('every declared key, every role: read and write exactly as its spec says; system does all', async () => {
    const h = await startHead(newDir());
    const { store } = h;
    expect(store.keys().length).toBeGreaterThan(40);
    const principals: Principal[] = [...ROLES.map((role) => user(role)), ...ROLES.map((role) => ({ kind: 'mqtt', role }) as Principal)];
    for (const key of store.keys()) {
      const spec = store.spec(key)!;
      for (const p of principals) {
        const held = ROLE_PERMISSIONS[(p as { role: 'viewer' }).role];
        const mayRead = spec.read.some((x) => held.includes(x) || (x.endsWith('_r') && held.includes(`${x}w` as never)));
        const mayWrite = spec.write.some((x) => held.includes(x));
        expect(store.canRead(p, key), `${key} read by ${JSON.stringify(p)}`).toBe(mayRead);
        expect(store.canWrite(p, key), `${key} write by ${JSON.stringify(p)}`).toBe(mayWrite);
        expect(key in store.readable(p)).toBe(mayRead);
        // Writing the current value: allowed → ok (no change), else the right refusal.
        const r = await store.set(key, store.get(key), p);
        if (mayWrite) expect(r, `${key} by ${JSON.stringify(p)}`).toMatchObject({ ok: true, changed: false });
        else expect(r).toMatchObject({ ok: false, code: spec.write.length === 0 ? 'read_only' : 'forbidden' });
      }
      expect(store.canRead(SYSTEM, key)).toBe(true);
      expect(store.canWrite(SYSTEM, key)).toBe(true);
      expect(await store.set(key, store.get(key), SYSTEM)).toMatchObject({ ok: true });
    }
    expect(Object.keys(store.readable(SYSTEM))).toEqual(store.keys());
    // The brief's areas, spot-checked.
    expect(await store.set('light.level', 10, viewer)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await store.set('light.level', 10, operator)).toMatchObject({ ok: true, changed: true });
    expect(await store.set('network.hostname', 'cam2', operator)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await store.set('network.hostname', 'cam2', admin)).toMatchObject({ ok: true, changed: true });
    expect(await store.set('sensors.temperature_c', 40, admin)).toMatchObject({ ok: false, code: 'read_only' });
    expect(store.canRead(viewer, 'users.list')).toBe(false);
    expect(store.canRead(operator, 'users.list')).toBe(false);
    expect(store.canRead(admin, 'users.list')).toBe(true);
    expect(store.spec('sensors.pressure_hpa')!.read).toEqual(['camera_r']);
    expect(await store.set('no.such_key', 1, admin)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(await store.set('light.level', 10, undefined as unknown as Principal)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('every key has a description, HA hints only with known components, users.list holds no secrets', async () => {
    const h = await startHead(newDir());
    for (const key of h.store.keys()) {
      const spec = h.store.spec(key)!;
      expect(spec.description.length, key).toBeGreaterThan(3);
      if (spec.ha?.component === 'select') expect(spec.ha.options!.length).toBeGreaterThan(1);
    }
    h.sim.setUsers([{ name: 'ann', role: 'operator', password: 'hunter2' } as never]);
    await h.store.idle();
    expect(h.store.get('users.list')).toEqual([{ name: 'ann', role: 'operator' }]);
    expect(await h.store.set('users.list', [{ name: 'x', role: 'admin', password_hash: 'abc' }], SYSTEM)).toMatchObject({ ok: false, code: 'invalid' });
  });
});

describe('validation', () => {
  it('refuses bad values with the reason and path, and keeps the last good value', async () => {
    const h = await startHead(newDir());
    const { store } = h;
    const good: [string, unknown][] = [
      ['light.level', 40], ['light.on', true], ['image.white_balance', 'cloudy'], ['network.address', '10.0.0.5/8'],
      ['time.timezone', 'Europe/Berlin'], ['zoom.level', 2.5], ['stream.resolution', '1920x1080'], ['network.hostname', 'head-2'],
      ['recording.categories', [{ id: 1, name: 'Crack', color: '#112233' }]],
    ];
    for (const [key, value] of good) expect(await store.set(key, value, admin), key).toMatchObject({ ok: true, changed: true });
    expect(await store.set('network.address', 'fe80::1/64', admin)).toMatchObject({ ok: true });
    expect(await store.set('network.address', '10.0.0.5/8', admin)).toMatchObject({ ok: true });
    const bad: [string, unknown, RegExp][] = [
      ['light.level', 101, /100/],
      ['light.level', -1, /0/],
      ['light.level', 50.5, /int/i],
      ['light.level', '50', /number/],
      ['light.on', 'yes', /boolean/],
      ['image.white_balance', 'purple', /auto/],
      ['zoom.level', 0.5, /1/],
      ['zoom.level', Number.NaN, /number|NaN/i],
      ['stream.resolution', '800x600', /1280x720/],
      ['stream.fps', 60, /30/],
      ['stream.bitrate_kbps', 100, /256/],
      ['network.address', '192.168.1.300/24', /prefix length/],
      ['network.address', '10.0.0.1', /prefix length/],
      ['network.address', '10.0.0.1/33', /prefix length/],
      ['network.hostname', 'my_head', /host name/],
      ['time.timezone', 'Mars/Olympus_Mons', /IANA/],
      ['time.timezone', '+01:00', /IANA/],
      ['rotation.disc_speed', 150, /100/],
    ];
    for (const [key, value, reason] of bad) {
      const before = store.get(key);
      const r = await store.set(key, value, admin);
      expect(r, `${key} = ${String(value)}`).toMatchObject({ ok: false, code: 'invalid', path: [] });
      if (!r.ok) expect(r.reason, key).toMatch(reason);
      expect(store.get(key)).toEqual(before);
    }
    // The path points inside the value.
    const dup = await store.set('recording.categories', [{ id: 1, name: 'A', color: '#000000' }, { id: 1, name: 'B', color: '#ffffff' }], operator);
    expect(dup).toMatchObject({ ok: false, code: 'invalid', path: [1, 'id'] });
    if (!dup.ok) expect(dup.reason).toMatch(/^1\.id: .*used twice/);
    const colour = await store.set('recording.categories', [{ id: 3, name: 'C', color: 'red' }], operator);
    expect(colour).toMatchObject({ ok: false, code: 'invalid', path: [0, 'color'] });
    expect(store.get('recording.categories')).toEqual([{ id: 1, name: 'Crack', color: '#112233' }]);
    // Values handed out cannot be changed behind the store's back.
    expect(() => { (store.get('recording.categories') as { name: string }[])[0]!.name = 'x'; }).toThrow();
    // The refused values never reached the database either.
    expect(h.db.get('light.level')).toBe(40);
  });
});

describe('observers', () => {
  it('a throwing observer refuses the write, earlier observers are called back to undo, nothing is saved or emitted', async () => {
    const h = await startHead(newDir());
    const { store } = h;
    expect(await store.set('image.brightness', 60, operator)).toMatchObject({ ok: true });
    const calls: [unknown, unknown][] = [];
    store.observe<number>('image.brightness', (next, prev) => { calls.push([next, prev]); });
    store.observe<number>('image.brightness', (next) => { if (next > 90) throw new Error('sensor saturates above 90'); });
    const changes: StateChange[] = [];
    store.onChange((c) => { changes.push(c); });
    const r = await store.set('image.brightness', 95, operator);
    expect(r).toEqual({ ok: false, key: 'image.brightness', code: 'rejected', reason: 'sensor saturates above 90' });
    expect(store.get('image.brightness')).toBe(60);
    expect(calls).toEqual([[95, 60], [60, 95]]);
    expect(h.db.get('image.brightness')).toBe(60);
    expect(changes).toEqual([]);
    // The module's own observer had told the camera 95 and was called back with 60.
    expect(h.sim.hw.image.brightness).toBe(60);
    // An async rejection is the same.
    store.observe<number>('image.contrast', async (next) => { await sleep(5); if (next === 0) throw new Error('contrast 0 not supported'); });
    expect(await store.set('image.contrast', 0, operator)).toMatchObject({ ok: false, code: 'rejected', reason: 'contrast 0 not supported' });
    expect(store.get('image.contrast')).toBe(50);
  });

  it('a refusing device (the zoom motor) refuses the write; the value stays', async () => {
    const h = await startHead(newDir());
    expect(await h.store.set('zoom.level', 2, operator)).toMatchObject({ ok: true });
    h.sim.failNext('camera.setZoom', 'zoom motor stalled');
    expect(await h.store.set('zoom.level', 6, operator)).toMatchObject({ ok: false, code: 'rejected', reason: 'zoom motor stalled' });
    expect(h.store.get('zoom.level')).toBe(2);
    expect(await h.store.set('zoom.level', 6, operator)).toMatchObject({ ok: true, changed: true });
    expect(h.sim.hw.zoom).toBe(6);
  });

  it('an observer that never settles times out; a throwing listener never crashes the store', async () => {
    const store = new StateStore({ observerTimeoutMs: 100 });
    store.declare({ key: 'a.b', schema: z.number(), default: 0, read: ['camera_r'], write: ['camera_rw'], persist: false, description: 'test' });
    const unobserve = store.observe('a.b', () => new Promise<void>(() => {}));
    expect(await store.set('a.b', 1, SYSTEM)).toMatchObject({ ok: false, code: 'rejected', reason: /within 100 ms/ });
    unobserve();
    const seen: unknown[] = [];
    store.onChange(() => { throw new Error('listener bug'); });
    store.onChange(async () => { throw new Error('async listener bug'); });
    store.onChange((c) => { seen.push(c.value); });
    expect(await store.set('a.b', 2, SYSTEM)).toMatchObject({ ok: true, changed: true });
    expect(await store.set('a.b', 3, SYSTEM)).toMatchObject({ ok: true, changed: true });
    expect(seen).toEqual([2, 3]);
  });

  it('writes to one key are serialized: last write wins in arrival order', async () => {
    const h = await startHead(newDir());
    // The first write's observer is slow; the later ones must still land after it.
    h.store.observe<number>('zoom.level', async (next) => { if (next === 3) await sleep(50); });
    const order: unknown[] = [];
    h.store.onChange((c) => { if (c.key === 'zoom.level') order.push(c.value); });
    const results = await Promise.all([3, 4, 5, 5, 7].map((v) => h.store.set('zoom.level', v, operator)));
    expect(results.map((r) => r.ok && r.changed)).toEqual([true, true, true, false, true]);
    expect(order).toEqual([3, 4, 5, 7]);
    expect(h.store.get('zoom.level')).toBe(7);
    expect(h.db.get('zoom.level')).toBe(7);
    expect(h.sim.hw.zoom).toBe(7);
  });
});

describe('declare', () => {
  it('throws on malformed or duplicate keys, unknown permissions and defaults the schema refuses', () => {
    const store = new StateStore();
    const base: KeySpec<number> = { key: 'a.b', schema: z.number().min(0), default: 0, read: ['camera_r'], write: [], persist: false, description: 'x' };
    store.declare(base);
    expect(() => store.declare(base)).toThrow(/declared twice/);
    for (const key of ['', 'A.b', 'a..b', 'a.', '1a', 'a-b', 'a b']) expect(() => store.declare({ ...base, key }), key).toThrow(/malformed/);
    expect(() => store.declare({ ...base, key: 'c', default: -1 })).toThrow(/default -1 refused/);
    expect(() => store.declare({ ...base, key: 'd', read: ['root' as never] })).toThrow(/unknown permission/);
    expect(() => store.declare({ ...base, key: 'e', read: [] })).toThrow(/no permission may read/);
    expect(() => store.declare({ ...base, key: 'f', persist: true, momentary: true })).toThrow(/button/);
    expect(() => store.observe('nope', () => {})).toThrow(/not declared/);
    expect(store.keys()).toEqual(['a.b']);
  });
});

describe('persistence', () => {
  it('values survive a restart (a new store on the same file) and the hardware gets them; non-persisted keys start from defaults', async () => {
    const dir = newDir();
    const h1 = await startHead(dir);
    const values: Record<string, unknown> = {
      'light.on': true, 'light.level': 55, 'image.brightness': 70, 'stream.resolution': '640x480', 'pip.enabled': true,
      'time.timezone': 'America/New_York', 'recording.mode': 'motion', 'zoom.level': 3.5,
    };
    for (const [k, v] of Object.entries(values)) expect(await h1.store.set(k, v, admin), k).toMatchObject({ ok: true, changed: true });
    expect(await h1.store.set('recording.active', true, operator)).toMatchObject({ ok: true });
    expect(await h1.store.set('rotation.disc_speed', 40, operator)).toMatchObject({ ok: true });
    await h1.close();
    open.splice(open.indexOf(h1), 1);

    const h2 = await startHead(dir);
    for (const [k, v] of Object.entries(values)) expect(h2.store.get(k), k).toEqual(v);
    expect(h2.store.get('recording.active')).toBe(false);
    expect(h2.store.get('rotation.disc_speed')).toBe(0);
    // load() handed the restored values (and the defaults) to the fresh hardware.
    expect(h2.sim.hw.light[0]).toBe(55);
    expect(h2.sim.hw.zoom).toBe(3.5);
    expect(h2.sim.hw.stream).toEqual({ resolution: '640x480', fps: 25, bitrate_kbps: 2000 });
    expect(h2.sim.hw.pip).toEqual({ enabled: true, position: 'bottom_right' });
    expect(h2.sim.hw.timezone).toBe('America/New_York');
    expect(h2.sim.hw.discSpeed).toBe(0);
  });

  it('a stored value the schema now refuses falls back to the default', async () => {
    const dir = newDir();
    const db = new StateDb(dir);
    db.set('light.level', 500);
    db.set('image.white_balance', 'sodium');
    db.set('image.contrast', 80);
    db.close();
    const h = await startHead(dir);
    expect(h.store.get('light.level')).toBe(100);
    expect(h.store.get('image.white_balance')).toBe('auto');
    expect(h.store.get('image.contrast')).toBe(80);
    // The report of a load lists what it refused.
    const db2 = new StateDb(dir);
    db2.set('zoom.level', 99);
    db2.close();
    let logged = '';
    const logger = createLogger({ level: 'warn', destination: new Writable({ write(chunk: Buffer, _enc, cb) { logged += chunk.toString(); cb(); } }) });
    const s3 = new StateStore({ db: new StateDb(dir), logger });
    const sim = createSimulatedDrivers({ seed: 3 });
    const d = declareAll(s3, sim, { restart() {}, factoryReset() {} });
    const report = await s3.load();
    expect(report.refused.sort()).toEqual(['image.white_balance', 'light.level', 'zoom.level']);
    expect(report.restored).toContain('image.contrast');
    const lines = logged.trim().split('\n').map((l) => JSON.parse(l) as { key: string; msg: string; reason: string });
    expect(lines.map((l) => l.key).sort()).toEqual(['image.white_balance', 'light.level', 'zoom.level']);
    expect(lines.find((l) => l.key === 'zoom.level')!.reason).toMatch(/8/);
    expect(lines[0]!.msg).toMatch(/refused by the schema, default used/);
    d.stop();
    sim.stop();
    await s3.close();
  });

  it('values are on disk once set resolves: they survive kill -9 of the writing process', async () => {
    const dir = newDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/head-state-writer.ts', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer printed no "set" within 60 s: ${err}`)), 60_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /^set (.*)$/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`writer exited ${code}: ${err}`)); });
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const wanted = JSON.parse(line) as Record<string, unknown>;
    // The database was never closed: the values are in the WAL, not checkpointed into the file.
    expect(existsSync(join(dir, 'state.db-wal'))).toBe(true);
    expect(statSync(join(dir, 'state.db-wal')).size).toBeGreaterThan(0);
    const db = new StateDb(dir);
    for (const [k, v] of Object.entries(wanted)) expect(db.get(k), k).toEqual(v);
    db.close();
    const h = await startHead(dir);
    for (const [k, v] of Object.entries(wanted)) expect(h.store.get(k), k).toEqual(v);
  });
});

describe('factory reset', () => {
  it('resets every persisted value to its default but keeps the tag categories (issue #150)', async () => {
    const dir = newDir();
    const h = await startHead(dir, {
      hooks: (head) => ({ factoryReset: async () => { head.hooks.resets++; await head.store.factoryReset(FACTORY_RESET_KEEP); } }),
    });
    const { store } = h;
    const cats = [{ id: 1, name: 'Crack', color: '#ff0000' }, { id: 4, name: 'Joint', color: '#0000ff' }];
    for (const [k, v] of Object.entries({ 'recording.categories': cats, 'recording.category_counter': 4, 'light.level': 20, 'image.saturation': 90, 'network.dhcp': false, 'time.ntp': false }))
      expect(await store.set(k, v, admin), k).toMatchObject({ ok: true });
    expect(await store.set('recording.active', true, admin)).toMatchObject({ ok: true });
    // A leftover of another firmware variant is cleared too.
    h.db.set('legacy.setting', 1);
    const changes: string[] = [];
    store.onChange((c) => { changes.push(c.key); });

    // Through the button, as an admin would.
    expect(await store.set('system.factory_reset', true, operator)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await store.set('system.factory_reset', true, admin)).toMatchObject({ ok: true, changed: false });
    expect(h.hooks.resets).toBe(1);
    expect(store.get('recording.categories')).toEqual(cats);
    expect(store.get('recording.category_counter')).toBe(4);
    for (const k of ['light.level', 'image.saturation', 'network.dhcp', 'time.ntp']) expect(store.get(k), k).toEqual(store.spec(k)!.default);
    expect(store.get('recording.active')).toBe(true); // not persisted: runtime state, untouched
    expect(changes.sort()).toEqual(['image.saturation', 'light.level', 'network.dhcp', 'time.ntp']);
    expect(h.sim.hw.network).toEqual({ hostname: 'vigil-head', dhcp: true, address: '192.168.1.50/24' });
    expect(h.db.all().map((r) => r.key).sort()).toEqual([...FACTORY_RESET_KEEP].sort());
    expect(store.get('system.factory_reset')).toBe(false);

    // And after a restart.
    await h.close();
    open.splice(open.indexOf(h), 1);
    const h2 = await startHead(dir);
    expect(h2.store.get('recording.categories')).toEqual(cats);
    expect(h2.store.get('light.level')).toBe(100);
  });

  it('restart is a button: every press calls the hook; a failing hook refuses the press', async () => {
    let fail = false;
    const h = await startHead(newDir(), { hooks: (head) => ({ restart: () => { if (fail) throw new Error('restart in progress'); head.hooks.restarts++; } }) });
    const changes: StateChange[] = [];
    h.store.onChange((c) => { changes.push(c); });
    expect(await h.store.set('system.restart', true, admin)).toMatchObject({ ok: true });
    expect(await h.store.set('system.restart', true, admin)).toMatchObject({ ok: true });
    expect(await h.store.set('system.restart', false, admin)).toMatchObject({ ok: true });
    expect(h.hooks.restarts).toBe(2);
    fail = true;
    expect(await h.store.set('system.restart', true, admin)).toMatchObject({ ok: false, code: 'rejected', reason: 'restart in progress' });
    expect(await h.store.set('system.restart', true, viewer)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(h.store.get('system.restart')).toBe(false);
    expect(changes).toEqual([]);
    expect(h.db.get('system.restart')).toBeUndefined();
  });
});

describe('listeners', () => {
  it('one change per real change, none for a no-op write', async () => {
    const h = await startHead(newDir());
    h.declared.stop(); // no sensor feeds in this test
    const changes: StateChange[] = [];
    h.store.onChange((c) => { changes.push(c); });
    const t0 = Date.now();
    expect(await h.store.set('light.level', 30, operator)).toEqual({ ok: true, key: 'light.level', value: 30, changed: true });
    expect(await h.store.set('light.level', 30, operator)).toEqual({ ok: true, key: 'light.level', value: 30, changed: false });
    expect(await h.store.set('recording.categories', [{ id: 2, name: 'X', color: '#000000' }], operator)).toMatchObject({ changed: true });
    // Deep-equal, not the same object: no change.
    expect(await h.store.set('recording.categories', [{ id: 2, name: 'X', color: '#000000' }], operator)).toMatchObject({ changed: false });
    expect(await h.store.set('light.level', 31, { kind: 'mqtt', role: 'operator' })).toMatchObject({ changed: true });
    expect(await h.store.set('light.level', 40, viewer)).toMatchObject({ ok: false });
    expect(changes.map((c) => [c.key, c.value, c.previous, c.by])).toEqual([
      ['light.level', 30, 100, 'user'],
      ['recording.categories', [{ id: 2, name: 'X', color: '#000000' }], [], 'user'],
      ['light.level', 31, 30, 'mqtt'],
    ]);
    for (const c of changes) expect(c.at).toBeGreaterThanOrEqual(t0);
    const unlisten = h.store.onChange(() => { throw new Error('x'); });
    unlisten();
    expect(await h.store.set('light.level', 32, operator)).toMatchObject({ changed: true });
    expect(changes).toHaveLength(4);
  });
});

describe('simulated drivers', () => {
  it('sensors, disc and storage readings change over time and stay in range; stop() ends them', async () => {
    const h = await startHead(newDir(), { sim: { periodMs: 20, timeScale: 60, seed: 42 } });
    const seen: Record<string, number[]> = {};
    h.store.onChange((c) => { (seen[c.key] ??= []).push(c.value as number); });
    expect(await h.store.set('rotation.disc_speed', 100, operator)).toMatchObject({ ok: true });
    await sleep(1500);
    const ranges: Record<string, [number, number]> = {
      'sensors.temperature_c': [35, 45], 'sensors.pressure_hpa': [1000, 1025], 'sensors.fpga_temperature_c': [50, 70], 'rotation.disc_position': [0, 360],
    };
    for (const [k, [lo, hi]] of Object.entries(ranges)) {
      const xs = seen[k] ?? [];
      expect(new Set(xs).size, k).toBeGreaterThan(10);
      for (const x of xs) {
        expect(x, k).toBeGreaterThanOrEqual(lo);
        expect(x, k).toBeLessThanOrEqual(hi);
      }
    }
    expect(new Set(seen['storage.free_bytes']).size).toBeGreaterThan(3);
    expect(h.store.get('storage.total_bytes')).toBe(32_000_000_000);
    expect(h.store.get('storage.state')).toBe('ok');
    expect(h.store.get('diagnostics.head_temperature')).toBe('ok');
    // A slow random walk: readings about 1.2 simulated s apart typically differ by a tenth of a degree.
    const t = seen['sensors.temperature_c']!;
    const steps = t.slice(1).map((x, i) => Math.abs(x - t[i]!)).sort((a, b) => a - b);
    expect(steps[Math.floor(steps.length / 2)]!).toBeLessThan(0.5);
    h.declared.stop();
    h.sim.stop();
    await sleep(50);
    const n = Object.values(seen).reduce((a, xs) => a + xs.length, 0);
    await sleep(200);
    expect(Object.values(seen).reduce((a, xs) => a + xs.length, 0)).toBe(n);
  });
});

describe('variants', () => {
  it('DEFAULT declares every module, diagnostics included', async () => {
    const h = await startHead(newDir());
    expect(h.declared.variant.variant).toBe('DEFAULT');
    for (const k of ['diagnostics.head_temperature', 'recording.mode', 'recording.categories', 'pip.enabled', 'system.factory_reset', 'users.list'])
      expect(h.store.has(k), k).toBe(true);
    expect(h.store.get('system.variant')).toBe('DEFAULT');
    expect(h.store.get('system.watermark')).toBe(false);
    expect(h.store.get('pip.enabled')).toBe(false);
    expect(h.sim.hw.pip).toEqual({ enabled: false, position: 'bottom_right' });
  });

  it('DEMO: no recording, watermarked; DEV: factory test; EDU: picture-in-picture on; OEM: branding', async () => {
    const demo = await startHead(newDir(), { variant: { variant: 'DEMO' } });
    expect(demo.store.has('recording.mode')).toBe(false);
    expect(demo.store.has('recording.categories')).toBe(false);
    expect(demo.store.has('diagnostics.head_temperature')).toBe(false);
    expect(await demo.store.set('recording.active', true, admin)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(demo.store.get('system.watermark')).toBe(true);

    const dev = await startHead(newDir(), { variant: { variant: 'DEV' } });
    expect(dev.store.get('system.factory_test')).toBe(true);
    expect(dev.store.has('diagnostics.pressure')).toBe(true);

    const edu = await startHead(newDir(), { variant: { variant: 'EDU' } });
    expect(edu.store.get('pip.enabled')).toBe(true);
    expect(edu.store.spec('pip.enabled')!.default).toBe(true);
    expect(edu.sim.hw.pip).toEqual({ enabled: true, position: 'top_right' });

    const oem = await startHead(newDir(), { variant: { variant: 'OEM', overrides: { OEM: { branding: 'Acme Scope', defaults: { 'light.level': 60 }, modules: { pip: false } } } } });
    expect(oem.store.get('system.branding')).toBe('Acme Scope');
    expect(oem.store.get('light.level')).toBe(60);
    expect(oem.store.has('pip.enabled')).toBe(false);
    expect(oem.declared.modules).not.toContain('pip');
    // Overrides of another variant do nothing here.
    const plain = await startHead(newDir(), { variant: { variant: 'DEFAULT', overrides: { OEM: { branding: 'Acme Scope' } } } });
    expect(plain.store.get('system.branding')).toBe('Vigil Head');
    // A factory reset goes back to the variant's default.
    expect(await oem.store.set('light.level', 10, admin)).toMatchObject({ ok: true });
    await oem.store.factoryReset(FACTORY_RESET_KEEP);
    expect(oem.store.get('light.level')).toBe(60);
  });

  it('a bad variant config is refused with a clear error', () => {
    const sim = createSimulatedDrivers();
    const hooks = { restart() {}, factoryReset() {} };
    expect(() => declareAll(new StateStore(), sim, hooks, { variant: 'NOPE' } as never)).toThrow(/variant config[\s\S]*variant/);
    expect(() => declareAll(new StateStore(), sim, hooks, { variant: 'OEM', overrides: { OEM: { modules: { teleport: true } } } } as never)).toThrow(/variant config/);
    expect(() => declareAll(new StateStore(), sim, hooks, { variant: 'OEM', overrides: { OEM: { defaults: { 'light.level': 500 } } } })).toThrow(/light\.level.*default 500 refused/);
    expect(() => declareAll(new StateStore(), sim, hooks, { variant: 'DEMO', overrides: { DEMO: { defaults: { 'recording.mode': 'motion' } } } })).toThrow(/no enabled module declares: recording\.mode/);
    expect(() => declareAll(new StateStore(), sim, hooks, { variant: 'DEFAULT', overrides: { DEFAULT: { modules: { head_sensors: false } } } })).toThrow(/head_sensors/);
    sim.stop();
  });
});

describe('state database', () => {
  it('get/set/delete/all/clearExcept on a real file, WAL mode', () => {
    const dir = newDir();
    const db = new StateDb(dir);
    db.set('a.x', { n: 1 });
    db.set('b.y', [1, 2]);
    db.set('c.z', null);
    db.set('a.x', { n: 2 });
    expect(db.get('a.x')).toEqual({ n: 2 });
    expect(db.get('c.z')).toBeNull();
    expect(db.get('missing')).toBeUndefined();
    expect(() => db.set('d', undefined)).toThrow(/no JSON form/);
    expect(db.all().map((r) => r.key)).toEqual(['a.x', 'b.y', 'c.z']);
    expect(db.clearExcept(['b.y', 'not.there'])).toBe(2);
    expect(db.all().map((r) => [r.key, r.value])).toEqual([['b.y', [1, 2]]]);
    expect(db.delete('b.y')).toBe(true);
    expect(db.delete('b.y')).toBe(false);
    expect(existsSync(join(dir, 'state.db-wal'))).toBe(true);
    db.close();
    db.close();
  });
});
