/**
 * Incremental ISO-BMFF (fragmented MP4) splitter for live view. Part of the protocol: the
 * camera component splits its live fMP4 with it to publish whole units on
 * `vigil/camera/<cam>/live/<stream>` (`live-wire.ts`), and the hub's live fan-out splits
 * what it receives (`hub/live/live-feed.ts`). Pure (Buffer only, no I/O).
 *
 * ffmpeg writes `-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof` to a pipe:
 * `ftyp` `moov` (the init segment: codec configuration, no samples), then for each
 * fragment `moof` `mdat` (optionally preceded by `styp`/`sidx`/`prft`), and `mfra` at the
 * very end. {@link Fmp4Splitter} reassembles those boxes from arbitrary pipe chunks and
 * returns whole units a Media Source Extensions client can append as they are.
 *
 * Keyframes: with `-frag_duration` a fragment may start on a P-frame, and such a fragment
 * must never be the first one a viewer gets after its init segment (or after a gap). Each
 * fragment's first sample is classified from the sample flags of ISO/IEC 14496-12 §8.8
 (`trun` first_sample_flags, else the first per-sample flags, else `tfhd`
 * default_sample_flags): it is a sync sample when `sample_is_non_sync_sample`
 * (0x00010000) is clear and `sample_depends_on` (bits 24–25) is not 1 ("depends on
 * others"). Without any of those, the first sample's NAL units are inspected (H.264 IDR,
 * type 5; H.265 IRAP, types 16–23), and only then the `moov/mvex/trex` default flags
 * (often a meaningless 0).
 */

/** Top-level boxes kept in front of the next `moof` and delivered with its fragment. */
const FRAGMENT_PREFIX_BOXES = new Set(['styp', 'sidx', 'prft']);
/** A box larger than this is taken for corruption (the splitter drops its buffer and resyncs). */
const DEFAULT_MAX_BOX_BYTES = 64 * 1024 * 1024;
/** Box types a resync scan accepts as the start of a top-level box. */
const TOP_LEVEL_BOXES = new Set(['ftyp', 'moov', 'moof', 'mdat', 'styp', 'sidx', 'prft', 'free', 'skip', 'mfra', 'emsg', 'uuid', 'meta']);

/** `sample_is_non_sync_sample` in ISO/IEC 14496-12 sample flags. */
export const SAMPLE_IS_NON_SYNC = 0x0001_0000;

/** The init segment: `ftyp` + `moov` (and any box between them), to be appended first. */
export interface Fmp4InitUnit {
  kind: 'init';
  /** The bytes to append (`ftyp` … `moov`). */
  data: Buffer;
  /** RFC 6381 codec of the video track for MSE, e.g. `avc1.64001f` or `hvc1.1.6.L93.B0`; undefined when not recognised. */
  codec?: string;
  /** Media timescale of the video track (ticks per second, from `mdhd`). */
  timescale?: number;
  /** Video track id (`tkhd`), the track whose fragments are classified. */
  trackId?: number;
  /** Coded size of the video track from its sample entry, px. */
  width?: number;
  /** Coded height, px. */
  height?: number;
}

/** A media fragment: optional `styp`/`sidx`/`prft`, then `moof` + `mdat`. */
export interface Fmp4FragmentUnit {
  kind: 'fragment';
  /** The bytes to append. */
  data: Buffer;
  /** True when the fragment's first video sample is a sync sample (keyframe): a viewer may start here. */
  keyframe: boolean;
  /** How {@link keyframe} was decided: sample flags, the first sample's NAL units, or nothing to go by (then false). */
  keyframeFrom: 'flags' | 'nal' | 'none';
  /** `mfhd` sequence number. */
  sequence: number;
  /** Number of video samples (frames) in the fragment. */
  samples: number;
  /** `tfdt` baseMediaDecodeTime of the video track, in ms (undefined without `tfdt` or timescale). */
  startMs?: number;
  /** Sum of the video sample durations, ms (undefined when unknown). */
  durationMs?: number;
}

/** One complete unit out of {@link Fmp4Splitter.push}. */
export type Fmp4Unit = Fmp4InitUnit | Fmp4FragmentUnit;

/** Options of {@link Fmp4Splitter}. */
export interface Fmp4SplitterOptions {
  /** Largest box accepted, bytes; a bigger declared size means a corrupt stream (buffer dropped, resync). Default 64 MiB. */
  maxBoxBytes?: number;
}

interface BoxRef { type: string; start: number; headerSize: number; end: number }

/** Iterates the child boxes of `buf[start, end)`; stops at the first malformed header. */
function* boxes(buf: Buffer, start: number, end: number): Generator<BoxRef> {
  let off = start;
  while (off + 8 <= end) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    let headerSize = 8;
    if (size === 1) {
      if (off + 16 > end) return;
      size = Number(buf.readBigUInt64BE(off + 8));
      headerSize = 16;
    } else if (size === 0) size = end - off;
    if (size < headerSize || off + size > end) return;
    yield { type, start: off, headerSize, end: off + size };
    off += size;
  }
}

function child(buf: Buffer, parent: BoxRef, type: string, skip = 0): BoxRef | undefined {
  for (const b of boxes(buf, parent.start + parent.headerSize + skip, parent.end)) if (b.type === type) return b;
  return undefined;
}

function path(buf: Buffer, parent: BoxRef, ...types: string[]): BoxRef | undefined {
  let cur: BoxRef | undefined = parent;
  for (const t of types) {
    if (!cur) return undefined;
    cur = child(buf, cur, t);
  }
  return cur;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * RFC 6381 codec string from an `avcC` payload (AVCDecoderConfigurationRecord).
 * @param prefix sample entry type (`avc1` or `avc3`).
 * @returns e.g. `avc1.64001f` (profile_idc, constraint flags, level_idc as hex), or undefined when too short.
 */
export function avcCodecString(prefix: string, avcC: Buffer): string | undefined {
  if (avcC.length < 4 || avcC[0] !== 1) return undefined;
  return `${prefix}.${hex2(avcC[1]!)}${hex2(avcC[2]!)}${hex2(avcC[3]!)}`;
}

/**
 * RFC 6381 / ISO/IEC 14496-15 Annex E codec string from an `hvcC` payload
 * (HEVCDecoderConfigurationRecord).
 * @param prefix sample entry type (`hvc1` or `hev1`).
 * @returns e.g. `hvc1.1.6.L93.B0`, or undefined when too short.
 */
export function hevcCodecString(prefix: string, hvcC: Buffer): string | undefined {
  if (hvcC.length < 13) return undefined;
  const b1 = hvcC[1]!;
  const space = ['', 'A', 'B', 'C'][b1 >> 6]!;
  const tier = b1 & 0x20 ? 'H' : 'L';
  const profile = b1 & 0x1f;
  // general_profile_compatibility_flags in reverse bit order.
  const compat = hvcC.readUInt32BE(2);
  let rev = 0;
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) rev |= 1 << (31 - i);
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  const level = hvcC[12]!;
  return [prefix, `${space}${profile}`, (rev >>> 0).toString(16).toUpperCase(), `${tier}${level}`, ...constraints.map((c) => c.toString(16).toUpperCase())].join('.');
}

interface TrackInfo {
  trackId?: number;
  timescale?: number;
  codec?: string;
  sampleEntry?: string;
  /** NAL length field size (bytes) from avcC/hvcC. */
  nalLengthSize?: number;
  width?: number;
  height?: number;
  /** `trex` default_sample_flags / duration for this track. */
  trexFlags?: number;
  trexDuration?: number;
  trexSize?: number;
}

/** Parses `moov`: the first video track (handler `vide`), its codec, timescale and trex defaults. */
function parseMoov(buf: Buffer, moov: BoxRef = { type: 'moov', start: 0, headerSize: 8, end: buf.length }): TrackInfo {
  const info: TrackInfo = {};
  for (const trak of boxes(buf, moov.start + moov.headerSize, moov.end)) {
    if (trak.type !== 'trak') continue;
    const hdlr = path(buf, trak, 'mdia', 'hdlr');
    if (!hdlr || hdlr.start + 20 > hdlr.end || buf.toString('latin1', hdlr.start + 16, hdlr.start + 20) !== 'vide') continue;
    const tkhd = child(buf, trak, 'tkhd');
    if (tkhd) {
      const v = buf[tkhd.start + 8]!;
      const idOff = tkhd.start + 12 + (v === 1 ? 16 : 8);
      if (idOff + 4 <= tkhd.end) info.trackId = buf.readUInt32BE(idOff);
    }
    const mdhd = path(buf, trak, 'mdia', 'mdhd');
    if (mdhd) {
      const v = buf[mdhd.start + 8]!;
      const tsOff = mdhd.start + 12 + (v === 1 ? 16 : 8);
      if (tsOff + 4 <= mdhd.end) info.timescale = buf.readUInt32BE(tsOff);
    }
    const stsd = path(buf, trak, 'mdia', 'minf', 'stbl', 'stsd');
    if (stsd) {
      // stsd: full box header (4) + entry_count (4), then sample entries.
      for (const entry of boxes(buf, stsd.start + stsd.headerSize + 8, stsd.end)) {
        info.sampleEntry = entry.type;
        // VisualSampleEntry: 6 reserved + 2 dri + 16 pre_defined/reserved, width, height … 78 bytes before children.
        const body = entry.start + entry.headerSize;
        if (body + 78 <= entry.end) {
          info.width = buf.readUInt16BE(body + 24);
          info.height = buf.readUInt16BE(body + 26);
        }
        for (const cfg of boxes(buf, body + 78, entry.end)) {
          const payload = buf.subarray(cfg.start + cfg.headerSize, cfg.end);
          if (cfg.type === 'avcC') {
            info.codec = avcCodecString(entry.type, payload);
            if (payload.length > 4) info.nalLengthSize = (payload[4]! & 3) + 1;
          } else if (cfg.type === 'hvcC') {
            info.codec = hevcCodecString(entry.type, payload);
            if (payload.length > 21) info.nalLengthSize = (payload[21]! & 3) + 1;
          }
        }
        break;
      }
    }
    break;
  }
  const mvex = child(buf, moov, 'mvex');
  if (mvex) {
    for (const trex of boxes(buf, mvex.start + mvex.headerSize, mvex.end)) {
      if (trex.type !== 'trex' || trex.start + 32 > trex.end) continue;
      const id = buf.readUInt32BE(trex.start + 12);
      if (info.trackId !== undefined && id !== info.trackId) continue;
      info.trexDuration = buf.readUInt32BE(trex.start + 20);
      info.trexSize = buf.readUInt32BE(trex.start + 24);
      info.trexFlags = buf.readUInt32BE(trex.start + 28);
      break;
    }
  }
  return info;
}

/** True when sample `flags` (ISO/IEC 14496-12 §8.8.3.1) mark a sync sample. */
export function isSyncSampleFlags(flags: number): boolean {
  return (flags & SAMPLE_IS_NON_SYNC) === 0 && ((flags >>> 24) & 3) !== 1;
}

interface FragmentInfo {
  sequence: number;
  keyframe: boolean;
  keyframeFrom: 'flags' | 'nal' | 'none';
  samples: number;
  baseTime?: number;
  duration?: number;
}

/**
 * Classifies a `moof` (+ its `mdat`) for the video track described by `track`.
 * `buf` holds the moof at `moof.start`; sample data offsets are resolved against it.
 */
function parseMoof(buf: Buffer, moof: BoxRef, track: TrackInfo): FragmentInfo {
  const res: FragmentInfo = { sequence: 0, keyframe: false, keyframeFrom: 'none', samples: 0 };
  const mfhd = child(buf, moof, 'mfhd');
  if (mfhd && mfhd.start + 16 <= mfhd.end) res.sequence = buf.readUInt32BE(mfhd.start + 12);
  let traf: BoxRef | undefined;
  let tfhdFlags = 0;
  let trackId: number | undefined;
  for (const t of boxes(buf, moof.start + moof.headerSize, moof.end)) {
    if (t.type !== 'traf') continue;
    const tfhd = child(buf, t, 'tfhd');
    if (!tfhd || tfhd.start + 16 > tfhd.end) continue;
    const id = buf.readUInt32BE(tfhd.start + 12);
    if (track.trackId === undefined || id === track.trackId) {
      traf = t;
      trackId = id;
      tfhdFlags = buf.readUInt32BE(tfhd.start + 8) & 0xffffff;
      break;
    }
  }
  if (!traf || trackId === undefined) return res;
  const tfhd = child(buf, traf, 'tfhd')!;
  let off = tfhd.start + 16;
  let baseDataOffset: number | undefined;
  let defDuration = track.trexDuration;
  let defSize = track.trexSize;
  let defFlags = track.trexFlags;
  let defFlagsFromTfhd = false;
  if (tfhdFlags & 0x1) { baseDataOffset = Number(buf.readBigUInt64BE(off)); off += 8; }
  if (tfhdFlags & 0x2) off += 4; // sample_description_index
  if (tfhdFlags & 0x8) { defDuration = buf.readUInt32BE(off); off += 4; }
  if (tfhdFlags & 0x10) { defSize = buf.readUInt32BE(off); off += 4; }
  if (tfhdFlags & 0x20) { defFlags = buf.readUInt32BE(off); off += 4; defFlagsFromTfhd = true; }
  if (off > tfhd.end) return res;

  const tfdt = child(buf, traf, 'tfdt');
  if (tfdt && tfdt.start + 16 <= tfdt.end) {
    res.baseTime = buf[tfdt.start + 8] === 1 ? Number(buf.readBigUInt64BE(tfdt.start + 12)) : buf.readUInt32BE(tfdt.start + 12);
  }

  let firstFlags: number | undefined;
  let firstFlagsKnown = false;
  let firstOffset: number | undefined;
  let firstSize: number | undefined;
  let duration = 0;
  let durationKnown = true;
  let first = true;
  for (const trun of boxes(buf, traf.start + traf.headerSize, traf.end)) {
    if (trun.type !== 'trun') continue;
    const flags = buf.readUInt32BE(trun.start + 8) & 0xffffff;
    const count = buf.readUInt32BE(trun.start + 12);
    let p = trun.start + 16;
    let dataOffset: number | undefined;
    let runFirstFlags: number | undefined;
    if (flags & 0x1) { dataOffset = buf.readInt32BE(p); p += 4; }
    if (flags & 0x4) { runFirstFlags = buf.readUInt32BE(p); p += 4; }
    const per = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
    if (p + per * count > trun.end) break;
    for (let i = 0; i < count; i++) {
      let q = p + i * per;
      let d = defDuration;
      let s = defSize;
      let f: number | undefined;
      if (flags & 0x100) { d = buf.readUInt32BE(q); q += 4; }
      if (flags & 0x200) { s = buf.readUInt32BE(q); q += 4; }
      if (flags & 0x400) { f = buf.readUInt32BE(q); q += 4; }
      if (d === undefined) durationKnown = false; else duration += d;
      if (first && i === 0) {
        if (runFirstFlags !== undefined) { firstFlags = runFirstFlags; firstFlagsKnown = true; }
        else if (f !== undefined) { firstFlags = f; firstFlagsKnown = true; }
        else if (defFlags !== undefined) { firstFlags = defFlags; firstFlagsKnown = defFlagsFromTfhd; }
        firstSize = s;
        if (dataOffset !== undefined && baseDataOffset === undefined) firstOffset = moof.start + dataOffset;
      }
    }
    if (count > 0) first = false;
    res.samples += count;
  }
  if (res.samples > 0 && durationKnown) res.duration = duration;
  if (res.samples === 0) return res;

  if (firstFlagsKnown && firstFlags !== undefined) {
    res.keyframe = isSyncSampleFlags(firstFlags);
    res.keyframeFrom = 'flags';
  } else if (firstOffset !== undefined && firstSize !== undefined && track.nalLengthSize) {
    const nal = firstSampleIsRandomAccess(buf.subarray(firstOffset, Math.min(buf.length, firstOffset + firstSize)), track);
    if (nal !== undefined) {
      res.keyframe = nal;
      res.keyframeFrom = 'nal';
    }
  }
  if (res.keyframeFrom === 'none' && firstFlags !== undefined) {
    // Only the `trex` default is left: muxers often leave it 0, hence after the NAL check.
    res.keyframe = isSyncSampleFlags(firstFlags);
    res.keyframeFrom = 'flags';
  }
  return res;
}

/** Scans a length-prefixed H.264/H.265 access unit for an IDR/IRAP NAL unit; undefined when the codec is unknown. */
function firstSampleIsRandomAccess(sample: Buffer, track: TrackInfo): boolean | undefined {
  const len = track.nalLengthSize!;
  const hevc = /^(hvc1|hev1)$/.test(track.sampleEntry ?? '');
  const avc = /^(avc1|avc3)$/.test(track.sampleEntry ?? '');
  if (!hevc && !avc) return undefined;
  let p = 0;
  while (p + len < sample.length) {
    const n = sample.readUIntBE(p, len);
    p += len;
    if (n === 0 || p + n > sample.length) break;
    const h = sample[p]!;
    if (avc && (h & 0x1f) === 5) return true;
    if (hevc) {
      const t = (h >> 1) & 0x3f;
      if (t >= 16 && t <= 23) return true;
    }
    p += n;
  }
  return false;
}

/**
 * Splits a fragmented-MP4 byte stream (as written by ffmpeg to a pipe) into
 * {@link Fmp4Unit}s. Feed it chunks of any size, in order; each `push` returns the units
 * completed by that chunk. One instance per stream: call {@link reset} when the writer
 * restarts mid-box (a new `ftyp` at a box boundary is recognised by itself and starts a
 * new init segment).
 *
 * Unknown top-level boxes (`free`, `mfra`, `uuid` …) are dropped; `styp`/`sidx`/`prft`
 * are prepended to the next fragment; an `mdat` without a `moof` is dropped. A box
 * header with an impossible size drops the buffered bytes and scans forward for the
 * next plausible box start.
 */
export class Fmp4Splitter {
  private chunks: Buffer[] = [];
  private length = 0;
  private initParts: Buffer[] | undefined;
  private prefix: Buffer[] = [];
  private pendingMoof: Buffer | undefined;
  private track: TrackInfo = {};
  private readonly maxBoxBytes: number;
  /** Bytes dropped as garbage since construction (resyncs, orphan boxes). */
  droppedBytes = 0;

  /** @param opts see {@link Fmp4SplitterOptions}. */
  constructor(opts: Fmp4SplitterOptions = {}) {
    this.maxBoxBytes = opts.maxBoxBytes ?? DEFAULT_MAX_BOX_BYTES;
  }

  /** The latest init segment's codec string, if one was seen and recognised. */
  get codec(): string | undefined { return this.track.codec; }

  /** Bytes buffered waiting for the rest of a box. */
  get bufferedBytes(): number { return this.length; }

  /** Forgets everything buffered (the writer restarted); the next unit expected is an init segment. */
  reset(): void {
    this.chunks = [];
    this.length = 0;
    this.initParts = undefined;
    this.prefix = [];
    this.pendingMoof = undefined;
    this.track = {};
  }

  /**
   * Adds bytes from the stream.
   * @param chunk the next bytes, any size (empty is fine). The splitter keeps references to
   *   `chunk` (no copy when a box lies within one chunk), so do not reuse its memory.
   * @returns units completed by this chunk, in stream order (often none).
   */
  push(chunk: Buffer): Fmp4Unit[] {
    const out: Fmp4Unit[] = [];
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    for (;;) {
      if (this.length < 8) break;
      const head = this.peek(16);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (head.length < 16) break;
        const big = head.readBigUInt64BE(8);
        size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
      }
      if (size < 8 || size > this.maxBoxBytes || !/^[\x20-\x7e]{4}$/.test(type)) {
        this.resync();
        continue;
      }
      if (this.length < size) break;
      this.handle(type, this.take(size), out);
    }
    return out;
  }

  private handle(type: string, box: Buffer, out: Fmp4Unit[]): void {
    switch (type) {
      case 'ftyp':
        this.initParts = [box];
        this.prefix = [];
        this.pendingMoof = undefined;
        return;
      case 'moov': {
        const data = Buffer.concat([...(this.initParts ?? []), box]);
        this.initParts = undefined;
        try {
          this.track = parseMoov(box, { type: 'moov', start: 0, headerSize: 8, end: box.length });
        } catch {
          this.track = {};
        }
        const unit: Fmp4InitUnit = { kind: 'init', data };
        if (this.track.codec) unit.codec = this.track.codec;
        if (this.track.timescale) unit.timescale = this.track.timescale;
        if (this.track.trackId !== undefined) unit.trackId = this.track.trackId;
        if (this.track.width) unit.width = this.track.width;
        if (this.track.height) unit.height = this.track.height;
        out.push(unit);
        return;
      }
      case 'moof':
        if (this.pendingMoof) this.droppedBytes += this.pendingMoof.length;
        this.pendingMoof = box;
        return;
      case 'mdat': {
        if (!this.pendingMoof) {
          this.droppedBytes += box.length;
          this.prefix = [];
          return;
        }
        const moof = this.pendingMoof;
        this.pendingMoof = undefined;
        const prefixLen = this.prefix.reduce((n, b) => n + b.length, 0);
        const data = Buffer.concat([...this.prefix, moof, box]);
        this.prefix = [];
        let info: FragmentInfo;
        try {
          info = parseMoof(data, { type: 'moof', start: prefixLen, headerSize: 8, end: prefixLen + moof.length }, this.track);
        } catch {
          info = { sequence: 0, keyframe: false, keyframeFrom: 'none', samples: 0 };
        }
        const unit: Fmp4FragmentUnit = { kind: 'fragment', data, keyframe: info.keyframe, keyframeFrom: info.keyframeFrom, sequence: info.sequence, samples: info.samples };
        const ts = this.track.timescale;
        if (ts) {
          if (info.baseTime !== undefined) unit.startMs = (info.baseTime * 1000) / ts;
          if (info.duration !== undefined) unit.durationMs = (info.duration * 1000) / ts;
        }
        out.push(unit);
        return;
      }
      default:
        if (FRAGMENT_PREFIX_BOXES.has(type)) this.prefix.push(box);
        else if (this.initParts) this.initParts.push(box);
        else this.droppedBytes += box.length;
    }
  }

  /** Drops at least one byte, then everything up to the next plausible top-level box header. */
  private resync(): void {
    const all = this.take(this.length);
    let at = -1;
    for (let i = 1; i + 8 <= all.length; i++) {
      const t = all.toString('latin1', i + 4, i + 8);
      if (TOP_LEVEL_BOXES.has(t) && all.readUInt32BE(i) >= 8) { at = i; break; }
    }
    // Keep the last 7 bytes when nothing matched: a header may straddle the next chunk.
    const keepFrom = at >= 0 ? at : Math.max(1, all.length - 7);
    this.droppedBytes += keepFrom;
    this.prefix = [];
    this.pendingMoof = undefined;
    const rest = all.subarray(keepFrom);
    if (rest.length) { this.chunks.push(rest); this.length = rest.length; }
  }

  /** Up to `n` leading bytes (copies only when they straddle chunks). */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n || this.chunks.length === 1) return first.subarray(0, n);
    return Buffer.concat(this.chunks, Math.min(n, this.length)).subarray(0, n);
  }

  /** Removes and returns the first `n` bytes (n ≤ length). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < n) {
        const c = this.chunks[0]!;
        const want = n - got;
        if (c.length <= want) { parts.push(c); got += c.length; this.chunks.shift(); }
        else { parts.push(c.subarray(0, want)); this.chunks[0] = c.subarray(want); got += want; }
      }
      out = Buffer.concat(parts, n);
    }
    this.length -= n;
    return out;
  }
}
