/**
 * A camera head joins the hub (issue #13): the real head daemon (`head-firmware/main.ts`, its
 * own process, the simulated drivers, ffmpeg's test pattern through its RTSP server) with a
 * `head` device credential of a real hub (embedded broker, camera component on). The hub finds
 * the head (`/api/heads`), registers its video as camera `head_<id>` and ingests it (frames
 * decoded), publishes Home Assistant discovery for its entities; an operator's MQTT write
 * changes the head's state (seen over the head's own HTTP API too) and a bad one is refused on
 * `…/response` with the last good value kept; a recording started over MQTT and cut by SIGTERM
 * is a complete MP4 (ffprobe) with its row in the head's recordings database; the head's
 * availability goes `offline`.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { checkDiscovery } from './helpers/ha-schema.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const ROOT = new URL('..', import.meta.url).pathname;
let h: TestHub;
let dir: string;
let head: ChildProcess;
let headLog = '';
let headHttp = '';
let rec: MqttRecorder;
let op: mqtt.MqttClient;
const HEAD_ADMIN = 'head-admin-password';
const basic = `Basic ${Buffer.from(`admin:${HEAD_ADMIN}`).toString('base64')}`;

const until = async <T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n--- head log ---\n${headLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
const stateOf = (key: string) => {
  const m = rec.on(`vigil/head/lab1/state/${key}`).at(-1);
  return m ? JSON.parse(m.payload.toString()) : undefined;
};

beforeAll(async () => {
  h = await startTestHub({ detector: { enabled: false }, homeassistant: { enabled: true } });
  dir = mkdtempSync(join(tmpdir(), 'vigil-head-'));
  const dev = (await api(h.baseUrl, 'POST', '/api/devices', { id: 'lab1', kind: 'head' })).body as { username: string; password: string };
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'op', password: 'op-password-1', role: 'operator' })).status).toBe(201);
  writeFileSync(join(dir, 'head.yaml'), YAML.stringify({
    id: 'lab1', name: 'Lab head', data_dir: join(dir, 'data'), admin_password: HEAD_ADMIN,
    mqtt: { url: h.mqttUrl, username: dev.username, password: dev.password },
    http: { port: 0 }, rtsp: { port: 0 }, camera: { kind: 'test', clock: false },
    // Small and slow: 2 cores run the hub, the head and ffmpeg.
    overrides: { DEFAULT: { defaults: { 'stream.resolution': '640x480', 'stream.fps': 5, 'stream.bitrate_kbps': 400 } } },
  }));
  // Home Assistant's own view: an `ha` device may read discovery configs and every state.
  const ha = (await api(h.baseUrl, 'POST', '/api/devices', { id: 'ha1', kind: 'ha' })).body as { username: string; password: string };
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/head/#', 'homeassistant/#'], ha);
  head = spawn(process.execPath, ['--import', 'tsx', 'head-firmware/main.ts', '--config', join(dir, 'head.yaml')], { cwd: ROOT, env: { ...process.env, VIGIL_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  head.stdout!.on('data', (d: Buffer) => { headLog += d.toString(); });
  head.stderr!.on('data', (d: Buffer) => { headLog += d.toString(); });
  const running = await until(() => /"msg":"camera head running"/.test(headLog) ? headLog : undefined, 30_000, 'the head to start');
  headHttp = `http://127.0.0.1:${/"http":(\d+)/.exec(running)![1]}`;
  op = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'op', password: 'op-password-1' });
}, 90_000);

afterAll(async () => {
  await op?.endAsync();
  await rec?.close();
  if (head && head.exitCode === null) head.kill('SIGKILL');
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a camera head on the hub', () => {
  it('is listed by the hub, online, with its state', async () => {
    const listed = await until(async () => {
      const r = await api(h.baseUrl, 'GET', '/api/heads');
      const one = (r.body as Array<Record<string, any>>).find((x) => x.id === 'lab1');
      return one?.availability === 'online' && one.state['light.level'] !== undefined ? one : undefined;
    }, 20_000, '/api/heads to list lab1');
    expect(listed.info).toMatchObject({ id: 'lab1', name: 'Lab head', variant: 'DEFAULT', stream: { main: expect.stringMatching(/^rtsp:\/\/127\.0\.0\.1:\d+\/main$/) } });
    expect(listed.info.keys.map((k: { key: string }) => k.key)).toEqual(expect.arrayContaining(['light.on', 'light.level', 'image.brightness', 'sensors.temperature_c', 'recording.active']));
    // What a head's operator may not touch (users, restart) is not offered as writable.
    expect(listed.info.keys.find((k: { key: string }) => k.key === 'light.level').writable).toBe(true);
    expect(listed.info.keys.some((k: { key: string }) => k.key === 'users.list')).toBe(false);
    expect(listed.camera).toBe('head_lab1');
    // Storage is the data directory's real file system (statfs), not a simulation.
    expect(listed.state['storage.total_bytes']).toBeGreaterThan(listed.state['storage.free_bytes']);
    expect(listed.state['storage.free_bytes']).toBeGreaterThan(0);
  }, 30_000);

  it('registers its video as camera head_lab1 and ingests it', async () => {
    const cam = (await api(h.baseUrl, 'GET', '/api/cameras/head_lab1')).body as { paths: { detect: string } };
    expect(cam.paths.detect).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/main$/);
    const sys = await until(async () => {
      const s = (await api(h.baseUrl, 'GET', '/api/system')).body as { cameras: Record<string, { availability?: string; frames?: number }> };
      const c = s.cameras.head_lab1;
      return c?.availability === 'online' && (c.frames ?? 0) > 5 ? c : undefined;
    }, 30_000, 'the hub to decode frames of head_lab1');
    expect(sys.frames).toBeGreaterThan(5);
  }, 40_000);

  it('has Home Assistant entities: a light switch, a brightness number, a temperature sensor', async () => {
    const cfg = (topic: string) => {
      const m = rec.on(topic).at(-1);
      return m && m.payload.length ? JSON.parse(m.payload.toString()) : undefined;
    };
    const sw = await until(() => cfg('homeassistant/switch/vigil/head_lab1_light_on/config'), 10_000, 'the light switch config');
    expect(sw).toMatchObject({
      unique_id: 'vigil_head_lab1_light_on', state_topic: 'vigil/head/lab1/state/light.on', command_topic: 'vigil/head/lab1/state/light.on/set',
      device: { identifiers: ['vigil_head_lab1'], name: 'Lab head', via_device: 'vigil_hub' },
      availability: [{ topic: 'vigil/hub/availability' }, { topic: 'vigil/head/lab1/availability' }],
    });
    expect(cfg('homeassistant/number/vigil/head_lab1_image_brightness/config')).toMatchObject({ command_topic: 'vigil/head/lab1/state/image.brightness/set', min: 0, max: 100 });
    expect(cfg('homeassistant/sensor/vigil/head_lab1_sensors_temperature_c/config')).toMatchObject({ state_topic: 'vigil/head/lab1/state/sensors.temperature_c', unit_of_measurement: '°C' });
    // Every config of the head passes the checker written from Home Assistant's docs.
    const heads = [...new Set(rec.messages.map((m) => m.topic))]
      .filter((t) => /^homeassistant\/\w+\/vigil\/head_lab1_/.test(t)).map((t) => [t, rec.on(t).at(-1)!.payload] as const);
    expect(heads.length).toBeGreaterThan(15);
    for (const [topic, payload] of heads) if (payload.length) expect(checkDiscovery(topic, payload, { prefix: 'vigil', discoveryPrefix: 'homeassistant' }), topic).toEqual([]);
  }, 20_000);

  it("an operator's MQTT write changes the head's state; a bad one is refused and changes nothing", async () => {
    await op.publishAsync('vigil/head/lab1/state/light.level/set', '42', { qos: 1 });
    await until(() => stateOf('light.level') === 42 || undefined, 5_000, 'light.level 42 on the bus');
    const viaHttp = await fetch(`${headHttp}/api/state/light.level`, { headers: { authorization: basic } });
    expect(await viaHttp.json()).toMatchObject({ value: 42 });

    await op.publishAsync('vigil/head/lab1/state/light.level/set', '500', { qos: 1 });
    const refusal = await until(() => rec.on('vigil/head/lab1/response').map((m) => JSON.parse(m.payload.toString())).find((r) => r.key === 'light.level'), 5_000, 'the refusal');
    expect(refusal).toMatchObject({ key: 'light.level', code: 'invalid' });
    expect(refusal.reason).toMatch(/100|less than|too big/i);
    expect(stateOf('light.level')).toBe(42);
    // A key the operator role may not write (system_rw).
    await op.publishAsync('vigil/head/lab1/state/network.hostname/set', '"evil"', { qos: 1 });
    const forbidden = await until(() => rec.on('vigil/head/lab1/response').map((m) => JSON.parse(m.payload.toString())).find((r) => r.key === 'network.hostname'), 5_000, 'the forbidden refusal');
    expect(forbidden.code).toBe('forbidden');
  }, 20_000);

  it('SIGTERM finishes a recording started over MQTT: a complete MP4 with its metadata row; the head goes offline', async () => {
    await op.publishAsync('vigil/head/lab1/state/recording.active/set', 'true', { qos: 1 });
    await until(() => stateOf('recording.active') === true || undefined, 20_000, 'recording.active');
    await new Promise((r) => setTimeout(r, 4000));
    const exited = new Promise<number | null>((resolve) => head.once('exit', (code) => resolve(code)));
    head.kill('SIGTERM');
    expect(await exited).toBe(0);
    const recDir = join(dir, 'data', 'recordings');
    const files = readdirSync(recDir, { recursive: true }).map(String).filter((f) => f.endsWith('.mp4'));
    expect(files.length).toBe(1);
    const file = join(recDir, files[0]!);
    expect(statSync(file).size).toBeGreaterThan(10_000);
    const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString().trim());
    expect(duration).toBeGreaterThan(2);
    const db = new Database(join(dir, 'data', 'recordings.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT path, duration_s, bytes FROM recordings').all() as Array<{ path: string; duration_s: number; bytes: number }>;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.duration_s).toBeGreaterThan(2);
    } finally {
      db.close();
    }
    await until(async () => {
      const r = await api(h.baseUrl, 'GET', '/api/heads/lab1');
      return (r.body as { availability?: string }).availability === 'offline' || undefined;
    }, 10_000, 'the head offline on the hub');
    expect(headLog).toMatch(/"msg":"camera head stopped"/);
  }, 60_000);
});
