/**
 * `npm run vigil -- <command>`: administration without the web UI, against the data
 * directory of the configuration (`--config`, `VIGIL_CONFIG`, `./data/vigil.yaml`).
 * Safe while the hub runs (SQLite WAL, or the PostgreSQL of `store.url`).
 *
 *   user add <name> --role admin|operator|viewer [--cameras a,b]   password from stdin (or a prompt)
 *   user list
 *   user passwd <name>
 *   device add <id> --kind camera|kiosk|head|component|ha [--displays a,b]   prints the MQTT password once
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, configPath, loadConfig } from '../components/protocol/config/load.ts';
import { openStore, storeLocation } from './store/datasource.ts';
import { loadHubKeys } from './auth/secrets.ts';
import { UserStore } from './auth/users.ts';
import { CredentialStore } from './auth/credentials.ts';
import { ActivityLog } from './auth/activity.ts';
import type { DeviceKind, Role } from './auth/principal.ts';

const USAGE = `usage: vigil user add <name> --role admin|operator|viewer [--cameras a,b]
       vigil user list
       vigil user passwd <name>
       vigil device add <id> --kind camera|kiosk|head|component|ha [--displays a,b]`;

async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    let all = '';
    for await (const chunk of process.stdin) all += String(chunk);
    return all.split('\n')[0]!.trim();
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => { if (s.includes(prompt)) process.stdout.write(s); };
  const answer = await new Promise<string>((r) => rl.question(prompt, r));
  rl.close();
  process.stdout.write('\n');
  return answer.trim();
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { config: { type: 'string' }, role: { type: 'string' }, cameras: { type: 'string' }, kind: { type: 'string' }, displays: { type: 'string' } },
  });
  const [area, cmd, name] = positionals;
  let config;
  try {
    config = loadConfig({ file: values.config ?? configPath() });
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(`${err.message}\n`); return 2; }
    throw err;
  }
  const dataDir = resolve(config.data_dir);
  const ds = await openStore(storeLocation({ data_dir: dataDir, store: config.store }));
  const keys = loadHubKeys(dataDir);
  const users = new UserStore(ds, keys.box);
  const activity = new ActivityLog(ds);
  try {
    if (area === 'user' && cmd === 'add' && name) {
      const role = values.role as Role | undefined;
      if (!role || !['admin', 'operator', 'viewer'].includes(role)) { process.stderr.write('--role must be admin, operator or viewer\n'); return 2; }
      const password = await readPassword(`Password for ${name}: `);
      const u = await users.create({ username: name, password, role, cameras: values.cameras ? values.cameras.split(',') : null });
      await activity.record({ actor: 'cli', action: 'user.create', target: `user:${u.username}`, details: { role } });
      process.stdout.write(`created ${u.role} ${u.username}\n`);
      return 0;
    }
    if (area === 'user' && cmd === 'list') {
      for (const u of await users.list()) process.stdout.write(`${u.username}\t${u.role}\t${u.cameras?.join(',') ?? '*'}\t${u.totp_enabled ? '2fa' : ''}\n`);
      return 0;
    }
    if (area === 'user' && cmd === 'passwd' && name) {
      const u = await users.byName(name);
      if (!u) { process.stderr.write(`no user ${name}\n`); return 1; }
      await users.update(u.id, { password: await readPassword(`New password for ${name}: `) });
      await activity.record({ actor: 'cli', action: 'user.update', target: `user:${name}`, details: { password: 'changed' } });
      process.stdout.write('password changed\n');
      return 0;
    }
    if (area === 'device' && cmd === 'add' && name) {
      const kind = values.kind as DeviceKind | undefined;
      if (!kind || !['camera', 'kiosk', 'head', 'component', 'ha'].includes(kind)) { process.stderr.write('--kind must be camera, kiosk, head, component or ha\n'); return 2; }
      const out = await new CredentialStore(ds).createDevice({ id: name, kind, displays: values.displays?.split(',') });
      await activity.record({ actor: 'cli', action: 'device.create', target: `device:${name}`, details: { kind } });
      process.stdout.write(`MQTT username: ${name}\nMQTT password: ${out.password}\n`);
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  } finally {
    await ds.destroy();
  }
}

main().then((code) => process.exit(code), (err: Error) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
