/**
 * docs/config.md's key table is generated from the schema: it is current, and every key
 * of the schema is documented with a description and its environment variable.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys, renderConfigReference, withReference } from '../components/protocol/config/docs.ts';
import { loadConfig } from '../components/protocol/config/load.ts';

const PAGE = new URL('../docs/config.md', import.meta.url);

describe('config reference', () => {
  it('docs/config.md holds the table the schema generates (npm run docs:config)', () => {
    const page = readFileSync(PAGE, 'utf8');
    expect(withReference(page)).toBe(page);
  });

  it('documents every key with a description, its default and its variable', () => {
    const keys = configKeys();
    expect(keys.length).toBeGreaterThan(30);
    for (const k of keys) expect(k.description, k.path).not.toBe('');
    const port = keys.find((k) => k.path === 'http.port')!;
    expect(port).toMatchObject({ type: 'number', default: '8080', env: 'VIGIL_HTTP__PORT' });
    expect(keys.find((k) => k.path === 'auth.login_limits.per_hour')!.env).toBe('VIGIL_AUTH__LOGIN_LIMITS__PER_HOUR');
    expect(keys.find((k) => k.path === 'mqtt.url')!.default).toBeUndefined();
    // The defaults in the table are the ones the loader applies.
    const cfg = loadConfig({ file: '/nonexistent/vigil.yaml', env: {} }) as unknown as Record<string, unknown>;
    for (const k of keys) {
      const v = k.path.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], cfg);
      expect(v === undefined ? undefined : JSON.stringify(v), k.path).toBe(k.default);
    }
  });

  it('refuses a page without the markers', () => {
    expect(() => withReference('# no markers')).toThrow(/markers/);
    expect(renderConfigReference().split('\n')[0]).toMatch(/^\| key \| type \| default/);
  });
});
