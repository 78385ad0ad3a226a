/**
 * `vigil-hub` (config node): the connection to a Vigil hub that every other Vigil node
 * uses, one shared MQTT client per config node ({@link HubConnection}).
 *
 * - `embedded`: the bus of the hub this Node-RED runs in — `RED.settings.vigil`
 *   (`{url, username, password, prefix}`, set by `hub/rules/node-red.ts`), else the
 *   environment the hub sets (`VIGIL_MQTT_URL`, `VIGIL_MQTT_USERNAME`,
 *   `VIGIL_MQTT_PASSWORD`, prefix `vigil`). The default when either is there.
 * - `mqtt`: any broker URL with a topic prefix; username and password are Node-RED
 *   credentials (encrypted in `flows_cred.json`) — e.g. an API key as the password.
 */
import { HubConnection, type HubSettings } from './lib/connection.ts';
import type { VigilHubNode } from './lib/nodes.ts';
import type { NodeAPI, NodeDef } from './lib/red.ts';

/** What the editor saves for a `vigil-hub` node. */
export interface HubDef extends NodeDef {
  mode?: 'embedded' | 'mqtt' | '';
  url?: string;
  prefix?: string;
}

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']);

/**
 * The embedded hub's bus: `settings.vigil`, else the `VIGIL_MQTT_*` environment.
 * @returns the settings, or undefined when Node-RED does not run inside a Vigil hub
 */
export function embeddedSettings(settings: NodeAPI['settings'], env: NodeJS.ProcessEnv = process.env): HubSettings | undefined {
  const s = settings.vigil;
  if (s && typeof s.url === 'string' && s.url) {
    return { url: s.url, username: s.username || undefined, password: s.password || undefined, prefix: s.prefix || 'vigil' };
  }
  if (env.VIGIL_MQTT_URL) {
    return { url: env.VIGIL_MQTT_URL, username: env.VIGIL_MQTT_USERNAME || undefined, password: env.VIGIL_MQTT_PASSWORD || undefined, prefix: 'vigil' };
  }
  return undefined;
}

/**
 * The connection settings of a `vigil-hub` node.
 * @param credentials the node's `username` / `password` (mqtt mode)
 * @returns the settings, or the reason the node cannot connect
 */
export function hubSettings(def: HubDef, credentials: Record<string, string | undefined> | undefined, embedded: HubSettings | undefined): { ok: true; settings: HubSettings } | { ok: false; error: string } {
  const mode = def.mode === 'embedded' || def.mode === 'mqtt' ? def.mode : embedded ? 'embedded' : 'mqtt';
  if (mode === 'embedded') {
    return embedded ? { ok: true, settings: embedded } : { ok: false, error: 'embedded mode, but this Node-RED does not run inside a Vigil hub (no settings.vigil, no VIGIL_MQTT_URL)' };
  }
  const url = (def.url ?? '').trim();
  if (!url) return { ok: false, error: 'no broker URL' };
  let scheme: string;
  try { scheme = new URL(url).protocol; } catch { return { ok: false, error: `not a URL: ${url}` }; }
  if (!SCHEMES.has(scheme)) return { ok: false, error: `broker URL must start with mqtt://, mqtts://, ws:// or wss:// (got ${scheme})` };
  return { ok: true, settings: { url, username: credentials?.username || undefined, password: credentials?.password || undefined, prefix: (def.prefix ?? '').trim() || 'vigil' } };
}

/** Registers the `vigil-hub` config node type. */
export default function register(RED: NodeAPI): void {
  function VigilHub(this: VigilHubNode, def: HubDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const r = hubSettings(def, node.credentials, embeddedSettings(RED.settings));
    if (r.ok) {
      try {
        node.connection = new HubConnection(r.settings, node, `vigil-node-red-${RED.util.generateId()}`, RED.settings.mqttReconnectTime ?? 5000);
      } catch (err) {
        node.problem = (err as Error).message;
      }
    } else {
      node.problem = r.error;
    }
    if (node.problem) node.error(node.problem);
    node.on('close', (_removed, done) => {
      const closing = node.connection?.close() ?? Promise.resolve();
      closing.then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('vigil-hub', VigilHub, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    // Tells the editor whether `embedded` can work here (its default mode then).
    settings: { vigilHubEmbedded: { value: embeddedSettings(RED.settings) !== undefined, exportable: true } },
  });
}
