/**
 * Shipped flows and Node-RED's credential file, handled before Node-RED starts.
 *
 * **Upgrades without clobbering.** Vigil ships flows in `flows/vigil-default.json`. On
 * every start {@link mergeShipped} brings the user's `flows.json` up to the shipped
 * version node by node, remembering what it last installed (a SHA-256 of each shipped
 * node, in `<userDir>/.vigil-shipped.json`):
 * - a shipped node the user never had is added (a new node in a new Vigil version);
 * - a node the user left as it was shipped is replaced by the new shipped version;
 * - a node the user edited is kept as the user has it (logged);
 * - a node dropped from the shipped flows is removed if the user left it as shipped;
 * - a node the user deleted stays deleted (it was installed before and is gone now).
 * Nodes the user added are never touched.
 *
 * **Credentials** (`flows_cred.json`) are encrypted as Node-RED does (AES-256-CTR, key
 * SHA-256 of the secret, hex IV prefix — `@node-red/runtime/lib/nodes/credentials.js`)
 * with a secret derived from the hub's key; {@link rekeyCredentials} moves a file
 * encrypted with an older secret (the random `.credential-secret` of earlier versions)
 * to it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A Node-RED flow node (tab, config node or node): at least an id. */
export type FlowNode = Record<string, unknown> & { id: string };

/** Shipped node id → SHA-256 of what was installed. */
export type ShippedState = Record<string, string>;

/** What {@link mergeShipped} did. */
export interface MergeReport {
  added: string[];
  updated: string[];
  kept: string[];
  removed: string[];
}

/** SHA-256 of a node's JSON with sorted keys (so key order does not count as an edit). */
export function nodeHash(n: unknown): string {
  return createHash('sha256').update(stableJson(n)).digest('hex');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * Brings `user` (the current flows, or null on first start) up to `shipped`, given what
 * was installed last time (`previous`; empty on first start or from older versions).
 * Node-RED's editor may add display-only keys when it saves; they count as an edit.
 * @returns the merged flows (in the user's order, new shipped nodes appended), the new
 *   state to store, and what changed
 */
export function mergeShipped(user: FlowNode[] | null, shipped: FlowNode[], previous: ShippedState): { flows: FlowNode[]; state: ShippedState; report: MergeReport } {
  const report: MergeReport = { added: [], updated: [], kept: [], removed: [] };
  const state: ShippedState = {};
  const shippedById = new Map(shipped.map((n) => [n.id, n]));
  if (!user) {
    for (const n of shipped) { state[n.id] = nodeHash(n); report.added.push(n.id); }
    return { flows: shipped.map((n) => ({ ...n })), state, report };
  }
  const out: FlowNode[] = [];
  const seen = new Set<string>();
  for (const n of user) {
    seen.add(n.id);
    const next = shippedById.get(n.id);
    const was = previous[n.id];
    const untouched = was !== undefined && nodeHash(n) === was;
    if (!next) {
      // Dropped from the shipped flows: go if unedited; a user's own node (never shipped) stays.
      if (untouched) { report.removed.push(n.id); continue; }
      out.push(n);
      continue;
    }
    if (untouched || was === undefined && nodeHash(n) === nodeHash(next)) {
      if (nodeHash(n) !== nodeHash(next)) report.updated.push(n.id);
      out.push({ ...next });
      state[n.id] = nodeHash(next);
    } else {
      report.kept.push(n.id);
      out.push(n);
      // Still remember the shipped version the user diverged from: a later release does not overwrite the edit either.
      state[n.id] = was ?? nodeHash(next);
    }
  }
  for (const n of shipped) {
    if (seen.has(n.id)) continue;
    if (previous[n.id] !== undefined) continue; // installed before, deleted by the user: respect it
    out.push({ ...n });
    state[n.id] = nodeHash(n);
    report.added.push(n.id);
  }
  return { flows: out, state, report };
}

/**
 * Moves inline `credentials` of shipped nodes (e.g. `{"user": "${VIGIL_MQTT_USERNAME}"}`)
 * out of the flow, as Node-RED stores them in `flows_cred.json`.
 * @throws Error when `parsed` is not a JSON array of node objects with string ids
 */
export function splitCredentials(parsed: unknown, file: string): { flows: FlowNode[]; credentials: Record<string, unknown> } {
  if (!Array.isArray(parsed) || !parsed.every((n) => n && typeof n === 'object' && typeof (n as { id?: unknown }).id === 'string')) {
    throw new Error(`rules: ${file} is not a Node-RED flow (a JSON array of nodes with ids)`);
  }
  const credentials: Record<string, unknown> = {};
  const flows = (parsed as FlowNode[]).map((n) => {
    if (!n.credentials) return n;
    const { credentials: c, ...rest } = n;
    credentials[n.id] = c;
    return rest as FlowNode;
  });
  return { flows, credentials };
}

/** Encrypts credentials in Node-RED's `flows_cred.json` format (`{"$": hexIV + base64}`). */
export function encryptCredentials(secret: string, credentials: Record<string, unknown>): { $: string } {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') };
}

/**
 * Decrypts a `flows_cred.json` body. AES-CTR has no integrity check: a wrong secret shows
 * as text that is not a JSON object.
 * @throws Error when the body is not in that format or `secret` is not the one it was encrypted with
 */
export function decryptCredentials(secret: string, body: unknown): Record<string, unknown> {
  const text = (body as { $?: unknown } | null)?.$;
  if (typeof text !== 'string' || text.length < 32) throw new Error('rules: flows_cred.json is not an encrypted credential file');
  const key = createHash('sha256').update(secret).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(text.slice(0, 32), 'hex'));
  const plain = decipher.update(text.slice(32), 'base64', 'utf8') + decipher.final('utf8');
  let parsed: unknown;
  try { parsed = JSON.parse(plain); } catch { throw new Error('rules: flows_cred.json does not open with this secret'); }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('rules: flows_cred.json does not open with this secret');
  return parsed as Record<string, unknown>;
}

/**
 * Re-encrypts a credential file body from `oldSecret` to `newSecret`.
 * @throws Error (see {@link decryptCredentials}) when it does not open with `oldSecret`
 */
export function rekeyCredentials(body: unknown, oldSecret: string, newSecret: string): { $: string } {
  return encryptCredentials(newSecret, decryptCredentials(oldSecret, body));
}
