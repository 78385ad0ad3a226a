/**
 * Live view of a camera run by another process (`hub/live/live-over-bus.ts`): a real hub
 * (embedded broker, no in-process camera component) and `components/main.ts camera` as its
 * own OS process on the RTSP test camera (768×576 H.264, 10 fps, keyframe every second).
 *
 * Figures:
 * - **start-up**: from opening the live WebSocket (no lease held before: each connect is
 *   a new lease) to the first init segment and the first fragment, ms (median of N);
 * - **relay delay**: for each fragment, its arrival at the WebSocket viewer minus the
 *   time the camera process published it (`ts` in the bus header; same machine clock),
 *   ms, median and p95 — what the bus hop and the hub's fan-out add to the in-process path;
 * - **bus traffic** while watched (KB/s on `vigil/camera/<cam>/live/+`) and while nobody
 *   watches (must be 0).
 *
 * Run: `npx tsx bench/live-remote.ts [connects]` (default 5).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { Fmp4Splitter } from '../components/protocol/fmp4.ts';
import { decodeLive } from '../components/protocol/live-wire.ts';
import { startRtspServer } from '../test/helpers/rtsp.ts';
import { api, startTestHub } from '../test/helpers/hub.ts';
import { percentile, round } from './frames.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the benchmark; returns its figures. */
export async function benchLiveRemote(connects = 5): Promise<Record<string, number | string>> {
  const rtsp = await startRtspServer();
  const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, log: { level: 'warn' } });
  const dev = await h.hub.auth!.credentials.createDevice({ id: 'bench-camera', kind: 'component' });
  const cam = spawn(process.execPath, ['--import', 'tsx', 'components/main.ts', 'camera', '--mqtt', h.mqttUrl, '--client-id', 'bench-camera'], {
    cwd: ROOT, stdio: 'ignore', env: { ...process.env, VIGIL_MQTT__USERNAME: 'bench-camera', VIGIL_MQTT__PASSWORD: dev.password, VIGIL_LOG__LEVEL: 'warn' },
  });
  const bus = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds });
  /** Camera publish time (header ts) by mfhd sequence, and bytes, of what the bus carried. */
  const published = new Map<number, number>();
  let busBytes = 0;
  bus.on('message', (topic, payload) => {
    if (!topic.endsWith('/live/main')) return;
    busBytes += payload.length;
    const { header, body } = decodeLive(payload);
    if (header.kind !== 'fragment') return;
    for (const u of new Fmp4Splitter().push(body)) if (u.kind === 'fragment') published.set(u.sequence, header.ts);
  });
  await bus.subscribeAsync('vigil/camera/bench/live/+');
  try {
    await sleep(4000); // the camera process connects
    const res = await api(h.baseUrl, 'POST', '/api/cameras', { name: 'bench', paths: { detect: rtsp.mainUrl }, detect: { fps: 5, width: 320 } });
    if (res.status !== 201) throw new Error(`camera not created: ${res.status}`);
    await sleep(6000); // ffmpeg runs, the GOP cache fills

    const idleFrom = busBytes;
    await sleep(3000);
    const idleBytes = busBytes - idleFrom;

    const token = (await api(h.baseUrl, 'POST', '/api/media-tokens', { camera: 'bench' })).body.token as string;
    const toInit: number[] = [];
    const toFragment: number[] = [];
    const relay: number[] = [];
    let watchedBytes = 0;
    let watchedMs = 0;
    for (let i = 0; i < connects; i++) {
      const t0 = Date.now();
      const ws = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/cameras/bench/live?token=${token}`);
      const splitter = new Fmp4Splitter();
      let gotInit = 0;
      let gotFrag = 0;
      let cached = true;
      const b0 = busBytes;
      ws.on('message', (data: Buffer, binary) => {
        if (!binary) return;
        const at = Date.now();
        for (const u of splitter.push(data)) {
          if (u.kind === 'init') { gotInit ||= at; continue; }
          gotFrag ||= at;
          // The GOP cache arrives in a burst: its fragments were published before the lease; measure live ones only.
          if (cached && at - gotFrag < 50) continue;
          cached = false;
          const ts = published.get(u.sequence);
          if (ts !== undefined) relay.push(at - ts);
        }
      });
      await sleep(5000);
      ws.close();
      watchedBytes += busBytes - b0;
      watchedMs += 5000;
      if (gotInit) toInit.push(gotInit - t0);
      if (gotFrag) toFragment.push(gotFrag - t0);
      await sleep(3000); // the lease ends; the next connect starts a new one
    }
    return {
      connects,
      startup_to_init_ms_median: round(percentile(toInit, 50), 0),
      startup_to_first_fragment_ms_median: round(percentile(toFragment, 50), 0),
      relay_delay_ms_median: round(percentile(relay, 50), 1),
      relay_delay_ms_p95: round(percentile(relay, 95), 1),
      relayed_fragments: relay.length,
      bus_kbytes_per_s_watched: round(watchedBytes / watchedMs, 1),
      bus_bytes_idle_3s: idleBytes,
    };
  } finally {
    await bus.endAsync(true);
    cam.kill('SIGTERM');
    await new Promise((r) => cam.once('exit', r));
    await h.stop();
    await rtsp.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.table(await benchLiveRemote(Number(process.argv[2]) || 5));
  process.exit();
}
