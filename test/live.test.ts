/**
 * Live view: the fMP4 splitter on real ffmpeg output, the per-viewer fan-out policy, and
 * end to end — a real RTSP camera, ONE real ffmpeg (`-c copy` fragmented MP4 + an MJPEG
 * output), the WebSocket/MJPEG transports on a plain express 5 server, and real Chromium
 * playing the MSE page.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import express from 'express';
import helmet from 'helmet';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Fmp4Splitter, isSyncSampleFlags, type Fmp4FragmentUnit, type Fmp4Unit } from '../hub/live/fmp4.ts';
import { LiveFeed, LiveRegistry, liveFeedKey, type ViewerSink } from '../hub/live/live-feed.ts';
import { errorHandler } from '../hub/http/errors.ts';
import { attachLive, liveRouter, MJPEG_BOUNDARY, type LiveAttachment, type LiveAuthResult } from '../hub/http/live.ts';
import { LIVE_PAGE, LIVE_PAGE_PATH, LIVE_SCRIPT, LIVE_SCRIPT_PATH } from '../hub/http/live-page.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FRAG_ARGS = ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '200000'];

/** Real ffmpeg output: 3 s of testsrc, libx264, keyframe every 10 frames (1 s), 200 ms fragments. */
function encodedClip(seconds = 3): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '10', '-t', String(seconds), ...FRAG_ARGS, '-'], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Feeds `data` to a new splitter in random chunk sizes (1 byte … 4 KiB, some tiny). */
function splitRandomly(data: Buffer, seed = 1): Fmp4Unit[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const s = new Fmp4Splitter();
  const out: Fmp4Unit[] = [];
  for (let i = 0; i < data.length;) {
    const n = rnd() < 0.2 ? 1 + Math.floor(rnd() * 8) : 1 + Math.floor(rnd() * 4096);
    out.push(...s.push(data.subarray(i, i + n)));
    i += n;
  }
  expect(s.bufferedBytes).toBe(0);
  return out;
}

// --- tiny ISO-BMFF builder for synthetic fragments -------------------------------------
const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body]);
};
const u32 = (...v: number[]) => { const b = Buffer.alloc(4 * v.length); v.forEach((n, i) => b.writeUInt32BE(n >>> 0, i * 4)); return b; };
const full = (version: number, flags: number) => u32(((version & 0xff) << 24) | (flags & 0xffffff));

/** moof+mdat of one track-1 fragment with `samples` (each: bytes, optional flags), tfhd default flags optional. */
function synthFragment(opts: { seq: number; samples: Array<{ data: Buffer; flags?: number }>; tfhdFlags?: number; firstFlags?: number }): Buffer {
  const perFlags = opts.samples.some((s) => s.flags !== undefined);
  const trunFlags = 0x1 | 0x100 | 0x200 | (perFlags ? 0x400 : 0) | (opts.firstFlags !== undefined ? 0x4 : 0);
  const build = (dataOffset: number) => {
    const entries = opts.samples.map((s) => Buffer.concat([u32(3000, s.data.length), perFlags ? u32(s.flags ?? 0) : Buffer.alloc(0)]));
    const trun = box('trun', full(0, trunFlags), u32(opts.samples.length), u32(dataOffset), opts.firstFlags !== undefined ? u32(opts.firstFlags) : Buffer.alloc(0), ...entries);
    const tfhdBody = opts.tfhdFlags !== undefined ? [full(0, 0x20000 | 0x20), u32(1, opts.tfhdFlags)] : [full(0, 0x20000), u32(1)];
    return box('moof', box('mfhd', full(0, 0), u32(opts.seq)), box('traf', box('tfhd', ...tfhdBody), box('tfdt', full(0, 0), u32(opts.seq * 6000)), trun));
  };
  const moofLen = build(0).length;
  return Buffer.concat([build(moofLen + 8), box('mdat', ...opts.samples.map((s) => s.data))]);
}

/** A length-prefixed (4-byte) H.264 access unit with one NAL of `type`. */
const avcSample = (type: number) => Buffer.concat([u32(5), Buffer.from([0x60 | type, 1, 2, 3, 4])]);

/** Minimal init segment: ftyp + moov with one `vide` trak (track 1, timescale 90000, avc1 with avcC) and trex. */
function synthInit(trexFlags = 0): Buffer {
  const tkhd = box('tkhd', full(0, 3), u32(0, 0, 1, 0, 0), Buffer.alloc(60));
  const mdhd = box('mdhd', full(0, 0), u32(0, 0, 90000, 0), Buffer.alloc(4));
  const hdlr = box('hdlr', full(0, 0), u32(0), Buffer.from('vide'), Buffer.alloc(12), Buffer.from('v\0'));
  const avcC = box('avcC', Buffer.from([1, 0x4d, 0x40, 0x1f, 0xff, 0xe0, 0x00]));
  const visual = Buffer.alloc(78);
  visual.writeUInt16BE(1, 6); // data_reference_index
  visual.writeUInt16BE(640, 24);
  visual.writeUInt16BE(360, 26);
  const stsd = box('stsd', full(0, 0), u32(1), box('avc1', visual, avcC));
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', box('stbl', stsd))));
  const mvex = box('mvex', box('trex', full(0, 0), u32(1, 1, 0, 0, trexFlags)));
  return Buffer.concat([box('ftyp', Buffer.from('isom'), u32(512), Buffer.from('isomiso6')), box('moov', box('mvhd', full(0, 0), Buffer.alloc(96)), trak, mvex)]);
}

describe('Fmp4Splitter', () => {
  const clip = encodedClip();

  it('splits real ffmpeg output fed in random chunk sizes into init + keyframe-tagged fragments', () => {
    const whole = new Fmp4Splitter().push(clip);
    for (const seed of [1, 7, 42]) {
      const units = splitRandomly(clip, seed);
      expect(units.map((u) => u.data.length)).toEqual(whole.map((u) => u.data.length));
      expect(Buffer.concat(units.map((u) => u.data)).equals(Buffer.concat(whole.map((u) => u.data)))).toBe(true);
    }
    const [init, ...frags] = whole as [Fmp4Unit, ...Fmp4FragmentUnit[]];
    expect(init.kind).toBe('init');
    if (init.kind !== 'init') throw new Error('unreachable');
    expect(init.data.subarray(4, 8).toString()).toBe('ftyp');
    expect(init.codec).toMatch(/^avc1\.64[0-9a-f]{4}$/); // High profile, yuv420p
    expect([init.width, init.height, init.timescale]).toEqual([320, 240, 10240]);
    // 3 s at 10 fps in 200 ms fragments = 15; a keyframe every 1 s = every 5th fragment.
    expect(frags).toHaveLength(15);
    expect(frags.map((f) => f.kind)).toEqual(Array(15).fill('fragment'));
    expect(frags.map((f) => f.keyframe)).toEqual(frags.map((_, i) => i % 5 === 0));
    expect(frags.every((f) => f.keyframeFrom === 'flags')).toBe(true);
    expect(frags.map((f) => f.sequence)).toEqual(frags.map((_, i) => i + 1));
    expect(frags.map((f) => Math.round(f.startMs!))).toEqual(frags.map((_, i) => i * 200));
    expect(frags.every((f) => f.durationMs === 200 && f.samples === 2)).toBe(true);
    for (const f of frags) {
      expect(f.data.subarray(4, 8).toString()).toBe('moof');
      // moof then mdat, and nothing else: the mdat ends the unit.
      const moofLen = f.data.readUInt32BE(0);
      expect(f.data.subarray(moofLen + 4, moofLen + 8).toString()).toBe('mdat');
      expect(moofLen + f.data.readUInt32BE(moofLen)).toBe(f.data.length);
    }
  });

  it('starts a new init segment when the stream restarts (ftyp again), dropping mfra and junk', () => {
    const units = new Fmp4Splitter().push(Buffer.concat([clip, clip]));
    expect(units.filter((u) => u.kind === 'init')).toHaveLength(2);
    expect(units[16]!.kind).toBe('init');
    const s = new Fmp4Splitter();
    const first = s.push(Buffer.concat([clip.subarray(0, 5000), Buffer.from('garbage!garbage!')]));
    expect(first[0]!.kind).toBe('init');
    s.reset();
    const again = s.push(clip);
    expect(again[0]!.kind).toBe('init');
    expect(again.filter((u) => u.kind === 'fragment')).toHaveLength(15);
  });

  it('derives the HEVC codec string (hvc1) from hvcC', () => {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p', '-tag:v', 'hvc1', '-g', '10', '-t', '1', ...FRAG_ARGS, '-'], { maxBuffer: 16 << 20 });
    expect(r.status).toBe(0);
    const units = splitRandomly(r.stdout, 3);
    // Main profile (1), compatibility flags reversed (6), Main tier level 2 (L60), constraint byte 0x90.
    expect(units[0]).toMatchObject({ kind: 'init', codec: 'hvc1.1.6.L60.90' });
    expect(units.slice(1).map((u) => (u as Fmp4FragmentUnit).keyframe)).toEqual([true, false, false, false, false]);
  });

  it('reads sync flags from trun first/per-sample flags and tfhd defaults, else the first NAL unit', () => {
    const NON_SYNC = 0x01010000; // depends_on=1, non-sync
    const SYNC = 0x02000000; // depends_on=2 (I), sync
    expect(isSyncSampleFlags(SYNC)).toBe(true);
    expect(isSyncSampleFlags(NON_SYNC)).toBe(false);
    expect(isSyncSampleFlags(0x00010000)).toBe(false);
    const s = new Fmp4Splitter();
    const [init] = s.push(synthInit(0));
    expect(init).toMatchObject({ kind: 'init', codec: 'avc1.4d401f', width: 640, height: 360, timescale: 90000, trackId: 1 });
    const cases: Array<[Buffer, boolean, string]> = [
      [synthFragment({ seq: 1, tfhdFlags: NON_SYNC, firstFlags: SYNC, samples: [{ data: avcSample(5) }, { data: avcSample(1) }] }), true, 'flags'],
      [synthFragment({ seq: 2, tfhdFlags: NON_SYNC, samples: [{ data: avcSample(1) }, { data: avcSample(1) }] }), false, 'flags'],
      [synthFragment({ seq: 3, samples: [{ data: avcSample(1), flags: NON_SYNC }, { data: avcSample(5), flags: SYNC }] }), false, 'flags'],
      [synthFragment({ seq: 4, samples: [{ data: avcSample(5), flags: SYNC }, { data: avcSample(1), flags: NON_SYNC }] }), true, 'flags'],
      // No flags in the fragment: the NAL units decide (trex's 0 would say "sync" for both).
      [synthFragment({ seq: 5, samples: [{ data: avcSample(5) }] }), true, 'nal'],
      [synthFragment({ seq: 6, samples: [{ data: avcSample(1) }] }), false, 'nal'],
    ];
    for (const [bytes, key, from] of cases) {
      const [u] = s.push(bytes) as Fmp4FragmentUnit[];
      expect({ seq: u!.sequence, keyframe: u!.keyframe, from: u!.keyframeFrom }).toEqual({ seq: u!.sequence, keyframe: key, from });
      expect(u!.durationMs).toBeCloseTo(u!.samples * 1000 / 30, 5);
    }
  });
});

/** A fake viewer with a settable backlog. */
class FakeSink implements ViewerSink {
  got: Buffer[] = [];
  backlog = 0;
  closed = false;
  inits = 0;
  private drain: (() => void) | undefined;
  send(buf: Buffer): void { this.got.push(buf); }
  buffered(): number { return this.backlog; }
  close(): void { this.closed = true; }
  sendInit(init: Buffer): void { this.inits++; this.got.push(init); }
  onDrain(l: () => void): void { this.drain = l; }
  drained(): void { this.backlog = 0; this.drain?.(); }
}

describe('LiveFeed policy', () => {
  const clip = encodedClip(4);
  const units = new Fmp4Splitter().push(clip);
  const init = units[0]!;
  const frags = units.slice(1) as Fmp4FragmentUnit[];

  it('sends init, then starts each viewer at a keyframe; a lagging viewer skips to a keyframe after draining, others unaffected', () => {
    let now = 0;
    // GOP cache off: a viewer joining mid-GOP waits for the next keyframe (the cache has its own test below).
    const feed = new LiveFeed('cam', { now: () => now, maxBufferedBytes: 1 << 20, minHighWaterBytes: 100_000, lowWaterBytes: 10_000, gopCacheBytes: 0 });
    const early = new FakeSink();
    feed.addMseViewer(early);
    expect(early.got).toHaveLength(0); // nothing before ffmpeg's init segment
    feed.pushFmp4(init.data);
    expect(feed.codec).toMatch(/^avc1\./);
    expect(early.got).toEqual([init.data]);
    feed.pushFmp4(frags[0]!.data); // keyframe
    feed.pushFmp4(frags[1]!.data);
    const late = new FakeSink();
    const slow = new FakeSink();
    feed.addMseViewer(late);
    feed.addMseViewer(slow);
    expect(late.got).toEqual([init.data]);
    // late and slow joined mid-GOP: nothing until fragment 5 (next keyframe).
    for (let i = 2; i < 7; i++) { now += 200; feed.pushFmp4(frags[i]!.data); }
    expect(late.got.slice(1)).toEqual(frags.slice(5, 7).map((f) => f.data));
    expect(early.got.slice(1)).toEqual(frags.slice(0, 7).map((f) => f.data));
    // slow's backlog passes the high-water mark: skip; drained at fragment 8 (P): still skip; resume at 10 (K).
    slow.backlog = 2 << 20;
    now += 200; feed.pushFmp4(frags[7]!.data);
    slow.backlog = 0;
    for (let i = 8; i < 12; i++) { now += 200; feed.pushFmp4(frags[i]!.data); }
    expect(slow.got.slice(1)).toEqual([frags[5], frags[6], frags[10], frags[11]].map((f) => f!.data));
    expect(early.got.slice(1)).toEqual(frags.slice(0, 12).map((f) => f.data));
    expect(late.got.slice(1)).toEqual(frags.slice(5, 12).map((f) => f.data));
    expect(feed.viewers).toEqual({ mse: 3, mjpeg: 0 });
    // ffmpeg restarts: viewers get the new init (through sendInit) and wait for a keyframe again.
    feed.reset();
    feed.pushFmp4(frags[12]!.data); // no init yet: ignored
    feed.pushFmp4(init.data);
    feed.pushFmp4(frags[14]!.data); // P
    feed.pushFmp4(frags[15]!.data); // K
    expect(early.inits).toBe(2);
    expect(early.got.slice(-2)).toEqual([init.data, frags[15]!.data]);
  });

  it('GOP cache: a new viewer gets init + the fragments since the newest keyframe at once; bounded in bytes and ms; dropped on restart; never a P-frame after a gap', () => {
    let now = 0;
    const data = (from: number, to: number) => frags.slice(from, to).map((f) => f.data);
    const feed = new LiveFeed('cam', { now: () => now, maxBufferedBytes: 1 << 20, minHighWaterBytes: 100_000, lowWaterBytes: 10_000 });
    const push = (from: number, to: number) => { for (let i = from; i < to; i++) { now += 200; feed.pushFmp4(frags[i]!.data); } };
    feed.pushFmp4(init.data);
    const first = new FakeSink();
    feed.addMseViewer(first);
    expect(first.got).toEqual([init.data]); // nothing cached yet
    push(0, 3); // K P P
    const a = new FakeSink();
    feed.addMseViewer(a);
    expect(a.got).toEqual([init.data, ...data(0, 3)]);
    expect(feed.stats).toMatchObject({ gopCachedFragments: 3, gopCacheHits: 1, gopCachedBytes: data(0, 3).reduce((n, b) => n + b.length, 0) });
    push(3, 7); // P P K(5) P
    expect(a.got.slice(1)).toEqual(data(0, 7)); // the cache, then every fragment: no gap, no duplicate
    expect(first.got.slice(1)).toEqual(data(0, 7));
    const b = new FakeSink();
    feed.addMseViewer(b);
    expect(b.got).toEqual([init.data, ...data(5, 7)]); // the cache restarted at keyframe 5
    // A viewer already above the high-water mark when it joins gets no cache and waits for a keyframe.
    const busy = new FakeSink();
    busy.backlog = 2 << 20;
    feed.addMseViewer(busy);
    expect(busy.got).toEqual([init.data]);
    busy.backlog = 0;
    push(7, 11); // P P P K(10)
    expect(busy.got.slice(1)).toEqual(data(10, 11));
    // A viewer started from the cache that lags skips to a keyframe like any other.
    b.backlog = 2 << 20;
    push(11, 12);
    b.backlog = 0;
    push(12, 16); // P P P K(15)
    expect(b.got.slice(1)).toEqual([...data(5, 11), ...data(15, 16)]);
    // ffmpeg restarts: the cache goes with the old init segment.
    feed.reset();
    feed.pushFmp4(init.data);
    const c = new FakeSink();
    feed.addMseViewer(c);
    push(16, 17); // P: nothing to start from, nothing cached
    expect(c.got).toEqual([init.data]);
    expect(feed.stats.gopCachedFragments).toBe(0);

    // Bounds: a GOP past gopCacheBytes or gopCacheMs is not cached (until the next keyframe).
    const bounded = (opts: { gopCacheBytes?: number; gopCacheMs?: number }) => {
      const f = new LiveFeed('cam', opts);
      f.pushFmp4(init.data);
      const cached: number[] = [];
      for (let i = 0; i < 7; i++) { f.pushFmp4(frags[i]!.data); cached.push(f.stats.gopCachedFragments); }
      const late = new FakeSink();
      f.addMseViewer(late);
      return { cached, overflows: f.stats.gopCacheOverflows, late: late.got.length };
    };
    const twoFragments = frags[0]!.data.length + frags[1]!.data.length;
    // 200 ms fragments: K+P fit, the third fragment of the GOP overflows; keyframe 5 starts over.
    expect(bounded({ gopCacheBytes: twoFragments })).toEqual({ cached: [1, 2, 0, 0, 0, 1, 2], overflows: 1, late: 3 });
    expect(bounded({ gopCacheMs: 500 })).toEqual({ cached: [1, 2, 0, 0, 0, 1, 2], overflows: 1, late: 3 });
    expect(bounded({ gopCacheBytes: 0 })).toEqual({ cached: [0, 0, 0, 0, 0, 0, 0], overflows: 0, late: 1 });
  });

  it('closes a viewer that stays lagging without draining', () => {
    let now = 0;
    const feed = new LiveFeed('cam', { now: () => now, stallTimeoutMs: 1000 });
    const stuck = new FakeSink();
    const remove = feed.addMseViewer(stuck);
    feed.pushFmp4(init.data);
    feed.pushFmp4(frags[0]!.data);
    stuck.backlog = 10 << 20;
    for (let i = 1; i < 10; i++) { now += 200; feed.pushFmp4(frags[i]!.data); }
    expect(stuck.closed).toBe(true);
    expect(feed.viewers.mse).toBe(0);
    expect(feed.stats.stalledClosed).toBe(1);
    remove();
  });

  it('MJPEG: a ready viewer gets every frame, a busy one only the newest once drained', () => {
    const feed = new LiveFeed('cam');
    const jpegs = [0, 1, 2, 3].map((i) => Buffer.from([0xff, 0xd8, i, 0xff, 0xd9]));
    feed.pushJpeg(jpegs[0]!, 1);
    const fast = new FakeSink();
    const slow = new FakeSink();
    feed.addJpegViewer(fast);
    feed.addJpegViewer(slow);
    expect(fast.got).toEqual([jpegs[0]]);
    slow.backlog = 5000;
    feed.pushJpeg(jpegs[1]!, 2);
    feed.pushJpeg(jpegs[2]!, 3);
    expect(slow.got).toEqual([jpegs[0]]);
    slow.drained();
    expect(slow.got).toEqual([jpegs[0], jpegs[2]]);
    feed.pushJpeg(jpegs[3]!, 4);
    expect(fast.got).toEqual(jpegs);
    expect(slow.got).toEqual([jpegs[0], jpegs[2], jpegs[3]]);
    expect(feed.latestJpeg).toEqual({ jpeg: jpegs[3], ts: 4 });
  });

  it('registry: ensure creates once, delete closes viewers', () => {
    const reg = new LiveRegistry();
    const f = reg.ensure('a');
    expect(reg.ensure('a')).toBe(f);
    expect(reg.get('b')).toBeUndefined();
    const s = new FakeSink();
    f.addMseViewer(s);
    expect(reg.delete('a')).toBe(true);
    expect(s.closed).toBe(true);
    expect(reg.get('a')).toBeUndefined();
    expect(reg.delete('a')).toBe(false);
  });

  it('registry: main is keyed by camera name, sub by <cam>@sub; sub falls back to main until a producer makes it; release closes both', () => {
    const reg = new LiveRegistry();
    const main = reg.source('a', 'main');
    expect(reg.get('a')).toBe(main);
    expect(liveFeedKey('a', 'main')).toBe('a');
    expect(liveFeedKey('a', 'sub')).toBe('a@sub');
    expect(reg.forViewer('a', 'sub')).toEqual({ feed: main, stream: 'main' });
    expect(reg.names()).toEqual(['a']); // a viewer never creates a sub feed
    const sub = reg.source('a', 'sub');
    expect(reg.get('a@sub')).toBe(sub);
    expect(reg.forViewer('a', 'sub')).toEqual({ feed: sub, stream: 'sub' });
    expect(reg.forViewer('a', 'main')).toEqual({ feed: main, stream: 'main' });
    const [mainViewer, subViewer] = [new FakeSink(), new FakeSink()];
    main.addMseViewer(mainViewer);
    sub.addMseViewer(subViewer);
    expect(reg.release('a', 'sub')).toBe(true);
    expect([mainViewer.closed, subViewer.closed]).toEqual([false, true]);
    expect(reg.forViewer('a', 'sub').feed).toBe(main);
    reg.source('a', 'sub');
    expect(reg.release('a')).toBe(true);
    expect(mainViewer.closed).toBe(true);
    expect(reg.names()).toEqual([]);
    expect(reg.release('a')).toBe(false);
  });
});

/** Splits an MJPEG byte stream (ffmpeg `-f mjpeg`) into JPEGs by SOI/EOI. */
function jpegSplitter(onJpeg: (jpeg: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const soi = buf.indexOf(Buffer.from([0xff, 0xd8]));
      if (soi < 0) { buf = Buffer.alloc(0); return; }
      const eoi = buf.indexOf(Buffer.from([0xff, 0xd9]), soi + 2);
      if (eoi < 0) { buf = buf.subarray(soi); return; }
      onJpeg(Buffer.from(buf.subarray(soi, eoi + 2)));
      buf = buf.subarray(eoi + 2);
    }
  };
}

describe('live view end to end', () => {
  let rtsp: RtspServer;
  let ffmpeg: ChildProcess;
  let server: Server;
  let unixServer: Server;
  let unixPath: string;
  let attachment: LiveAttachment;
  let unixAttachment: LiveAttachment;
  const sockets = new Set<Socket>();
  let other: WebSocketServer;
  let browser: Browser;
  let base: string;
  const registry = new LiveRegistry();
  const authorize = async (req: IncomingMessage, camera: string): Promise<LiveAuthResult> => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? req.headers['x-test-token'];
    if (!token) return 'unauthenticated';
    if (token === 'forbidden') return 'forbidden';
    if (token !== 'good') return 'unauthenticated';
    return camera === 'cam' || camera === 'still' ? 'ok' : 'not_found';
  };

  beforeAll(async () => {
    rtsp = await startRtspServer();
    const feed = registry.ensure('cam');
    ffmpeg = spawn('ffmpeg', [
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp.mainUrl,
      '-map', '0:v:0', '-c', 'copy', ...FRAG_ARGS, 'pipe:1',
      '-map', '0:v:0', '-vf', 'fps=5,scale=384:-2', '-c:v', 'mjpeg', '-q:v', '6', '-f', 'mjpeg', 'pipe:3',
    ], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    ffmpeg.stdout!.on('data', (c: Buffer) => feed.pushFmp4(c));
    ffmpeg.stderr!.on('data', () => {});
    // 'still': a camera with JPEGs only (no fMP4 output, like a file:// source).
    const still = registry.ensure('still');
    (ffmpeg.stdio[3] as Readable).on('data', jpegSplitter((j) => { feed.pushJpeg(j, Date.now()); still.pushJpeg(j, Date.now()); }));

    const app = express();
    // The hub's CSP plus media-src blob: (MSE plays from a blob: URL); `?csp=hub` gets the hub's CSP as it is.
    const directives = {
      defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'", 'ws:', 'wss:'], frameAncestors: ["'none'"], objectSrc: ["'none'"], upgradeInsecureRequests: null,
    };
    const liveCsp = helmet({ contentSecurityPolicy: { directives: { ...directives, mediaSrc: ["'self'", 'blob:'] } } });
    const hubCsp = helmet({ contentSecurityPolicy: { directives } });
    app.use((req, res, next) => (req.query.csp === 'hub' ? hubCsp : liveCsp)(req, res, next));
    app.get(LIVE_PAGE_PATH, (_req, res) => { res.type('html').send(LIVE_PAGE); });
    app.get(LIVE_SCRIPT_PATH, (_req, res) => { res.type('text/javascript').send(LIVE_SCRIPT); });
    app.use('/api/cameras', liveRouter({ authorize, registry, logger: silentLogger }));
    app.use(errorHandler(silentLogger));
    server = createServer(app);
    attachment = attachLive(server, { authorize, registry, logger: silentLogger });
    unixServer = createServer(app);
    unixAttachment = attachLive(unixServer, { authorize, registry, logger: silentLogger });
    for (const srv of [server, unixServer]) srv.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
    unixPath = join(tmpdir(), `vigil-live-${process.pid}.sock`);
    rmSync(unixPath, { force: true });
    await new Promise<void>((r) => unixServer.listen(unixPath, r));
    // Another upgrade listener (like the broker's /mqtt) must keep working.
    other = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/mqtt') return;
      other.handleUpgrade(req, socket, head, (ws) => ws.send('hello from /mqtt'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    });
    // Wait for the stream to be up (init + a keyframe).
    for (const t = Date.now(); feed.stats.keyframes === 0; await sleep(100)) {
      if (Date.now() - t > 15_000) throw new Error('no keyframe from ffmpeg within 15 s');
    }
  });

  afterAll(async () => {
    await browser?.close();
    attachment?.close();
    unixAttachment?.close();
    other?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server?.close(r));
    await new Promise((r) => unixServer?.close(r));
    ffmpeg?.kill('SIGKILL');
    await rtsp?.stop();
  });

  it('plays MSE in Chromium: time advances and frames change', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${base}${LIVE_PAGE_PATH}?camera=cam&token=good`);
    await page.waitForFunction(() => {
      const l = (window as unknown as { __live: { video: HTMLVideoElement; frames: number } }).__live;
      return l.video.readyState >= 2 && l.frames > 2 && !l.video.paused;
    }, undefined, { timeout: 15_000 });
    const grab = () => page.evaluate(() => {
      const { video } = (window as unknown as { __live: { video: HTMLVideoElement } }).__live;
      const c = document.createElement('canvas');
      c.width = video.videoWidth;
      c.height = video.videoHeight;
      const g = c.getContext('2d')!;
      g.drawImage(video, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < px.length; i += 4) sum += px[i]! + px[i + 1]! + px[i + 2]!;
      return { t: video.currentTime, w: c.width, h: c.height, px: Array.from(px.filter((_, i) => i % 64 === 0)), mean: sum / (px.length / 4) / 3 };
    });
    const a = await grab();
    await sleep(1000);
    const b = await grab();
    await sleep(2000);
    const c = await grab();
    const state = await page.evaluate(() => {
      const l = (window as unknown as { __live: { mode: string; frames: number; fragments: number; lastError: string | null; lagMs: number } }).__live;
      return { mode: l.mode, frames: l.frames, fragments: l.fragments, lastError: l.lastError, lagMs: l.lagMs };
    });
    await page.close();
    expect(state).toMatchObject({ mode: 'mse', lastError: null });
    expect([a.w, a.h]).toEqual([768, 576]);
    expect(a.mean).toBeGreaterThan(10); // not a black frame
    expect(c.t - a.t).toBeGreaterThan(2.4); // ~3 s of video played in 3 s
    expect(state.lagMs).toBeLessThan(1500);
    const differing = a.px.filter((v, i) => v !== b.px[i]).length;
    expect(differing).toBeGreaterThan(a.px.length * 0.01); // pedestrians moved
    expect(consoleErrors).toEqual([]);
  });

  it('falls back to MJPEG in an <img> when MSE cannot play: CSP blocks blob: media, or no fMP4 stream', async () => {
    const mjpegShown = async (url: string) => {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForFunction(() => {
        const l = (window as unknown as { __live: { mode: string; img: HTMLImageElement } }).__live;
        return l.mode === 'mjpeg' && l.img.complete && l.img.naturalWidth > 0;
      }, undefined, { timeout: 10_000 });
      const r = await page.evaluate(() => {
        const l = (window as unknown as { __live: { img: HTMLImageElement; lastError: string | null } }).__live;
        return { w: l.img.naturalWidth, h: l.img.naturalHeight, src: l.img.src, lastError: l.lastError, status: document.getElementById('live-status')!.textContent };
      });
      await page.close();
      return r;
    };
    const [csp, still] = await Promise.all([
      mjpegShown(`${base}${LIVE_PAGE_PATH}?camera=cam&token=good&csp=hub`),
      mjpegShown(`${base}${LIVE_PAGE_PATH}?camera=still&token=good`),
    ]);
    expect(csp).toMatchObject({ w: 384, h: 288, src: expect.stringContaining('/api/cameras/cam/live.mjpeg?token=good'), lastError: expect.stringMatching(/^video: /) });
    expect(still).toMatchObject({ w: 384, h: 288, src: expect.stringContaining('/api/cameras/still/live.mjpeg?token=good'), status: 'MJPEG (no MSE stream)' });
  });

  it('fans out to 6 WebSocket viewers; the 2 that never read stall nobody, are throttled and never get a P-frame after a gap', async () => {
    const feed = registry.get('cam')!;
    for (const t = Date.now(); feed.viewers.mse > 0 && Date.now() - t < 3000;) await sleep(50); // pages of earlier tests gone
    type Viewer = { ws: WebSocket; texts: string[]; frags: Array<{ at: number; f: Fmp4FragmentUnit }>; splitter: Fmp4Splitter; inits: number };
    const open = (): Promise<Viewer> => new Promise((resolve, reject) => {
      const v: Viewer = { ws: new WebSocket(`${base.replace('http', 'ws')}/api/cameras/cam/live?token=good`), texts: [], frags: [], splitter: new Fmp4Splitter(), inits: 0 };
      v.ws.on('message', (data: Buffer, isBinary) => {
        if (!isBinary) { v.texts.push(data.toString()); return; }
        for (const u of v.splitter.push(data)) {
          if (u.kind === 'init') v.inits++;
          else v.frags.push({ at: Date.now(), f: u });
        }
      });
      v.ws.once('open', () => resolve(v));
      v.ws.once('error', reject);
    });
    /** A raw WebSocket client that completes the handshake, then stops reading its socket. */
    const stalled = (socket: Socket) => new Promise<Socket>((resolve, reject) => {
      socket.write('GET /api/cameras/cam/live?token=good HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        if (head.indexOf('\r\n\r\n') < 0) return;
        socket.off('data', onData);
        socket.pause();
        expect(head.toString()).toMatch(/^HTTP\/1.1 101/);
        // Keep what arrived after the 101 head: the start of the WebSocket stream.
        socket.unshift(head.subarray(head.indexOf('\r\n\r\n') + 4));
        resolve(socket);
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    // Over TCP the kernel soaks up ~4 MB (20 s of this stream) before a non-reader shows any
    // backlog; over a Unix socket (the same app and feed) it is ~200 KB, so throttling shows within seconds.
    const slowTcp = await stalled(netConnect(Number(new URL(base).port), '127.0.0.1'));
    const slowUnix = await stalled(netConnect(unixPath));
    const viewers = await Promise.all([open(), open(), open(), open()]);
    expect(feed.viewers.mse).toBe(6);
    const t0 = Date.now();
    const droppedBefore = feed.stats.mseDropped;
    await sleep(8000);
    const t1 = Date.now();
    for (const v of viewers) {
      expect(JSON.parse(v.texts[0]!)).toMatchObject({ type: 'init', codec: expect.stringMatching(/^avc1\./), mime: expect.stringContaining('video/mp4; codecs="avc1.') });
      expect(v.inits).toBe(1);
      expect(v.frags[0]!.f.keyframe).toBe(true);
      // Normal rate: 10 fps in 200 ms fragments = 5 per second, steady over the last 6 s.
      const recent = v.frags.filter((x) => x.at >= t0 + 2000 && x.at < t1);
      const perSecond = recent.length / ((t1 - t0 - 2000) / 1000);
      expect(perSecond).toBeGreaterThan(4);
      expect(perSecond).toBeLessThan(6.5);
      const gaps = recent.slice(1).map((x, i) => x.at - recent[i]!.at);
      expect(Math.max(...gaps)).toBeLessThan(1000);
      for (let i = 1; i < v.frags.length; i++) expect(v.frags[i]!.f.sequence).toBe(v.frags[i - 1]!.f.sequence + 1);
    }
    // The Unix-socket non-reader was throttled: fragments were skipped for it, its backlog stayed bounded.
    expect(feed.stats.mseDropped).toBeGreaterThan(droppedBefore);
    // Now both read again: each resumes, and every gap is followed by a keyframe fragment.
    const drain = (sock: Socket) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.resume();
      return () => Buffer.concat(chunks);
    };
    const rawUnix = drain(slowUnix);
    const rawTcp = drain(slowTcp);
    await sleep(3000);
    const parse = (raw: Buffer) => {
      const got = new Fmp4Splitter();
      const frags: Fmp4FragmentUnit[] = [];
      let inits = 0;
      for (let p = 0; p + 2 <= raw.length;) {
        const op = raw[p]! & 0x0f;
        let len = raw[p + 1]! & 0x7f;
        let h = 2;
        if (len === 126) { len = raw.readUInt16BE(p + 2); h = 4; } else if (len === 127) { len = Number(raw.readBigUInt64BE(p + 2)); h = 10; }
        if (p + h + len > raw.length) break;
        if (op === 2) for (const u of got.push(raw.subarray(p + h, p + h + len))) if (u.kind === 'fragment') frags.push(u); else inits++;
        p += h + len;
      }
      return { frags, inits };
    };
    for (const [raw, mustGap] of [[rawUnix(), true], [rawTcp(), false]] as const) {
      const { frags, inits } = parse(raw);
      expect(inits).toBe(1);
      expect(frags.length).toBeGreaterThan(10);
      expect(frags[0]!.keyframe).toBe(true);
      let gapsSeen = 0;
      for (let i = 1; i < frags.length; i++) {
        if (frags[i]!.sequence !== frags[i - 1]!.sequence + 1) {
          gapsSeen++;
          expect(frags[i]!.keyframe).toBe(true);
        }
      }
      if (mustGap) expect(gapsSeen).toBeGreaterThan(0);
    }
    slowUnix.destroy();
    slowTcp.destroy();
    for (const v of viewers) v.ws.close();
    for (const t = Date.now(); feed.viewers.mse > 0 && Date.now() - t < 3000;) await sleep(50);
    expect(feed.viewers.mse).toBe(0);
  });

  it('streams MJPEG: complete, decodable image/jpeg parts; live.jpg serves the newest frame', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/cameras/cam/live.mjpeg?token=good`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(`multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`);
    const reader = res.body!.getReader();
    let buf = Buffer.alloc(0);
    const parts: Array<{ type: string; jpeg: Buffer }> = [];
    const sep = Buffer.from(`--${MJPEG_BOUNDARY}\r\n`);
    while (parts.length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      buf = Buffer.concat([buf, Buffer.from(value)]);
      for (;;) {
        if (buf.indexOf(sep) !== 0) break;
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) break;
        const headers = Object.fromEntries(buf.subarray(sep.length, headEnd).toString().split('\r\n').map((l) => l.split(/:\s*/, 2) as [string, string]).map(([k, v]) => [k.toLowerCase(), v]));
        const len = Number(headers['content-length']);
        if (buf.length < headEnd + 4 + len + 2) break;
        parts.push({ type: headers['content-type']!, jpeg: buf.subarray(headEnd + 4, headEnd + 4 + len) });
        expect(buf.subarray(headEnd + 4 + len, headEnd + 6 + len).toString()).toBe('\r\n');
        buf = buf.subarray(headEnd + 6 + len);
      }
    }
    ctrl.abort();
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const { type, jpeg } of parts) {
      expect(type).toBe('image/jpeg');
      expect([jpeg[0], jpeg[1], jpeg[jpeg.length - 2], jpeg[jpeg.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
      const meta = await sharp(jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 384, 288]);
      await sharp(jpeg).raw().toBuffer(); // decodes
    }
    const jpg = await fetch(`${base}/api/cameras/cam/live.jpg`, { headers: { 'x-test-token': 'good' } });
    expect(jpg.status).toBe(200);
    expect(jpg.headers.get('content-type')).toBe('image/jpeg');
    expect(Date.now() - Number(jpg.headers.get('x-timestamp'))).toBeLessThan(2000);
    expect((await sharp(Buffer.from(await jpg.arrayBuffer())).metadata()).width).toBe(384);
  });

  it('refuses unauthorized upgrades and GETs with 401/403/404 and leaves other upgrade paths alone', async () => {
    const upgradeStatus = (path: string, headers: Record<string, string> = {}) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, { headers });
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); ws.terminate(); });
      ws.once('open', () => { ws.close(); resolve(101); });
      ws.once('error', reject);
    });
    expect(await upgradeStatus('/api/cameras/cam/live')).toBe(401);
    expect(await upgradeStatus('/api/cameras/cam/live?token=bad')).toBe(401);
    expect(await upgradeStatus('/api/cameras/cam/live?token=forbidden')).toBe(403);
    expect(await upgradeStatus('/api/cameras/nope/live?token=good')).toBe(404);
    expect(await upgradeStatus('/api/cameras/cam/live', { 'x-test-token': 'good' })).toBe(101);
    // Cookie-style auth from another origin is refused (cross-site WebSocket hijacking).
    expect(await upgradeStatus('/api/cameras/cam/live', { 'x-test-token': 'good', origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus('/api/cameras/cam/live', { 'x-test-token': 'good', origin: base })).toBe(101);

    for (const path of ['live.mjpeg', 'live.jpg']) {
      expect((await fetch(`${base}/api/cameras/cam/${path}`)).status).toBe(401);
      expect((await fetch(`${base}/api/cameras/cam/${path}?token=forbidden`)).status).toBe(403);
      expect((await fetch(`${base}/api/cameras/nope/${path}?token=good`)).status).toBe(404);
      const r = await fetch(`${base}/api/cameras/cam/${path}?token=nope`);
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }

    // Another listener's path still works...
    const hello = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/mqtt`);
      ws.once('message', (d) => { resolve(d.toString()); ws.close(); });
      ws.once('error', reject);
    });
    expect(hello).toBe('hello from /mqtt');
    // ...and an upgrade nobody handles is not answered (nor closed) by the live handler.
    const answer = await new Promise<string>((resolve) => {
      const req = httpRequest(`${base}/rules/comms`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' } });
      req.once('upgrade', () => resolve('upgraded'));
      req.once('response', (r) => resolve(`response ${r.statusCode}`));
      req.once('error', (e) => resolve(`error ${e.message}`));
      setTimeout(() => { resolve('silence'); req.destroy(); }, 700);
      req.end();
    });
    expect(answer).toBe('silence');
  });
});
