/**
 * Vigil's own Node-RED nodes (flows/nodes), built with build.mts and run by Node-RED itself
 * through node-red-node-test-helper, against a real hub and its embedded broker: `vigil
 * event` filters synthetic tracked objects, `vigil trigger` passes ONVIF and short-form
 * triggers by its condition and sends one from its input, `vigil layout` activates,
 * reverts and cools down on the hub's real wall (a paired kiosk's display) and reports a
 * refusal, `vigil camera` switches detection (checked over REST) and sends PTZ, `vigil
 * snapshot` returns the retained JPEG. The config node logs in with an operator API key
 * (mqtt mode) or takes the bus from `settings.vigil` (embedded mode). Also: every node has
 * an .html with help, and package.json lists every node.
 *
 * The hub runs with its own Node-RED off (`rules.enabled: false`, startTestHub's default):
 * Node-RED is one per process, and here the test helper owns it.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildNodes, declaredNodes, NODES_DIR } from '../flows/nodes/build.mts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- the helper and Node-RED are untyped */
const helper = require('node-red-node-test-helper') as any;
helper.init(require.resolve('node-red'));

type RedModule = (RED: unknown) => void;
let nodeModules: RedModule[];
let nodesByFile: Record<string, RedModule>;
let buildDir: string;
let h: TestHub;
let operatorKey: string;
let rec: MqttRecorder;
let pub: MqttClient;

const DISPLAY = 'hall-hdmi-0';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('vigil test frame'), Buffer.from([0xff, 0xd9])]);

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'vigil-nodes-'));
  await buildNodes(buildDir);
  nodesByFile = (require(join(buildDir, 'lib', 'vigil.js')) as { nodes: Record<string, RedModule> }).nodes;
  nodeModules = Object.values(declaredNodes()).map((f) => require(join(buildDir, f)) as RedModule);

  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  operatorKey = (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'flows', scope: 'control' })).body.key;
  expect(operatorKey).toBeTruthy();
  expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'door', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } })).status).toBe(201);
  for (const l of [
    { id: 'overview', name: 'Overview', preset: '2x2', cells: [{ type: 'camera', camera: 'door' }] },
    { id: 'door-zoom', name: 'Door zoom', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'door' }] },
    { id: 'quad', name: 'Quad', preset: '2x2' },
  ]) expect((await api(h.baseUrl, 'POST', '/api/layouts', l)).status).toBe(201);
  const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null);
  expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.body.code, id: 'hall' })).status).toBe(201);
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/#']);
  pub = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, ...h.mqttCreds });
});

afterAll(async () => {
  await pub?.endAsync();
  await rec?.close();
  await h?.stop();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

beforeEach(async () => { await helper.startServer(); });
afterEach(async () => {
  await helper.unload();
  await helper.stopServer();
});

// ---- helpers --------------------------------------------------------------------------------

const hubNode = (extra: Record<string, unknown> = {}) => ({ id: 'hub', type: 'vigil-hub', name: 'test hub', mode: 'mqtt', url: h.mqttUrl, prefix: 'vigil', ...extra });
/** The config node's credentials: any username, the operator API key as the password. */
const operator = () => ({ hub: { username: 'flows', password: operatorKey } });

/** Loads `flow` (a `vigil-hub` node `hub` included) and waits until its connection is up with every subscription granted. */
async function load(flow: Array<Record<string, unknown>>, credentials: Record<string, unknown> = operator()): Promise<void> {
  await helper.load(nodeModules, flow, credentials);
  await helper.getNode('hub').connection.settled();
}

/** Messages arriving at node `id` (a `helper` node). */
function received(id: string): any[] {
  const msgs: any[] = [];
  helper.getNode(id).on('input', (m: any) => msgs.push(m));
  return msgs;
}

/** What node `id` reports through `node.<method>` (done(err) reaches `error`). */
function calls(id: string, method: 'error' | 'warn' | 'status'): any[] {
  const out: any[] = [];
  helper.getNode(id).on(`call:${method}`, (c: { args: unknown[] }) => out.push(c.args[0]));
  return out;
}

const text = (x: unknown): string => (x instanceof Error ? x.message : typeof x === 'string' ? x : JSON.stringify(x));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const object = (over: Record<string, unknown> = {}) => ({
  id: '1700000000.5-abcdef', camera: 'door', frame_time: 1700000001, label: 'person', sub_label: null, score: 0.91, top_score: 0.88,
  false_positive: false, start_time: 1700000000.5, end_time: null, box: [10, 20, 110, 220], area: 20000, ratio: 0.5,
  current_zones: ['porch'], entered_zones: ['porch'], has_snapshot: true, ...over,
});
const eventMsg = (type: string, over: Record<string, unknown> = {}) => JSON.stringify({ type, before: object(over), after: object(over) });

const bundles = (since: number) => rec.on(`vigil/display/${DISPLAY}/layout/state`).filter((m) => m.at >= since && m.payload.length).map((m) => ({ at: m.at, ...JSON.parse(m.payload.toString()) as { layout: string; seq: number } }));

// ---- the package ------------------------------------------------------------------------------

describe('the package', () => {
  it('lists every node in package.json, each with an .html holding its editor form and help (Inputs, Outputs, Details)', () => {
    const declared = declaredNodes();
    const htmls = readdirSync(NODES_DIR).filter((f) => f.endsWith('.html')).sort();
    expect(Object.values(declared).map((f) => f.replace(/\.js$/, '.html')).sort()).toEqual(htmls);
    expect(Object.keys(nodesByFile).sort()).toEqual(Object.keys(declared).sort());
    for (const [name, file] of Object.entries(declared)) {
      const html = readFileSync(join(NODES_DIR, file.replace(/\.js$/, '.html')), 'utf8');
      // The type the runtime registers is the one the editor registers, with a form and help.
      const types: string[] = [];
      nodesByFile[name]!({ nodes: { registerType: (t: string) => types.push(t), createNode: () => undefined, getNode: () => null }, settings: {}, util: { generateId: () => 'x' } });
      expect(types).toHaveLength(1);
      const type = types[0]!;
      expect(html, file).toContain(`RED.nodes.registerType('${type}',`);
      expect(html, file).toContain(`data-template-name="${type}"`);
      const help = /<script type="text\/html" data-help-name="([^"]+)">([\s\S]*?)<\/script>/.exec(html);
      expect(help?.[1], file).toBe(type);
      for (const section of ['Inputs', 'Outputs', 'Details']) expect(help?.[2], `${file}: ${section}`).toContain(`<h3>${section}</h3>`);
      // Palette category, colour and icon come from the shared editor file (resources/, served by Node-RED).
      if (type !== 'vigil-hub') {
        expect(html, file).toContain('<script type="text/javascript" src="resources/node-red-contrib-vigil/vigil-editor.js"></script>');
        expect(html, file).toContain(`RED.nodes.registerType('${type}', VigilEditor.node({`);
      }
    }
    const editor = readFileSync(join(NODES_DIR, 'resources', 'vigil-editor.js'), 'utf8');
    for (const shared of ["category: 'vigil'", "color: '#8cc0e0'", "icon: 'vigil.svg'", "hub: { type: 'vigil-hub', required: true }"]) expect(editor).toContain(shared);
    expect(readdirSync(join(NODES_DIR, 'icons'))).toContain('vigil.svg');
    expect(JSON.parse(readFileSync(join(NODES_DIR, 'package.json'), 'utf8')).name).toBe('node-red-contrib-vigil');
  });
});

// ---- vigil-hub ------------------------------------------------------------------------------

describe('vigil-hub', () => {
  it('embedded mode takes the bus from settings.vigil', async () => {
    helper.settings({ vigil: { url: h.mqttUrl, username: h.mqttCreds!.username, password: h.mqttCreds!.password, prefix: 'vigil' } });
    try {
      await load([{ id: 'hub', type: 'vigil-hub' }, { id: 'ev', type: 'vigil event', hub: 'hub', wires: [['out']] }, { id: 'out', type: 'helper' }], {});
      const out = received('out');
      const warnings = calls('ev', 'warn');
      expect(helper.getNode('hub').connection.settings.url).toBe(h.mqttUrl);
      // A component credential receives everything, garbage too (operators get only events of cameras they see).
      await pub.publishAsync('vigil/events', 'not json {', { qos: 1 });
      await pub.publishAsync('vigil/events', eventMsg('new'), { qos: 1 });
      await until(() => out.length === 1, 'an event');
      expect(warnings.map(text)).toEqual(['vigil/events: message skipped (not JSON)']);
    } finally {
      helper.settings({ vigil: undefined });
    }
  });

  it('shows a refused login on its nodes, and reports a missing config', async () => {
    await helper.load(nodeModules, [hubNode(), { id: 'ev', type: 'vigil event', hub: 'hub', wires: [] }, { id: 'lonely', type: 'vigil snapshot', wires: [] }], { hub: { username: 'x', password: 'wrong' } });
    const status = calls('ev', 'status');
    await until(() => status.some((s) => s.fill === 'red' && /refused|not authorized|bad user/i.test(s.text)), 'a red status');
    expect(helper.getNode('hub').connection.state).toBe('error');
    const lonely = calls('lonely', 'error');
    helper.getNode('lonely').receive({});
    await until(() => lonely.some((e) => /no vigil-hub/.test(text(e))), 'no vigil-hub error');
  });
});

// ---- vigil event ----------------------------------------------------------------------------

describe('vigil event', () => {
  it('passes events matching camera, label, zone, type and true positives; skips others and garbage', async () => {
    await load([
      hubNode(),
      { id: 'n-door-person-porch', type: 'vigil event', hub: 'hub', cameras: 'door', labels: 'person, dog', zones: 'porch', wires: [['o1']] },
      { id: 'n-cars', type: 'vigil event', hub: 'hub', labels: 'car', wires: [['o2']] },
      { id: 'n-garden', type: 'vigil event', hub: 'hub', zones: 'garden', wires: [['o3']] },
      { id: 'n-ends', type: 'vigil event', hub: 'hub', typeNew: false, typeUpdate: false, wires: [['o4']] },
      { id: 'n-all', type: 'vigil event', hub: 'hub', truePositives: false, wires: [['o5']] },
      ...['o1', 'o2', 'o3', 'o4', 'o5'].map((id) => ({ id, type: 'helper' })),
    ]);
    const [o1, o2, o3, o4, o5] = [received('o1'), received('o2'), received('o3'), received('o4'), received('o5')];
    const warnings = calls('n-door-person-porch', 'warn');
    await pub.publishAsync('vigil/events', JSON.stringify({ type: 'new', after: { camera: 'door' } }), { qos: 1 });
    await pub.publishAsync('vigil/events', eventMsg('new'), { qos: 1 });
    await pub.publishAsync('vigil/events', eventMsg('update', { false_positive: true, id: 'fp-1' }), { qos: 1 });
    await pub.publishAsync('vigil/events', eventMsg('end', { end_time: 1700000009 }), { qos: 1 });
    await until(() => o5.length === 3, 'three events on the unfiltered node');
    await sleep(300);
    expect(o1.map((m) => m.event.type)).toEqual(['new', 'end']);
    expect(o1[0].topic).toBe('door/person');
    expect(o1[0].payload).toMatchObject({ id: '1700000000.5-abcdef', camera: 'door', label: 'person', entered_zones: ['porch'], stationary: false });
    expect(o1[0].event.before.id).toBe('1700000000.5-abcdef');
    expect(o2).toEqual([]);
    expect(o3).toEqual([]);
    expect(o4.map((m) => m.event.type)).toEqual(['end']);
    expect(o5.map((m) => m.payload.id)).toEqual(['1700000000.5-abcdef', 'fp-1', '1700000000.5-abcdef']);
    expect(warnings.map(text)).toEqual(['vigil/events: message skipped (before: Invalid input: expected nonoptional, received undefined; 11 more)']);
  });
});

// ---- vigil trigger ----------------------------------------------------------------------------

describe('vigil trigger', () => {
  it('passes ONVIF and short-form triggers by camera, topic prefix, property_op and data; sends triggers from its input', async () => {
    await load([
      hubNode(),
      { id: 'n-motion', type: 'vigil trigger', hub: 'hub', camera: 'door', topic: 'tns1:RuleEngine/CellMotionDetector/*', propertyOp: 'Changed', data: '', wires: [['o1']] },
      { id: 'n-moving', type: 'vigil trigger', hub: 'hub', camera: '', topic: MOTION, propertyOp: '', data: '{"IsMotion": true}', wires: [['o2']] },
      { id: 'n-any', type: 'vigil trigger', hub: 'hub', wires: [['o3']] },
      ...['o1', 'o2', 'o3'].map((id) => ({ id, type: 'helper' })),
    ]);
    const [o1, o2, o3] = [received('o1'), received('o2'), received('o3')];
    const onvif = (op: string, motion: string) => JSON.stringify({ camera: 'door', topic: MOTION, property_op: op, data: { IsMotion: motion }, source: { VideoSourceConfigurationToken: 'vsc' }, time: Date.now(), origin: 'onvif' });
    const warnings = calls('n-any', 'warn');
    await pub.publishAsync('vigil/onvif/door/event', onvif('Initialized', 'false'), { qos: 1 });
    await pub.publishAsync('vigil/onvif/door/event', onvif('Changed', 'true'), { qos: 1 });
    await pub.publishAsync('vigil/onvif/door/event', '{"camera": "door"}', { qos: 1 });
    await pub.publishAsync('vigil/event/trigger', JSON.stringify({ camera: 'door', topic: MOTION, payload: { IsMotion: false } }), { qos: 1 });
    await pub.publishAsync('vigil/event/trigger', JSON.stringify({ camera: 'yard', topic: 'doorbell', payload: 'ring' }), { qos: 1 });
    await until(() => o3.length === 4, 'four triggers on the unfiltered node');
    await sleep(300);
    expect(o1.map((m) => [m.payload.property_op, m.payload.data.IsMotion, m.payload.origin])).toEqual([['Changed', 'true', 'onvif'], ['Changed', false, 'synthetic']]);
    expect(o1[0].topic).toBe(MOTION);
    expect(o1[0].payload.source).toEqual({ VideoSourceConfigurationToken: 'vsc' });
    expect(o2.map((m) => m.payload.data.IsMotion)).toEqual(['true']);
    expect(o3.map((m) => m.topic)).toEqual([MOTION, MOTION, MOTION, 'doorbell']);
    expect(o3[3].payload).toMatchObject({ camera: 'yard', property_op: 'Changed', data: { value: 'ring' }, origin: 'synthetic' });
    expect(warnings.map(text).join('\n')).toContain('vigil/onvif/door/event: message skipped');

    // The input sends a trigger onto the bus (and it comes back out, being one).
    const t0 = Date.now();
    helper.getNode('n-any').receive({ payload: { camera: 'door', topic: 'flow/test', data: { n: 1 } } });
    const seen = await rec.waitFor((m) => m.at >= t0 && m.topic === 'vigil/event/trigger' && m.payload.toString().includes('flow/test'), 5000, 'the trigger on the bus');
    expect(JSON.parse(seen.payload.toString())).toMatchObject({ camera: 'door', topic: 'flow/test', property_op: 'Changed', data: { n: 1 }, origin: 'synthetic' });
    await until(() => o3.some((m) => m.topic === 'flow/test'), 'the trigger out of the node');
    const errors = calls('n-any', 'error');
    helper.getNode('n-any').receive({ payload: { topic: 'no camera' } });
    helper.getNode('n-any').receive({ payload: 'not json' });
    await until(() => errors.length === 2, 'two refusals');
    expect(errors.map(text)).toEqual([expect.stringMatching(/^not a trigger: camera: /), expect.stringMatching(/^not a trigger: /)]);
  });
});

// ---- vigil layout -----------------------------------------------------------------------------

describe('vigil layout', () => {
  /** A flow with one `vigil layout` node `id` (on the paired display unless told) wired to the helper `out`. */
  const layoutFlow = (id: string, props: Record<string, unknown>) => [hubNode(), { id, type: 'vigil layout', hub: 'hub', display: DISPLAY, ...props, wires: [['out']] }, { id: 'out', type: 'helper' }];

  beforeEach(async () => {
    expect((await api(h.baseUrl, 'POST', `/api/displays/${DISPLAY}/activate`, { layout: 'overview' })).status).toBe(200);
  });

  it('activates, goes back to the previous layout after revert_after_seconds, drops inputs during the cooldown', async () => {
    await load(layoutFlow('n-zoom', { layout: 'door-zoom', revertAfter: 1, revertTo: 'previous', cooldown: 3 }));
    const out = received('out');
    const status = calls('n-zoom', 'status');
    const t0 = Date.now();
    helper.getNode('n-zoom').receive({ payload: { camera: 'door' }, topic: MOTION });
    await until(() => out.length === 1, 'the activated message');
    const on = bundles(t0).find((b) => b.layout === 'door-zoom')!;
    expect(out[0].payload).toEqual({ display: DISPLAY, layout: 'door-zoom', seq: on.seq });
    expect(out[0].topic).toBe(MOTION);
    // During the cooldown: dropped.
    helper.getNode('n-zoom').receive({ payload: 'again' });
    await until(() => status.some((s) => /^cooldown/.test(s.text)), 'the cooldown status');
    const back = await until(() => bundles(t0).find((b) => b.layout === 'overview'), 'the revert', 4000);
    expect(back.at - on.at).toBeGreaterThanOrEqual(900);
    expect(back.at - on.at).toBeLessThan(2500);
    expect(back.seq).toBeGreaterThan(on.seq);
    await sleep(300);
    expect(bundles(t0).map((b) => b.layout)).toEqual(['door-zoom', 'overview']);
    expect(out).toHaveLength(1);
  });

  it('a firing while a revert is pending restarts its timer and keeps the first previous layout', async () => {
    await load(layoutFlow('n-switcher', { layout: '', revertAfter: 1.5, revertTo: 'previous', cooldown: 0 }));
    const out = received('out');
    const t0 = Date.now();
    helper.getNode('n-switcher').receive({ layout: 'door-zoom' });
    await until(() => out.length === 1, 'the first activation');
    await sleep(700);
    helper.getNode('n-switcher').receive({ payload: 'quad' });
    await until(() => out.length === 2, 'the second activation');
    const second = bundles(t0).find((b) => b.layout === 'quad')!;
    const back = await until(() => bundles(t0).find((b) => b.layout === 'overview'), 'the revert', 5000);
    expect(back.at - second.at).toBeGreaterThanOrEqual(1400);
    expect(bundles(t0).map((b) => b.layout)).toEqual(['door-zoom', 'quad', 'overview']);
  });

  it('ends with done(err) when the hub refuses the layout; nothing changes', async () => {
    await load([...layoutFlow('n-bad', { layout: 'nope' }), { id: 'n-nodisplay', type: 'vigil layout', hub: 'hub', display: '', layout: 'overview', wires: [['out']] }]);
    const out = received('out');
    const errors = calls('n-bad', 'error');
    const t0 = Date.now();
    helper.getNode('n-bad').receive({ payload: 'x' });
    await until(() => errors.length > 0, 'the refusal', 4000);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(text(errors[0])).toMatch(/the hub refused nope on hall-hdmi-0: not_found: /);
    const noDisplay = calls('n-nodisplay', 'error');
    helper.getNode('n-nodisplay').receive({ payload: 'x' });
    await until(() => noDisplay.length > 0, 'no display');
    expect(text(noDisplay[0])).toMatch(/^display: none set/);
    expect(out).toEqual([]);
    expect(bundles(t0)).toEqual([]);
    expect((await api(h.baseUrl, 'GET', `/api/displays/${DISPLAY}`)).body.layout_id).toBe('overview');
  });
});

// ---- vigil camera -----------------------------------------------------------------------------

describe('vigil camera', () => {
  it('switches detect OFF (the hub stores it) and sends preset_door on …/ptz; refuses a bad command', async () => {
    await load([
      hubNode(),
      { id: 'n-detect-off', type: 'vigil camera', hub: 'hub', camera: 'door', action: 'detect', value: 'OFF', wires: [['out']] },
      { id: 'n-detect', type: 'vigil camera', hub: 'hub', camera: '', action: 'detect', value: '', wires: [['out']] },
      { id: 'n-ptz', type: 'vigil camera', hub: 'hub', camera: 'door', action: 'ptz', ptz: 'preset_door', wires: [['out']] },
      { id: 'n-ptz-any', type: 'vigil camera', hub: 'hub', camera: 'door', action: 'ptz', ptz: '', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const out = received('out');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/door')).body.detect.enabled).toBe(true);
    helper.getNode('n-detect-off').receive({ payload: 'ignored' });
    await until(() => out.length === 1, 'detect OFF');
    expect(out[0]).toMatchObject({ payload: 'OFF', camera: 'door', feature: 'detect' });
    expect((await api(h.baseUrl, 'GET', '/api/cameras/door')).body.detect.enabled).toBe(false);
    helper.getNode('n-detect').receive({ camera: 'door', payload: true });
    await until(() => out.length === 2, 'detect ON');
    expect(out[1].payload).toBe('ON');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/door')).body.detect.enabled).toBe(true);

    const t0 = Date.now();
    helper.getNode('n-ptz').receive({});
    const ptz = await rec.waitFor((m) => m.at >= t0 && m.topic === 'vigil/camera/door/ptz', 5000, 'the PTZ command');
    expect(ptz.payload.toString()).toBe('preset_door');
    expect(ptz.retain).toBe(false);
    await until(() => out.length === 3, 'the PTZ message');
    helper.getNode('n-ptz-any').receive({ payload: 'move_left' });
    await rec.waitFor((m) => m.at >= t0 && m.topic === 'vigil/camera/door/ptz' && m.payload.toString() === 'MOVE_LEFT', 5000, 'MOVE_LEFT');
    const errors = calls('n-ptz-any', 'error');
    helper.getNode('n-ptz-any').receive({ payload: 'JUMP' });
    const switchErrors = calls('n-detect', 'error');
    helper.getNode('n-detect').receive({ camera: 'door', payload: 'MAYBE' });
    helper.getNode('n-detect').receive({ camera: 'Not A Camera', payload: 'ON' });
    await until(() => errors.length === 1 && switchErrors.length === 2, 'the refusals');
    expect(text(errors[0])).toMatch(/^not a PTZ command: "JUMP"/);
    expect(switchErrors.map(text)).toEqual([expect.stringMatching(/^detect: must be ON or OFF/), expect.stringMatching(/^camera: /)]);
  });
});

// ---- vigil snapshot ---------------------------------------------------------------------------

describe('vigil snapshot', () => {
  it('returns the retained JPEG; done(err) when none comes within 5 s, garbage skipped with a warning', async () => {
    await pub.publishAsync('vigil/camera/door/snapshot', JPEG, { qos: 1, retain: true });
    await pub.publishAsync('vigil/camera/junk/snapshot', Buffer.from('not a jpeg'), { qos: 1, retain: true });
    try {
      await load([
        hubNode(),
        { id: 'n-door', type: 'vigil snapshot', hub: 'hub', camera: 'door', wires: [['out']] },
        { id: 'n-any', type: 'vigil snapshot', hub: 'hub', camera: '', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ]);
      const out = received('out');
      helper.getNode('n-door').receive({ payload: 'go' });
      await until(() => out.length === 1, 'the snapshot');
      expect(Buffer.isBuffer(out[0].payload)).toBe(true);
      expect(out[0].payload.equals(JPEG)).toBe(true);
      expect(out[0].topic).toBe('door');
      helper.getNode('n-any').receive({ camera: 'door' });
      await until(() => out.length === 2, 'the snapshot by msg.camera');
      expect(out[1].payload.equals(JPEG)).toBe(true);

      const errors = calls('n-any', 'error');
      const warnings = calls('n-any', 'warn');
      const t0 = Date.now();
      helper.getNode('n-any').receive({ camera: 'junk' });
      await until(() => errors.length === 1, 'no snapshot', 8000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
      expect(text(errors[0])).toMatch(/^no snapshot of junk on vigil\/camera\/junk\/snapshot within 5 s/);
      expect(text(warnings[0])).toMatch(/not a JPEG/);
    } finally {
      await pub.publishAsync('vigil/camera/door/snapshot', '', { qos: 1, retain: true });
      await pub.publishAsync('vigil/camera/junk/snapshot', '', { qos: 1, retain: true });
    }
  });
});
