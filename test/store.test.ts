/**
 * The store: SQLite file in WAL mode with real migrations, and a hub restart on the
 * same data directory keeps cameras, zones and events.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openStore } from '../hub/store/datasource.ts';
import { EventsRepo } from '../hub/store/events-repo.ts';
import { api, startTestHub } from './helpers/hub.ts';

it('opens SQLite in WAL mode and records its migrations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  const ds = await openStore(join(dir, 'vigil.db'));
  expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
  expect(await ds.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  const migrations = await ds.query('SELECT name FROM migrations');
  expect(migrations.map((m: { name: string }) => m.name)).toEqual(['Initial1763700000001', 'Security1763700000002', 'Recordings1763700000003', 'DropSettings1763700000004', 'Wall1763700000005', 'Rules1763700000006']);
  await ds.destroy();
  // Opening again runs nothing twice.
  const again = await openStore(join(dir, 'vigil.db'));
  expect(await again.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: 6 }]);
  await again.destroy();
});

it('drops the unused settings table (migration 4), and its down recreates it as migration 1 did', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  const ds = await openStore(join(dir, 'vigil.db'));
  const tables = async (): Promise<string[]> =>
    ((await ds.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) as { name: string }[]).map((r) => r.name);
  expect(await tables()).not.toContain('settings');
  expect(await tables()).toEqual(expect.arrayContaining(['cameras', 'zones', 'masks', 'events', 'recordings', 'exports', 'migrations']));
  const last = (await ds.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 3')) as { name: string }[];
  expect(last).toEqual([{ name: 'Rules1763700000006' }, { name: 'Wall1763700000005' }, { name: 'DropSettings1763700000004' }]);

  await ds.undoLastMigration({ transaction: 'each' }); // the rules (6)
  await ds.undoLastMigration({ transaction: 'each' }); // the wall (5)
  expect(await tables()).not.toContain('layouts');
  await ds.undoLastMigration({ transaction: 'each' }); // the settings drop (4)
  expect(await tables()).toContain('settings');
  const cols = (await ds.query('PRAGMA table_info(settings)')) as { name: string; type: string; notnull: number; pk: number }[];
  expect(cols.map(({ name, type, notnull, pk }) => ({ name, type, notnull, pk }))).toEqual([
    { name: 'key', type: 'TEXT', notnull: 1, pk: 1 },
    { name: 'value', type: 'TEXT', notnull: 1, pk: 0 },
  ]);
  expect(await ds.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: 3 }]);
  await ds.destroy();

  // Reopening runs migrations 4 to 6 again.
  const again = await openStore(join(dir, 'vigil.db'));
  expect(await again.query("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'settings'")).toEqual([{ n: 0 }]);
  expect(await again.query('SELECT count(*) AS n FROM migrations')).toEqual([{ n: 6 }]);
  await again.destroy();
});

it('keeps cameras and events across a hub restart, and ends events left open', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-restart-'));
  const opts = { camera: { enabled: false }, detector: { enabled: false } };
  const first = await startTestHub(opts, { dataDir });
  const cam = { name: 'garage', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' }, zones: [{ name: 'bay', coordinates: [[0, 0], [1, 0], [0.5, 1]] }], masks: [{ coordinates: [[0, 0], [0.1, 0], [0.1, 0.1]], applies_to: 'motion' }] };
  expect((await api(first.baseUrl, 'POST', '/api/cameras', cam)).status).toBe(201);
  // An event left open, as after a crash.
  const ds = await openStore(join(dataDir, 'vigil.db'));
  await new EventsRepo(ds).upsert({
    id: '1700000000.000000-abcdef', camera: 'garage', frame_time: 1700000000, label: 'car', sub_label: null, score: 0.8, top_score: 0.8,
    false_positive: false, start_time: 1700000000, end_time: null, box: [1, 2, 30, 40], area: 1102, ratio: 0.76, current_zones: ['bay'],
    entered_zones: ['bay'], loitering: false, has_snapshot: false, has_clip: false, stationary: true, motionless_count: 3, position_changes: 0,
  });
  await ds.destroy();
  await first.hub.stop();

  const second = await startTestHub(opts, { dataDir });
  const got = await api(second.baseUrl, 'GET', '/api/cameras/garage');
  expect(got.status).toBe(200);
  expect(got.body.zones[0].name).toBe('bay');
  expect(got.body.masks[0].applies_to).toBe('motion');
  const ev = await api(second.baseUrl, 'GET', '/api/events/1700000000.000000-abcdef');
  expect(ev.body.zones).toEqual(['bay']);
  expect(ev.body.end_time).toBeGreaterThan(1700000000);
  const filtered = await api(second.baseUrl, 'GET', '/api/events?label=car&zone=bay&after=1699999999&before=1700000001');
  expect(filtered.body).toHaveLength(1);
  expect((await api(second.baseUrl, 'GET', '/api/events?label=person')).body).toHaveLength(0);
  const openapi = await api(second.baseUrl, 'GET', '/api/openapi.json');
  expect(openapi.body.openapi).toBe('3.1.0');
  expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/cameras', '/api/events', '/api/events/{id}/snapshot.jpg', '/api/system']));
  await second.stop();
});
