/**
 * Fuzzing the REST bodies (fast-check, fixed seed): every POST, PUT and PATCH route of the
 * OpenAPI document gets random JSON, JSON of the wrong type, valid-shaped bodies with one
 * field wrong or out of range (from the route's schema, or a sample for routes without
 * one), truncated JSON, bodies that are not JSON and bodies over the 1 MB limit. Every
 * answer is a 2xx or a 4xx with the JSON error shape — never a 5xx — and afterwards the
 * hub answers `/api/health` and every GET route it answered before.
 *
 * Requests carry an admin API key (a session would be ended by a fuzzed `logout`).
 * `PATCH /api/users/{id}` targets a second user, not the key's owner.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { FUZZ_SCALE, FUZZ_SEED, anyJson, fuzzParams, mutated, weirdString } from './helpers/fuzz.ts';

let h: TestHub;
let apiKey: string;
/** Path parameters of rows that exist. */
const ids: Record<string, string> = {};
let routes: Array<{ method: 'POST' | 'PUT' | 'PATCH'; path: string; sample: unknown; json: boolean }>;
let before: Record<string, number>;

type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; default?: unknown };

/** A valid-looking value for a JSON schema (first enum value, default, or a value of the type), refs resolved. */
function sampleOf(s: Schema | undefined, doc: { components?: { schemas?: Record<string, Schema> } }, depth = 0): unknown {
  if (!s || depth > 4) return 'x';
  if (s.$ref) return sampleOf(doc.components?.schemas?.[s.$ref.split('/').pop()!], doc, depth + 1);
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  const alt = s.anyOf ?? s.oneOf ?? s.allOf;
  if (alt?.length) return sampleOf(alt[0], doc, depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleOf(v, doc, depth + 1)]));
    case 'array': return [sampleOf(s.items, doc, depth + 1)];
    case 'string': return 'porch';
    case 'number': case 'integer': return 1;
    case 'boolean': return true;
    case 'null': return null;
    default: return {};
  }
}

/** Samples for routes whose OpenAPI entry has no body schema (their zod schemas' fields). */
const SAMPLES: Record<string, unknown> = {
  'POST /api/auth/setup': { token: 'x', username: 'admin2', password: 'long-enough-password' },
  'POST /api/auth/login': { username: 'admin', password: 'wrong-password', totp: '123456' },
  'POST /api/auth/refresh': { refresh_token: 'x' },
  'POST /api/auth/totp/enable': { code: '123456' },
  'POST /api/auth/totp/disable': { password: 'x', code: '123456' },
  'POST /api/users': { username: 'fuzzed', password: 'fuzzed-password-1', role: 'viewer', cameras: ['porch'] },
  'PATCH /api/users/{id}': { role: 'viewer', cameras: ['porch'], password: 'another-password-1' },
  'POST /api/api-keys': { name: 'k', scope: 'read', cameras: ['porch'] },
  'POST /api/devices': { id: 'dev1', kind: 'kiosk', displays: ['hall'] },
  'POST /api/media-tokens': { camera: 'porch' },
  'POST /api/cameras/{name}/features': { detect: 'OFF', motion_threshold: 30 },
  'POST /api/exports': { camera: 'porch', start: 1_700_000_000, end: 1_700_000_060, name: 'x' },
  // Valid bodies for the busiest routes, so one wrong field gets past the others' checks.
  'POST /api/cameras': { name: 'fuzzcam', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x', record: 'rtsp://127.0.0.1:1/y' }, detect: { fps: 5, width: 640, height: 480 }, zones: [{ name: 'z', coordinates: [[0, 0], [1, 0], [1, 1]], loitering_time: 5 }], objects: { track: ['person'], filters: { person: { threshold: 0.7 } } }, motion: { threshold: 30 } },
  'PUT /api/cameras/{name}': { name: 'porch', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/none' }, detect: { fps: 5 }, zones: [{ name: 'z', coordinates: [[0, 0], [1, 0], [1, 1]] }] },
  'PATCH /api/cameras/{name}': { detect: { fps: 4 }, motion: { threshold: 25, min_area: 0.01 }, zones: [{ name: 'z', coordinates: [[0, 0], [1, 0], [1, 1]] }] },
  'POST /api/layouts': { id: 'quad', name: 'Quad', preset: '2x2', cells: [{ type: 'camera', camera: 'porch' }, null] },
  'PUT /api/layouts/{id}': { id: 'hall', name: 'Hall', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'porch' }] },
};

beforeAll(async () => {
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await api(h.baseUrl, method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  await ok('POST', '/api/cameras', { name: 'porch', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/none' } });
  apiKey = (await ok('POST', '/api/api-keys', { name: 'fuzzer', scope: 'admin' })).key;
  ids.user = (await ok('POST', '/api/users', { username: 'target', password: 'target-password-1', role: 'viewer' })).id;
  ids.layout = (await ok('POST', '/api/layouts', { id: 'hall', name: 'Hall', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'porch' }] })).id;
  const doc = (await api(h.baseUrl, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>; components?: { schemas?: Record<string, Schema> } };
  routes = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const m of ['post', 'put', 'patch'] as const) {
      const op = ops[m];
      if (!op) continue;
      const method = m.toUpperCase() as 'POST' | 'PUT' | 'PATCH';
      const content = op.requestBody?.content ?? {};
      const schema = content['application/json']?.schema;
      routes.push({ method, path, sample: SAMPLES[`${method} ${path}`] ?? (schema ? sampleOf(schema, doc) : {}), json: Object.keys(content).length === 0 || 'application/json' in content });
    }
  }
  expect(routes.length).toBeGreaterThan(30);
  before = await getStatuses(doc);
}, 60_000);

afterAll(async () => { await h?.stop(); });

/** Fills `{name}`, `{id}` … with rows that exist (or a name that does not, for variety). */
function fill(path: string, other: boolean): string {
  if (other) return path.replace(/\{[^}]+\}/g, 'nope');
  return path.replace('{name}', 'porch').replace('{id}', path.startsWith('/api/users') ? ids.user! : path.startsWith('/api/layouts') ? ids.layout! : 'hall');
}

async function getStatuses(doc: { paths: Record<string, Record<string, unknown>> }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [p, ops] of Object.entries(doc.paths)) {
    if (!('get' in ops) || /live|stream|\.mp4|\.m3u8|mjpeg/.test(p)) continue;
    const path = fill(p, false);
    out[path] = (await api(h.baseUrl, 'GET', path, undefined, { apiKey })).status;
  }
  return out;
}

/** `{}` or `{timeout_ms: <100…30000>}` (a valid discovery) → `{timeout_ms: 100}`; anything else as it is. */
function shortDiscovery(text: string): string {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return text; }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return text;
  const keys = Object.keys(v);
  const t = (v as { timeout_ms?: unknown }).timeout_ms;
  const valid = keys.every((k) => k === 'timeout_ms') && (t === undefined || (Number.isInteger(t) && (t as number) >= 100 && (t as number) <= 30_000));
  return valid ? JSON.stringify({ timeout_ms: 100 }) : text;
}

/** A body as sent: JSON text (any value, or the route's sample mutated), cut JSON, or not JSON at all. */
function bodyFor(sample: unknown): fc.Arbitrary<{ text: string; type: string }> {
  const asJson = (v: unknown) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json' });
  const sampleText = JSON.stringify(sample);
  return fc.oneof(
    { weight: 3, arbitrary: mutated(sample).map(asJson) },
    { weight: 1, arbitrary: fc.constant(sample).map(asJson) },
    { weight: 2, arbitrary: anyJson.map(asJson) },
    { weight: 1, arbitrary: fc.nat({ max: Math.max(0, sampleText.length - 1) }).map((n) => ({ text: sampleText.slice(0, n), type: 'application/json' })) },
    { weight: 1, arbitrary: fc.tuple(weirdString, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded')).map(([text, type]) => ({ text, type })) },
    { weight: 1, arbitrary: fc.constantFrom('application/json', 'application/json; charset=latin1', 'application/xml').map((type) => ({ text: '{"a":[1,2,{"b":null}]}', type })) },
  );
}

describe('fuzzing the REST bodies', () => {
  it('random and wrong bodies on every POST/PUT/PATCH route: 2xx or a JSON 4xx, never a 5xx', async () => {
    const seen = new Map<string, number>();
    const failures: string[] = [];
    const request = fc.nat({ max: routes.length - 1 }).chain((i) => fc.record({ i: fc.constant(i), body: bodyFor(routes[i]!.sample), other: fc.nat({ max: 6 }).map((n) => n === 0) }));
    await fc.assert(fc.asyncProperty(request, async ({ i, body, other }) => {
      const r = routes[i]!;
      const path = fill(r.path, other);
      // A valid discovery listens for its whole timeout (3 s by default): run valid ones with the shortest.
      if (r.path === '/api/onvif/discover') body = { ...body, text: shortDiscovery(body.text) };
      const res = await fetch(`${h.baseUrl}${path}`, { method: r.method, headers: { 'content-type': body.type, 'x-api-key': apiKey }, body: body.text, signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      const key = `${r.method} ${r.path}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
      try { parsed = JSON.parse(text); } catch { parsed = undefined; }
      if (res.status >= 500) failures.push(`${key} ${body.text.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`);
      else if (res.status >= 400 && (typeof parsed?.error?.code !== 'string' || typeof parsed.error.message !== 'string')) failures.push(`${key} → ${res.status} without a JSON error: ${text.slice(0, 200)}`);
      expect(failures).toEqual([]);
    }), fuzzParams(700, 25_000));
    expect(seen.size).toBeGreaterThan(routes.length * 0.8);

    // A body over the 1 MB JSON limit: 413, JSON.
    const big = await fetch(`${h.baseUrl}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ name: 'big', pad: 'x'.repeat(1_100_000) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');

    // Still up, every GET route answers as before (a fuzzed body may have created rows: 404 → 200 is fine).
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
    const doc = (await api(h.baseUrl, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const after = await getStatuses(doc);
    const broken = Object.entries(after).filter(([p, st]) => st >= 500 || (before[p]! < 300 && st >= 300));
    expect(broken).toEqual([]);
    expect(h.logs()).not.toContain('"msg":"request failed"');
    console.log(`fuzz-rest: ${[...seen.values()].reduce((a, b) => a + b, 0)} requests over ${seen.size} routes (seed ${FUZZ_SEED})`);
  }, 90_000 * FUZZ_SCALE);

  // Found by fuzzing the bus: an empty object label passed the schema and then broke the
  // detector on every message of that camera (it is a topic segment of the counts).
  it.each([['objects.track', { objects: { track: ['person', ''] } }, 'objects.track.1'], ['zone objects', { zones: [{ name: 'z', coordinates: [[0, 0], [1, 0], [1, 1]], objects: ['a/b'] }] }, 'zones.0.objects.0'], ['filters', { objects: { filters: { '#': {} } } }, 'objects.filters']])(
    'refuses a camera whose %s holds a label that cannot be a topic segment', async (_what, patch, field) => {
      const r = await api(h.baseUrl, 'PATCH', '/api/cameras/porch', patch, { apiKey });
      expect(r.status).toBe(400);
      expect(String(r.body.error.field)).toContain(field);
    });
});
