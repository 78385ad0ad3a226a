/**
 * `vigil camera`: switches a camera's `detect`, `record` or `snapshots` (`…/<feature>/set`
 * with `ON` / `OFF`, answered on `…/<feature>/state` or, refused, on
 * `vigil/bridge/response/set`), or sends a PTZ command on `…/ptz` (Frigate's payloads,
 * {@link parsePtz}).
 */
import { parsePtz } from '../../../components/protocol/rules.ts';
import type { HubConnection, Incoming } from './lib/connection.ts';
import { cameraFrom, type HubNodeDef, jsonOf, onInput, pick, registerHubNode } from './lib/nodes.ts';
import type { NodeAPI } from './lib/red.ts';

/** Features the node switches. */
export const SWITCHES = ['detect', 'record', 'snapshots'] as const;
export type Switch = (typeof SWITCHES)[number];

/** What the editor saves for a `vigil camera` node. */
export interface CameraDef extends HubNodeDef {
  /** Camera name; empty = `msg.camera`. */
  camera?: string;
  /** `detect`, `record`, `snapshots` or `ptz`. */
  action?: string;
  /** `ON`, `OFF`, or empty = `msg.payload` (features). */
  value?: string;
  /** A PTZ command (`preset_door`, `MOVE_LEFT` …), or empty = `msg.payload`. */
  ptz?: string;
}

/** How long the node waits for the feature's new state. */
export const ANSWER_TIMEOUT_MS = 5000;

/** `ON` / `OFF` from `ON`, `on`, `true`, `1` …; undefined for anything else. */
export function onOff(value: unknown): 'ON' | 'OFF' | undefined {
  if (value === true || value === 1) return 'ON';
  if (value === false || value === 0) return 'OFF';
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toUpperCase();
  return v === 'ON' || v === 'TRUE' || v === '1' ? 'ON' : v === 'OFF' || v === 'FALSE' || v === '0' ? 'OFF' : undefined;
}

/**
 * A PTZ command as Frigate spells it (`preset_<name>` as given, the others upper case).
 * @returns the command, or undefined when `parsePtz` refuses it
 */
export function ptzCommand(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cmd = parsePtz(value);
  if (!cmd) return undefined;
  return cmd.kind === 'preset' ? `preset_${cmd.preset}` : value.trim().toUpperCase();
}

/**
 * Sets a feature and waits for the hub to publish its new state.
 * @returns the state (`ON` / `OFF`)
 * @throws Error with the hub's refusal, or when no state came within {@link ANSWER_TIMEOUT_MS}
 */
export async function setFeature(conn: HubConnection, camera: string, feature: Switch, value: 'ON' | 'OFF', signal?: AbortSignal): Promise<string> {
  const t = conn.topics;
  const setTopic = t.cameraFeatureSet(camera, feature);
  const stateTopic = t.cameraFeatureState(camera, feature);
  const responseTopic = t.bridgeResponse('set');
  const answer = await conn.request<string | Error>({
    // The bridge response reaches admins only (hub ACL): others learn of a refusal by the timeout.
    filters: [stateTopic, responseTopic],
    publish: { topic: setTopic, payload: value },
    match: (m: Incoming) => {
      if (m.topic === responseTopic) {
        const r = jsonOf(m.payload) as { status?: unknown; error?: unknown; data?: { topic?: unknown } } | undefined;
        return r?.status === 'error' && r.data?.topic === setTopic ? new Error(`the hub refused ${feature} ${value} on ${camera}: ${String(r.error)}`) : undefined;
      }
      // Only a fresh publish answers (the retained one came on subscribing).
      return !m.retain && m.payload.toString('utf8') === value ? value : undefined;
    },
    timeoutMs: ANSWER_TIMEOUT_MS,
    signal,
  });
  if (answer === undefined) throw new Error(`no answer on ${stateTopic} within ${ANSWER_TIMEOUT_MS / 1000} s (unknown camera, or not allowed?)`);
  if (answer instanceof Error) throw answer;
  return answer;
}

/** Registers the `vigil camera` node type. */
export default function register(RED: NodeAPI): void {
  registerHubNode<CameraDef>(RED, 'vigil camera', (node, conn, def) => {
    const action = def.action || 'detect';

    onInput(node, async (msg, send, signal) => {
      const camera = cameraFrom(def.camera, msg.camera);
      if (action === 'ptz') {
        const raw = pick(def.ptz, msg.payload);
        const command = ptzCommand(raw);
        if (!command) throw new Error(`not a PTZ command: ${JSON.stringify(raw)} (preset_<name>, MOVE_LEFT/RIGHT/UP/DOWN, ZOOM_IN/OUT, STOP)`);
        await conn.publish(conn.topics.cameraPtz(camera), command);
        node.status({ fill: 'green', shape: 'dot', text: `${camera}: ${command}` });
        msg.payload = command;
        msg.camera = camera;
        send(msg);
        return;
      }
      const feature = SWITCHES.find((s) => s === action);
      if (!feature) throw new Error(`unknown action ${action}: one of ${SWITCHES.join(', ')}, ptz`);
      const source = def.value?.trim() ? def.value : msg.payload;
      const value = onOff(source);
      if (!value) throw new Error(`${feature}: must be ON or OFF (got ${JSON.stringify(source)})`);
      const state = await setFeature(conn, camera, feature, value, signal);
      node.status({ fill: 'green', shape: 'dot', text: `${camera}: ${feature} ${state}` });
      msg.payload = state;
      msg.camera = camera;
      msg.feature = feature;
      send(msg);
    });
  });
}
