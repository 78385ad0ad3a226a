/**
 * Authentication and the locks around it: first-admin setup, login throttling, token
 * tampering/expiry/revocation, refresh rotation, CSRF, TOTP with recovery codes, media
 * tokens, API keys, injection attempts, secrets at rest and their absence from every
 * API response, MQTT message and log line.
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { EventsRepo } from '../hub/store/events-repo.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const login = (h: TestHub, username: string, password: string, totp?: string, headers?: Record<string, string>) =>
  api(h.baseUrl, 'POST', '/api/auth/login', { username, password, ...(totp ? { totp } : {}) }, { headers });

describe('first start', () => {
  it('has no default password: a one-time setup token (0600) creates the first admin', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }, { noAdmin: true });
    try {
      const file = join(h.dataDir, 'setup-token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      for (const key of ['jwt.key', 'secret.key']) expect(statSync(join(h.dataDir, key)).mode & 0o777).toBe(0o600);
      expect((await api(h.baseUrl, 'GET', '/api/auth/status', undefined, null)).body.setup_required).toBe(true);
      expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, null)).status).toBe(401);
      const token = readFileSync(file, 'utf8').trim();
      const wrong = await api(h.baseUrl, 'POST', '/api/auth/setup', { token: 'x'.repeat(token.length), username: 'root', password: 'first-admin-pw' }, null);
      expect(wrong.status).toBe(403);
      const ok = await api(h.baseUrl, 'POST', '/api/auth/setup', { token, username: 'root', password: 'first-admin-pw' }, null);
      expect(ok.status).toBe(201);
      expect(ok.headers.get('set-cookie')).toMatch(/vigil_session=.*HttpOnly.*SameSite=Strict/i);
      expect(existsSync(file)).toBe(false);
      expect((await api(h.baseUrl, 'POST', '/api/auth/setup', { token, username: 'evil', password: 'second-admin-pw' }, null)).status).toBe(409);
      expect((await api(h.baseUrl, 'GET', '/api/users', undefined, { token: ok.body.access_token })).body.map((u: { username: string }) => u.username)).toEqual(['root']);
    } finally {
      await h.stop();
    }
  });
});

describe('login throttling (defaults 1/s, 5/min, 20/h)', () => {
  it('throttles per IP and never reveals whether the user exists', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, auth: { login_limits: { per_second: 1, per_minute: 5, per_hour: 20 } } });
    try {
      // Three attempts at once (one second): one is answered, the others are throttled — for a
      // real user or not, with the same message. (At once, not one after another: a login's scrypt
      // may itself take a second on a loaded machine.)
      const tries = await Promise.all([login(h, 'ghost', 'nope'), login(h, 'admin', 'nope'), login(h, 'ghost', 'nope')]);
      const answered = tries.filter((t) => t.status !== 429);
      expect(answered.map((t) => [t.status, t.body.error.code])).toEqual([[401, 'invalid_credentials']]);
      const throttled = tries.filter((t) => t.status === 429);
      expect(throttled).toHaveLength(2);
      for (const t of throttled) expect(t.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(throttled[0]!.body.error.message).toBe(throttled[1]!.body.error.message);
      // Within the minute: 5 attempts at most, even spaced by a second, even with the right password.
      let last = 0;
      for (let i = 0; i < 5; i++) {
        await sleep(1050);
        last = (await login(h, 'admin', i < 4 ? 'bad' : ADMIN_PASSWORD)).status;
      }
      expect(last).toBe(429);
      const acts = await api(h.baseUrl, 'GET', '/api/activity?action=auth.login');
      expect(acts.body.some((a: { outcome: string; details: { reason?: string } }) => a.outcome === 'denied' && a.details.reason === 'throttled')).toBe(true);
      // A spoofed X-Forwarded-For does not buy new attempts when no proxy is trusted.
      expect((await login(h, 'admin', ADMIN_PASSWORD, undefined, { 'x-forwarded-for': '10.9.9.9' })).status).toBe(429);
    } finally {
      await h.stop();
    }
  }, 30_000);
});

describe('sessions, tokens and keys', () => {
  let h: TestHub;
  beforeAll(async () => { h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }); });
  afterAll(async () => { await h?.stop(); });

  it('refuses tampered, expired and revoked access tokens; rotates refresh tokens', async () => {
    const s = await login(h, 'admin', ADMIN_PASSWORD);
    expect(s.status).toBe(200);
    const token: string = s.body.access_token;
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token })).status).toBe(200);
    const [head, payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'someone-else' })).toString('base64url');
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: `${head}.${forged}.${sig}` })).status).toBe(401);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: `${head}.${payload}.${sig!.slice(0, -2)}AA` })).status).toBe(401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: none })).status).toBe(401);
    const short = await h.hub.auth!.signer.access({ sub: s.body.user.id, sid: s.body.access_token ? JSON.parse(Buffer.from(payload!, 'base64url').toString()).sid : '' }, 1);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: short })).status).toBe(200);
    await sleep(2100);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: short })).status).toBe(401);

    const r1 = await api(h.baseUrl, 'POST', '/api/auth/refresh', { refresh_token: s.body.refresh_token }, null);
    expect(r1.status).toBe(200);
    expect((await api(h.baseUrl, 'POST', '/api/auth/refresh', { refresh_token: s.body.refresh_token }, null)).status).toBe(401); // rotated
    const out = await api(h.baseUrl, 'POST', '/api/auth/logout', undefined, { token: r1.body.access_token });
    expect(out.status).toBe(204);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: r1.body.access_token })).status).toBe(401);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token })).status).toBe(401); // same session
    expect((await api(h.baseUrl, 'POST', '/api/auth/refresh', { refresh_token: r1.body.refresh_token }, null)).status).toBe(401);
  });

  it('requires the CSRF header for cookie sessions', async () => {
    const s = await login(h, 'admin', ADMIN_PASSWORD);
    const cookies = (s.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    await api(h.baseUrl, 'POST', '/api/cameras', { name: 'csrf', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } });
    const noHeader = await api(h.baseUrl, 'POST', '/api/cameras/csrf/features', { snapshots: 'OFF' }, { headers: { cookie: cookies } });
    expect(noHeader.status).toBe(403);
    expect(noHeader.body.error.code).toBe('csrf_failed');
    const wrong = await api(h.baseUrl, 'POST', '/api/cameras/csrf/features', { snapshots: 'OFF' }, { headers: { cookie: cookies, 'x-csrf-token': 'forged' } });
    expect(wrong.status).toBe(403);
    const ok = await api(h.baseUrl, 'POST', '/api/cameras/csrf/features', { snapshots: 'OFF' }, { headers: { cookie: cookies, 'x-csrf-token': s.body.csrf_token } });
    expect(ok.status).toBe(200);
    expect((await api(h.baseUrl, 'GET', '/api/cameras/csrf', undefined, { headers: { cookie: cookies } })).status).toBe(200); // safe methods need none
    const res = await fetch(`${h.baseUrl}/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('asks for TOTP when enabled and accepts each recovery code once', async () => {
    const created = await api(h.baseUrl, 'POST', '/api/users', { username: 'tina', password: 'tina-password', role: 'viewer' });
    const t = (await login(h, 'tina', 'tina-password')).body.access_token as string;
    const setup = await api(h.baseUrl, 'POST', '/api/auth/totp/setup', undefined, { token: t });
    expect(setup.body.otpauth_url).toMatch(/^otpauth:\/\/totp\/Vigil:tina\?secret=/);
    expect((await api(h.baseUrl, 'POST', '/api/auth/totp/enable', { code: '000000' }, { token: t })).status).toBe(400);
    const code = await h.hub.auth!.users.currentCode(created.body.id);
    const en = await api(h.baseUrl, 'POST', '/api/auth/totp/enable', { code }, { token: t });
    expect(en.status).toBe(200);
    expect(en.body.recovery_codes).toHaveLength(10);
    const noCode = await login(h, 'tina', 'tina-password');
    expect(noCode.status).toBe(401);
    expect(noCode.body.error.code).toBe('totp_required');
    expect((await login(h, 'tina', 'tina-password', '123456')).body.error.code).toBe('totp_required');
    expect((await login(h, 'tina', 'tina-password', await h.hub.auth!.users.currentCode(created.body.id))).status).toBe(200);
    const rc = en.body.recovery_codes[0] as string;
    expect((await login(h, 'tina', 'tina-password', rc)).status).toBe(200);
    expect((await login(h, 'tina', 'tina-password', rc)).status).toBe(401); // single use
    expect((await login(h, 'tina', 'wrong-password', await h.hub.auth!.users.currentCode(created.body.id))).body.error.code).toBe('invalid_credentials');
    // MQTT cannot ask for a second factor: the password alone is refused there.
    await expect(MqttRecorder.connect(h.mqttUrl, [], { username: 'tina', password: 'tina-password' })).rejects.toThrow();
    const db = new Database(join(h.dataDir, 'vigil.db'), { readonly: true });
    const row = db.prepare('SELECT totp_secret, recovery_codes FROM users WHERE username = ?').get('tina') as { totp_secret: string; recovery_codes: string };
    db.close();
    expect(row.totp_secret).toMatch(/^sealed:v1:/);
    expect(row.recovery_codes).not.toContain(en.body.recovery_codes[1]);
  });

  it('media tokens open one camera or one file for five minutes, nothing else', async () => {
    for (const name of ['m1', 'm2']) await api(h.baseUrl, 'POST', '/api/cameras', { name, enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } });
    const repo = new EventsRepo((h.hub as unknown as { ds: import('typeorm').DataSource }).ds);
    const base = { frame_time: 1, label: 'car', sub_label: null, score: 0.9, top_score: 0.9, false_positive: false, start_time: 1, end_time: 2, box: [0, 0, 1, 1] as [number, number, number, number], area: 1, ratio: 1, current_zones: [], entered_zones: [], loitering: false, has_snapshot: true, has_clip: false, stationary: false, motionless_count: 0, position_changes: 0 };
    await repo.upsert({ ...base, id: 'e1', camera: 'm1' });
    await repo.upsert({ ...base, id: 'e2', camera: 'm1' });
    await repo.upsert({ ...base, id: 'e3', camera: 'm2' });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    for (const [cam, id] of [['m1', 'e1'], ['m1', 'e2'], ['m2', 'e3']] as const) {
      mkdirSync(join(h.dataDir, 'snapshots', cam), { recursive: true });
      writeFileSync(join(h.dataDir, 'snapshots', cam, `${id}.jpg`), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    }
    const camTok = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'm1' })).body;
    expect(camTok.expires_in).toBe(300);
    const get = (path: string) => fetch(`${h.baseUrl}${path}`).then((r) => r.status);
    expect(await get(`/api/events/e1/snapshot.jpg?token=${camTok.token}`)).toBe(200);
    expect(await get(`/api/events/e3/snapshot.jpg?token=${camTok.token}`)).toBe(404); // other camera
    expect(await get(`/api/cameras/m2/latest.jpg?token=${camTok.token}`)).toBe(404);
    const evtTok = (await api(h.baseUrl, 'POST', '/api/media-tokens', { event: 'e1' })).body.token as string;
    expect(await get(`/api/events/e1/snapshot.jpg?token=${evtTok}`)).toBe(200);
    expect(await get(`/api/events/e2/snapshot.jpg?token=${evtTok}`)).toBe(404); // other file of the same camera
    // A media token is not a session: it opens no API route.
    expect(await get(`/api/cameras?token=${camTok.token}`)).toBe(401);
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { token: camTok.token })).status).toBe(401);
    // Nor does a session token work as a media token.
    expect(await get(`/api/events/e1/snapshot.jpg?token=${h.adminToken}`)).toBe(401);
    const admin = await h.hub.auth!.users.byName('admin');
    const shortTok = await h.hub.auth!.signer.media({ sub: admin!.id, cam: 'm1' }, 1);
    expect(await get(`/api/events/e1/snapshot.jpg?token=${shortTok}`)).toBe(200);
    await sleep(2100);
    expect(await get(`/api/events/e1/snapshot.jpg?token=${shortTok}`)).toBe(401);
  });

  it('API keys are stored hashed, record their last use, and stop working when revoked', async () => {
    const k = await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'ha', scope: 'read' });
    expect(k.body.key).toMatch(/^vgl_/);
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: k.body.key })).status).toBe(200);
    const listed = (await api(h.baseUrl, 'GET', '/api/api-keys')).body.find((x: { id: string }) => x.id === k.body.id);
    expect(listed.last_used_at).toBeGreaterThan(0);
    // The secret part (base64url: it may itself contain `_`).
    const secret = (k.body.key as string).slice(`vgl_${k.body.id}_`.length);
    expect(secret.length).toBeGreaterThan(20);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const db = new Database(join(h.dataDir, 'vigil.db'), { readonly: true });
    expect(JSON.stringify(db.prepare('SELECT * FROM api_keys').all())).not.toContain(secret);
    db.close();
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: `${k.body.key.slice(0, -3)}xyz` })).status).toBe(401);
    // A media token minted with the key belongs to the key: revoking the key stops it too.
    await api(h.baseUrl, 'POST', '/api/cameras', { name: 'keycam', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } });
    const mt = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'keycam' }, { apiKey: k.body.key })).body.token as string;
    const latest = () => fetch(`${h.baseUrl}/api/cameras/keycam/latest.jpg?token=${mt}`).then((r) => r.status);
    const before = await fetch(`${h.baseUrl}/api/cameras/keycam/latest.jpg?token=${mt}`).then((r) => r.json());
    expect(before.error.code).toBe('no_frame'); // authorized; the disabled camera just has no frame
    expect((await api(h.baseUrl, 'DELETE', `/api/api-keys/${k.body.id}`)).status).toBe(204);
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: k.body.key })).status).toBe(401);
    expect(await latest()).toBe(404);
    const body = await fetch(`${h.baseUrl}/api/cameras/keycam/latest.jpg?token=${mt}`).then((r) => r.json());
    expect(body.error.message).toMatch(/does not open/); // refused by the token check, not by the missing frame
  });
});

describe('input that reaches the file system or ffmpeg', () => {
  let h: TestHub;
  beforeAll(async () => { h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }); });
  afterAll(async () => { await h?.stop(); });

  it.each([
    ['http scheme', 'http://cam.local/video'],
    ['file outside the media roots', 'file:///etc/passwd'],
    ['file traversal out of a root', 'file:///usr/share/doc/opencv-doc/examples/data/../../../../../etc/passwd'],
    ['ffmpeg option in the URL', 'rtsp://cam/stream -i /etc/passwd'],
    ['ffmpeg option as the URL', '-f lavfi -i testsrc'],
    ['newline', 'rtsp://cam/stream\n-y'],
    ['concat protocol', 'concat:/etc/passwd|/etc/shadow'],
    ['pipe protocol', 'pipe:0'],
  ])('refuses a camera URL with %s', async (_what, url) => {
    const r = await api(h.baseUrl, 'POST', '/api/cameras', { name: 'evil', paths: { detect: url } });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('paths.detect');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/evil')).status).toBe(404);
  });

  it('refuses path traversal on every media route', async () => {
    const repo = new EventsRepo((h.hub as unknown as { ds: import('typeorm').DataSource }).ds);
    // A row whose camera name would climb out of the media root (only reachable by a tampered database).
    await repo.upsert({ id: 'trav', camera: '../../../../etc', frame_time: 1, label: 'x', sub_label: null, score: 1, top_score: 1, false_positive: false, start_time: 1, end_time: 2, box: [0, 0, 1, 1], area: 1, ratio: 1, current_zones: [], entered_zones: [], loitering: false, has_snapshot: true, has_clip: false, stationary: false, motionless_count: 0, position_changes: 0 });
    const paths = [
      '/api/events/trav/snapshot.jpg', '/api/events/trav/thumbnail.jpg',
      '/api/events/..%2F..%2F..%2Fetc%2Fpasswd/snapshot.jpg', '/api/events/%2e%2e/snapshot.jpg',
      '/api/cameras/..%2F..%2Fetc/latest.jpg', '/api/cameras/%2e%2e/latest.jpg',
      '/api/cameras/..%2F..%2Fetc/live.jpg', '/api/cameras/%2e%2e/live.mjpeg',
      '/api/recordings/..%2F..%2Fetc%2Fpasswd/file', '/api/recordings/x:..%2F..%2Fetc/segment.ts',
      '/api/cameras/..%2Fetc/recordings.mp4?start=1&end=2', '/api/cameras/..%2Fetc/recordings.m3u8?start=1&end=2',
      '/api/exports/..%2F..%2Fetc%2Fpasswd/file', '/api/exports/%2e%2e/file',
    ];
    for (const p of paths) {
      const res = await api(h.baseUrl, 'GET', p);
      expect([400, 404], `${p} → ${res.status}`).toContain(res.status);
      expect(typeof res.body === 'object' && res.body?.error?.code).toBeTruthy(); // a JSON error, never a file
    }
    expect((await api(h.baseUrl, 'GET', '/api/events/trav/snapshot.jpg')).body.error.code).toBe('bad_path');
  });
});

describe('secrets', () => {
  it('a camera password set through the API appears in no API response, MQTT message or log line', async () => {
    const h = await startTestHub({ detector: { enabled: false } });
    const SECRET = 'Pa55-w0rd-that-must-not-leak';
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/#']);
    try {
      const bodies: string[] = [];
      const call = async (m: string, p: string, b?: unknown) => { const r = await api(h.baseUrl, m, p, b); bodies.push(JSON.stringify(r.body) ?? ''); return r; };
      expect((await call('POST', '/api/cameras', { name: 'gate', paths: { detect: `rtsp://admin:${SECRET}@127.0.0.1:1/stream` } })).status).toBe(201);
      await call('PATCH', '/api/cameras/gate', { password: SECRET, detect: { fps: 2 } });
      await call('PUT', '/api/cameras/gate', { paths: { detect: 'rtsp://127.0.0.1:1/stream' }, password: SECRET });
      for (const p of ['/api/cameras', '/api/cameras/gate', '/api/system', '/api/activity', '/api/events', '/api/openapi.json']) await call('GET', p);
      await sleep(2500); // the camera component tries the URL (connection refused) and logs it
      for (const b of bodies) expect(b).not.toContain(SECRET);
      for (const m of rec.messages) expect(m.payload.includes(SECRET), m.topic).toBe(false);
      const cfg = rec.messages.filter((m) => m.topic === 'vigil/camera/gate/config').at(-1)!;
      expect(JSON.parse(cfg.payload.toString()).password).toMatch(/^sealed:v1:/);
      expect(h.logs()).toContain('camera input offline'); // the camera component did run with it
      expect(h.logs()).not.toContain(SECRET);
      const db = new Database(join(h.dataDir, 'vigil.db'), { readonly: true });
      const row = db.prepare('SELECT password, paths FROM cameras WHERE name = ?').get('gate') as { password: string; paths: string };
      const activity = JSON.stringify(db.prepare('SELECT details FROM activity').all());
      db.close();
      expect(row.password).toMatch(/^sealed:v1:/);
      expect(row.paths).not.toContain(SECRET);
      expect(activity).not.toContain(SECRET);
      expect(activity).toContain('[redacted]');
    } finally {
      await rec.close();
      await h.stop();
    }
  });
});
