/**
 * The security MQTT test matrix as a table any broker can be run against: MQTT topics ×
 * principals, probed with the real Mosquitto 2.0.11 command-line clients (`mosquitto_sub`,
 * `mosquitto_pub`). {@link describeAclMatrix} runs it against the hub's embedded broker or
 * against Mosquitto driven by the hub's dynamic-security sync (`test/dynsec.test.ts`); the
 * expected cells are the embedded broker's, and {@link MOSQUITTO_DIFFERENCES} says where
 * Mosquitto answers otherwise, and why.
 *
 * How the Mosquitto 2.0.11 clients report what the broker did (found by trying):
 * - refused CONNECT: exit 5 + "Connection Refused: not authorised." (no credentials; and
 *   every refused login on Mosquitto), exit 4 + "Connection Refused: bad user name or
 *   password." (wrong credentials on the embedded broker);
 * - refused SUBSCRIBE (SUBACK 0x80): with `-d`, "Subscribed (mid: 1): 128" on stdout; when
 *   every filter is refused, "All subscription requests were denied." on stderr and exit 0
 *   at once; when only some are, nothing is said and the client carries on;
 * - `-C n -W s` when fewer than n messages came within s seconds (counted from the start,
 *   connect included): exit 27, "Timed out" on stderr — but exit 255 and nothing said when
 *   the timer fires before the CONNACK (see {@link sub});
 * - refused PUBLISH over MQTT 3.1.1: both brokers acknowledge and drop it, so
 *   `mosquitto_pub -q 1` exits 0 either way and a privileged subscriber (or the bridge's
 *   answers) tells `ok` (delivered) from `dropped`. Over MQTT 5 (`-V 5`) Mosquitto says
 *   it: PUBACK reason 0x87, "Warning: Publish 1 failed: Not authorized." on stderr;
 * - stdout is block-buffered into a pipe: `stdbuf -oL` makes "Subscribed …" arrive when it
 *   happens, so live messages are published only once every subscriber is in.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type TestHub } from './hub.ts';
import { MqttRecorder } from './mqtt-recorder.ts';

const HOST = '127.0.0.1';

// ---- the Mosquitto clients ---------------------------------------------------------

export interface Creds { username?: string; password?: string }
export interface Msg { topic: string; payload: string; retain: boolean }
export interface SubResult { code: number | null; stderr: string; granted: number[] | null; messages: Msg[] }

const credArgs = (c: Creds): string[] => [...(c.username !== undefined ? ['-u', c.username] : []), ...(c.password !== undefined ? ['-P', c.password] : [])];

/**
 * Runs a command (spawned, never blocking the event loop: the hub lives in this process),
 * feeding stdout line by line; `signal` sends the child a signal while it runs.
 */
export function run(cmd: string, args: string[], onLine: (line: string) => void = () => undefined, capMs = 20_000): { signal: (s: NodeJS.Signals) => void; result: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  const result = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      partial += d;
      for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
        onLine(partial.slice(0, i));
        partial = partial.slice(i + 1);
      }
    });
    child.stderr.on('data', (d: string) => { stderr += d; });
    const cap = setTimeout(() => child.kill('SIGKILL'), capMs);
    child.on('error', reject);
    child.on('close', (code) => {
      exited = true;
      clearTimeout(cap);
      if (partial) onLine(partial);
      resolve({ code, stderr });
    });
  });
  return { signal: (s) => { if (!exited) child.kill(s); }, result };
}

/**
 * `mosquitto_sub -d -C count` on `filters`; `subscribed` resolves at the SUBACK (or when the
 * client ends without one), `done` with the exit code, the granted QoS per filter (128 =
 * refused; 135 = 0x87 over MQTT 5) and the messages (topic, payload, retain flag).
 *
 * The listening window: `-W` counts from the start, and user logins cost a scrypt on the
 * embedded broker (N = 2^17: ~0.5 s, seconds when several run at once on 2 cores), so a
 * short `-W` fires before the CONNACK (mosquitto_sub then exits 255 silently). So `-W` is
 * only a safety cap here, and the window of `windowS` seconds starts at the SUBACK (or at
 * `arm()`, for live messages): then the client gets SIGALRM, which is exactly what its own
 * `-W` timer does (disconnect, "Timed out", exit 27).
 */
export function sub(port: number, creds: Creds, filters: string[], opts: { count: number; windowS: number; manualArm?: boolean; version?: 4 | 5 }): { subscribed: Promise<void>; arm: () => void; done: Promise<SubResult> } {
  let markSubscribed!: () => void;
  const subscribed = new Promise<void>((r) => { markSubscribed = r; });
  let granted: number[] | null = null;
  const messages: Msg[] = [];
  const args = ['-oL', 'mosquitto_sub', '-d', '-h', HOST, '-p', String(port), ...(opts.version === 5 ? ['-V', '5'] : []), ...credArgs(creds), ...filters.flatMap((f) => ['-t', f]),
    '-C', String(opts.count), '-W', String(Math.ceil(opts.windowS) + 15), '-F', 'MSG %r %t %x'];
  let timer: NodeJS.Timeout | undefined;
  const proc = run('stdbuf', args, (line) => {
    const m = /^MSG ([01]) (\S+) ?([0-9a-f]*)$/.exec(line);
    if (m) { messages.push({ retain: m[1] === '1', topic: m[2]!, payload: Buffer.from(m[3]!, 'hex').toString() }); return; }
    const s = /^Subscribed \(mid: \d+\): ([\d, ]+)$/.exec(line);
    if (s) {
      granted = s[1]!.split(',').map((x) => Number(x.trim()));
      if (!opts.manualArm) arm();
      markSubscribed();
    }
  }, (opts.windowS + 25) * 1000);
  const arm = () => { timer ??= setTimeout(() => proc.signal('SIGALRM'), opts.windowS * 1000); };
  const done = proc.result.then((r) => { clearTimeout(timer); markSubscribed(); return { code: r.code, stderr: r.stderr, granted, messages }; });
  return { subscribed, arm, done };
}

/**
 * `mosquitto_pub -q 1`: `ok` (acknowledged: delivered or dropped, see {@link settle}),
 * `lost` (the broker closed the connection instead), `refused:<CONNACK code>`, and over
 * MQTT 5 `not-authorized` (PUBACK reason 0x87).
 */
export async function pub(port: number, creds: Creds, topic: string, payload: string, retain = false, version: 4 | 5 = 4): Promise<string> {
  const r = await run('mosquitto_pub', ['-h', HOST, '-p', String(port), ...(version === 5 ? ['-V', '5'] : []), ...credArgs(creds), '-t', topic, '-m', payload, '-q', '1', ...(retain ? ['-r'] : [])]).result;
  if (r.code === 0 && r.stderr === '') return 'ok';
  if (r.code === 0 && /Publish 1 failed: Not authorized/.test(r.stderr)) return 'not-authorized';
  if (r.code === 7 && /The connection was lost/.test(r.stderr)) return 'lost';
  const refused = connRefused(r);
  if (refused) return refused;
  return `exit ${r.code}: ${r.stderr.trim()}`;
}

/** `refused:5` / `refused:4` when the client reported a refused CONNECT. */
export function connRefused(r: { code: number | null; stderr: string }): string | undefined {
  if (r.code === 5 && /Connection Refused: not authorised/.test(r.stderr)) return 'refused:5';
  if (r.code === 4 && /Connection Refused: bad user name or password/.test(r.stderr)) return 'refused:4';
  return undefined;
}

/** An acknowledged publish (`ok` from {@link pub}) is `ok` when it was delivered, `dropped` when not. */
export function settle(cell: string, delivered: boolean): string {
  return cell === 'ok' && !delivered ? 'dropped' : cell;
}

/** A matrix cell: `refused:5|4` (CONNACK), `sub-denied` (SUBACK 0x80), or what arrived. */
export type Cell = string | string[];
export const DENIED = 'sub-denied';

/** Default summary: sorted `topic=payload`. */
export const topicsAndPayloads = (ms: Msg[]): string[] => ms.map((m) => `${m.topic}=${m.payload}`).sort();

/** The cell of one subscriber's run. */
export function outcome(r: SubResult, summarize: (ms: Msg[]) => Cell): Cell {
  const refused = connRefused(r);
  if (refused) return refused;
  if (r.granted === null) return `no SUBACK (exit ${r.code}): ${r.stderr.trim()}`;
  if (r.granted.every((g) => g >= 0x80)) {
    return r.code === 0 && r.messages.length === 0 && /All subscription requests were denied/.test(r.stderr) ? DENIED : `denied, yet exit ${r.code} with ${r.messages.length} messages`;
  }
  if (r.granted.some((g) => g >= 0x80)) return `partly denied: ${r.granted.join(',')}`;
  if (r.code !== 0 && r.code !== 27) return `exit ${r.code}: ${r.stderr.trim()}`;
  return summarize(r.messages);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

// ---- principals ------------------------------------------------------------------------

export const WHO = ['anon', 'wrongPw', 'revokedKey', 'otherDevice', 'vf', 'op', 'ad', 'keyRead', 'keyControl', 'keyReadBack', 'head1', 'kiosk1', 'ha1', 'component'] as const;
export type Who = (typeof WHO)[number];
export type Row<T> = Record<Who, T>;

/** Which broker the matrix runs against. */
export type BrokerKind = 'embedded' | 'mosquitto';

/**
 * Not logged in at all: no credentials (refused outright, `mqtt.allow_anonymous` is off),
 * a user's wrong password, a revoked API key, and a device's password under another
 * device's id. Identical in every row. The embedded broker answers a wrong login with
 * CONNACK 4 (bad user name or password), Mosquitto 2.0 with 5 (not authorised) — both
 * MQTT 3.1.1 refusals; over MQTT 5 Mosquitto says 0x86 / 0x87.
 */
export const NO_LOGIN: Record<BrokerKind, Pick<Row<string>, 'anon' | 'wrongPw' | 'revokedKey' | 'otherDevice'>> = {
  embedded: { anon: 'refused:5', wrongPw: 'refused:4', revokedKey: 'refused:4', otherDevice: 'refused:4' },
  mosquitto: { anon: 'refused:5', wrongPw: 'refused:5', revokedKey: 'refused:5', otherDevice: 'refused:5' },
};

/**
 * Where Mosquitto with dynamic security answers otherwise than the embedded broker, all of
 * it stricter (`Acl.exportLines` documents why; `test/acl-export.test.ts` holds the rest
 * equal topic by topic):
 * - `vigil/events` for principals limited to cameras: the camera is in the payload, which
 *   Mosquitto's ACL cannot read, so they get none (their cameras' `…/<label>/event` topics
 *   carry theirs);
 * - `vigil/bridge/request/#` from anyone but admins of every camera and `component`
 *   devices: through an external broker the hub cannot tell who sent a request and runs it
 *   as an admin, so only those may send one.
 */
export const MOSQUITTO_DIFFERENCES = {
  liveEvents: { vf: [], keyReadBack: [] } as Partial<Row<Cell>>,
  bridgeRequests: { vf: 'dropped', op: 'dropped', keyRead: 'dropped', keyControl: 'dropped', keyReadBack: 'dropped', ha1: 'dropped' } as Partial<Row<string>>,
};

const FRONT_DETECT = 'vigil/camera/front/detect/state=ON';
const BACK_DETECT = 'vigil/camera/back/detect/state=ON';
const HALL = 'vigil/display/hall/layout/state={"layout":"hall"}';
const LOBBY = 'vigil/display/lobby/layout/state={"layout":"lobby"}';
const PORCH = 'vigil/zone/porch/person=1';
const YARD = 'vigil/zone/yard/person=2';
const HA_CONFIG = 'homeassistant/sensor/x/config={"name":"x"}';
const BRIDGE_ONLINE = 'vigil/bridge/state={"state":"online"}';

/** `vigil/events` message of the detector's shape. */
export function eventMessage(camera: string, id: string): string {
  const now = Date.now() / 1000;
  const after = { id, camera, label: 'person', sub_label: null, score: 0.9, top_score: 0.9, box: [1, 2, 3, 4], area: 4, ratio: 1, current_zones: [], entered_zones: [], start_time: now, end_time: null, has_snapshot: false, has_clip: false, false_positive: false, stationary: false, frame_time: now };
  return JSON.stringify({ type: 'new', before: after, after });
}

interface SubRow {
  name: string;
  filters: string[];
  /** Retain flag every received message must carry. */
  retain: boolean;
  /** Seconds (from the SUBACK, or from the end of `live`) to wait for messages that should not come. */
  windowS: number;
  /**
   * Ask for one message more than expected (then time out after `windowS`) so extra ones
   * are seen — needed for wildcards. Exact filters on one retained topic cannot bring more.
   */
  extra: boolean;
  summarize?: (ms: Msg[]) => Cell;
  /** Run once every subscriber has its SUBACK (live, non-retained messages). */
  live?: () => Promise<void>;
  expected: Row<Cell>;
}

/** A broker for {@link describeAclMatrix}: how to start it with a hub, and what it needs. */
export interface MatrixTarget {
  kind: BrokerKind;
  /** Starts the hub (and its broker); `component`: a `component` device's credentials (fixtures and witness). */
  start(): Promise<{ h: TestHub; port: number; url: string; component: Creds }>;
  /** Stops what `start` started. */
  stop(): Promise<void>;
  /** The username an API key logs in with (any on the embedded broker, `vgl_<id>` on Mosquitto). */
  keyUsername(id: string): string;
  /** Resolves once the broker enforces what the hub knows after the fixtures (Mosquitto: the sync took in the zones). */
  settle?(h: TestHub): Promise<void>;
}

/** The fixtures and principals of a matrix run (for tests that add rows of their own). */
export interface MatrixRun { h: TestHub; port: number; creds: Row<Creds>; fx: MqttRecorder }

/**
 * Declares the matrix (`describe` with its `beforeAll`) against `target`: cameras `front`
 * (zone `porch`, a password) and `back` (zone `yard`), users `vf` (viewer of front),
 * `op`, `ad`, keys `kr` (read), `kc` (control), `krb` (read, back only), a revoked key,
 * devices `head1`, `kiosk1` (display hall), `ha1` and the `component`.
 * @returns the run's fixtures once `beforeAll` ran
 */
export function describeAclMatrix(target: MatrixTarget): MatrixRun {
  const runState = { creds: {} as Row<Creds> } as MatrixRun;
  const mosq = target.kind === 'mosquitto';
  const noLogin = NO_LOGIN[target.kind];

  describe(`MQTT ACL matrix on the ${target.kind} broker (mosquitto clients × principals)`, () => {
    let h: TestHub;
    let port: number;
    /** Privileged (`component` device) client: fixtures and the bus-side witness of publishes. */
    let fx: MqttRecorder;
    /** The HA device's own mqtt.js client: witness of `homeassistant/#`. */
    let haWatch: MqttRecorder;
    const creds = runState.creds;

    beforeAll(async () => {
      const started = await target.start();
      h = started.h;
      port = started.port;
      const ok = async (method: string, path: string, body: unknown) => {
        const r = await api(h.baseUrl, method, path, body);
        expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
        return r.body;
      };
      const poly = [[0, 0], [1, 0], [1, 1]];
      await ok('POST', '/api/cameras', { name: 'front', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' }, username: 'cam', password: 'front-cam-secret', zones: [{ name: 'porch', coordinates: poly }] });
      await ok('POST', '/api/cameras', { name: 'back', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' }, zones: [{ name: 'yard', coordinates: poly }] });
      await ok('POST', '/api/users', { username: 'vf', password: 'vf-password-1', role: 'viewer', cameras: ['front'] });
      await ok('POST', '/api/users', { username: 'op', password: 'op-password-1', role: 'operator' });
      await ok('POST', '/api/users', { username: 'ad', password: 'ad-password-1', role: 'admin' });
      const key = async (name: string, scope: string, cameras?: string[]) => (await ok('POST', '/api/api-keys', { name, scope, ...(cameras ? { cameras } : {}) })) as { id: string; key: string };
      const [kr, kc, krb, revoked] = [await key('kr', 'read'), await key('kc', 'control'), await key('krb', 'read', ['back']), await key('gone', 'admin')];
      await ok('DELETE', `/api/api-keys/${revoked.id}`, undefined);
      const device = async (id: string, kind: string, displays?: string[]) => (await ok('POST', '/api/devices', { id, kind, ...(displays ? { displays } : {}) })) as { username: string; password: string };
      const [head1, kiosk1, ha1] = [await device('head1', 'head'), await device('kiosk1', 'kiosk', ['hall']), await device('ha1', 'ha')];

      Object.assign(creds, {
        anon: {},
        wrongPw: { username: 'vf', password: 'not-the-password' },
        revokedKey: { username: target.keyUsername(revoked.id), password: revoked.key },
        otherDevice: { username: 'kiosk1', password: head1.password },
        vf: { username: 'vf', password: 'vf-password-1' },
        op: { username: 'op', password: 'op-password-1' },
        ad: { username: 'ad', password: 'ad-password-1' },
        keyRead: { username: target.keyUsername(kr.id), password: kr.key },
        keyControl: { username: target.keyUsername(kc.id), password: kc.key },
        keyReadBack: { username: target.keyUsername(krb.id), password: krb.key },
        head1, kiosk1, ha1,
        component: started.component,
      } satisfies Row<Creds>);

      fx = await MqttRecorder.connect(started.url, ['vigil/#'], started.component);
      // The broker learns zone → camera from the configs the hub publishes: wait for both.
      await fx.waitFor((m) => m.topic === 'vigil/camera/back/config' && m.payload.length > 0, 5000, 'back config');
      await fx.waitFor((m) => m.topic === 'vigil/camera/front/detect/state', 5000, 'front detect state');
      await target.settle?.(h);
      const retained = (topic: string, payload: string) => fx.client.publishAsync(topic, payload, { qos: 1, retain: true });
      await retained('vigil/display/hall/layout/state', '{"layout":"hall"}');
      await retained('vigil/display/lobby/layout/state', '{"layout":"lobby"}');
      await retained('vigil/zone/porch/person', '1');
      await retained('vigil/zone/yard/person', '2');
      // homeassistant/# is the HA device's alone: not even the component may publish there.
      haWatch = await MqttRecorder.connect(started.url, ['homeassistant/#'], ha1);
      await haWatch.client.publishAsync('homeassistant/sensor/x/config', '{"name":"x"}', { qos: 1, retain: true });
      Object.assign(runState, { h, port, fx });
    });

    afterAll(async () => {
      await fx?.close();
      await haWatch?.close();
      await target.stop();
    });

    /** Subscribes every principal at once, runs `row.live` when all are in, and returns the row's cells. */
    async function probe(row: SubRow): Promise<{ cells: Row<Cell>; messages: Msg[] }> {
      const summarize = row.summarize ?? topicsAndPayloads;
      const runs = WHO.map((w) => {
        const exp = row.expected[w];
        const count = Array.isArray(exp) ? Math.max(1, exp.length + (row.extra ? 1 : 0)) : row.summarize ? 1000 : 1;
        return sub(port, creds[w], row.filters, { count, windowS: row.windowS, manualArm: row.live !== undefined });
      });
      if (row.live) {
        await Promise.all(runs.map((r) => r.subscribed));
        await row.live();
        for (const r of runs) r.arm();
      }
      const results = await Promise.all(runs.map((r) => r.done));
      const cells = Object.fromEntries(WHO.map((w, i) => [w, outcome(results[i]!, summarize)])) as Row<Cell>;
      return { cells, messages: results.flatMap((r) => r.messages) };
    }

    const camerasSeen = (ms: Msg[]): string => {
      const cams = [...new Set(ms.map((m) => m.topic.split('/')[2]!))].sort();
      const configs = ms.filter((m) => m.topic.endsWith('/config')).map((m) => m.topic.split('/')[2]!).sort();
      return `cameras=${cams.join(',') || 'none'} configs=${configs.join(',') || 'none'}`;
    };

    const SUB_ROWS: SubRow[] = [
      {
        name: 'retained vigil/camera/front/detect/state',
        filters: ['vigil/camera/front/detect/state'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: [FRONT_DETECT], op: [FRONT_DETECT], ad: [FRONT_DETECT], keyRead: [FRONT_DETECT], keyControl: [FRONT_DETECT], keyReadBack: DENIED, head1: DENIED, kiosk1: DENIED, ha1: [FRONT_DETECT], component: [FRONT_DETECT] },
      },
      {
        name: 'retained vigil/camera/back/detect/state',
        filters: ['vigil/camera/back/detect/state'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: DENIED, op: [BACK_DETECT], ad: [BACK_DETECT], keyRead: [BACK_DETECT], keyControl: [BACK_DETECT], keyReadBack: [BACK_DETECT], head1: DENIED, kiosk1: DENIED, ha1: [BACK_DETECT], component: [BACK_DETECT] },
      },
      {
        // Allowed for limited principals (no camera named); filtered per message.
        name: 'wildcard vigil/camera/+/detect/state',
        filters: ['vigil/camera/+/detect/state'], retain: true, windowS: 1.5, extra: true,
        expected: { ...noLogin, vf: [FRONT_DETECT], op: [BACK_DETECT, FRONT_DETECT], ad: [BACK_DETECT, FRONT_DETECT], keyRead: [BACK_DETECT, FRONT_DETECT], keyControl: [BACK_DETECT, FRONT_DETECT], keyReadBack: [BACK_DETECT], head1: DENIED, kiosk1: DENIED, ha1: [BACK_DETECT, FRONT_DETECT], component: [BACK_DETECT, FRONT_DETECT] },
      },
      {
        // Camera configs carry (sealed) credentials: components only, even for an admin on a wildcard.
        name: 'wildcard vigil/camera/# (configs sealed off)',
        filters: ['vigil/camera/#'], retain: true, windowS: 1.5, extra: true, summarize: camerasSeen,
        expected: {
          ...noLogin,
          vf: 'cameras=front configs=none', op: 'cameras=back,front configs=none', ad: 'cameras=back,front configs=none',
          keyRead: 'cameras=back,front configs=none', keyControl: 'cameras=back,front configs=none', keyReadBack: 'cameras=back configs=none',
          head1: DENIED, kiosk1: DENIED, ha1: 'cameras=back,front configs=none', component: 'cameras=back,front configs=back,front',
        },
      },
      {
        name: 'retained vigil/camera/+/config',
        filters: ['vigil/camera/+/config'], retain: true, windowS: 1, extra: true,
        summarize: (ms) => ms.map((m) => {
          const cfg = JSON.parse(m.payload) as { name: string; password?: string };
          // The password is sealed on the bus, never in clear.
          return `${m.topic}:${cfg.name}:${cfg.password === undefined ? 'no-password' : cfg.password.includes('front-cam-secret') ? 'CLEAR-PASSWORD' : 'sealed'}`;
        }).sort(),
        expected: {
          ...noLogin, vf: [], op: [], ad: [], keyRead: [], keyControl: [], keyReadBack: [], head1: DENIED, kiosk1: DENIED, ha1: [],
          component: ['vigil/camera/back/config:back:no-password', 'vigil/camera/front/config:front:sealed'],
        },
      },
      {
        name: 'retained vigil/zone/porch/person (zone of front)',
        filters: ['vigil/zone/porch/person'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: [PORCH], op: [PORCH], ad: [PORCH], keyRead: [PORCH], keyControl: [PORCH], keyReadBack: [], head1: DENIED, kiosk1: DENIED, ha1: [PORCH], component: [PORCH] },
      },
      {
        name: 'retained vigil/zone/yard/person (zone of back)',
        filters: ['vigil/zone/yard/person'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: [], op: [YARD], ad: [YARD], keyRead: [YARD], keyControl: [YARD], keyReadBack: [YARD], head1: DENIED, kiosk1: DENIED, ha1: [YARD], component: [YARD] },
      },
      {
        // Published in this order: back event, front's event snapshot, front event, back event.
        // Per-subscriber order is kept, so a leak shows up as a wrong first message even
        // with -C set to the expected count (no waiting window needed).
        name: 'live vigil/events (+ vigil/events/<id>/snapshot)',
        filters: ['vigil/events', 'vigil/events/+/snapshot'], retain: false, windowS: 1, extra: false,
        summarize: (ms) => ms.map((m) => (m.topic === 'vigil/events' ? `event:${(JSON.parse(m.payload) as { after: { id: string } }).after.id}` : `${m.topic}=${m.payload}`)),
        live: async () => {
          await fx.client.publishAsync('vigil/events', eventMessage('back', 'ev-back-1'), { qos: 1 });
          await fx.client.publishAsync('vigil/events/ev-front-1/snapshot', 'jpeg', { qos: 1 });
          await fx.client.publishAsync('vigil/events', eventMessage('front', 'ev-front-1'), { qos: 1 });
          await fx.client.publishAsync('vigil/events', eventMessage('back', 'ev-back-2'), { qos: 1 });
        },
        expected: (() => {
          const all = ['event:ev-back-1', 'vigil/events/ev-front-1/snapshot=jpeg', 'event:ev-front-1', 'event:ev-back-2'];
          // Event images carry no camera: limited principals get none.
          return {
            ...noLogin, vf: ['event:ev-front-1'], op: all, ad: all, keyRead: all, keyControl: all, keyReadBack: ['event:ev-back-1', 'event:ev-back-2'], head1: DENIED, kiosk1: DENIED, ha1: all, component: all,
            ...(mosq ? MOSQUITTO_DIFFERENCES.liveEvents : {}),
          };
        })(),
      },
      {
        name: 'retained vigil/display/hall/layout/state (kiosk1 shows hall)',
        filters: ['vigil/display/hall/layout/state'], retain: true, windowS: 1, extra: false,
        // Bundles carry the kiosk's media tokens: principals limited to cameras subscribe but never receive them.
        expected: { ...noLogin, vf: [], op: [HALL], ad: [HALL], keyRead: [HALL], keyControl: [HALL], keyReadBack: [], head1: DENIED, kiosk1: [HALL], ha1: [HALL], component: [HALL] },
      },
      {
        name: 'retained vigil/display/lobby/layout/state',
        filters: ['vigil/display/lobby/layout/state'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: [], op: [LOBBY], ad: [LOBBY], keyRead: [LOBBY], keyControl: [LOBBY], keyReadBack: [], head1: DENIED, kiosk1: DENIED, ha1: [LOBBY], component: [LOBBY] },
      },
      {
        name: 'retained vigil/bridge/state (every role)',
        filters: ['vigil/bridge/state'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: [BRIDGE_ONLINE], op: [BRIDGE_ONLINE], ad: [BRIDGE_ONLINE], keyRead: [BRIDGE_ONLINE], keyControl: [BRIDGE_ONLINE], keyReadBack: [BRIDGE_ONLINE], head1: DENIED, kiosk1: DENIED, ha1: [BRIDGE_ONLINE], component: [BRIDGE_ONLINE] },
      },
      {
        // Every camera's name and the config summary: admins of every camera (and HA, components).
        name: 'retained vigil/bridge/info (admins)',
        filters: ['vigil/bridge/info'], retain: true, windowS: 1, extra: false, summarize: (ms) => ms.map((m) => m.topic),
        expected: { ...noLogin, vf: [], op: [], ad: ['vigil/bridge/info'], keyRead: [], keyControl: [], keyReadBack: [], head1: DENIED, kiosk1: DENIED, ha1: ['vigil/bridge/info'], component: ['vigil/bridge/info'] },
      },
      {
        name: 'retained homeassistant/# (the HA device only)',
        filters: ['homeassistant/#'], retain: true, windowS: 1, extra: true,
        expected: { ...noLogin, vf: DENIED, op: DENIED, ad: DENIED, keyRead: DENIED, keyControl: DENIED, keyReadBack: DENIED, head1: DENIED, kiosk1: DENIED, ha1: [HA_CONFIG], component: DENIED },
      },
      {
        name: 'the whole bus: #',
        filters: ['#'], retain: true, windowS: 1, extra: false,
        expected: { ...noLogin, vf: DENIED, op: DENIED, ad: DENIED, keyRead: DENIED, keyControl: DENIED, keyReadBack: DENIED, head1: DENIED, kiosk1: DENIED, ha1: DENIED, component: DENIED },
      },
    ];

    describe('subscribe and receive', () => {
      for (const row of SUB_ROWS) {
        it(row.name, async () => {
          const { cells, messages } = await probe(row);
          expect(cells).toEqual(row.expected);
          expect(messages.filter((m) => m.retain !== row.retain)).toEqual([]);
        });
      }
    });

    interface PubRow {
      name: string;
      topic: (w: Who) => string;
      payload: (w: Who) => string;
      retain: boolean;
      /** The client that sees what really got through (subscribed before the row). */
      witness: () => MqttRecorder;
      /** `-`: not tried. */
      expected: Row<string>;
    }

    const allDropped = { ...noLogin, vf: 'dropped', op: 'dropped', ad: 'dropped', keyRead: 'dropped', keyControl: 'dropped', keyReadBack: 'dropped', head1: 'dropped', kiosk1: 'dropped', ha1: 'dropped', component: 'dropped' } as const;

    const PUB_ROWS: PubRow[] = [
      {
        // A forged config would make components run an attacker's camera URL. The
        // component device may publish it by design: not tried (it would replace the real one).
        name: 'publish (retained) vigil/camera/front/config',
        topic: () => 'vigil/camera/front/config', payload: (w) => JSON.stringify({ name: 'front', paths: { detect: `rtsp://evil/${w}` } }), retain: true,
        witness: () => fx,
        expected: { ...allDropped, component: '-' },
      },
      {
        name: 'publish homeassistant/sensor/<who>/config',
        topic: (w) => `homeassistant/sensor/by-${w.toLowerCase()}/config`, payload: (w) => w, retain: false,
        witness: () => haWatch,
        expected: { ...allDropped, ha1: 'ok' },
      },
      {
        name: 'publish vigil/head/head1/state/light',
        topic: () => 'vigil/head/head1/state/light', payload: (w) => w, retain: false,
        witness: () => fx,
        expected: { ...allDropped, head1: 'ok', ad: 'ok', component: 'ok' },
      },
      {
        name: 'publish vigil/head/head2/state/light (another head)',
        topic: () => 'vigil/head/head2/state/light', payload: (w) => w, retain: false,
        witness: () => fx,
        expected: { ...allDropped, ad: 'ok', component: 'ok' },
      },
    ];

    describe('publish', () => {
      for (const row of PUB_ROWS) {
        it(row.name, async () => {
          const witness = row.witness();
          const from = witness.messages.length;
          const tried = WHO.filter((w) => row.expected[w] !== '-');
          const cells = Object.fromEntries(WHO.map((w) => [w, '-'])) as Row<string>;
          await Promise.all(tried.map(async (w) => { cells[w] = await pub(port, creds[w], row.topic(w), row.payload(w), row.retain); }));
          // What reached the bus: exactly the allowed publishers' messages, nobody else's.
          const allowed = tried.filter((w) => row.expected[w] === 'ok');
          const topics = new Set(tried.map((w) => row.topic(w)));
          const arrived = async () => witness.messages.slice(from).filter((m) => topics.has(m.topic)).map((m) => `${m.topic}=${m.payload.toString()}`).sort();
          const want = allowed.map((w) => `${row.topic(w)}=${row.payload(w)}`).sort();
          await until(async () => (await arrived()).length >= want.length, 3000);
          await sleep(300); // and nothing more
          const got = await arrived();
          for (const w of tried) cells[w] = settle(cells[w], got.includes(`${row.topic(w)}=${row.payload(w)}`));
          expect(cells).toEqual(row.expected);
          expect(got).toEqual(want);
        });
      }

      it('the retained front config is still the hub\'s after the forgery attempts', async () => {
        const r = await sub(port, creds.component, ['vigil/camera/front/config'], { count: 1, windowS: 3 }).done;
        expect(r.code).toBe(0);
        expect(r.messages).toHaveLength(1);
        const cfg = JSON.parse(r.messages[0]!.payload) as { name: string; paths: { detect: string } };
        expect(r.messages[0]!.retain).toBe(true);
        expect(cfg).toMatchObject({ name: 'front', paths: { detect: 'rtsp://127.0.0.1:1/x' } });
      });

      it('publish vigil/camera/front/detect/set OFF (state checked over REST)', async () => {
        const topic = 'vigil/camera/front/detect/set';
        const expected: Row<string> = { ...noLogin, vf: 'dropped', op: 'ok', ad: 'ok', keyRead: 'dropped', keyControl: 'ok', keyReadBack: 'dropped', head1: 'dropped', kiosk1: 'dropped', ha1: 'ok', component: 'ok' };
        const detectEnabled = async () => ((await api(h.baseUrl, 'GET', '/api/cameras/front')).body as { detect: { enabled: boolean } }).detect.enabled;
        expect(await detectEnabled()).toBe(true);
        const cells = {} as Row<string>;

        // Those expected to fail, all at once: nothing reaches the bus, the camera keeps detecting.
        const from = fx.messages.length;
        const refused = WHO.filter((w) => expected[w] !== 'ok');
        await Promise.all(refused.map(async (w) => { cells[w] = await pub(port, creds[w], topic, 'OFF'); }));
        await sleep(500);
        expect(fx.messages.slice(from).filter((m) => m.topic === topic || m.topic === 'vigil/camera/front/detect/state')).toEqual([]);
        for (const w of refused) cells[w] = settle(cells[w], false); // acknowledged, nothing arrived
        expect(await detectEnabled()).toBe(true);

        // Those expected to succeed, one by one: the camera stops detecting, then is set back ON.
        for (const w of WHO.filter((x) => expected[x] === 'ok')) {
          const mark = fx.messages.length;
          cells[w] = await pub(port, creds[w], topic, 'OFF');
          if (cells[w] !== 'ok') continue;
          if (!(await until(async () => !(await detectEnabled()), 3000))) { cells[w] = 'ok, but detect stayed ON'; continue; }
          const seen = () => fx.messages.slice(mark).map((m) => `${m.topic}=${m.payload.toString()}`);
          await until(async () => seen().includes('vigil/camera/front/detect/state=OFF'), 3000);
          expect(seen()).toContain(`${topic}=OFF`);
          expect(seen()).toContain('vigil/camera/front/detect/state=OFF');
          expect((await api(h.baseUrl, 'PATCH', '/api/cameras/front', { detect: { enabled: true } })).status).toBe(200);
          expect(await until(detectEnabled, 3000)).toBe(true);
        }
        expect(cells).toEqual(expected);
      });
    });

    // Requests go to the bridge and reach no subscriber but the hub; every accepted one is answered.
    it('publish vigil/bridge/request/health: delivered to nobody, answered', async () => {
      const expected: Row<string> = {
        ...noLogin, vf: 'ok', op: 'ok', ad: 'ok', keyRead: 'ok', keyControl: 'ok', keyReadBack: 'ok', head1: 'dropped', kiosk1: 'dropped', ha1: 'ok', component: 'ok',
        ...(mosq ? MOSQUITTO_DIFFERENCES.bridgeRequests : {}),
      };
      const from = fx.messages.length;
      const cells = Object.fromEntries(await Promise.all(WHO.map(async (w) => [w, await pub(port, creds[w], 'vigil/bridge/request/health', JSON.stringify({ transaction: w }))]))) as Row<string>;
      const answered = () => fx.messages.slice(from).filter((m) => m.topic === 'vigil/bridge/response/health').map((m) => (JSON.parse(m.payload.toString()) as { transaction: string }).transaction).sort();
      const want = WHO.filter((w) => expected[w] === 'ok').sort();
      await until(async () => answered().length >= want.length, 3000);
      await sleep(300);
      for (const w of WHO) cells[w] = settle(cells[w], answered().includes(w));
      expect(cells).toEqual(expected);
      expect(answered()).toEqual(want);
      expect(fx.messages.slice(from).filter((m) => m.topic.startsWith('vigil/bridge/request/'))).toEqual([]);
    });

    // homeassistant/# belongs to the HA integration only, even when a component's wildcard
    // overlaps it with a leading `+` (`+/sensor/x/config`): such messages are not delivered.
    it('component device: no homeassistant/… through an overlapping wildcard (+/sensor/x/config)', async () => {
      const r = await sub(port, creds.component, ['+/sensor/x/config'], { count: 1, windowS: 1 }).done;
      const cell = outcome(r, topicsAndPayloads);
      expect([DENIED, []]).toContainEqual(cell);
    });
  });
  return runState;
}
