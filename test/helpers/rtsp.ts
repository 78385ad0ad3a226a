import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Footage looped by the test camera: 768x576, 10 fps, 79.5 s of pedestrians (Debian package opencv-doc). */
const FOOTAGE = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
/** System interpreter: it has the `gi` bindings (python3-gi); the pyenv `python3` on PATH does not. */
const PYTHON = '/usr/bin/python3';
const SERVER_SCRIPT = fileURLToPath(new URL('../fixtures/rtsp_server.py', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_KEEP = 16 * 1024;

/** A running test camera (see `test/fixtures/rtsp_server.py`). */
export interface RtspServer {
  /** Base URL, `rtsp://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  /** TCP port of the RTSP listener on 127.0.0.1. */
  port: number;
  /** `${url}/main`: H.264 at source size (768x576 for the default footage), 10 fps, keyframe every second. */
  mainUrl: string;
  /** `${url}/sub`: H.264 scaled to 384x288, 10 fps, keyframe every second. */
  subUrl: string;
  /** SIGTERM the server and resolve once it has exited (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** kill -9, to simulate a camera dropping off; resolves once the process is gone. Idempotent. */
  kill(): Promise<void>;
  /** OS process id (SIGSTOP/SIGCONT freeze a camera with its connections open). */
  pid: number;
}

/**
 * Path of the footage the test camera loops by default.
 *
 * @returns `/usr/share/doc/opencv-doc/examples/data/vtest.avi` (768x576, 10 fps msmpeg4v3, 79.5 s).
 * @throws Error naming `apt-get install opencv-doc` when the file is missing.
 */
export function footagePath(): string {
  if (!existsSync(FOOTAGE)) {
    throw new Error(
      `Test footage ${FOOTAGE} is missing: install it with \`apt-get install opencv-doc\` ` +
        '(the RTSP test camera loops this clip).',
    );
  }
  return FOOTAGE;
}

/**
 * Start a real RTSP camera: `/usr/bin/python3 test/fixtures/rtsp_server.py`, a
 * gst-rtsp-server that loops `source` forever with continuous timestamps and
 * serves `/main` and `/sub` on 127.0.0.1 (TCP-interleaved or UDP unicast).
 *
 * Resolves once the server prints its `READY rtsp://127.0.0.1:PORT` line, i.e.
 * when it accepts RTSP connections. The server exits by itself if this Node
 * process dies. Always `stop()` (or `kill()`) it, e.g. in `afterAll`.
 *
 * @param opts.port TCP port to listen on; omitted or 0 lets the server bind any
 *   free port (race-free). Pass the previous `port` to restart a camera at the
 *   same address after `kill()`.
 * @param opts.source Video file to loop (anything GStreamer's decodebin reads;
 *   even width and height); defaults to {@link footagePath}.
 * @returns The running server's handle.
 * @throws If the footage is missing (see {@link footagePath}), `python3` cannot be
 *   spawned, the server exits early (e.g. port in use, unreadable source) or is
 *   not ready within 20 s; the message includes the server's stderr.
 */
export async function startRtspServer(opts: { port?: number; source?: string } = {}): Promise<RtspServer> {
  const source = opts.source ?? footagePath();
  const requestedPort = opts.port ?? 0;
  const args = [
    SERVER_SCRIPT,
    '--port',
    String(requestedPort),
    '--source',
    source,
    '--parent-pid',
    String(process.pid),
  ];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  // Keep draining stderr for the whole life of the process so it can never block on a full pipe.
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    let settled = false;
    const finish = (err: Error | null, value?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(value!);
    };
    const describe = (what: string): Error =>
      new Error(
        `RTSP test server (${PYTHON} ${SERVER_SCRIPT} --port ${requestedPort} --source ${source}) ${what}` +
          (stderr.trim() ? `; stderr:\n${stderr.trim()}` : '; no stderr output'),
      );
    const timer = setTimeout(
      () => finish(describe(`not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (settled) return; // keep draining, ignore anything after READY
      stdout += chunk;
      const m = /^READY (rtsp:\/\/\S+)\s*$/m.exec(stdout);
      if (m) finish(null, m[1]!);
    });
    child.on('error', (err) => finish(describe(`could not be spawned: ${err.message}`)));
    child.once('exit', (code, signal) => {
      // Let stderr flush before reporting why it died.
      setTimeout(() => finish(describe(`exited before READY (code ${code}, signal ${signal})`)), 50);
    });
  });

  const port = Number(new URL(url).port);

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      if (signal !== 'SIGKILL') {
        const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(grace);
      }
    }
    await exited;
  };

  return {
    url,
    port,
    mainUrl: `${url}/main`,
    subUrl: `${url}/sub`,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    pid: child.pid!,
  };
}
