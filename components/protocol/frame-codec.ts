/**
 * Binary payload of `vigil/camera/<cam>/frame`: a detect frame from the camera
 * component to the detector, small enough for MQTT (a 640×480 JPEG is ~30–60 KB).
 *
 * Layout: `uint32 BE headerLength` · `headerLength` bytes of UTF-8 JSON {@link FrameHeader} · JPEG bytes.
 * MQTT 3.1.1 has no user properties, so the header travels inside the payload.
 */

/** Metadata of one frame. */
export interface FrameHeader {
  camera: string;
  /** Monotonic frame number of this camera input (restarts at 0 with ffmpeg). */
  seq: number;
  /** Capture time: when the frame left ffmpeg, Unix ms. */
  ts: number;
  /** Frame size, px. */
  width: number;
  height: number;
  /** True when motion was detected on this frame. */
  motion: boolean;
  /** Motion boxes `[x1, y1, x2, y2]` in px of this frame, largest first (empty or absent without motion). */
  motion_boxes?: Array<[number, number, number, number]>;
}

/** Encodes a frame message. */
export function encodeFrame(header: FrameHeader, jpeg: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(h.length, 0);
  return Buffer.concat([len, h, jpeg]);
}

/**
 * Decodes a frame message.
 * @throws Error when the payload is truncated, the header is not JSON, or fields are missing.
 */
export function decodeFrame(payload: Buffer): { header: FrameHeader; jpeg: Buffer } {
  if (payload.length < 4) throw new Error('frame payload too short');
  const n = payload.readUInt32BE(0);
  if (n > 4096 || payload.length < 4 + n + 2) throw new Error('frame payload truncated or header too long');
  const header = JSON.parse(payload.subarray(4, 4 + n).toString('utf8')) as FrameHeader;
  if (typeof header.camera !== 'string' || typeof header.ts !== 'number' || typeof header.width !== 'number' || typeof header.height !== 'number') {
    throw new Error('frame header lacks camera, ts, width or height');
  }
  if (header.motion_boxes !== undefined && !(Array.isArray(header.motion_boxes) && header.motion_boxes.every((b) => Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number' && Number.isFinite(v))))) {
    throw new Error('frame header motion_boxes must be [x1, y1, x2, y2] number arrays');
  }
  const jpeg = payload.subarray(4 + n);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('frame body is not a JPEG');
  return { header, jpeg };
}
