/**
 * Rules engine benchmark: an event in → a simple rule in the embedded Node-RED → the
 * `…/layout/set` it publishes, measured by an independent MQTT client (issue #10's target:
 * p95 ≤ 20 ms through Node-RED).
 *
 * A real hub (embedded broker, embedded Node-RED with Vigil's nodes, a display of a
 * paired kiosk) with one simple rule (`bench/fired` on camera `door` → activate layout
 * `zoom`, no revert, no cooldown). The bench publishes `vigil/event/trigger` as a
 * component client and times the rule's `vigil/display/<d>/layout/set` arriving at a
 * second client, {@link RUNS} times, one at a time ({@link GAP_MS} apart). Reference in
 * the same run: the plain MQTT leg (publish → a subscriber on the same broker), so the
 * figure left for Node-RED and the `vigil trigger` → `vigil layout` nodes is the difference.
 *
 * Run: `npx tsx bench/run.ts rules`.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { api, startTestHub } from '../test/helpers/hub.ts';
import { percentile, round } from './frames.ts';

/** Measured firings. */
const RUNS = 200;
/** Firings before measuring (Node-RED's first messages are slower). */
const WARMUP = 20;
/** Pause between firings, ms. */
const GAP_MS = 20;
/** Give up on one firing after this long, ms. */
const TIMEOUT_MS = 2_000;
const DISPLAY = 'bench-hdmi-0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Times `n` round trips: `send(i)` publishes, resolves when `topic` delivers the message it caused. */
async function timeRoundTrips(sub: MqttClient, topic: string, n: number, send: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const got = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { sub.off('message', on); reject(new Error(`no message on ${topic} after ${TIMEOUT_MS} ms`)); }, TIMEOUT_MS);
      const on = (t: string) => {
        if (t !== topic) return;
        clearTimeout(timer);
        sub.off('message', on);
        resolve(performance.now() - t0);
      };
      sub.on('message', on);
    });
    await send(i);
    out.push(await got);
    await sleep(GAP_MS);
  }
  return out;
}

/** Runs the benchmark; returns the figures printed by `bench/run.ts`. */
export async function benchRules(): Promise<Record<string, number | string>> {
  const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, rules: { enabled: true }, log: { level: 'warn' } });
  try {
    await api(h.baseUrl, 'POST', '/api/cameras', { name: 'door', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } });
    await api(h.baseUrl, 'POST', '/api/layouts', { id: 'zoom', name: 'Zoom', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'door' }] });
    const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null);
    await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.body.code, id: 'bench' });
    const rule = await api(h.baseUrl, 'POST', '/api/rules', {
      id: 'bench', name: 'bench', when: { camera: 'door', topic: 'bench/fired' },
      do: { action: 'activate_layout', display: DISPLAY, layout_id: 'zoom', cooldown_seconds: 0 },
    });
    if (rule.status !== 201) throw new Error(`rule not created: ${JSON.stringify(rule.body)}`);
    const status = await api(h.baseUrl, 'GET', '/api/rules-status');
    if (!status.body.deployed) throw new Error(`rules not deployed: ${JSON.stringify(status.body)}`);

    const opts = { protocolVersion: 4 as const, ...h.mqttCreds };
    const pub = await mqtt.connectAsync(h.mqttUrl, opts);
    const sub = await mqtt.connectAsync(h.mqttUrl, opts);
    const setTopic = `vigil/display/${DISPLAY}/layout/set`;
    await sub.subscribeAsync([setTopic, 'vigil/bench/echo'], { qos: 1 });
    await sleep(500);
    const fire = async () => { await pub.publishAsync('vigil/event/trigger', JSON.stringify({ camera: 'door', topic: 'bench/fired' }), { qos: 1 }); };
    await timeRoundTrips(sub, setTopic, WARMUP, fire);
    const rules = await timeRoundTrips(sub, setTopic, RUNS, fire);
    const leg = await timeRoundTrips(sub, 'vigil/bench/echo', RUNS, async () => { await pub.publishAsync('vigil/bench/echo', 'x', { qos: 1 }); });
    await pub.endAsync();
    await sub.endAsync();
    const p = (v: number[], q: number) => round(percentile(v, q), 2);
    return {
      firings: rules.length,
      event_to_layout_set_median_ms: p(rules, 50),
      event_to_layout_set_p95_ms: p(rules, 95),
      event_to_layout_set_max_ms: round(Math.max(...rules), 2),
      target_p95_ms: 20,
      target_met: p(rules, 95) <= 20 ? 'yes' : 'no',
      reference_mqtt_leg_median_ms: p(leg, 50),
      reference_mqtt_leg_p95_ms: p(leg, 95),
      node_red_share_median_ms: round(percentile(rules, 50) - percentile(leg, 50), 2),
      ratio_to_mqtt_leg_median: round(percentile(rules, 50) / percentile(leg, 50), 2),
    };
  } finally {
    await h.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchRules());
  process.exit(0);
}
