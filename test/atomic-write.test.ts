/**
 * Atomic writes (`components/protocol/atomic-write.ts`, Vigil issue #12): concurrent writes
 * of one path — in this process and from other processes — never fail, leave one complete
 * version and no temporary file; failures clean up; key files are created exclusively. And
 * the hub's event store, under a burst of snapshot and crop messages for one event on the
 * detector's topics, stores the newest images without a rename error.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFileExclusiveSync, isTempFileOf, pendingWrites, removeTempFiles, replaceFileAtomic, tempPathFor, writeFileAtomic, writeFileAtomicSync,
} from '../components/protocol/atomic-write.ts';
import { Topics } from '../components/protocol/topics.ts';
import { startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const DATA = '/usr/share/doc/opencv-doc/examples/data';
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'vigil-atomic-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Version `i` of a test file: distinct, `bytes` long, self-describing (`v<i>:` then filler derived from i). */
function version(i: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes, (i * 37) % 251);
  b.write(`v${i}:`, 0, 'latin1');
  return b;
}

/** Which version `buf` is, when it is exactly one of `versions`; else -1. */
function whichVersion(buf: Buffer, versions: Buffer[]): number {
  return versions.findIndex((v) => v.equals(buf));
}

function tempFilesIn(d: string): string[] {
  return readdirSync(d).filter((n) => n.endsWith('.tmp'));
}

describe('writeFileAtomic', () => {
  it('many concurrent writes of one path: no error, the last version complete, no temp file; readers only ever see whole versions', async () => {
    const file = join(dir, 'same.jpg');
    const versions = Array.from({ length: 200 }, (_, i) => version(i, 64 * 1024 + i));
    writeFileSync(file, versions[0]!);
    let reading = true;
    const seen = new Set<number>();
    const reader = (async () => {
      while (reading) {
        const got = whichVersion(await readFile(file), versions);
        seen.add(got);
      }
    })();
    const results = await Promise.allSettled(versions.map((v) => writeFileAtomic(file, v)));
    reading = false;
    await reader;
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(whichVersion(readFileSync(file), versions)).toBe(versions.length - 1); // last call wins
    expect(seen.has(-1)).toBe(false); // never a partial or mixed file
    expect(tempFilesIn(dir)).toEqual([]);
    expect(pendingWrites()).toBe(0);
  });

  it('writes interleaved with replaceFileAtomic of the same path run in call order', async () => {
    const file = join(dir, 'mixed.bin');
    const order: string[] = [];
    const jobs = [
      writeFileAtomic(file, 'a').then(() => order.push('a')),
      replaceFileAtomic(file, async (tmp) => { writeFileSync(tmp, 'b'); }).then(() => order.push('b')),
      writeFileAtomic(file, 'c').then(() => order.push('c')),
    ];
    await Promise.all(jobs);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(readFileSync(file, 'utf8')).toBe('c');
  });

  it('concurrent writes from three processes (this one and two children) never collide', async () => {
    const file = join(dir, 'cross-process.txt');
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(join(root, 'components/protocol/atomic-write.ts'))};
      const tag = process.env.WRITER_TAG;
      const jobs = [];
      for (let i = 0; i < 150; i++) jobs.push(writeFileAtomic(${JSON.stringify(file)}, tag + ':' + i + ':' + 'x'.repeat(20000)));
      const r = await Promise.allSettled(jobs);
      const failed = r.filter((x) => x.status === 'rejected').map((x) => String(x.reason));
      process.stdout.write(JSON.stringify(failed));
    `;
    const child = (tag: string) => new Promise<string[]>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRITER_TAG: tag } });
      let out = '';
      let err = '';
      p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      p.stderr.on('data', (c: Buffer) => { err += c.toString(); });
      p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`child ${tag} exited ${code}: ${err}`))));
    });
    const mine = Array.from({ length: 150 }, (_, i) => writeFileAtomic(file, `p:${i}:${'x'.repeat(20000)}`));
    const [a, b, own] = await Promise.all([child('c1'), child('c2'), Promise.allSettled(mine)]);
    expect(a).toEqual([]);
    expect(b).toEqual([]);
    expect(own.filter((r) => r.status === 'rejected')).toEqual([]);
    const final = readFileSync(file, 'utf8');
    expect(final.slice(0, 12)).toMatch(/^(c1|c2|p):\d+:x/);
    expect(/^(c1|c2|p):\d+:x{20000}$/.test(final)).toBe(true); // one whole version
    expect(tempFilesIn(dir)).toEqual([]);
  }, 60_000);

  it('a failed write throws and leaves neither a temp file nor a changed target', async () => {
    const d = join(dir, 'fail');
    mkdirSync(join(d, 'target-is-a-dir', 'child'), { recursive: true });
    // rename(2) of a file over a non-empty directory fails (EISDIR).
    await expect(writeFileAtomic(join(d, 'target-is-a-dir'), 'data')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    // A missing directory: ENOENT, nothing created.
    await expect(writeFileAtomic(join(d, 'missing', 'x.jpg'), 'data')).rejects.toMatchObject({ code: 'ENOENT' });
    // A producer that fails half-way: its partial file is removed, the old content stays.
    writeFileSync(join(d, 'export.mp4'), 'old');
    await expect(replaceFileAtomic(join(d, 'export.mp4'), async (tmp) => {
      writeFileSync(tmp, 'half');
      throw new Error('ffmpeg exited with 1');
    })).rejects.toThrow('ffmpeg exited with 1');
    expect(readFileSync(join(d, 'export.mp4'), 'utf8')).toBe('old');
    expect(tempFilesIn(d)).toEqual([]);
    expect(() => writeFileAtomicSync(join(d, 'target-is-a-dir'), 'x')).toThrow();
    expect(tempFilesIn(d)).toEqual([]);
    expect(pendingWrites()).toBe(0);
  });

  it('temp names are unique, recognisable, and crash leftovers can be removed', async () => {
    const file = join(dir, 'clip.mp4');
    const names = new Set(Array.from({ length: 1000 }, () => tempPathFor(file)));
    expect(names.size).toBe(1000);
    const one = [...names][0]!;
    expect(one).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.${process.pid}\\.[0-9a-f]{16}\\.tmp$`));
    expect(isTempFileOf('clip.mp4', one.slice(dir.length + 1))).toBe(true);
    expect(isTempFileOf('clip.mp4', 'clip.mp4.tmp')).toBe(false);
    expect(isTempFileOf('clip', one.slice(dir.length + 1))).toBe(false);
    writeFileSync(one, 'left by a crash');
    writeFileSync(join(dir, 'clip.mp4.notes.tmp'), 'not ours');
    expect(await removeTempFiles(file)).toBe(1);
    expect(existsSync(one)).toBe(false);
    expect(existsSync(join(dir, 'clip.mp4.notes.tmp'))).toBe(true);
    rmSync(join(dir, 'clip.mp4.notes.tmp'));
  });
});

describe('createFileExclusiveSync', () => {
  it('creates a key file once, whole, with its mode; a second creator gets false and the first content', () => {
    const file = join(dir, 'secret.key');
    expect(createFileExclusiveSync(file, Buffer.alloc(32, 1), { mode: 0o600 })).toBe(true);
    expect(createFileExclusiveSync(file, Buffer.alloc(32, 2), { mode: 0o600 })).toBe(false);
    expect(readFileSync(file)).toEqual(Buffer.alloc(32, 1));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

describe('event store under a burst of images for one event', () => {
  let h: TestHub;
  let rec: MqttRecorder;

  beforeAll(async () => {
    h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
    rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/events']);
  });
  afterAll(async () => {
    await rec?.close();
    await h?.stop();
  });

  it('stores the newest snapshot and crop with no rename error and no temp file', async () => {
    const t = new Topics();
    // Real JPEGs (OpenCV's sample data): each message a different image.
    const jpegs = readdirSync(DATA).filter((n) => n.endsWith('.jpg')).sort().map((n) => readFileSync(join(DATA, n)));
    expect(jpegs.length).toBeGreaterThanOrEqual(20);
    const id = `${(Date.now() / 1000).toFixed(3)}-burst1`;
    const camera = 'yard';
    const now = Date.now() / 1000;
    const after = { id, camera, label: 'person', sub_label: null, score: 0.9, top_score: 0.9, box: [10, 20, 110, 220], area: 20000, ratio: 0.5, current_zones: [], entered_zones: [], start_time: now, end_time: null, has_snapshot: true, has_clip: false, false_positive: false, stationary: false, frame_time: now };
    const pub = (kind: 'snapshot' | 'crop', jpeg: Buffer) => rec.client.publishAsync(t.eventImage(id, kind), jpeg, { qos: 1 });

    // Images before the row (held by the store), then the row, then a burst while the held ones are flushed.
    const sent: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) sent.push(pub(i % 2 ? 'crop' : 'snapshot', jpegs[i]!));
    sent.push(rec.client.publishAsync(t.events(), JSON.stringify({ type: 'new', before: after, after }), { qos: 1 }));
    let lastSnapshot: Buffer | undefined;
    let lastCrop: Buffer | undefined;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < jpegs.length; i++) {
        const kind = (i + round) % 2 ? 'crop' : 'snapshot';
        const jpeg = jpegs[(i * 7 + round) % jpegs.length]!;
        sent.push(pub(kind, jpeg));
        if (kind === 'crop') lastCrop = jpeg; else lastSnapshot = jpeg;
      }
    }
    await Promise.all(sent);

    const snapDir = join(h.dataDir, 'snapshots', camera);
    await expect.poll(() => existsSync(join(snapDir, `${id}.jpg`)) && readFileSync(join(snapDir, `${id}.jpg`)).equals(lastSnapshot!), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => existsSync(join(snapDir, `${id}-crop.jpg`)) && readFileSync(join(snapDir, `${id}-crop.jpg`)).equals(lastCrop!), { timeout: 10_000 }).toBe(true);
    // Settled: nothing newer overwrites them afterwards.
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(join(snapDir, `${id}.jpg`)).equals(lastSnapshot!)).toBe(true);
    expect(readFileSync(join(snapDir, `${id}-crop.jpg`)).equals(lastCrop!)).toBe(true);
    expect(readdirSync(snapDir).sort()).toEqual([`${id}-crop.jpg`, `${id}.jpg`]);

    const res = await fetch(`${h.baseUrl}/api/events/${id}/snapshot.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(lastSnapshot!)).toBe(true);
    const logs = h.logs();
    expect(logs).not.toMatch(/ENOENT|rename/);
    expect(logs).not.toMatch(/message handler failed|storing event failed/);
  }, 30_000);
});
