/**
 * Live view over the bus: what a camera's process publishes on
 * `vigil/camera/<cam>/live/<media>` while it is demanded, and the demand lease on
 * `vigil/camera/<cam>/live/demand` (see `docs/mqtt.md`).
 *
 * **Media message** (QoS 0, not retained): `uint32 BE n` · `n` bytes of UTF-8 JSON
 * {@link LiveHeader} · body. MQTT 3.1.1 has no user properties, so the header travels in
 * the payload, as in `frame-codec.ts`.
 * - `init` — body `ftyp`+`moov` (the MSE init segment), `seq` 0; sent first whenever a
 *   lease starts or is asked for again (`init: true`), and when ffmpeg restarts (new `run`);
 * - `fragment` — body one whole `moof`+`mdat` (with any `styp`/`sidx`/`prft` before it),
 *   `seq` 1, 2, … within the run, `keyframe` true when a decoder may start there. A gap in
 *   `seq` means fragments were lost (QoS 0, or skipped by the publisher's backpressure):
 *   a receiver waits for the next keyframe;
 * - `jpeg` — body a JPEG of a detect frame (main stream only), `ts` its capture time.
 *
 * **Demand** (QoS 1, not retained): JSON {@link LiveDemand}. A requester (the hub) renews
 * its lease every few seconds while it has viewers and sends `lease_ms: 0` when the last
 * one leaves; a requester that dies simply stops renewing, and the camera stops
 * publishing when the lease runs out. Leases are per `client` and medium, so two hubs
 * (or a hub and a Node-RED flow) watching the same camera do not cut each other off.
 */
import { z } from 'zod';
import { LIVE_MEDIA, type LiveMedia } from './topics.ts';

/** Longest lease a camera grants, ms (a longer `lease_ms` is cut to this). */
export const MAX_LEASE_MS = 60_000;
/** Largest header accepted, bytes. */
const MAX_HEADER_BYTES = 4096;

/** Metadata of one live media message. */
export interface LiveHeader {
  kind: 'init' | 'fragment' | 'jpeg';
  /** Which ffmpeg run of the input: Unix ms when it started (a new run starts with a new init segment). */
  run: number;
  /** Fragment number within the run (1, 2, …); 0 for `init`; a counter for `jpeg`. */
  seq: number;
  /** When the publisher produced it (capture time for `jpeg`), Unix ms. */
  ts: number;
  /** `fragment`: the first sample is a sync sample (a decoder may start here). */
  keyframe?: boolean;
  /** `init`: RFC 6381 codec of the video track for MSE (e.g. `avc1.64001f`), when recognised. */
  codec?: string;
  /** `init`: coded size, px. */
  width?: number;
  height?: number;
  /** `fragment`: video duration, ms, when known. */
  duration_ms?: number;
}

/** The demand lease on `vigil/camera/<cam>/live/demand`. */
export const liveDemand = z.object({
  /** Who asks (any stable id of the requester, e.g. `hub-1a2b3c4d`): leases are per client and medium. */
  client: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'client must be 1–64 characters [A-Za-z0-9._:-]'),
  /** Which medium. */
  stream: z.enum(LIVE_MEDIA),
  /** How long to publish without a renewal, ms (cut to {@link MAX_LEASE_MS}); 0 ends this client's lease now. */
  lease_ms: z.number().int().min(0).max(3_600_000),
  /** Send the init segment and the GOP cache again (the requester lacks them, e.g. it subscribed late). */
  init: z.boolean().optional(),
}).strict();
export type LiveDemand = z.infer<typeof liveDemand>;

/** Encodes a media message. */
export function encodeLive(header: LiveHeader, body: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(h.length, 0);
  return Buffer.concat([len, h, body]);
}

const BOX_STARTS: Record<LiveHeader['kind'], string[]> = { init: ['ftyp'], fragment: ['moof', 'styp', 'sidx', 'prft'], jpeg: [] };

/**
 * Decodes a media message and checks that its body is what its kind says (an ISO-BMFF
 * box of the right type, or a JPEG).
 * @throws Error when the payload is truncated, the header is not JSON or lacks fields, or the body does not match the kind
 */
export function decodeLive(payload: Buffer): { header: LiveHeader; body: Buffer } {
  if (payload.length < 4) throw new Error('live payload too short');
  const n = payload.readUInt32BE(0);
  if (n > MAX_HEADER_BYTES || payload.length < 4 + n + 2) throw new Error('live payload truncated or header too long');
  let header: LiveHeader;
  try {
    header = JSON.parse(payload.subarray(4, 4 + n).toString('utf8')) as LiveHeader;
  } catch {
    throw new Error('live header is not JSON');
  }
  if (!header || !['init', 'fragment', 'jpeg'].includes(header.kind) || !Number.isFinite(header.run) || !Number.isInteger(header.seq) || header.seq < 0 || !Number.isFinite(header.ts)) {
    throw new Error('live header lacks kind, run, seq or ts');
  }
  const body = payload.subarray(4 + n);
  if (header.kind === 'jpeg') {
    if (body[0] !== 0xff || body[1] !== 0xd8) throw new Error('live jpeg body is not a JPEG');
  } else if (body.length < 8 || !BOX_STARTS[header.kind].includes(body.toString('latin1', 4, 8))) {
    throw new Error(`live ${header.kind} body does not start with ${BOX_STARTS[header.kind].join('/')}`);
  }
  return { header, body };
}

/**
 * Parses a demand payload.
 * @returns the demand, or an error message naming the field
 */
export function parseLiveDemand(payload: Buffer): { ok: true; demand: LiveDemand } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const r = liveDemand.safeParse(json);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  return { ok: true, demand: r.data };
}

export type { LiveMedia };
