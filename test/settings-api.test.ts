/**
 * The settings, logs-tail and metrics routes (`hub/http/routes-system.ts`) on a real hub
 * started from a real YAML file (comments in it), with one key locked by its environment
 * variable: a retention change is written into the file with its comments kept and the
 * retention sweeper deletes with the new cap at once; an env-locked key and bad values are
 * refused with their field; MQTT changes wait for a restart (password never shown); the log
 * level applies live; Home Assistant discovery turned on under a new prefix publishes there
 * and clears the old prefix when moved; the logs tail returns a line the hub just logged
 * and tails with `after`; the metrics history has CPU and memory points (a 200 ms interval).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const YAML = `# Vigil test configuration
recordings:
  # keep event clips a month
  clip_retain_days: 30 # days
  sweep_interval_s: 3600
log:
  level: debug # the tests read debug lines
`;

let h: TestHub;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-settings-'));
  file = join(dir, 'vigil.yaml');
  writeFileSync(file, YAML);
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }, {
    configFile: file,
    hub: { env: { VIGIL_RECORDINGS__MAX_PERCENT: '100' }, metricsIntervalMs: 200 },
  });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const settings = async () => (await api(h.baseUrl, 'GET', '/api/settings')).body;

describe('settings', () => {
  it('shows each value with where it comes from', async () => {
    const s = await settings();
    expect(s.file).toBe(file);
    expect(s.writable).toBe(true);
    expect(s.settings['recordings.clip_retain_days']).toMatchObject({ value: 30, source: 'file', default: 30, live: true, env: 'VIGIL_RECORDINGS__CLIP_RETAIN_DAYS' });
    expect(s.settings['recordings.max_percent']).toMatchObject({ value: 100, source: 'env', env: 'VIGIL_RECORDINGS__MAX_PERCENT' });
    expect(s.settings['homeassistant.discovery_prefix']).toMatchObject({ value: 'homeassistant', source: 'default', live: true });
    expect(s.settings['mqtt.url']).toMatchObject({ value: null, source: 'default', live: false });
    expect(s.settings['mqtt.password']).toMatchObject({ value: null, has_password: false });
    expect(s.settings['log.level']).toMatchObject({ value: 'debug', source: 'file' });
    expect(s.settings['http.port']).toBeUndefined();
  });

  it('writes a retention change into the file, comments kept, and the sweeper uses it at once', async () => {
    // Five 1 MB segments announced as the camera component does; no size cap yet: all stay.
    const recRoot = join(h.dataDir, 'recordings');
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/storage']);
    for (let i = 0; i < 5; i++) {
      const start = 1_800_000_000 + i * 60;
      const rel = `yard/2027-01-15/08/0${i}.00.mp4`;
      mkdirSync(join(recRoot, 'yard/2027-01-15/08'), { recursive: true });
      writeFileSync(join(recRoot, rel), Buffer.alloc(1_000_000));
      await rec.client.publishAsync('vigil/recorder/yard/segment', JSON.stringify({ id: `yard:${start}`, camera: 'yard', path: rel, start_time: start, end_time: start + 60, duration: 60, bytes: 1_000_000 }), { qos: 1 });
    }
    await rec.close();
    const count = async () => (await api(h.baseUrl, 'GET', '/api/recordings?camera=yard&limit=100')).body.length;
    await expect.poll(count, { timeout: 10_000 }).toBe(5);

    const r = await api(h.baseUrl, 'PATCH', '/api/settings', { recordings: { clip_retain_days: 7, max_size_gb: 0.003 } });
    expect(r.status).toBe(200);
    expect(r.body.restart_required).toEqual([]);
    expect(r.body.settings['recordings.clip_retain_days']).toMatchObject({ value: 7, source: 'file' });
    expect(r.body.settings['recordings.max_size_gb']).toMatchObject({ value: 0.003, source: 'file' });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# Vigil test configuration');
    expect(text).toContain('# keep event clips a month');
    expect(text).toMatch(/clip_retain_days: 7 # days/);
    expect(text).toMatch(/max_size_gb: 0.003/);
    expect(text).toContain('level: debug # the tests read debug lines');
    // The new 3 MB cap applies without waiting for the hourly sweep: the two oldest go.
    await expect.poll(count, { timeout: 10_000 }).toBe(3);
    expect((await settings()).settings['recordings.clip_retain_days'].value).toBe(7);

    // null removes the key again: back to no cap.
    const back = await api(h.baseUrl, 'PATCH', '/api/settings', { recordings: { max_size_gb: null } });
    expect(back.status).toBe(200);
    expect(back.body.settings['recordings.max_size_gb']).toMatchObject({ value: null, source: 'default' });
    expect(readFileSync(file, 'utf8')).not.toContain('max_size_gb');

    const act = await api(h.baseUrl, 'GET', '/api/activity?action=settings.update');
    expect(act.body[1]).toMatchObject({ actor: 'admin', target: 'settings', details: { settings: { 'recordings.clip_retain_days': 7, 'recordings.max_size_gb': 0.003 } } });
  }, 30_000);

  it('refuses a key set by the environment, with the variable named', async () => {
    const before = readFileSync(file, 'utf8');
    const r = await api(h.baseUrl, 'PATCH', '/api/settings', { recordings: { max_percent: 80 } });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'env_locked', field: 'recordings.max_percent' });
    expect(r.body.error.message).toContain('VIGIL_RECORDINGS__MAX_PERCENT');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses bad values and other keys with the dotted field, the file untouched', async () => {
    const before = readFileSync(file, 'utf8');
    const cases: [unknown, string][] = [
      [{ recordings: { clip_retain_days: -1 } }, 'recordings.clip_retain_days'],
      [{ recordings: { min_free_gb: 'lots' } }, 'recordings.min_free_gb'],
      [{ homeassistant: { discovery_prefix: 'a/b' } }, 'homeassistant.discovery_prefix'],
      [{ homeassistant: { base_url: 'ftp://x' } }, 'homeassistant.base_url'],
      [{ log: { level: 'loud' } }, 'log.level'],
      [{ mqtt: { protocol_version: 3 } }, 'mqtt.protocol_version'],
      [{ recordings: { colour: 'red' } }, 'recordings.colour'],
      [{ http: { port: 1 } }, 'http.port'],
      [{ recordings: 5 }, 'recordings'],
    ];
    for (const [body, field] of cases) {
      const r = await api(h.baseUrl, 'PATCH', '/api/settings', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error, JSON.stringify(body)).toMatchObject({ code: 'validation_failed', field });
    }
    expect((await api(h.baseUrl, 'PATCH', '/api/settings', [])).status).toBe(400);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('saves MQTT changes for the next start and never shows the password', async () => {
    const r = await api(h.baseUrl, 'PATCH', '/api/settings', { mqtt: { username: 'vigil', password: 's3cret-pw' } });
    expect(r.status).toBe(200);
    expect(r.body.restart_required.sort()).toEqual(['mqtt.password', 'mqtt.username']);
    expect(JSON.stringify(r.body)).not.toContain('s3cret-pw');
    expect(r.body.settings['mqtt.username']).toMatchObject({ value: null, pending: 'vigil', source: 'file', live: false });
    expect(r.body.settings['mqtt.password']).toMatchObject({ value: null, has_password: false, pending: true });
    expect(readFileSync(file, 'utf8')).toMatch(/password: s3cret-pw/);
    const act = (await api(h.baseUrl, 'GET', '/api/activity?action=settings.update')).body[0];
    expect(JSON.stringify(act)).not.toContain('s3cret-pw');
    expect(act.details.restart_required.sort()).toEqual(['mqtt.password', 'mqtt.username']);
    // The hub still runs on its broker as before.
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
  });

  it('refuses viewers', async () => {
    expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'vic', password: 'vic-password-1', role: 'viewer', cameras: ['other'] })).status).toBe(201);
    const token = (await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vic', password: 'vic-password-1' }, null)).body.access_token as string;
    expect((await api(h.baseUrl, 'GET', '/api/settings', undefined, { token })).status).toBe(403);
    expect((await api(h.baseUrl, 'PATCH', '/api/settings', { log: { level: 'info' } }, { token })).status).toBe(403);
    expect((await api(h.baseUrl, 'GET', '/api/system/logs', undefined, { token })).status).toBe(403);
  });
});

describe('logs tail', () => {
  it('returns a line the hub just logged, tails with `after`, filters by level, and the level applies live', async () => {
    const first = (await api(h.baseUrl, 'GET', '/api/system/logs?limit=5')).body;
    expect(first.lines.length).toBeLessThanOrEqual(5);
    expect(first.next).toBeGreaterThan(0);
    // A warning the hub logs: a message on vigil/events that is not an event.
    const c = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
    await c.publishAsync('vigil/events', 'not json', { qos: 1 });
    await c.endAsync();
    let lines: any[] = [];
    await expect.poll(async () => {
      lines = (await api(h.baseUrl, 'GET', `/api/system/logs?after=${first.next}`)).body.lines;
      return lines.map((l) => l.msg);
    }, { timeout: 5000 }).toContain('invalid message on the events topic; dropped');
    const warn = lines.find((l) => l.msg === 'invalid message on the events topic; dropped');
    expect(warn).toMatchObject({ level: 'warn', module: 'events' });
    expect(typeof warn.err).toBe('string');
    expect(warn.seq).toBeGreaterThan(first.next);
    expect(Math.abs(warn.time - Date.now())).toBeLessThan(10_000);
    expect(lines.every((l: { seq: number }) => l.seq > first.next)).toBe(true);

    const warnOnly = (await api(h.baseUrl, 'GET', `/api/system/logs?level=warn&after=${first.next}`)).body;
    expect(warnOnly.lines.length).toBeGreaterThan(0);
    expect(warnOnly.lines.every((l: { level: string }) => ['warn', 'error', 'fatal'].includes(l.level))).toBe(true);
    const after = (await api(h.baseUrl, 'GET', `/api/system/logs?after=${warnOnly.next}&level=warn`)).body;
    expect(after.lines).toEqual([]);
    expect((await api(h.baseUrl, 'GET', '/api/system/logs?level=loud')).body.error.field).toBe('query.level');

    // log.level live: at warn, the "settings changed" info line is not written; back at info, it is.
    const mark = (await api(h.baseUrl, 'GET', '/api/system/logs?limit=1')).body.next;
    expect((await api(h.baseUrl, 'PATCH', '/api/settings', { log: { level: 'warn' } })).body.restart_required).toEqual([]);
    expect((await api(h.baseUrl, 'GET', `/api/system/logs?after=${mark}`)).body.lines.map((l: { msg: string }) => l.msg)).not.toContain('settings changed');
    expect((await api(h.baseUrl, 'PATCH', '/api/settings', { log: { level: 'info' } })).status).toBe(200);
    const changed = (await api(h.baseUrl, 'GET', `/api/system/logs?after=${mark}`)).body.lines.filter((l: { msg: string }) => l.msg === 'settings changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ level: 'info', module: 'settings', context: { changed: ['log.level'] } });
    expect(readFileSync(file, 'utf8')).toContain('level: info # the tests read debug lines');
  });
});

describe('Home Assistant settings', () => {
  it('turns discovery on under a new prefix, moves it, and turns it off: configs appear and are cleared', async () => {
    const dev = (await api(h.baseUrl, 'POST', '/api/devices', { id: 'ha1', kind: 'ha' })).body as { username: string; password: string };
    const on = await api(h.baseUrl, 'PATCH', '/api/settings', { homeassistant: { enabled: true, discovery_prefix: 'ha_one' } });
    expect(on.status).toBe(200);
    expect(on.body.restart_required).toEqual([]);
    expect(on.body.settings['homeassistant.discovery_prefix']).toMatchObject({ value: 'ha_one', source: 'file' });
    // The broker's ACL follows the prefix: the ha device may read ha_one/#.
    const one = await MqttRecorder.connect(h.mqttUrl, ['ha_one/#'], dev);
    const cfg = await one.waitFor((m) => /^ha_one\/[a-z_]+\/vigil\/[^/]+\/config$/.test(m.topic) && m.payload.length > 0, 10_000, 'a discovery config under ha_one');
    expect(cfg.retain).toBe(true);
    expect(JSON.parse(cfg.payload.toString()).device).toBeDefined();
    // Every config the publisher says it holds has arrived.
    const wanted = async () => (await api(h.baseUrl, 'GET', '/api/system')).body.components.homeassistant.configs as number;
    const live = (r: MqttRecorder) => new Set(r.messages.filter((m) => m.payload.length > 0 && r.on(m.topic).at(-1)!.payload.length > 0).map((m) => m.topic));
    await expect.poll(async () => live(one).size === (await wanted()) && live(one).size > 0, { timeout: 10_000 }).toBe(true);
    const published = live(one);

    // Moved: every config under ha_one is cleared, and they appear under ha_two.
    const two = await api(h.baseUrl, 'PATCH', '/api/settings', { homeassistant: { discovery_prefix: 'ha_two' } });
    expect(two.status).toBe(200);
    await expect.poll(() => [...published].every((t) => one.on(t).at(-1)?.payload.length === 0), { timeout: 10_000 }).toBe(true);
    const rec2 = await MqttRecorder.connect(h.mqttUrl, ['ha_two/#'], dev);
    await rec2.waitFor((m) => m.topic.startsWith('ha_two/') && m.topic.endsWith('/config') && m.payload.length > 0, 10_000, 'a config under ha_two');
    // The same configs, under the new prefix.
    await expect.poll(() => [...live(rec2)].map((t) => t.replace(/^ha_two\//, '')).sort(), { timeout: 10_000 })
      .toEqual([...published].map((t) => t.replace(/^ha_one\//, '')).sort());

    // Off: cleared under ha_two.
    expect((await api(h.baseUrl, 'PATCH', '/api/settings', { homeassistant: { enabled: false } })).status).toBe(200);
    const two2 = new Set(rec2.messages.filter((m) => m.payload.length > 0).map((m) => m.topic));
    await expect.poll(() => [...two2].every((t) => rec2.on(t).at(-1)?.payload.length === 0), { timeout: 10_000 }).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/homeassistant:\n {2}enabled: false\n {2}discovery_prefix: ha_two/);
    await one.close();
    await rec2.close();
  }, 40_000);
});

describe('metrics', () => {
  it('samples CPU, memory and camera fps; viewers see only their cameras', async () => {
    // A camera's retained availability and state, as a camera component publishes them.
    const c = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
    await c.publishAsync('vigil/camera/yard/availability', 'online', { qos: 1, retain: true });
    await c.publishAsync('vigil/camera/yard/state', JSON.stringify({ status: 'running', fps: 4.8, restarts: 0 }), { qos: 1, retain: true });
    await c.endAsync();
    const t0 = Date.now();
    let body: any;
    await expect.poll(async () => {
      body = (await api(h.baseUrl, 'GET', `/api/system/metrics?since=${t0}`)).body;
      return body.points.filter((p: { cameras: Record<string, unknown> }) => p.cameras.yard).length;
    }, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(body.interval_ms).toBe(200);
    for (const p of body.points) {
      expect(p.t).toBeGreaterThan(t0);
      expect(p.cpu_percent).toBeGreaterThanOrEqual(0);
      expect(p.rss_bytes).toBeGreaterThan(20 * 2 ** 20);
      expect(p.heap_bytes).toBeGreaterThan(1 * 2 ** 20);
      expect(p.heap_bytes).toBeLessThan(p.rss_bytes);
      expect(p.inference_ms).toBeNull(); // no detector here
    }
    expect(body.points.at(-1).cameras.yard).toEqual({ fps: 4.8 });
    const ts = body.points.map((p: { t: number }) => p.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(ts.at(-1) - ts[0]).toBeGreaterThanOrEqual(150 * (ts.length - 1));
    const later = (await api(h.baseUrl, 'GET', `/api/system/metrics?since=${ts.at(-1)}`)).body.points;
    expect(later.every((p: { t: number }) => p.t > ts.at(-1))).toBe(true);

    const sys = (await api(h.baseUrl, 'GET', '/api/system')).body;
    expect(sys.process.rss_bytes).toBeGreaterThan(20 * 2 ** 20);
    expect(typeof sys.process.cpu_percent).toBe('number');
    const token = (await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vic', password: 'vic-password-1' }, null)).body.access_token as string;
    const seen = (await api(h.baseUrl, 'GET', '/api/system/metrics', undefined, { token })).body;
    expect(seen.points.length).toBeGreaterThan(0);
    expect(seen.points.every((p: { cameras: object }) => Object.keys(p.cameras).length === 0)).toBe(true);
    expect((await api(h.baseUrl, 'GET', '/api/system', undefined, { token })).body.process).toBeUndefined();
  }, 30_000);
});
