/**
 * The store on both backends: SQLite files (WAL) and PostgreSQL (Debian's server, started
 * by `test/helpers/postgres.ts` in a temp dir on a random port). The same migrations, the
 * same repositories and the same answers on each: migrations and their undo, exact round
 * trips of Unix-ms and Unix-s values, the events query's filters (zone included), the
 * recordings index and exports, users / sessions / API keys / devices / activity, the
 * wall and rules repos, cameras; and a hub restart on the same database keeps what it
 * stored. On PostgreSQL, `/api/health` reports a lost database and recovers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../components/protocol/config/load.ts';
import { layoutFromInput, layoutInput } from '../components/protocol/layout.ts';
import { simpleRule } from '../components/protocol/rules.ts';
import { SecretBox } from '../components/protocol/secret-box.ts';
import { cameraConfig } from '../components/protocol/camera-config.ts';
import type { TrackedObjectState } from '../components/protocol/tracked-object.ts';
import { ActivityLog, redact } from '../hub/auth/activity.ts';
import { CredentialStore } from '../hub/auth/credentials.ts';
import { SessionStore } from '../hub/auth/sessions.ts';
import { TokenSigner } from '../hub/auth/tokens.ts';
import { UserStore } from '../hub/auth/users.ts';
import { CamerasRepo } from '../hub/store/cameras-repo.ts';
import { migrations, openStore } from '../hub/store/datasource.ts';
import { EventsRepo } from '../hub/store/events-repo.ts';
import { RecordingsRepo, type ExportRow } from '../hub/store/recordings-repo.ts';
import { RulesRepo } from '../hub/store/rules-repo.ts';
import { WallRepo } from '../hub/store/wall-repo.ts';
import { api, startTestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { startPostgres, type PostgresServer } from './helpers/postgres.ts';

type Backend = 'sqlite' | 'postgres';
const BACKENDS: Backend[] = ['sqlite', 'postgres'];
const MIGRATION_NAMES = migrations.map((m) => new m().name);

let pg: PostgresServer;
let databases = 0;
beforeAll(async () => { pg = await startPostgres(); }, 30_000);
afterAll(async () => { await pg?.stop(); });

/** A new, empty store location: a SQLite file in a temp dir, or a new PostgreSQL database with its own owner. */
async function freshLocation(backend: Backend): Promise<string> {
  if (backend === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'vigil-store-')), 'vigil.db');
  return pg.createDatabase(`vigil_t${++databases}`);
}

/** Table names of the open store, sorted. */
async function tables(ds: DataSource, backend: Backend): Promise<string[]> {
  const sql = backend === 'sqlite'
    ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name";
  return ((await ds.query(sql)) as { name: string }[]).map((r) => r.name);
}

/** A table's columns: name, declared type (lower case), NOT NULL. */
async function columns(ds: DataSource, backend: Backend, table: string): Promise<Array<{ name: string; type: string; notnull: boolean }>> {
  if (backend === 'sqlite') {
    const rows = (await ds.query(`PRAGMA table_info(${table})`)) as { name: string; type: string; notnull: number }[];
    return rows.map((r) => ({ name: r.name, type: r.type.toLowerCase(), notnull: r.notnull === 1 }));
  }
  const rows = (await ds.query('SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table])) as
    { column_name: string; data_type: string; is_nullable: string }[];
  return rows.map((r) => ({ name: r.column_name, type: r.data_type, notnull: r.is_nullable === 'NO' }));
}

/** A tracked object's state as the detector sends it. */
function tracked(id: string, over: Partial<TrackedObjectState> = {}): TrackedObjectState {
  return {
    id, camera: 'garage', frame_time: 1700000000, label: 'car', sub_label: null, score: 0.8, top_score: 0.8, false_positive: false,
    start_time: 1700000000, end_time: null, box: [1, 2, 30, 40], area: 1102, ratio: 0.76, current_zones: [], entered_zones: [],
    loitering: false, has_snapshot: false, has_clip: false, stationary: false, motionless_count: 0, position_changes: 0, ...over,
  };
}

describe.each(BACKENDS)('store on %s', (backend) => {
  it('runs the migrations once and records them', async () => {
    const where = await freshLocation(backend);
    const ds = await openStore(where);
    expect(((await ds.query('SELECT name FROM migrations ORDER BY id')) as { name: string }[]).map((m) => m.name)).toEqual(MIGRATION_NAMES);
    expect(await tables(ds, backend)).toEqual(['activity', 'api_keys', 'cameras', 'devices', 'displays', 'events', 'exports', 'kiosks', 'layouts', 'masks', 'migrations', 'recordings', 'rules', 'sessions', 'users', 'zones']);
    await ds.destroy();
    const again = await openStore(where);
    expect(await again.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: MIGRATION_NAMES.length }]);
    await again.destroy();
  });

  it('undoes migrations 6 to 4 (settings comes back as migration 1 made it) and reopening runs them again', async () => {
    const where = await freshLocation(backend);
    const ds = await openStore(where);
    expect(await tables(ds, backend)).not.toContain('settings');
    await ds.undoLastMigration({ transaction: 'each' }); // the rules (6)
    await ds.undoLastMigration({ transaction: 'each' }); // the wall (5)
    expect(await tables(ds, backend)).not.toContain('layouts');
    await ds.undoLastMigration({ transaction: 'each' }); // the settings drop (4)
    expect(await tables(ds, backend)).toContain('settings');
    expect(await columns(ds, backend, 'settings')).toEqual([{ name: 'key', type: 'text', notnull: true }, { name: 'value', type: 'text', notnull: true }]);
    expect(await ds.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: 3 }]);
    await ds.destroy();
    const again = await openStore(where);
    expect(await tables(again, backend)).not.toContain('settings');
    expect(await again.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: MIGRATION_NAMES.length }]);
    await again.destroy();
  });

  it('keeps Unix-ms times, Unix-s times with microseconds, byte counts and booleans exactly', async () => {
    const ds = await openStore(await freshLocation(backend));
    if (backend === 'postgres') {
      // 64-bit integers and doubles where SQLite's affinities would allow anything.
      const types = Object.fromEntries((await columns(ds, backend, 'events')).map((c) => [c.name, c.type]));
      expect(types).toMatchObject({ start_time: 'double precision', score: 'double precision', has_snapshot: 'boolean' });
      expect(Object.fromEntries((await columns(ds, backend, 'sessions')).map((c) => [c.name, c.type]))).toMatchObject({ created_at: 'bigint', expires_at: 'bigint' });
    }
    const events = new EventsRepo(ds);
    const start = 1763700123.456789; // what a float32 column would round to 1763700096
    await events.upsert(tracked('exact', { start_time: start, end_time: start + 0.000001, score: 0.123456789, has_snapshot: true }));
    const ev = await events.get('exact');
    expect(ev).toMatchObject({ start_time: start, end_time: start + 0.000001, score: 0.123456789, has_snapshot: true, false_positive: false });
    const rec = new RecordingsRepo(ds);
    const big = 5_000_000_000; // more than 32 bits
    await rec.upsert({ id: 'garage:1', camera: 'garage', path: 'garage/a.mp4', start_time: 1, end_time: 11, duration: 10, bytes: big, motion: true, objects: false });
    await rec.upsert({ id: 'garage:2', camera: 'garage', path: 'garage/b.mp4', start_time: 11, end_time: 21, duration: 10, bytes: big, motion: false, objects: false });
    expect(await rec.totalBytes()).toBe(2 * big);
    expect(await rec.findById('garage:1')).toEqual({ id: 'garage:1', camera: 'garage', path: 'garage/a.mp4', start_time: 1, end_time: 11, duration: 10, bytes: big, motion: true, objects: false });
    const users = new UserStore(ds, new SecretBox(randomBytes(32)));
    const before = Date.now();
    const u = await users.create({ username: 'alice', password: 'correct horse', role: 'viewer' });
    const row = await users.byId(u.id);
    expect(typeof row!.created_at).toBe('number');
    expect(row!.created_at).toBeGreaterThanOrEqual(before);
    expect(row!.totp_enabled).toBe(false);
    await ds.destroy();
  });

  it('events: upserts in order, filters by camera, label, zone, time and progress, pages newest first, knows clips', async () => {
    const ds = await openStore(await freshLocation(backend));
    const repo = new EventsRepo(ds);
    const t0 = 1700000000;
    // Six objects on two cameras; each stored as its detector would send it: new, updates, end.
    const specs = [
      { id: `${t0}.000001-a`, camera: 'garage', label: 'car', start_time: t0, zones: ['driveway'] },
      { id: `${t0 + 10}.000001-b`, camera: 'garage', label: 'person', start_time: t0 + 10, zones: ['driveway', 'porch'] },
      { id: `${t0 + 20}.000001-c`, camera: 'front', label: 'person', start_time: t0 + 20, zones: ['porch'] },
      { id: `${t0 + 30}.000001-d`, camera: 'front', label: 'dog', start_time: t0 + 30, zones: [] },
      { id: `${t0 + 40}.000001-e`, camera: 'garage', label: 'person', start_time: t0 + 40, zones: ['driveway_2'] },
      { id: `${t0 + 40}.000001-f`, camera: 'front', label: 'car', start_time: t0 + 40, zones: ['"quoted"'] },
    ];
    for (const s of specs) {
      await repo.upsert(tracked(s.id, { camera: s.camera, label: s.label, start_time: s.start_time, entered_zones: [] }));
      await repo.upsert(tracked(s.id, { camera: s.camera, label: s.label, start_time: s.start_time, entered_zones: s.zones, score: 0.9, top_score: 0.9 }));
    }
    await repo.upsert(tracked(specs[0]!.id, { camera: 'garage', label: 'car', start_time: t0, entered_zones: ['driveway'], end_time: t0 + 5, top_score: 0.95, sub_label: ['Alice', 0.9] }));
    const ids = (r: { events: { id: string }[] }) => r.events.map((e) => e.id);
    const q = (over: Partial<Parameters<EventsRepo['query']>[0]>) => repo.query({ limit: 100, offset: 0, ...over });

    const all = await q({});
    expect(all.total).toBe(6);
    // Newest first; equal start times by id, descending.
    expect(ids(all)).toEqual([specs[5]!.id, specs[4]!.id, specs[3]!.id, specs[2]!.id, specs[1]!.id, specs[0]!.id]);
    expect(all.events.at(-1)).toMatchObject({ end_time: t0 + 5, top_score: 0.95, sub_label: 'Alice', zones: ['driveway'], has_clip: false });
    expect(ids(await q({ camera: ['front'] }))).toEqual([specs[5]!.id, specs[3]!.id, specs[2]!.id]);
    expect((await q({ camera: [] })).total).toBe(0);
    expect(ids(await q({ label: ['person', 'dog'] }))).toEqual([specs[4]!.id, specs[3]!.id, specs[2]!.id, specs[1]!.id]);
    // Zone: whole JSON elements only — `driveway` is not `driveway_2`, and quotes are data.
    expect(ids(await q({ zone: 'driveway' }))).toEqual([specs[1]!.id, specs[0]!.id]);
    expect(ids(await q({ zone: 'porch' }))).toEqual([specs[2]!.id, specs[1]!.id]);
    expect(ids(await q({ zone: '"quoted"' }))).toEqual([specs[5]!.id]);
    expect((await q({ zone: 'drive' })).total).toBe(0);
    expect(ids(await q({ zone: 'driveway', camera: ['garage'], label: ['person'] }))).toEqual([specs[1]!.id]);
    expect(ids(await q({ after: t0 + 10, before: t0 + 30 }))).toEqual([specs[2]!.id, specs[1]!.id]);
    expect((await q({ in_progress: true })).total).toBe(5);
    const page = await q({ limit: 2, offset: 2 });
    expect(page.total).toBe(6);
    expect(ids(page)).toEqual([specs[3]!.id, specs[2]!.id]);

    // has_clip: a finished clip export of the event.
    const rec = new RecordingsRepo(ds);
    const clip: ExportRow = { id: 'clip-1', kind: 'clip', camera: 'front', event_id: specs[2]!.id, start_time: t0 + 15, end_time: t0 + 40, status: 'running', progress: 0.5, path: null, bytes: null, error: null, created_by: null, created_at: Date.now() };
    await rec.saveExport(clip);
    expect((await repo.get(specs[2]!.id))!.has_clip).toBe(false);
    await rec.saveExport({ ...clip, status: 'done', progress: 1, path: 'clips/clip-1.mp4', bytes: 123 });
    expect((await repo.get(specs[2]!.id))!.has_clip).toBe(true);
    expect((await q({ camera: ['front'] })).events.map((e) => e.has_clip)).toEqual([false, false, true]);

    expect(await repo.endOpen(t0 + 100, 'front')).toBe(3);
    expect((await q({ in_progress: true })).total).toBe(2);
    expect(await repo.endOpen(t0 + 100)).toBe(2);
    expect((await repo.get(specs[4]!.id))!.end_time).toBe(t0 + 100);
    expect(await repo.delete(specs[3]!.id)).toBe(true);
    expect(await repo.delete(specs[3]!.id)).toBe(false);
    expect(await repo.get(specs[3]!.id)).toBeUndefined();
    await ds.destroy();
  });

  it('recordings index and exports: overlap, pages both ways, flags, deletes', async () => {
    const ds = await openStore(await freshLocation(backend));
    const rec = new RecordingsRepo(ds);
    const seg = (camera: string, start: number) => ({ id: `${camera}:${start}`, camera, path: `${camera}/${start}.mp4`, start_time: start, end_time: start + 10, duration: 10, bytes: 1000 + start, motion: false, objects: false });
    for (let i = 0; i < 5; i++) { await rec.upsert(seg('garage', 100 + 10 * i)); await rec.upsert(seg('front', 105 + 10 * i)); }
    expect((await rec.overlapping('garage', 115, 131)).map((r) => r.start_time)).toEqual([110, 120, 130]);
    const asc = await rec.list({ limit: 3, offset: 0, order: 'asc' });
    expect(asc.total).toBe(10);
    expect(asc.rows.map((r) => r.id)).toEqual(['garage:100', 'front:105', 'garage:110']);
    const desc = await rec.list({ cameras: ['front'], after: 120, before: 140, limit: 10, offset: 0, order: 'desc' });
    expect(desc.rows.map((r) => r.id)).toEqual(['front:135', 'front:125', 'front:115']);
    expect((await rec.list({ cameras: [], limit: 10, offset: 0, order: 'asc' })).total).toBe(0);
    await rec.flag('garage', 112, 125, { motion: true });
    await rec.flag('garage', 100, 105, { objects: true });
    const flags = (await rec.all('garage')).map((r) => [r.start_time, r.motion, r.objects]);
    expect(flags).toEqual([[100, false, true], [110, true, false], [120, true, false], [130, false, false], [140, false, false]]);
    expect((await rec.oldest(2)).map((r) => r.id)).toEqual(['garage:100', 'front:105']);
    // Re-announcing a segment replaces its row.
    await rec.upsert({ ...seg('garage', 100), bytes: 1, end_time: 112, duration: 12 });
    expect(await rec.findById('garage:100')).toMatchObject({ bytes: 1, end_time: 112, duration: 12 });
    await rec.delete(['garage:100', 'front:105', 'nope']);
    expect((await rec.all()).length).toBe(8);
    expect(await rec.totalBytes()).toBe([110, 120, 130, 140, 115, 125, 135, 145].reduce((a, s) => a + 1000 + s, 0));

    const exp = (id: string, created_at: number, camera = 'garage'): ExportRow => ({ id, kind: 'export', camera, event_id: null, start_time: 100, end_time: 130, status: 'queued', progress: 0, path: null, bytes: null, error: null, created_by: 'alice', created_at });
    await rec.saveExport(exp('e1', Date.now() - 2000));
    await rec.saveExport(exp('e2', Date.now() - 1000, 'front'));
    await rec.saveExport({ ...exp('e1', Date.now() - 2000), status: 'failed', error: 'ffmpeg: boom', progress: 0.25 });
    expect((await rec.listExports()).map((e) => e.id)).toEqual(['e2', 'e1']);
    expect((await rec.listExports('garage')).map((e) => [e.id, e.status, e.error, e.progress])).toEqual([['e1', 'failed', 'ffmpeg: boom', 0.25]]);
    await rec.deleteExport('e1');
    expect(await rec.getExport('e1')).toBeNull();
    expect(await rec.getExport('e2')).toMatchObject({ camera: 'front', created_by: 'alice', bytes: null });
    await ds.destroy();
  });

  it('users (names without case), sessions, API keys, devices and the activity log', async () => {
    const ds = await openStore(await freshLocation(backend));
    const box = new SecretBox(randomBytes(32));
    const users = new UserStore(ds, box);
    const alice = await users.create({ username: 'Alice', password: 'correct horse', role: 'admin' });
    await users.create({ username: 'bob', password: 'battery staple', role: 'viewer', cameras: ['front'] });
    await users.create({ username: 'Zed', password: 'zed-password', role: 'operator' });
    await expect(users.create({ username: 'ALICE', password: 'another one', role: 'viewer' })).rejects.toThrow(/exists/);
    // The database refuses a second spelling too (not only the check before the insert).
    await expect(ds.query(`INSERT INTO users (id, username, password_hash, role, created_at) VALUES ('x', 'aLiCe', 'h', 'viewer', 1)`)).rejects.toThrow();
    expect((await users.byName('alice'))!.id).toBe(alice.id);
    expect((await users.verifyLogin('ALICE', 'correct horse')) as { id: string }).toMatchObject({ id: alice.id });
    expect(await users.verifyLogin('alice', 'wrong password')).toBeNull();
    expect((await users.byId(alice.id))!.last_login_at).toBeGreaterThan(Date.now() - 60_000);
    // Sorted without case on both (byte order would put Zed before bob).
    expect((await users.list()).map((u) => [u.username, u.cameras])).toEqual([['Alice', null], ['bob', ['front']], ['Zed', null]]);
    await users.totpSetup(alice.id);
    await users.totpEnable(alice.id, await users.currentCode(alice.id));
    expect((await users.byId(alice.id))!.totp_enabled).toBe(true);
    expect(await users.verifyLogin('alice', 'correct horse')).toBe('totp_required');

    const sessions = new SessionStore(ds, new TokenSigner(randomBytes(32)));
    const s1 = await sessions.open(alice.id, '127.0.0.1');
    const s2 = await sessions.open(alice.id, null);
    expect(await sessions.isLive(s1.session_id, alice.id)).toBe(true);
    const next = await sessions.refresh(s1.refresh_token);
    expect(next?.session_id).toBe(s1.session_id);
    expect(await sessions.refresh(s1.refresh_token)).toBeNull(); // rotated
    expect(await sessions.revokeOthers(alice.id, s1.session_id)).toBe(1);
    expect(await sessions.isLive(s2.session_id, alice.id)).toBe(false);
    await sessions.revokeAll(alice.id);
    expect(await sessions.isLive(s1.session_id, alice.id)).toBe(false);
    // Deleting the user takes its sessions (ON DELETE CASCADE).
    await users.delete(alice.id);
    expect(await ds.query('SELECT count(*) AS n FROM sessions')).toEqual([{ n: 0 }]);

    const creds = new CredentialStore(ds);
    const k1 = await creds.createKey({ name: 'ha', scope: 'read', cameras: ['front'], createdBy: 'bob' });
    await new Promise((r) => setTimeout(r, 5));
    const k2 = await creds.createKey({ name: 'nodered', scope: 'control', createdBy: 'bob' });
    expect((await creds.verifyKey(k1.key))!.id).toBe(k1.api_key.id);
    expect((await creds.listKeys()).map((k) => [k.name, k.cameras])).toEqual([['nodered', null], ['ha', ['front']]]);
    expect((await creds.listKeys()).find((k) => k.name === 'ha')!.last_used_at).toBeGreaterThan(0);
    await creds.revokeKey(k2.api_key.id);
    expect(await creds.verifyKey(k2.key)).toBeNull();
    const dev = await creds.createDevice({ id: 'kiosk1', kind: 'kiosk', displays: ['hall'] });
    expect((await creds.verifyDevice('kiosk1', dev.password))!.kind).toBe('kiosk');
    await creds.setDeviceDisplays('kiosk1', ['hall', 'kitchen']);
    expect((await creds.listDevices())[0]).toMatchObject({ id: 'kiosk1', displays: ['hall', 'kitchen'] });
    expect((await creds.deviceById('kiosk1'))!.last_seen_at).toBeGreaterThan(0);

    const log = new ActivityLog(ds);
    for (let i = 0; i < 5; i++) await log.record({ actor: i % 2 ? 'bob' : 'cli', action: `a.${i}`, details: { password: 'hunter2', url: 'rtsp://u:p@cam/x' } });
    const page = await log.list({ limit: 2, offset: 0, actor: 'cli' });
    expect(page.total).toBe(3);
    expect(page.entries.map((e) => e.action)).toEqual(['a.4', 'a.2']);
    expect(page.entries[0]!.details).toEqual({ password: '[redacted]', url: 'rtsp://[redacted]@cam/x' });
    expect(page.entries[0]!.id).toBeGreaterThan(page.entries[1]!.id!);
    await ds.destroy();
  });

  it('cameras with zones and masks, the wall (kiosks, displays, layouts) and simple rules', async () => {
    const ds = await openStore(await freshLocation(backend));
    const box = new SecretBox(randomBytes(32));
    const cams = new CamerasRepo(ds, box);
    const cam = cameraConfig.parse({ name: 'garage', paths: { detect: 'rtsp://127.0.0.1:1/x' }, username: 'admin', password: 's3cret', zones: [{ name: 'bay', coordinates: [[0, 0], [1, 0], [0.5, 1]], loitering_time: 2.5 }], masks: [{ coordinates: [[0, 0], [0.1, 0], [0.1, 0.1]], applies_to: 'motion' }] });
    await cams.save(cam);
    await cams.save(cameraConfig.parse({ name: 'front', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/y' } }));
    expect(await cams.get('garage')).toEqual(cam);
    expect(((await ds.query('SELECT password FROM cameras WHERE name = \'garage\'')) as { password: string }[])[0]!.password).not.toContain('s3cret');
    expect((await cams.list()).map((c) => [c.name, c.enabled])).toEqual([['front', false], ['garage', true]]);
    await cams.save({ ...cam, zones: [] });
    expect((await cams.get('garage'))!.zones).toEqual([]);
    expect(await cams.delete('garage')).toBe(true);
    expect(await ds.query('SELECT count(*) AS n FROM masks')).toEqual([{ n: 0 }]);

    const wall = new WallRepo(ds);
    const l = layoutFromInput(layoutInput.parse({ id: 'quad', name: 'Quad', preset: '2x2', cells: [{ type: 'camera', camera: 'front' }] }));
    expect(await wall.saveLayout(l)).toBe(true);
    expect(await wall.saveLayout({ ...l, name: 'Four' })).toBe(false);
    expect((await wall.layout('quad'))!.name).toBe('Four');
    await wall.createKiosk({ id: 'hall', name: 'Hall', device_id: 'kiosk1', created_at: Date.now() }, { id: 'hall-hdmi-0', kiosk_id: 'hall', name: 'HDMI', width: 1920, height: 1080, layout_id: null });
    expect(await wall.activated('hall-hdmi-0', 'quad')).toBe(1);
    expect(await wall.activated('hall-hdmi-0', 'not-stored')).toBe(2);
    expect(await wall.display('hall-hdmi-0')).toMatchObject({ seq: 2, layout_id: null, width: 1920 });
    await wall.activated('hall-hdmi-0', 'quad');
    expect(await wall.deleteLayout('quad')).toBe(true);
    expect((await wall.display('hall-hdmi-0'))!.layout_id).toBeNull(); // ON DELETE SET NULL
    expect(await wall.deleteKiosk('hall')).toBe(true);
    expect(await wall.displays()).toEqual([]); // ON DELETE CASCADE

    const rules = new RulesRepo(ds);
    const rule = simpleRule.parse({ id: 'door', name: 'Door', when: { topic: 'vigil/x' }, do: { action: 'activate_layout', display: 'hall-hdmi-0', layout_id: 'quad' } });
    expect(await rules.save(rule)).toBe(true);
    expect(await rules.save({ ...rule, enabled: false })).toBe(false);
    expect(await rules.list()).toEqual([{ ...rule, enabled: false }]);
    expect(await rules.delete('door')).toBe(true);
    expect(await rules.get('door')).toBeUndefined();
    await ds.destroy();
  });
});

it('opens SQLite in WAL mode with foreign keys on', async () => {
  const ds = await openStore(await freshLocation('sqlite'));
  expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
  expect(await ds.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  await ds.destroy();
});

it('refuses an unreachable PostgreSQL with a clear error that keeps the password out', async () => {
  const url = `postgres://vigil:do-not-show@127.0.0.1:${pg.port + 1 === 65536 ? 1 : pg.port + 1}/vigil`;
  const err = await openStore(url).then(() => null, (e: Error) => e);
  expect(err?.message).toMatch(/^cannot open the PostgreSQL store postgres:\/\/127\.0\.0\.1:\d+\/vigil: /);
  expect(err?.message).not.toContain('do-not-show');
  // The bridge's config/get shows the running config through redact().
  expect(JSON.stringify(redact({ store: { url } }))).toBe('{"store":{"url":"postgres://[redacted]@127.0.0.1:' + new URL(url).port + '/vigil"}}');
});

it('takes store.url from VIGIL_STORE__URL and refuses anything but a postgres:// URL, without echoing it', () => {
  const load = (url: string) => loadConfig({ file: '/nonexistent/vigil.yaml', env: { VIGIL_STORE__URL: url } });
  expect(load('postgres://vigil:pw@db.local:5432/vigil').store.url).toBe('postgres://vigil:pw@db.local:5432/vigil');
  expect(load('postgresql://db.local/vigil?sslmode=require').store.url).toBe('postgresql://db.local/vigil?sslmode=require');
  expect(loadConfig({ file: '/nonexistent/vigil.yaml', env: {} }).store.url).toBeUndefined();
  for (const bad of ['mysql://u:secret-1@db/vigil', 'postgres://u:secret-1@db', '/var/lib/vigil.db']) {
    const err = (() => { try { load(bad); return null; } catch (e) { return e as ConfigError; } })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.issues).toEqual(['store.url: must be a postgres://user:password@host:port/database URL']);
    expect(err!.message).not.toContain('secret-1');
  }
});

describe.each(BACKENDS)('hub on %s', (backend) => {
  it('keeps cameras, events from MQTT, users and layouts across a restart, and ends events left open', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-restart-'));
    const url = backend === 'postgres' ? await freshLocation('postgres') : undefined;
    const opts = { camera: { enabled: false }, detector: { enabled: false }, ...(url ? { store: { url } } : {}) };
    const first = await startTestHub(opts, { dataDir });
    const logs = first.logs;
    const cam = { name: 'garage', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' }, username: 'admin', password: 'cam-pass', zones: [{ name: 'bay', coordinates: [[0, 0], [1, 0], [0.5, 1]] }], masks: [{ coordinates: [[0, 0], [0.1, 0], [0.1, 0.1]], applies_to: 'motion' }] };
    expect((await api(first.baseUrl, 'POST', '/api/cameras', cam)).status).toBe(201);
    expect((await api(first.baseUrl, 'POST', '/api/users', { username: 'Carol', password: 'carol-password', role: 'viewer', cameras: ['garage'] })).status).toBe(201);
    expect((await api(first.baseUrl, 'POST', '/api/layouts', { id: 'zoom', name: 'Zoom', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'garage' }] })).status).toBe(201);
    // Events as the detector publishes them: a finished one, and one left open (as after a crash).
    const bus = await MqttRecorder.connect(first.mqttUrl, ['vigil/events']);
    const done = tracked('1700000000.000000-abcdef', { entered_zones: ['bay'], current_zones: ['bay'] });
    const open = tracked('1700000100.000000-fedcba', { label: 'person', start_time: 1700000100, frame_time: 1700000100 });
    for (const m of [
      { type: 'new', before: done, after: done },
      { type: 'end', before: done, after: { ...done, end_time: 1700000042.5 } },
      { type: 'new', before: open, after: open },
    ]) await bus.client.publishAsync('vigil/events', JSON.stringify(m), { qos: 1 });
    await bus.close();
    await expect.poll(async () => (await api(first.baseUrl, 'GET', '/api/events')).body.length, { timeout: 5000 }).toBe(2);
    await first.hub.stop();

    // Started again as an operator would: the database from the environment.
    const second = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }, { dataDir, hub: url ? { env: { VIGIL_STORE__URL: url } } : undefined });
    try {
      const got = await api(second.baseUrl, 'GET', '/api/cameras/garage');
      expect(got.body).toMatchObject({ zones: [{ name: 'bay' }], masks: [{ applies_to: 'motion' }], has_credentials: true });
      expect(got.body.password).toBeUndefined();
      expect((await second.hub.auth!.users.byName('carol'))!.username).toBe('Carol');
      const carol = await api(second.baseUrl, 'POST', '/api/auth/login', { username: 'carol', password: 'carol-password' }, null);
      expect(carol.status).toBe(200);
      expect((await api(second.baseUrl, 'GET', '/api/layouts/zoom')).body.name).toBe('Zoom');
      const ev = await api(second.baseUrl, 'GET', '/api/events/1700000000.000000-abcdef');
      expect(ev.body).toMatchObject({ zones: ['bay'], end_time: 1700000042.5, label: 'car' });
      // The open one was ended at start-up.
      expect((await api(second.baseUrl, 'GET', '/api/events/1700000100.000000-fedcba')).body.end_time).toBeGreaterThan(1700000100);
      const filtered = await api(second.baseUrl, 'GET', '/api/events?label=car&zone=bay&after=1699999999&before=1700000001');
      expect(filtered.body.map((e: { id: string }) => e.id)).toEqual(['1700000000.000000-abcdef']);
      expect((await api(second.baseUrl, 'GET', '/api/events?zone=ba')).body).toHaveLength(0);
      expect((await api(second.baseUrl, 'GET', '/api/health')).status).toBe(200);
      if (url) {
        // The store is named in the log, never with its password.
        const password = new URL(url).password;
        expect(logs()).toContain(`"store":"postgres://127.0.0.1:${pg.port}/`);
        expect(logs() + second.logs()).not.toContain(password);
      }
    } finally {
      await second.stop();
    }
  }, 60_000);
});

it('reports a lost PostgreSQL in /api/health and recovers when it is back', async () => {
  const own = await startPostgres();
  try {
    const url = await own.createDatabase('vigil_health');
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, store: { url } });
    try {
      expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
      await own.halt();
      await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/health', undefined, null)).body, { timeout: 8000, interval: 250 })
        .toMatchObject({ error: { code: 'not_ready', message: expect.stringMatching(/^database unreachable: /) } });
      // A request that needs the database fails cleanly meanwhile; the hub runs on.
      expect((await api(h.baseUrl, 'GET', '/api/events')).status).toBeGreaterThanOrEqual(500);
      await own.resume();
      await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/health', undefined, null)).status, { timeout: 8000, interval: 250 }).toBe(200);
      expect((await api(h.baseUrl, 'GET', '/api/events')).status).toBe(200);
      expect(h.logs()).toMatch(/"msg":"database unreachable"/);
      expect(h.logs()).toMatch(/"msg":"database reachable again"/);
    } finally {
      await h.stop();
    }
  } finally {
    await own.stop();
  }
}, 60_000);
