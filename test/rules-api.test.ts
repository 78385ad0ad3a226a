/**
 * Simple rules through the one engine: `/api/rules` compiled into the Node-RED tab the hub
 * owns; an event in (`POST /api/events/trigger`, `vigil/event/trigger`) activates the
 * layout on the display, reverts after the set seconds and respects the cooldown; rules
 * survive a restart; bad rules are refused with the field. Real hub with the embedded
 * Node-RED and Vigil's nodes, real broker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { MOTION_TOPIC, startOnvifDevice, type OnvifDevice } from './fixtures/onvif-device.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-rules-api-'));
let h: TestHub;
let rec: MqttRecorder;
let device: OnvifDevice | undefined;
const DISPLAY = 'hall-hdmi-0';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const opts = { camera: { enabled: false }, detector: { enabled: false }, rules: { enabled: true } };

async function bundleLayouts(): Promise<string[]> {
  return rec.on(`vigil/display/${DISPLAY}/layout/state`).filter((m) => m.payload.length).map((m) => JSON.parse(m.payload.toString()).layout as string);
}

beforeAll(async () => {
  h = await startTestHub(opts, { dataDir });
  expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'door', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } })).status).toBe(201);
  for (const l of [
    { id: 'overview', name: 'Overview', preset: '2x2', cells: [{ type: 'camera', camera: 'door' }] },
    { id: 'door-zoom', name: 'Door zoom', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'door' }] },
  ]) expect((await api(h.baseUrl, 'POST', '/api/layouts', l)).status).toBe(201);
  const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null);
  expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.body.code, id: 'hall' })).status).toBe(201);
  expect((await api(h.baseUrl, 'POST', `/api/displays/${DISPLAY}/activate`, { layout: 'overview' })).status).toBe(200);
  rec = await MqttRecorder.connect(h.mqttUrl, [`vigil/display/${DISPLAY}/layout/state`, 'vigil/event/trigger', 'vigil/onvif/+/event']);
});

afterAll(async () => {
  await rec?.close();
  await h?.stop();
  await device?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('simple rules', () => {
  it('the editor\'s palette lists Vigil\'s nodes', async () => {
    const sets = (await api(h.baseUrl, 'GET', '/rules/nodes', undefined, { token: h.adminToken, headers: { accept: 'application/json' } })).body as Array<{ module: string; types: string[]; enabled: boolean }>;
    const vigil = sets.filter((s) => s.module === 'node-red-contrib-vigil');
    expect(vigil.every((s) => s.enabled)).toBe(true);
    expect(vigil.flatMap((s) => s.types).sort()).toEqual(['vigil camera', 'vigil event', 'vigil layout', 'vigil snapshot', 'vigil trigger', 'vigil-hub']);
  });

  it('refuses bad rules with the field, and unknown displays or layouts', async () => {
    const base = { id: 'r', name: 'R', when: { topic: MOTION }, do: { action: 'activate_layout', display: DISPLAY, layout_id: 'door-zoom' } };
    const bad: Array<[unknown, string]> = [
      [{ ...base, id: 'Bad Id' }, 'id'],
      [{ ...base, when: { topic: '' } }, 'when.topic'],
      [{ ...base, when: { topic: MOTION, property_op: 'Sometimes' } }, 'when.property_op'],
      [{ ...base, do: { ...base.do, action: 'explode' } }, 'do.action'],
      [{ ...base, do: { ...base.do, display: 'nope' } }, 'do.display'],
      [{ ...base, do: { ...base.do, layout_id: 'nope' } }, 'do.layout_id'],
      [{ ...base, do: { ...base.do, revert_to: 'nope' } }, 'do.revert_to'],
      [{ ...base, do: { ...base.do, cooldown_seconds: -1 } }, 'do.cooldown_seconds'],
    ];
    for (const [body, field] of bad) {
      const r = await api(h.baseUrl, 'POST', '/api/rules', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
    expect((await api(h.baseUrl, 'GET', '/api/rules')).body).toEqual([]);
  });

  it('an ONVIF-style motion event activates the zoom layout, reverts after the set seconds and respects the cooldown', async () => {
    const rule = {
      id: 'door-motion', name: 'Door motion → zoom',
      when: { camera: 'door', topic: MOTION, property_op: 'Changed', data: { IsMotion: true } },
      do: { action: 'activate_layout', display: DISPLAY, layout_id: 'door-zoom', revert_after_seconds: 2, revert_to: 'previous', cooldown_seconds: 4 },
    };
    const made = await api(h.baseUrl, 'POST', '/api/rules', rule);
    expect(made.status).toBe(201);
    expect((await api(h.baseUrl, 'GET', '/api/rules-status')).body).toMatchObject({ deployed: true });
    // The compiled tab is in Node-RED.
    const flows = (await api(h.baseUrl, 'GET', '/rules/flows')).body as Array<{ id: string; type: string; z?: string }>;
    expect(flows.filter((n) => n.z === 'vigil.simple-rules').map((n) => n.type).sort()).toEqual(['vigil layout', 'vigil trigger', 'vigil-hub']);

    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    // Not matching: another property op, IsMotion false.
    expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'door', topic: MOTION, property_op: 'Initialized', data: { IsMotion: true } })).status).toBe(202);
    expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'door', topic: MOTION, data: { IsMotion: false } })).status).toBe(202);
    // Matching (as ONVIF sends it: the value as text).
    expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'door', topic: MOTION, property_op: 'Changed', data: { IsMotion: 'true' } })).status).toBe(202);
    const on = await rec.waitFor((m) => m.at >= t0 && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'door-zoom', 5000, 'door-zoom');
    expect(on.at - t0).toBeLessThan(2000);
    // Within the cooldown: ignored (the revert still happens on time).
    expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'door', topic: MOTION, data: { IsMotion: true } })).status).toBe(202);
    const back = await rec.waitFor((m) => m.at > on.at && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'overview', 5000, 'revert to overview');
    expect(back.at - on.at).toBeGreaterThanOrEqual(1800);
    expect(back.at - on.at).toBeLessThan(3500);
    expect((await bundleLayouts()).filter((l) => l === 'door-zoom')).toHaveLength(1);
    // After the cooldown (4 s from firing): fires again, this time from a client on the trigger topic (short form).
    await new Promise((r) => setTimeout(r, Math.max(0, on.at + 4200 - Date.now())));
    const c = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, ...h.mqttCreds });
    await c.publishAsync('vigil/event/trigger', JSON.stringify({ camera: 'door', topic: MOTION, payload: { IsMotion: true } }), { qos: 1 });
    await c.endAsync();
    await rec.waitFor((m) => m.at > back.at && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'door-zoom', 5000, 'second door-zoom');
  }, 30_000);

  it('a motion event from a real ONVIF PullPoint (the device emulator) fires a rule, which reverts and keeps its cooldown', async () => {
    device = await startOnvifDevice({ mainUrl: 'rtsp://127.0.0.1:1/main', subUrl: 'rtsp://127.0.0.1:1/sub' });
    const cam = await api(h.baseUrl, 'POST', '/api/cameras/onvif', { name: 'porch', url: device.url, username: 'admin', password: 'secret' });
    expect(cam.status, JSON.stringify(cam.body)).toBe(201);
    const rule = {
      id: 'porch-motion', name: 'Porch motion → zoom',
      when: { camera: 'porch', topic: MOTION_TOPIC, property_op: 'Changed', data: { IsMotion: true } },
      do: { action: 'activate_layout', display: DISPLAY, layout_id: 'door-zoom', revert_after_seconds: 1, revert_to: 'overview', cooldown_seconds: 3 },
    };
    expect((await api(h.baseUrl, 'POST', '/api/rules', rule)).status).toBe(201);
    // The hub's PullPoint subscription is up once the device's Initialized state arrives.
    const porchEvent = (m: { topic: string; payload: Buffer }) => m.topic === 'vigil/onvif/porch/event' && JSON.parse(m.payload.toString()).topic === MOTION_TOPIC;
    await rec.waitFor((m) => porchEvent(m) && JSON.parse(m.payload.toString()).property_op === 'Initialized', 10_000, 'the PullPoint subscription');
    await new Promise((r) => setTimeout(r, 300));
    const zoomAfter = (since: number) => rec.on(`vigil/display/${DISPLAY}/layout/state`).filter((m) => m.at > since && m.payload.length && JSON.parse(m.payload.toString()).layout === 'door-zoom');

    const t0 = Date.now();
    expect(device.emitEvent({ data: { IsMotion: false } })).toBe(1); // does not match
    expect(device.emitEvent({ data: { IsMotion: true } })).toBe(1);
    const on = await rec.waitFor((m) => m.at >= t0 && m.topic.endsWith('/layout/state') && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'door-zoom', 5000, 'door-zoom from ONVIF');
    const ev = rec.on('vigil/onvif/porch/event').filter((m) => m.at >= t0).map((m) => JSON.parse(m.payload.toString()));
    expect(ev.some((e) => e.origin === 'onvif' && e.property_op === 'Changed' && String(e.data.IsMotion) === 'true')).toBe(true);
    expect(zoomAfter(t0 - 1)).toHaveLength(1);
    // Within the cooldown: a second motion is ignored; the revert (1 s) comes on time.
    device.emitEvent({ data: { IsMotion: true } });
    const back = await rec.waitFor((m) => m.at > on.at && m.topic.endsWith('/layout/state') && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'overview', 4000, 'revert to overview');
    expect(back.at - on.at).toBeGreaterThanOrEqual(900);
    expect(back.at - on.at).toBeLessThan(2500);
    await new Promise((r) => setTimeout(r, 500));
    expect(zoomAfter(t0 - 1)).toHaveLength(1);
    // After the cooldown: fires again.
    await new Promise((r) => setTimeout(r, Math.max(0, on.at + 3200 - Date.now())));
    device.emitEvent({ data: { IsMotion: true } });
    await rec.waitFor((m) => m.at > back.at && m.topic.endsWith('/layout/state') && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'door-zoom', 5000, 'door-zoom after the cooldown');
    await rec.waitFor((m) => m.at > back.at + 500 && m.topic.endsWith('/layout/state') && m.payload.length > 0 && JSON.parse(m.payload.toString()).layout === 'overview', 4000, 'second revert');
    expect((await api(h.baseUrl, 'DELETE', '/api/rules/porch-motion')).status).toBe(204);
    expect((await api(h.baseUrl, 'DELETE', '/api/cameras/porch')).status).toBe(204);
  }, 40_000);

  it('disables, replaces and deletes rules (the tab follows)', async () => {
    const r = (await api(h.baseUrl, 'GET', '/api/rules/door-motion')).body;
    const off = await api(h.baseUrl, 'PUT', '/api/rules/door-motion', { ...r, id: undefined, enabled: false });
    expect(off.status).toBe(200);
    const flows = (await api(h.baseUrl, 'GET', '/rules/flows')).body as Array<{ z?: string; d?: boolean; type: string }>;
    expect(flows.filter((n) => n.z === 'vigil.simple-rules' && n.type !== 'vigil-hub').every((n) => n.d === true)).toBe(true);
    expect((await api(h.baseUrl, 'PUT', '/api/rules/ghost', { ...r, id: undefined })).status).toBe(404);
    expect((await api(h.baseUrl, 'POST', '/api/rules', r)).status).toBe(409);
  });

  it('survive a restart, deployed again', async () => {
    await h.stop();
    h = await startTestHub(opts, { dataDir });
    expect((await api(h.baseUrl, 'GET', '/api/rules')).body.map((x: { id: string }) => x.id)).toEqual(['door-motion']);
    expect((await api(h.baseUrl, 'GET', '/api/rules-status')).body).toMatchObject({ deployed: true });
    const flows = (await api(h.baseUrl, 'GET', '/rules/flows')).body as Array<{ z?: string }>;
    expect(flows.filter((n) => n.z === 'vigil.simple-rules')).toHaveLength(3);
    expect((await api(h.baseUrl, 'DELETE', '/api/rules/door-motion')).status).toBe(204);
    const after = (await api(h.baseUrl, 'GET', '/rules/flows')).body as Array<{ id: string; z?: string }>;
    expect(after.filter((n) => n.id === 'vigil.simple-rules' || n.z === 'vigil.simple-rules')).toEqual([]);
  }, 60_000);
});
