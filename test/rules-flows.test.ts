/**
 * Shipped flows and credentials of the embedded Node-RED: first install, upgrades that
 * keep the user's edits (the pure merge, then a real engine restarted on a newer shipped
 * flow), credentials encrypted with a secret derived from the hub's key, and the
 * migration from the random `.credential-secret` of earlier versions.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../components/protocol/log.ts';
import { loadHubKeys } from '../hub/auth/secrets.ts';
import { decryptCredentials, encryptCredentials, mergeShipped, nodeHash, type FlowNode } from '../hub/rules/flow-install.ts';
import { RulesEngine } from '../hub/rules/node-red.ts';

const SHIPPED_DIR = resolve(fileURLToPath(new URL('../flows', import.meta.url)));
const root = mkdtempSync(join(tmpdir(), 'vigil-flows-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const n = (id: string, extra: Record<string, unknown> = {}): FlowNode => ({ id, type: 'change', z: 'tab1', name: id, ...extra });

describe('mergeShipped', () => {
  const v1 = [n('tab1', { type: 'tab' }), n('a'), n('b'), n('c')];
  const first = mergeShipped(null, v1, {});

  it('installs everything on first start and remembers what it installed', () => {
    expect(first.flows).toEqual(v1);
    expect(first.report.added).toEqual(['tab1', 'a', 'b', 'c']);
    expect(first.state.a).toBe(nodeHash(n('a')));
  });

  it('updates untouched nodes, keeps edited ones, respects deletions, adds new ones, removes dropped untouched ones, leaves the user\'s own', () => {
    // The user edits b, deletes c and adds their own node u.
    const user = [v1[0]!, n('a'), n('b', { name: 'mine' }), n('u', { name: 'user node' })];
    // The next release changes a and b, drops a and c… and adds d.
    const v2 = [n('tab1', { type: 'tab' }), n('a', { rules: [1] }), n('b', { rules: [2] }), n('d')];
    const { flows, state, report } = mergeShipped(user, v2, first.state);
    expect(flows.map((x) => x.id)).toEqual(['tab1', 'a', 'b', 'u', 'd']);
    expect(flows.find((x) => x.id === 'a')).toEqual(n('a', { rules: [1] }));
    expect(flows.find((x) => x.id === 'b')!.name).toBe('mine');
    expect(report).toEqual({ added: ['d'], updated: ['a'], kept: ['b'], removed: [] });
    // A third release that drops a (untouched): it goes; b stays the user's.
    const v3 = [n('tab1', { type: 'tab' }), n('b', { rules: [3] }), n('d')];
    const third = mergeShipped(flows, v3, state);
    expect(third.flows.map((x) => x.id)).toEqual(['tab1', 'b', 'u', 'd']);
    expect(third.report.removed).toEqual(['a']);
    expect(third.flows.find((x) => x.id === 'b')!.name).toBe('mine');
  });

  it('with no record from an older version, keeps nodes that differ from the shipped ones', () => {
    const r = mergeShipped([n('a', { name: 'old' }), n('b')], [n('a'), n('b')], {});
    expect(r.flows[0]!.name).toBe('old');
    expect(r.report.kept).toEqual(['a']);
  });
});

describe('credentials', () => {
  it('round-trips Node-RED\'s credential format and refuses the wrong secret', () => {
    const body = encryptCredentials('s1', { x: { user: 'u', password: 'p' } });
    expect(body.$).toMatch(/^[0-9a-f]{32}/);
    expect(decryptCredentials('s1', body)).toEqual({ x: { user: 'u', password: 'p' } });
    expect(() => decryptCredentials('s2', body)).toThrow(/does not open/);
  });
});

/** Runs a RulesEngine on its own server until `fn` resolves. */
async function withEngine(userDir: string, flowsDir: string, secret: string | undefined, fn: (e: RulesEngine, baseUrl: string) => Promise<void>): Promise<void> {
  const server: Server = createServer();
  const engine = new RulesEngine({
    server, userDir, flowsDir, credentialSecret: secret, logger: silentLogger,
    mqtt: { url: 'mqtt://127.0.0.1:1', username: 'u', password: 'p' }, authorize: async () => 'ok',
  });
  server.on('request', (req, res) => engine.handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await engine.start();
    await fn(engine, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
  } finally {
    await engine.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('the engine', () => {
  it('encrypts credentials with the secret derived from the hub\'s key, upgrades shipped flows and keeps edits across restarts', async () => {
    const dataDir = join(root, 'hub');
    mkdirSync(dataDir);
    const keys = loadHubKeys(dataDir, {});
    expect(keys.nodeRedSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(loadHubKeys(dataDir, {}).nodeRedSecret).toBe(keys.nodeRedSecret); // stable
    const userDir = join(dataDir, 'node-red');
    const shippedDir = join(root, 'shipped');
    mkdirSync(shippedDir);
    copyFileSync(join(SHIPPED_DIR, 'vigil-default.json'), join(shippedDir, 'vigil-default.json'));

    await withEngine(userDir, shippedDir, keys.nodeRedSecret, async (e) => {
      expect(e.state).toBe('running');
    });
    expect(existsSync(join(userDir, '.credential-secret'))).toBe(false);
    const creds = decryptCredentials(keys.nodeRedSecret, JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')));
    expect(Object.values(creds)).toContainEqual({ user: '${VIGIL_MQTT_USERNAME}', password: '${VIGIL_MQTT_PASSWORD}' });

    // The user renames the shipped tab; a new release renames a shipped node and adds one.
    const flowsFile = join(userDir, 'flows.json');
    const userFlows = JSON.parse(readFileSync(flowsFile, 'utf8')) as FlowNode[];
    const tab = userFlows.find((x) => x.type === 'tab')!;
    tab.label = 'My events';
    writeFileSync(flowsFile, JSON.stringify(userFlows));
    const shipped = JSON.parse(readFileSync(join(shippedDir, 'vigil-default.json'), 'utf8')) as FlowNode[];
    const sw = shipped.find((x) => x.type === 'switch')!;
    sw.name = 'renamed in v2';
    shipped.push({ id: '5669676c000000ff', type: 'comment', z: tab.id, name: 'new in v2', info: '', x: 100, y: 200, wires: [] });
    writeFileSync(join(shippedDir, 'vigil-default.json'), JSON.stringify(shipped));

    await withEngine(userDir, shippedDir, keys.nodeRedSecret, async (_e, baseUrl) => {
      const res = await fetch(`${baseUrl}/rules/flows`);
      const live = (await res.json()) as FlowNode[];
      expect(live.find((x) => x.id === tab.id)!.label).toBe('My events');
      expect(live.find((x) => x.id === sw.id)!.name).toBe('renamed in v2');
      expect(live.find((x) => x.id === '5669676c000000ff')!.name).toBe('new in v2');
    });
  });

  it('moves credentials from an earlier version\'s random .credential-secret to the hub\'s key', async () => {
    const userDir = join(root, 'legacy');
    mkdirSync(userDir);
    copyFileSync(join(SHIPPED_DIR, 'vigil-default.json'), join(userDir, 'flows.json'));
    const legacy = 'ab'.repeat(32);
    writeFileSync(join(userDir, '.credential-secret'), `${legacy}\n`, { mode: 0o600 });
    const brokerId = (JSON.parse(readFileSync(join(SHIPPED_DIR, 'vigil-default.json'), 'utf8')) as FlowNode[]).find((x) => x.type === 'mqtt-broker')!.id;
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(encryptCredentials(legacy, { [brokerId]: { user: 'old-user', password: 'old-pass' } })));
    const secret = 'cd'.repeat(32);
    await withEngine(userDir, SHIPPED_DIR, secret, async (e) => {
      expect(e.status().flows).toBe('started');
    });
    expect(existsSync(join(userDir, '.credential-secret'))).toBe(false);
    expect(decryptCredentials(secret, JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')))).toEqual({ [brokerId]: { user: 'old-user', password: 'old-pass' } });
  });
});
