/**
 * A component process reads its settings through the hub's schema and loader: file, then
 * `VIGIL_*` variables, then flags; a bad value is a ConfigError naming the path.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { componentSettings } from '../components/protocol/config/component.ts';
import { ConfigError } from '../components/protocol/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-component-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NO_FILE = join(dir, 'missing.yaml');

function issues(fn: () => unknown): string[] {
  try { fn(); } catch (err) { if (err instanceof ConfigError) return err.issues; throw err; }
  throw new Error('no ConfigError');
}

describe('component settings', () => {
  it('takes the file, then the environment, then the flags', () => {
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'mqtt:\n  url: mqtt://file:1883\n  prefix: home\n  username: cam\ndetector:\n  workers: 3\nlog:\n  level: warn\n');
    const fromFile = componentSettings(['detector', '--config', file], {});
    expect(fromFile).toMatchObject({ role: 'detector', mqtt: { url: 'mqtt://file:1883', prefix: 'home', username: 'cam', protocolVersion: 4 }, detector: { workers: 3, backend: 'auto' }, logLevel: 'warn' });

    const env = { VIGIL_CONFIG: file, VIGIL_MQTT__URL: 'mqtt://env:1883', VIGIL_MQTT__PASSWORD: 's3cret', VIGIL_MQTT__PROTOCOL_VERSION: '5', VIGIL_DETECTOR__WORKERS: '2' };
    const fromEnv = componentSettings(['detector'], env);
    expect(fromEnv.mqtt).toEqual({ url: 'mqtt://env:1883', username: 'cam', password: 's3cret', protocolVersion: 5, prefix: 'home' });
    expect(fromEnv.detector.workers).toBe(2);

    const fromFlags = componentSettings(['camera', '--mqtt', 'mqtt://flag:1883', '--prefix', 'p2', '--cameras', 'a, b', '--recordings', '/srv/rec', '--client-id', 'cam-1'], env);
    expect(fromFlags).toMatchObject({ role: 'camera', mqtt: { url: 'mqtt://flag:1883', prefix: 'p2' }, cameras: ['a', 'b'], recordingsRoot: '/srv/rec', clientId: 'cam-1' });
  });

  it('names the path of every bad setting', () => {
    expect(issues(() => componentSettings(['recorder', '--mqtt', 'mqtt://x'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^role: /);
    expect(issues(() => componentSettings(['camera'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^mqtt\.url: /);
    expect(issues(() => componentSettings(['camera', '--mqtt', 'http://x'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^mqtt\.url: must be an mqtt/);
    expect(issues(() => componentSettings(['detector', '--mqtt', 'mqtt://x', '--workers', 'many'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^detector\.workers: .*not a number/);
    expect(issues(() => componentSettings(['detector', '--mqtt', 'mqtt://x', '--backend', 'gpu'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^detector\.backend: /);
    expect(issues(() => componentSettings(['detector', '--mqtt', 'mqtt://x', '--colour', 'red'], { VIGIL_CONFIG: NO_FILE }))[0]).toMatch(/^\(arguments\): .*colour/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mqtt:\n  url: mqtt://x\n  colour: red\n');
    expect(issues(() => componentSettings(['camera', '--config', bad], {}))).toEqual(['mqtt.colour: unknown key']);
  });

  it('exits with status 2 and the path on a bad setting, like the hub', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'components/main.ts', 'detector', '--mqtt', 'mqtt://127.0.0.1:1', '--workers=-1'], {
      cwd: join(import.meta.dirname, '..'), env: { ...process.env, VIGIL_CONFIG: NO_FILE }, encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/detector\.workers: /);
    expect(r.stderr).toMatch(/^usage: /m);
  }, 40_000);
});
