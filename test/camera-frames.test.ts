/**
 * Detect frames from ffmpeg into the camera component without a fresh allocation per read
 * (`components/camera/frame-socket.ts`) and with frame buffers reused once released
 * (`camera-input.ts`): the bytes that arrive are exactly what ffmpeg wrote, frame after
 * frame, whether the frame size is known up front or read from ffmpeg's stderr. Frames are
 * encoded to JPEG in a worker thread (`frame-worker.ts`), in place when they lie in shared memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import sharp from 'sharp';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFrameSocket, READ_BUFFER_BYTES } from '../components/camera/frame-socket.ts';
import { CameraInput, type RawFrame } from '../components/camera/camera-input.ts';
import { FrameWorker } from '../components/camera/frame-worker.ts';
import { MotionDetector } from '../components/camera/motion.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { silentLogger } from '../components/protocol/log.ts';

let dir: string;
let clip: string;
const W = 160;
const H = 120;
const FRAMES = 6;
/** The first frames of the clip as ffmpeg itself decodes them through the camera's filters. */
let reference: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-camera-frames-'));
  clip = join(dir, 'clip.mkv');
  // A lossless clip of ffmpeg's test pattern: every frame differs, decoding is exact.
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '3', '-c:v', 'ffv1', clip]);
  reference = execFileSync(ffmpegPath(), ['-v', 'error', '-i', clip, '-map', '0:v:0', '-vf', `fps=5,scale=${W}:${H}`, '-pix_fmt', 'rgb24', '-frames:v', String(FRAMES), '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('frame socket', () => {
  it('carries a child process\'s output byte for byte through one reused read buffer', async () => {
    const size = 3 * READ_BUFFER_BYTES + 12_345;
    const got: Buffer[] = [];
    const views = new Set<ArrayBuffer>();
    let ended!: () => void;
    const end = new Promise<void>((r) => { ended = r; });
    const frames = await openFrameSocket((chunk) => { views.add(chunk.buffer as ArrayBuffer); got.push(Buffer.from(chunk)); }, () => ended());
    const child = spawn(process.execPath, ['-e', `const b = Buffer.alloc(${size}); for (let i = 0; i < b.length; i++) b[i] = (i * 7) % 251; process.stdout.write(b);`], { stdio: ['ignore', frames.childEnd, 'inherit'] });
    frames.releaseChildEnd();
    await new Promise((r) => child.once('exit', r));
    await end;
    frames.close();
    const all = Buffer.concat(got);
    expect(all.length).toBe(size);
    for (const i of [0, 1, 250, 251, READ_BUFFER_BYTES, size - 1]) expect(all[i]).toBe((i * 7) % 251);
    expect(views.size).toBe(1); // every read landed in the same buffer
  });
});

describe('camera input frames', () => {
  /** The first `FRAMES` frames of a CameraInput on the clip, copied, each released right away. */
  async function firstFrames(detect: { width: number; height?: number; fps: number }): Promise<Buffer[]> {
    const src = new CameraInput({ url: pathToFileURL(clip).href, outputs: { detect }, logger: silentLogger });
    const frames: Buffer[] = [];
    const buffers = new Set<Buffer>();
    try {
      await new Promise<void>((resolve, reject) => {
        src.on('offline', (reason: string) => reject(new Error(reason)));
        src.on('frame', (f: RawFrame) => {
          if (frames.length === FRAMES) { f.release?.(); return; } // arrived before stop()
          expect([f.width, f.height]).toEqual([W, H]);
          frames.push(Buffer.from(f.rgb));
          buffers.add(f.rgb);
          f.release?.();
          if (frames.length === FRAMES) resolve();
        });
        src.start();
      });
    } finally {
      await src.stop();
    }
    expect(buffers.size).toBeLessThan(FRAMES); // released buffers came back for later frames
    return frames;
  }

  it('delivers exactly the frames ffmpeg decodes, reusing released buffers (size known up front)', async () => {
    const frames = await firstFrames({ width: W, height: H, fps: 5 });
    expect(Buffer.concat(frames).equals(reference)).toBe(true);
  }, 30_000);

  it('delivers exactly the frames ffmpeg decodes when the size comes from ffmpeg\'s stderr', async () => {
    const frames = await firstFrames({ width: W, fps: 5 }); // height from the aspect ratio
    expect(Buffer.concat(frames).equals(reference)).toBe(true);
  }, 30_000);
});

describe('JPEG encoder worker', () => {
  it('encodes a frame in shared memory in place, a copy of any other as it was at the call, and refuses a wrong size', async () => {
    const enc = new FrameWorker();
    try {
      const first = Buffer.from(reference.subarray(0, W * H * 3));
      const shared = Buffer.from(new SharedArrayBuffer(first.length));
      first.copy(shared);
      const rgb = Buffer.from(first);
      const [fromShared, pending] = [enc.encode(shared, W, H, 90), enc.encode(rgb, W, H, 90)];
      rgb.fill(0); // an ordinary buffer was copied: the caller may reuse it right away
      expect((await fromShared).equals(await enc.encode(first, W, H, 90))).toBe(true); // same bytes, same JPEG
      const jpeg = await pending;
      expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
      let diff = 0;
      for (let i = 0; i < data.length; i++) diff += Math.abs(data[i]! - first[i]!);
      expect(diff / data.length).toBeLessThan(8); // the test pattern, not the zeroed buffer (mean error of a q90 JPEG)
      await expect(enc.encode(first, W + 1, H, 90)).rejects.toThrow(/not 161×120 RGB24/);
    } finally {
      await enc.close();
    }
  });
});

describe('motion detection in the frame worker', () => {
  it('finds in each camera\'s frames, in order, what a detector on this thread finds; cameras keep their own background', async () => {
    // Real footage: 20 frames of OpenCV's vtest.avi (pedestrians), 320×240 at 5 fps.
    const vtest = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
    const [w, h, n] = [320, 240, 20];
    const raw = execFileSync(ffmpegPath(), ['-v', 'error', '-i', vtest, '-vf', `fps=5,scale=${w}:${h}`, '-pix_fmt', 'rgb24', '-frames:v', String(n), '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    const frames = Array.from({ length: n }, (_, i) => {
      const shared = Buffer.from(new SharedArrayBuffer(w * h * 3));
      raw.copy(shared, 0, i * w * h * 3, (i + 1) * w * h * 3);
      return shared;
    });
    const settings = { threshold: 30, min_area: 0.002 };
    const masks: Array<Array<[number, number]>> = [[[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]]];
    const here = new MotionDetector(settings, masks);
    const expected = frames.map((f) => here.update(f, w, h));
    expect(expected.filter((m) => m.motion).length).toBeGreaterThan(5); // people walking

    const worker = new FrameWorker();
    try {
      const a = worker.newDetectorId();
      const b = worker.newDetectorId();
      // Two cameras' frames interleaved, all requests made at once: each detector sees its own in order.
      const reversed = [...frames].reverse();
      const got = await Promise.all(frames.flatMap((f, i) => [worker.motion(a, settings, masks, f, w, h), worker.motion(b, settings, masks, reversed[i]!, w, h)]));
      expect(got.filter((_, i) => i % 2 === 0)).toEqual(expected);
      const backwards = new MotionDetector(settings, masks);
      expect(got.filter((_, i) => i % 2 === 1)).toEqual(reversed.map((f) => backwards.update(f, w, h)));
      // A forgotten detector starts again with no background: its first frame has no motion.
      worker.forget(a);
      expect((await worker.motion(a, settings, masks, frames[10]!, w, h)).motion).toBe(false);
      await expect(worker.motion(a, settings, masks, frames[0]!, w + 1, h)).rejects.toThrow(/not 321×240 RGB24/);
    } finally {
      await worker.close();
    }
  }, 30_000);
});
