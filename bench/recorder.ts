/**
 * CPU per recorded camera: one CameraInput recording a real RTSP stream (768×576 H.264,
 * 10 fps) with `-c copy` segments and nothing else, for `seconds`; CPU of its ffmpeg
 * (from /proc) and of this Node process (filing segments), as % of one core. Reference
 * in the same run: a bare `ffmpeg -c copy -f null` reading the same stream.
 * Target: under 2 % of one core per recorded camera.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { CameraInput } from '../components/camera/camera-input.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { startRtspServer } from '../test/helpers/rtsp.ts';
import { round } from './frames.ts';

const TICKS = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** ffmpeg children of this process whose command line contains `needle`. */
function ffmpegChildren(needle: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d: string) => /^\d+$/.test(d)).map(Number)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid && cmd.includes('ffmpeg') && cmd.includes(needle)) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

/** Measures; `seconds` per window (default 30). */
export async function benchRecorder(opts: { seconds?: number } = {}): Promise<Record<string, number | string>> {
  const seconds = opts.seconds ?? 30;
  const rtsp = await startRtspServer();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-rec-'));
  try {
    // Reference: ffmpeg copying the stream to nowhere.
    const ref = spawn(ffmpegPath(), ['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp.mainUrl, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], { stdio: 'ignore' });
    await sleep(3000);
    const r0 = cpuSeconds(ref.pid!);
    await sleep(seconds * 1000);
    const refPct = ((cpuSeconds(ref.pid!) - r0) / seconds) * 100;
    ref.kill('SIGKILL');

    let segments = 0;
    const input = new CameraInput({ url: rtsp.mainUrl, outputs: { record: { dir, segmentSeconds: 10 } }, logger: pino({ level: 'silent' }) });
    input.on('segment', () => { segments++; });
    input.start();
    await sleep(3000);
    const [pid] = ffmpegChildren(rtsp.mainUrl);
    const f0 = cpuSeconds(pid!);
    const n0 = process.cpuUsage();
    await sleep(seconds * 1000);
    const ffPct = ((cpuSeconds(pid!) - f0) / seconds) * 100;
    const n = process.cpuUsage(n0);
    const nodePct = ((n.user + n.system) / 1e6 / seconds) * 100;
    await input.stop();
    return {
      seconds,
      stream: '768x576 H.264 10 fps over RTSP/TCP',
      segments_written: segments,
      recorder_ffmpeg_cpu_pct_of_core: round(ffPct, 2),
      node_cpu_pct_of_core: round(nodePct, 2),
      per_camera_total_pct: round(ffPct + nodePct, 2),
      reference_copy_to_null_cpu_pct: round(refPct, 2),
      ratio_to_reference: round(ffPct / refPct, 2),
      target_pct: 2,
      within_target: ffPct + nodePct < 2 ? 'yes' : 'no',
    };
  } finally {
    await rtsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchRecorder());
  process.exit(0);
}
