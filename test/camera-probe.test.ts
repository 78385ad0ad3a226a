/**
 * `POST /api/cameras/probe` (hub/services/stream-probe.ts) against real sources and a real
 * hub: the RTSP test camera (H.264 main and sub streams of real footage), `file://` sources
 * inside the allowed roots (OpenCV's vtest.avi, and an H.264 + AAC clip made from it with
 * ffmpeg), a port nobody listens on, a server that accepts and never answers (the timeout
 * kills ffprobe), an RTSP server that answers 401, bad URLs and bodies, and the role check.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { freePort } from './helpers/ports.ts';
import { footagePath, startRtspServer, type RtspServer } from './helpers/rtsp.ts';

let h: TestHub;
let rtsp: RtspServer;
let clip: string;
const probe = (body: unknown, auth?: { token: string }) => api(h.baseUrl, 'POST', '/api/cameras/probe', body, auth);

/** A TCP server; `onSocket` decides what it says. */
async function tcpServer(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => { sockets.push(s); s.on('error', () => undefined); onSocket(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

async function closeServer(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  await new Promise<void>((r) => s.server.close(() => r()));
}

/** ffprobe processes that are children of this process (the hub runs in it). */
function ffprobeChildren(): string[] {
  try {
    return execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' }).split('\n').filter((c) => c.trim() === 'ffprobe');
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
}

beforeAll(async () => {
  rtsp = await startRtspServer();
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  // An H.264 + AAC clip made from the real footage, inside the hub's media root (an allowed file root).
  const media = join(h.dataDir, 'media');
  mkdirSync(media, { recursive: true });
  clip = join(media, 'clip with space.mp4');
  await promisify(execFile)(ffmpegPath(), ['-v', 'error', '-y', '-t', '2', '-i', footagePath(), '-f', 'lavfi', '-t', '2', '-i', 'sine=frequency=440:sample_rate=16000',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '1', '-shortest', clip]);
});

afterAll(async () => {
  await h?.stop();
  await rtsp?.stop();
});

describe('POST /api/cameras/probe', () => {
  it('probes the RTSP test camera: H.264 at 768×576 and 384×288, 10 fps', async () => {
    const main = await probe({ url: rtsp.mainUrl });
    expect(main.status, JSON.stringify(main.body)).toBe(200);
    expect(main.body.url).toBe(rtsp.mainUrl);
    expect(main.body.format).toBe('rtsp');
    expect(main.body.streams).toHaveLength(1);
    expect(main.body.streams[0]).toMatchObject({ index: 0, type: 'video', codec: 'h264', width: 768, height: 576, pix_fmt: 'yuv420p' });
    expect(typeof main.body.streams[0].profile).toBe('string');
    expect(main.body.streams[0].fps).toBe(10);

    const sub = await probe({ url: rtsp.subUrl, timeout_ms: 15_000 });
    expect(sub.status).toBe(200);
    expect(sub.body.streams[0]).toMatchObject({ type: 'video', codec: 'h264', width: 384, height: 288, fps: 10 });
  });

  it('moves inline credentials out of the URL and never echoes them', async () => {
    // The test camera asks for no login: credentials are sent and ignored, never shown.
    const withCreds = rtsp.mainUrl.replace('rtsp://', 'rtsp://cam%40user:s3cr%C3%A9t@');
    const res = await probe({ url: withCreds });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.url).toBe(rtsp.mainUrl);
    expect(JSON.stringify(res.body)).not.toMatch(/s3cr|cam%40user|cam@user/);
  });

  it('probes file:// sources inside the allowed roots: the demo footage, and an H.264 + AAC clip', async () => {
    const avi = await probe({ url: pathToFileURL(footagePath()).toString() });
    expect(avi.status, JSON.stringify(avi.body)).toBe(200);
    expect(avi.body.format).toBe('avi');
    expect(avi.body.streams).toEqual([{ index: 0, type: 'video', codec: 'msmpeg4v3', profile: null, width: 768, height: 576, fps: 10, pix_fmt: 'yuv420p' }]);

    const mp4 = await probe({ url: pathToFileURL(clip).toString() });
    expect(mp4.status, JSON.stringify(mp4.body)).toBe(200);
    expect(mp4.body.format).toMatch(/mp4/);
    const video = mp4.body.streams.find((s: { type: string }) => s.type === 'video');
    const audio = mp4.body.streams.find((s: { type: string }) => s.type === 'audio');
    expect(video).toMatchObject({ codec: 'h264', profile: 'Main', width: 768, height: 576, fps: 10, pix_fmt: 'yuv420p' });
    expect(audio).toMatchObject({ codec: 'aac', profile: 'LC', width: null, height: null, fps: null, sample_rate: 16000, channels: 1 });
  });

  it('answers probe_failed on url, quickly, when nothing listens on the port', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const res = await probe({ url: `rtsp://admin:hunter22@127.0.0.1:${port}/stream`, timeout_ms: 10_000 });
    const took = Date.now() - t0;
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'probe_failed', field: 'url', message: expect.stringMatching(/refused/i) });
    expect(JSON.stringify(res.body)).not.toContain('hunter22');
    expect(took).toBeLessThan(5000); // a refused connection does not wait for the 10 s timeout
  });

  it('kills ffprobe when the timeout passes on a server that never answers', async () => {
    const silent = await tcpServer(() => undefined);
    try {
      const t0 = Date.now();
      const res = await probe({ url: `rtsp://127.0.0.1:${silent.port}/stream`, timeout_ms: 1000 });
      const took = Date.now() - t0;
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'probe_failed', field: 'url' });
      expect(res.body.error.message).toMatch(/within 1000 ms|timed out|timeout/i);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(8000);
      expect(silent.sockets.length).toBeGreaterThanOrEqual(1); // ffprobe did connect
      expect(ffprobeChildren()).toEqual([]);
    } finally {
      await closeServer(silent);
    }
  });

  it('answers probe_failed on password when the RTSP server answers 401, without echoing the credentials', async () => {
    // A minimal RTSP server that wants a login nobody has: OPTIONS 200, every DESCRIBE 401.
    const describes: string[] = [];
    const locked = await tcpServer((s) => {
      let buf = '';
      s.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        let end: number;
        while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          const cseq = /^CSeq:\s*(\d+)/im.exec(head)?.[1] ?? '0';
          if (head.startsWith('OPTIONS')) s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n`);
          else {
            describes.push(head);
            s.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`);
          }
        }
      });
    });
    try {
      const url = `rtsp://127.0.0.1:${locked.port}/stream`;
      const anonymous = await probe({ url });
      expect(anonymous.status).toBe(400);
      expect(anonymous.body.error).toMatchObject({ code: 'probe_failed', field: 'password', message: expect.stringMatching(/needs a username and password/) });

      const wrong = await probe({ url, username: 'admin', password: 'hunter22' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toMatchObject({ code: 'probe_failed', field: 'password', message: expect.stringMatching(/wrong username or password/) });
      expect(JSON.stringify(wrong.body)).not.toContain('hunter22');
      // ffprobe did send the credentials (Basic auth) to the camera.
      expect(describes.some((d) => d.includes(`Authorization: Basic ${Buffer.from('admin:hunter22').toString('base64')}`))).toBe(true);
    } finally {
      await closeServer(locked);
    }
  });

  it('refuses bad URLs and bodies with validation_failed on the field at fault', async () => {
    const bad: Array<[unknown, string, RegExp]> = [
      [{ url: 'http://example.com/stream' }, 'url', /only rtsp:\/\/, rtsps:\/\/ and file:\/\//],
      [{ url: 'rtsp://cam /x' }, 'url', /no spaces/],
      [{ url: 'file:///etc/passwd' }, 'url', /file:\/\/ URLs must point into/],
      [{ url: 'file://nas/etc/passwd' }, 'url', /host must be "localhost" or empty/],
      [{ url: 42 }, 'url', /url/],
      [{}, 'url', /url/],
      [{ url: rtsp.mainUrl, timeout_ms: 50 }, 'timeout_ms', /timeout_ms/],
      [{ url: rtsp.mainUrl, extra: 1 }, 'extra', /unknown key/],
    ];
    for (const [body, field, message] of bad) {
      const res = await probe(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code: 'validation_failed', field, message: expect.stringMatching(message) });
    }
    // A file inside the roots that is not a stream: ffprobe's own message.
    const notVideo = await probe({ url: pathToFileURL(join(h.dataDir, 'media')).toString() });
    expect(notVideo.status).toBe(400);
    expect(notVideo.body.error).toMatchObject({ code: 'probe_failed', field: 'url' });
  });

  it('is for admins: an operator gets 403, an anonymous caller 401', async () => {
    const auth = h.hub.auth!;
    const u = await auth.users.create({ username: 'otto', password: 'otto-password-long', role: 'operator' });
    const token = (await auth.sessions.open(u.id, '127.0.0.1')).access_token;
    const op = await probe({ url: rtsp.mainUrl }, { token });
    expect(op.status).toBe(403);
    expect((await api(h.baseUrl, 'POST', '/api/cameras/probe', { url: rtsp.mainUrl }, null)).status).toBe(401);
    // Nothing was created by any probe.
    expect((await api(h.baseUrl, 'GET', '/api/cameras')).body).toEqual([]);
  });
});
