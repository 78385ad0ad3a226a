/**
 * The ONVIF test device (test/fixtures/onvif-device.ts) against the real `onvif`
 * npm client (agsh/onvif), unchanged: connect, device information, profiles,
 * stream and snapshot URIs (the stream URIs point at the real RTSP test camera,
 * checked with ffprobe), WS-Security refusals, pull-point events with renewal
 * and recovery, PTZ, relays, and WS-Discovery inside a private network namespace.
 *
 * Discovery needs multicast, which the host's loopback does not have: the probe
 * runs in a namespace made with `unshare --net` (root), whose `lo` gets MULTICAST
 * and a 224.0.0.0/4 route (test/helpers/netns.ts). Where that cannot be done the
 * discovery test is skipped with the reason.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import onvif from 'onvif';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ffprobePath } from '../components/protocol/ffmpeg-path.ts';
import { MOTION_TOPIC, NS, RELAY_TOPIC, startOnvifDevice, type OnvifCall, type OnvifDevice } from './fixtures/onvif-device.ts';
import type { ProbeResult } from './fixtures/onvif/discovery-probe.ts';
import { child, parseXml, resolveQName } from './fixtures/onvif/soap.ts';
import { netnsSupport, runInNetns } from './helpers/netns.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

type Cam = InstanceType<typeof onvif.Cam>;

/** What the client returns for `wsnt:NotificationMessage` after its `linerase` (single children are not arrays). */
interface ClientNotification {
  topic: { _: string; $: { Dialect: string } };
  message: {
    message: {
      $: { UtcTime: Date; PropertyOperation?: string };
      source: { simpleItem: SimpleItem | SimpleItem[] };
      data: { simpleItem: SimpleItem | SimpleItem[] };
    };
  };
}
interface SimpleItem {
  $: { Name: string; Value: string | number | boolean };
}

/** The client's private request plumbing: onvif 0.8.3 has no relay-output API, so relays go through it. */
interface CamInternals {
  _request(
    options: { service?: string; body: string },
    callback: (err: Error | null, data: unknown, xml?: string) => void,
  ): void;
  _envelopeHeader(): string;
  _envelopeFooter(): string;
}

const execFileP = promisify(execFile);
const PROBE_SCRIPT = fileURLToPath(new URL('./fixtures/onvif/discovery-probe.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Call a callback-style client method; resolves with its data or rejects with its error. */
function call<T = any>(invoke: (cb: (err: Error | null, data?: any, xml?: string) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, data) => (err ? reject(err) : resolve(data as T))));
}

/** Connect a client; resolves once `connect()` called back without error. */
function connect(device: OnvifDevice, password = 'secret', warnings: string[] = []): Promise<Cam> {
  return new Promise((resolve, reject) => {
    const cam: Cam = new onvif.Cam({ hostname: '127.0.0.1', port: device.port, username: 'admin', password }, (err) =>
      err ? reject(err) : resolve(cam),
    );
    cam.on('warning', (w: unknown) => warnings.push(String(w)));
  });
}

/** Poll `check` every 20 ms until it returns a value other than undefined/false. */
async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const items = (x: SimpleItem | SimpleItem[]): Record<string, unknown> =>
  Object.fromEntries((Array.isArray(x) ? x : [x]).map((i) => [i.$.Name, i.$.Value]));

/** The env:Subcode values of a SOAP fault, namespace-resolved (`{uri}local`), outermost first. */
function faultSubcodes(xml: string): string[] {
  const out: string[] = [];
  let code = child(child(child(parseXml(xml), NS.env, 'Body'), NS.env, 'Fault'), NS.env, 'Code');
  for (let sub = child(code, NS.env, 'Subcode'); sub; code = sub, sub = child(code, NS.env, 'Subcode')) {
    const value = child(sub, NS.env, 'Value')!;
    const { ns, name } = resolveQName(value, value.text);
    out.push(`{${ns}}${name}`);
  }
  return out;
}

/** A GetDeviceInformation request with a UsernameToken built here (independently of the client), `created` as given. */
function deviceInformationRequest(password: string, created: string, nonce = randomBytes(16)): string {
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
  return (
    `<env:Envelope xmlns:env="${NS.env}" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><env:Header><wsse:Security>` +
    '<wsse:UsernameToken><wsse:Username>admin</wsse:Username>' +
    '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
    `${digest}</wsse:Password><wsse:Nonce>${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created>` +
    `</wsse:UsernameToken></wsse:Security></env:Header><env:Body><tds:GetDeviceInformation xmlns:tds="${NS.tds}"/></env:Body></env:Envelope>`
  );
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/soap+xml' }, body });
  return { status: res.status, text: await res.text() };
}

describe('ONVIF test device with the real onvif client', () => {
  let rtsp: RtspServer;
  let device: OnvifDevice;
  let cam: Cam;
  const extraDevices: OnvifDevice[] = [];
  const rawResponses: string[] = [];

  beforeAll(async () => {
    rtsp = await startRtspServer();
    // Long-polls are capped at 2 s so an idle PullMessages comes back quickly.
    device = await startOnvifDevice({ mainUrl: rtsp.mainUrl, subUrl: rtsp.subUrl, maxPullTimeoutMs: 2000 });
    cam = await connect(device);
    cam.on('rawResponse', (xml: string) => rawResponses.push(xml));
  });

  afterAll(async () => {
    await Promise.all([device?.stop(), ...extraDevices.map((d) => d.stop())]);
    await rtsp?.stop();
  });

  it('connects with GetSystemDateAndTime, GetServices, then GetProfiles and GetVideoSources', () => {
    const ops = device.calls.map((c) => c.operation);
    expect(ops.slice(0, 2)).toEqual(['GetSystemDateAndTime', 'GetServices']);
    expect([...ops.slice(2, 4)].sort()).toEqual(['GetProfiles', 'GetVideoSources']);
    expect(device.calls.every((c) => c.outcome === 'ok')).toBe(true);
    // The two PRE_AUTH operations are answered without checking credentials; the media calls are authenticated.
    expect(device.calls.map((c) => c.username)).toEqual([null, null, 'admin', 'admin']);

    expect(Object.keys(cam.uri!).sort()).toEqual(['device', 'deviceIO', 'events', 'media', 'ptz']);
    expect(cam.uri!.media!.href).toBe(`http://127.0.0.1:${device.port}/onvif/media_service`);
    expect(cam.profiles!.map((p) => p.$.token)).toEqual(['main', 'sub']);
    expect(cam.activeSource).toMatchObject({
      profileToken: 'main',
      sourceToken: 'VideoSource_1',
      encoding: 'H264',
      width: 768,
      height: 576,
      fps: 10,
      ptz: { token: 'PTZConfig_1' },
    });
    const sub = cam.profiles![1]!;
    expect(sub.videoEncoderConfiguration.resolution).toEqual({ width: 384, height: 288 });
    expect(sub.PTZConfiguration).toBeUndefined();
  });

  it('reports device information and scopes', async () => {
    expect(await call((cb) => cam.getDeviceInformation(cb))).toEqual({
      manufacturer: 'Vigil',
      model: 'VirtualCam-PTZ',
      firmwareVersion: '1.0.0',
      serialNumber: 'VC-0001',
      hardwareId: 'VC1',
    });
    const scopes = await call<Array<{ scopeItem: string }>>((cb) => cam.getScopes(cb));
    expect(scopes.map((s) => s.scopeItem)).toEqual(device.scopes);
    expect(device.scopes).toContain('onvif://www.onvif.org/name/vigil-test-camera');
  });

  it('reports the RTSP test camera as the stream URIs, and ffprobe plays them', async () => {
    const main = await call((cb) => cam.getStreamUri({ protocol: 'RTSP' }, cb));
    const sub = await call((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb));
    expect(main.uri).toBe(rtsp.mainUrl);
    expect(sub.uri).toBe(rtsp.subUrl);
    expect(device.calls.at(-1)!.params).toMatchObject({ ProfileToken: 'sub', StreamSetup: { Stream: 'RTP-Unicast' } });

    const { stdout } = await execFileP(
      ffprobePath(),
      ['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', main.uri],
      { timeout: 20_000 },
    );
    expect(JSON.parse(stdout).streams[0]).toEqual({ codec_name: 'h264', width: 768, height: 576 });

    await expect(call((cb) => cam.getStreamUri({ profileToken: 'nope' }, cb))).rejects.toThrow(/No profile with token/);
    expect(device.calls.at(-1)).toMatchObject({ outcome: 'fault', fault: 'ter:NoProfile' });
  });

  it('serves a JPEG of the profile size at the snapshot URI', async () => {
    const { uri } = await call((cb) => cam.getSnapshotUri({ profileToken: 'sub' }, cb));
    expect(uri).toBe(`http://127.0.0.1:${device.port}/onvif/snapshot/sub.jpg`);
    const res = await fetch(uri);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 384, 288]);
  });

  it('refuses a wrong password with a ter:NotAuthorized fault, HTTP 400, and counts it', async () => {
    const refusalsBefore = device.refusals.length;
    const warnings: string[] = [];
    // GetServices is PRE_AUTH, so connect() calls back without an error: GetProfiles and
    // GetVideoSources fail, the client only emits a warning and keeps no profiles.
    const bad = await connect(device, 'wrong', warnings);
    expect(bad.profiles).toEqual([]);
    expect(warnings[0]).toBe('ONVIF SOAP Fault: Sender not Authorized');

    const responses: Array<{ xml: string; status: number }> = [];
    bad.on('rawResponse', (xml: string, status: number) => responses.push({ xml, status }));
    await expect(call((cb) => bad.getDeviceInformation(cb))).rejects.toThrow('ONVIF SOAP Fault: Sender not Authorized');
    expect(responses[0]!.status).toBe(400);
    expect(faultSubcodes(responses[0]!.xml)).toEqual([`{${NS.ter}}NotAuthorized`]);

    const refusals = device.refusals.slice(refusalsBefore);
    expect(refusals.map((r) => r.operation).sort()).toEqual(['GetDeviceInformation', 'GetProfiles', 'GetVideoSources']);
    expect(refusals.every((r) => r.reason === 'wrong-password' && r.username === 'admin')).toBe(true);
  });

  it('with only GetSystemDateAndTime unauthenticated, a wrong password fails connect()', async () => {
    const strict = await startOnvifDevice({ preAuthOperations: ['GetSystemDateAndTime'] });
    extraDevices.push(strict);
    // The client falls back from GetServices to GetCapabilities, and reports that one's fault.
    await expect(connect(strict, 'wrong')).rejects.toThrow('ONVIF SOAP Fault: Sender not Authorized');
    expect(strict.calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual([
      'GetSystemDateAndTime:ok',
      'GetServices:refused',
      'GetCapabilities:refused',
    ]);
    const good = await connect(strict);
    expect(good.activeSource?.profileToken).toBe('main');
  });

  it('refuses a missing token, a stale Created and a replayed nonce', async () => {
    const now = new Date().toISOString();
    expect((await post(device.url, deviceInformationRequest('secret', now))).status).toBe(200);

    const stale = new Date(Date.now() - 6 * 60_000).toISOString();
    expect((await post(device.url, deviceInformationRequest('secret', stale))).status).toBe(400);
    expect(device.refusals.at(-1)!.reason).toBe('stale-created');

    const bare = `<env:Envelope xmlns:env="${NS.env}"><env:Body><GetDeviceInformation xmlns="${NS.tds}"/></env:Body></env:Envelope>`;
    const missing = await post(device.url, bare);
    expect(missing.status).toBe(400);
    expect(faultSubcodes(missing.text)).toEqual([`{${NS.ter}}NotAuthorized`]);
    expect(device.refusals.at(-1)!.reason).toBe('missing-token');

    // Replay the client's own request byte for byte.
    let captured = '';
    cam.once('rawRequest', (body: string) => (captured = body));
    await call((cb) => cam.getDeviceInformation(cb));
    expect((await post(device.url, captured)).status).toBe(400);
    expect(device.refusals.at(-1)!.reason).toBe('reused-nonce');
  });

  it("works with a device clock 3 h ahead (the client's timeShift from GetSystemDateAndTime)", async () => {
    const skewed = await startOnvifDevice({ clockSkewMs: 3 * 3600_000 });
    extraDevices.push(skewed);
    const c = await connect(skewed);
    expect(await call((cb) => c.getDeviceInformation(cb))).toMatchObject({ manufacturer: 'Vigil' });
    expect(skewed.refusals).toEqual([]);
  });

  it('delivers events to cam.on("event"), and the client renews, recovers from expiry and from a restart', async () => {
    const events: ClientNotification[] = [];
    const errors: Error[] = [];
    const listener = new onvif.Cam({ hostname: '127.0.0.1', port: device.port, username: 'admin', password: 'secret' });
    await new Promise((r) => listener.once('connect', r));
    onTestFinished(() => void listener.removeAllListeners('event')); // stops its pull loop even if an assertion fails
    listener.on('eventsError', (e: Error) => errors.push(e));
    listener.on('event', (m: ClientNotification) => events.push(m));

    // A new subscription first gets every property as Initialized: motion off and both relays.
    await until(() => events.length >= 3, 'the Initialized events');
    const first = device.subscriptions[0]!;
    expect(first.address).toBe(`http://127.0.0.1:${device.port}/onvif/subscription/${first.id}`);
    expect(events.slice(0, 3).map((e) => [e.topic._, e.message.message.$.PropertyOperation])).toEqual([
      [MOTION_TOPIC, 'Initialized'],
      [RELAY_TOPIC, 'Initialized'],
      [RELAY_TOPIC, 'Initialized'],
    ]);
    expect(items(events[0]!.message.message.data.simpleItem)).toEqual({ IsMotion: false });

    // Motion: the waiting PullMessages returns with it at once.
    await until(() => device.subscriptions[0]?.pullPending, 'a pending PullMessages');
    expect(device.emitEvent({ data: { IsMotion: true } })).toBe(1);
    const motion = await until(() => events.find((e) => e.message.message.$.PropertyOperation === 'Changed'), 'the motion event');
    expect(motion.topic).toEqual({ _: MOTION_TOPIC, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } });
    expect(motion.message.message.$.UtcTime).toBeInstanceOf(Date);
    expect(items(motion.message.message.source.simpleItem)).toEqual({
      VideoSourceConfigurationToken: 'VideoSourceConfig_1',
      VideoAnalyticsConfigurationToken: 'VideoAnalyticsConfig_1',
      Rule: 'MyMotionDetectorRule',
    });
    expect(items(motion.message.message.data.simpleItem)).toEqual({ IsMotion: true });
    // The client renews after every pull.
    await until(() => (device.subscriptions[0]?.renewals ?? 0) >= 2, 'renewals');
    expect(device.calls.filter((c) => c.operation === 'Renew').every((c) => c.path === `/onvif/subscription/${first.id}`)).toBe(true);

    // Expiry: the pending pull faults; the client unsubscribes (fault too) and subscribes again.
    events.length = 0;
    device.expireSubscriptions();
    const second = await until(() => device.subscriptions.find((s) => s.id !== first.id), 'a new subscription');
    expect(errors.at(-1)!.message).toMatch(/ONVIF SOAP Fault: Subscription \d+ is unknown or has expired/);
    await until(() => events.length >= 3, 'Initialized events after resubscribing');
    expect(items(events[0]!.message.message.data.simpleItem)).toEqual({ IsMotion: true }); // the current state

    // Restart while a pull waits: its connection drops (ECONNRESET), the old subscription is gone, the client subscribes anew.
    await until(() => device.subscriptions.find((s) => s.id === second.id)?.pullPending, 'a pending pull on the new subscription');
    await device.restart({ downtimeMs: 300 });
    const third = await until(() => device.subscriptions.find((s) => s.id !== second.id && s.id !== first.id), 'a subscription after restart');
    expect(Number(third.id)).toBeGreaterThan(Number(second.id));
    expect(errors.some((e) => (e as NodeJS.ErrnoException).code === 'ECONNRESET')).toBe(true);
    expect(device.calls.some((c) => c.operation === 'PullMessages' && c.path.endsWith(`/${second.id}`) && c.outcome === 'dropped')).toBe(true);

    // Stop listening: expire once more so the pending pull returns; the client unsubscribes and stops pulling.
    listener.removeAllListeners('event');
    const stoppedAt = Date.now();
    device.expireSubscriptions();
    await until(() => device.calls.some((c) => c.operation === 'Unsubscribe' && c.at.getTime() >= stoppedAt), 'the last Unsubscribe');
    expect(device.subscriptions).toEqual([]);
  });

  it('explicit pull-point API: create, PullMessages with MessageLimit and Timeout, renew, unsubscribe', async () => {
    const created = await call((cb) => cam.createPullPointSubscription(cb));
    const id = created.subscriptionReference.address.pathname.split('/').at(-1);
    const sub = device.subscriptions.find((s) => s.id === id)!;
    expect(sub.terminationTime.getTime() - sub.createdAt.getTime()).toBe(120_000); // the client asks for PT2M
    expect(sub.queued).toBe(3); // the Initialized properties

    const firstPull = await call((cb) => cam.pullMessages({ messageLimit: 2 }, cb));
    expect(firstPull.notificationMessage).toHaveLength(2);
    const secondPull = await call((cb) => cam.pullMessages({ messageLimit: 2 }, cb));
    expect(secondPull.notificationMessage.topic._).toBe(RELAY_TOPIC); // one message: not an array

    // Nothing queued: the pull waits for the (capped) timeout and comes back empty.
    const t0 = Date.now();
    const empty = await call((cb) => cam.pullMessages({}, cb));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(empty.notificationMessage).toBeUndefined();
    expect(device.calls.at(-1)!.params).toEqual({ Timeout: 'PT1M', MessageLimit: '10' });

    device.emitEvent({ data: { IsMotion: false } });
    const pulled = await call((cb) => cam.pullMessages({}, cb));
    expect(items(pulled.notificationMessage.message.message.data.simpleItem)).toEqual({ IsMotion: false });

    const before = device.subscriptions.find((s) => s.id === id)!.terminationTime.getTime();
    await new Promise((r) => setTimeout(r, 20));
    const renewed = await call((cb) => cam.renew({}, cb));
    expect(renewed.terminationTime.getTime()).toBeGreaterThan(before);
    expect(device.subscriptions.find((s) => s.id === id)!.renewals).toBe(1);

    const saved = cam.events.subscription;
    await call((cb) => cam.unsubscribe(cb, true));
    expect(device.subscriptions.find((s) => s.id === id)).toBeUndefined();
    cam.events.subscription = saved; // the client forgets it on unsubscribe; pull on it anyway
    await expect(call((cb) => cam.pullMessages({}, cb))).rejects.toThrow(`Subscription ${id} is unknown or has expired`);
    delete cam.events.subscription;
  });

  it('PTZ: presets, gotoPreset, continuousMove, stop and relative/absolute moves are recorded', async () => {
    const presets = await call((cb) => cam.getPresets(cb));
    expect(Object.keys(presets)).toEqual(['home', 'door']);

    await call((cb) => cam.gotoPreset({ preset: 'door' }, cb));
    expect(device.ptz.lastPreset).toBe('door');
    expect(device.ptz.position).toEqual({ x: 0.5, y: -0.2, zoom: 0.3 });

    await call((cb) => cam.continuousMove({ x: -0.5, y: 0, zoom: 0 }, cb));
    const moving = await call((cb) => cam.getStatus(cb));
    expect(moving.moveStatus).toEqual({ panTilt: 'MOVING', zoom: 'IDLE' });
    await new Promise((r) => setTimeout(r, 200));
    await call((cb) => cam.stop(cb));
    const stopped = device.ptz;
    expect(stopped.moveStatus).toEqual({ panTilt: 'IDLE', zoom: 'IDLE' });
    expect(stopped.position.x).toBeLessThan(0.45); // moved left for ~0.2 s at 0.5/s

    await call((cb) => cam.relativeMove({ x: 0.1, y: 0.1 }, cb));
    await call((cb) => cam.absoluteMove({ x: 0, y: 0, zoom: 1 }, cb));
    expect(device.ptz.position).toEqual({ x: 0, y: 0, zoom: 1 });

    expect(device.ptz.commands.map((c) => c.operation)).toEqual(['GotoPreset', 'ContinuousMove', 'Stop', 'RelativeMove', 'AbsoluteMove']);
    expect(device.ptz.commands[1]).toMatchObject({ profileToken: 'main', velocity: { x: -0.5, y: 0, zoom: 0 } });
    expect(device.ptz.commands[2]).toMatchObject({ stop: { panTilt: true, zoom: true } });
    expect(device.ptz.commands[3]).toMatchObject({ translation: { x: 0.1, y: 0.1, zoom: 0 } });

    await expect(call((cb) => cam.gotoPreset({ preset: 'garage' }, cb))).rejects.toThrow('No preset with token "garage"');
    await expect(call((cb) => cam.gotoPreset({ preset: 'home', profileToken: 'sub' }, cb))).rejects.toThrow(/has no PTZ configuration/);
    expect(device.ptz.commands).toHaveLength(5);
  });

  it('relays: GetRelayOutputs and SetRelayOutputState on DeviceIO and on the device service', async () => {
    const internal = cam as unknown as CamInternals;
    const lastRelayCall = (): OnvifCall | undefined => device.calls.filter((c) => /RelayOutput/.test(c.operation)).at(-1);
    const soap = (service: string | undefined, body: string): Promise<any> =>
      call((cb) =>
        internal._request({ ...(service ? { service } : {}), body: internal._envelopeHeader() + body + internal._envelopeFooter() }, cb),
      );
    const set = (service: string | undefined, ns: string, token: string, state: string): Promise<any> =>
      soap(
        service,
        `<SetRelayOutputState xmlns="${ns}"><RelayOutputToken>${token}</RelayOutputToken><LogicalState>${state}</LogicalState></SetRelayOutputState>`,
      );

    const outputs = await soap('deviceIO', `<GetRelayOutputs xmlns="${NS.tmd}"/>`);
    const relays = outputs[0].getRelayOutputsResponse[0].relayOutputs;
    expect(relays.map((r: { $: { token: string } }) => r.$.token)).toEqual(['AlarmOut_0', 'AlarmOut_1']);
    expect(relays[0].properties[0].mode[0]).toBe('Bistable');

    await set('deviceIO', NS.tmd, 'AlarmOut_0', 'active');
    expect(device.relays.AlarmOut_0!.state).toBe('active');
    expect(device.relays.AlarmOut_0!.label).toBe('light');
    expect(lastRelayCall()).toMatchObject({ service: 'deviceIO', path: '/onvif/deviceio_service', outcome: 'ok' });

    await set(undefined, NS.tds, 'AlarmOut_1', 'active'); // devicemgmt's SetRelayOutputState, on the device service path
    await set('deviceIO', NS.tmd, 'AlarmOut_0', 'inactive');
    expect(device.relays.AlarmOut_0!.changes.map((c) => [c.state, c.via])).toEqual([
      ['active', 'deviceIO'],
      ['inactive', 'deviceIO'],
    ]);
    expect(device.relays.AlarmOut_1).toMatchObject({ label: 'siren', state: 'active', changes: [{ state: 'active', via: 'device' }] });

    await expect(set('deviceIO', NS.tmd, 'AlarmOut_9', 'active')).rejects.toThrow('Unknown relay output "AlarmOut_9"');
    expect(lastRelayCall()).toMatchObject({ outcome: 'fault', fault: 'ter:RelayToken' });
  });

  it('answered every request above with well-formed, namespace-valid SOAP 1.2', () => {
    expect(rawResponses.length).toBeGreaterThan(20);
    for (const xml of rawResponses) {
      const env = parseXml(xml); // throws on malformed XML or an undeclared prefix
      expect([env.ns, env.name]).toEqual([NS.env, 'Envelope']);
      expect(child(env, NS.env, 'Body')?.children).toHaveLength(1);
    }
  });

  const netns = netnsSupport();
  it.skipIf(!netns.ok)(
    `discovery: onvif's Discovery.probe finds the device in a network namespace${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
    async () => {
      const run = await runInNetns([process.execPath, '--import', 'tsx', PROBE_SCRIPT], { cwd: PROJECT_ROOT, timeoutMs: 30_000 });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, `probe script: code ${run.code}, stderr:\n${run.stderr}`).toBeDefined();
      const result = JSON.parse(line!.slice('RESULT '.length)) as ProbeResult;

      expect(result.errors).toEqual([]);
      expect(result.responder).toEqual({ probesSeen: 1, probesAnswered: 1 });
      expect(result.matches).toHaveLength(1);
      const match = result.matches[0]!;
      expect(match.xaddrs).toEqual([result.expected.xaddr]);
      expect(match.xaddrs[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
      expect(match.endpointReference).toBe(result.expected.endpointReference);
      expect(match.endpointReference).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(match.types).toBe('dn:NetworkVideoTransmitter tds:Device');
      expect(match.scopes).toEqual(result.expected.scopes);
      expect(match.scopes).toEqual(expect.arrayContaining(['onvif://www.onvif.org/name/probe-target', 'onvif://www.onvif.org/hardware/VirtualCam-PTZ']));
      expect(match.from).toBe('127.0.0.1:3702');
      expect(result.deviceInformation).toMatchObject({ manufacturer: 'Vigil', model: 'VirtualCam-PTZ' });
    },
  );
});
