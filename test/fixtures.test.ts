import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const execFileP = promisify(execFile);

interface ProbedStream {
  codec_name?: string;
  codec_type?: string;
  width?: number;
  height?: number;
}

/** ffprobe an RTSP URL over TCP; returns the video stream or throws if ffprobe fails. */
async function probe(url: string): Promise<ProbedStream> {
  const { stdout } = await execFileP(
    'ffprobe',
    ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', url],
    { timeout: 15_000 },
  );
  const streams = (JSON.parse(stdout) as { streams?: ProbedStream[] }).streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video) throw new Error(`no video stream in ${url}: ${stdout}`);
  return video;
}

describe('RTSP test camera', () => {
  const servers: RtspServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('serves /main 768x576 and /sub 384x288 H.264, drops off on kill() and comes back on the same port', async () => {
    const cam = await startRtspServer();
    servers.push(cam);
    expect(cam.url).toBe(`rtsp://127.0.0.1:${cam.port}`);
    expect(cam.mainUrl).toBe(`${cam.url}/main`);
    expect(cam.subUrl).toBe(`${cam.url}/sub`);

    const [main, sub] = await Promise.all([probe(cam.mainUrl), probe(cam.subUrl)]);
    expect(main).toMatchObject({ codec_name: 'h264', width: 768, height: 576 });
    expect(sub).toMatchObject({ codec_name: 'h264', width: 384, height: 288 });

    await cam.kill();
    await expect(probe(cam.mainUrl)).rejects.toThrow();

    const again = await startRtspServer({ port: cam.port });
    servers.push(again);
    expect(again.url).toBe(cam.url);
    expect(await probe(again.mainUrl)).toMatchObject({ codec_name: 'h264', width: 768, height: 576 });
  });
});

describe('Mosquitto test broker', () => {
  let broker: MosquittoBroker | undefined;
  afterAll(async () => {
    await broker?.stop();
  });

  it('round-trips a message through mosquitto_pub/mosquitto_sub', async () => {
    broker = await startMosquitto();
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    const common = ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'vigil/fixtures/test'];
    const payload = `hello ${Date.now()}`;

    const sub = spawn('mosquitto_sub', [...common, '-C', '1', '-W', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sub.stdout.setEncoding('utf8');
    sub.stderr.setEncoding('utf8');
    sub.stdout.on('data', (c: string) => (out += c));
    sub.stderr.on('data', (c: string) => (out += c));
    let exited = false;
    const exit = new Promise<number | null>((resolve) =>
      sub.once('exit', (code) => {
        exited = true;
        resolve(code);
      }),
    );

    // mosquitto_sub gives no "subscribed" signal on a pipe (stdio buffering), so publish
    // until the subscriber has received one message and exited (-C 1), or -W 10 expires.
    while (!exited) {
      await execFileP('mosquitto_pub', [...common, '-q', '1', '-m', payload], { timeout: 10_000 });
      await Promise.race([exit, new Promise((r) => setTimeout(r, 200))]);
    }
    expect(await exit, out).toBe(0);
    expect(out).toContain(payload);
  });
});
