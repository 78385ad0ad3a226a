/**
 * Image preparation for the face models (sharp/libvips): the part of a frame where a
 * person's face can be, enrolled images, and face crops for enrolment.
 */
import sharp, { type Metadata } from 'sharp';
import type { Box } from '../../protocol/tracked-object.ts';

/** An image ready for {@link FaceModel.detect}, and how to map its px back to the source. */
export interface PreparedImage {
  /** Packed RGB24 of a square `side`×`side` image (the content top-left, black padding right/bottom). */
  rgb: Buffer;
  side: number;
  /** Source px = prepared px / `scale` + `offset`. */
  scale: number;
  offset: [number, number];
  /** Size of the source image, px. */
  sourceWidth: number;
  sourceHeight: number;
  /** The part of the source looked at, px of the source. */
  region: Box;
}

/** Longest side fed to the models, px: BlazeFace looks at 256×256 and FaceRes crops at that scale, so more only costs time. */
export const MAX_MODEL_SIDE = 640;

/**
 * Where in a `person` box to look for a face: the upper part, `min(h, max(1.2 w, h / 2))`
 * tall, widened by 10 % of the width each side and raised by 5 % of the height (a head at
 * the box's edge), clamped to the frame. A standing person's box is ~3× as tall as wide,
 * so that is the top half; a head-and-shoulders box is kept whole.
 * @param box person box, px of the frame
 * @returns the region, integer px of the frame (at least 1×1), or null when the box is outside the frame
 */
export function faceRegion(box: Box, frameWidth: number, frameHeight: number): Box | null {
  const [x1, y1, x2, y2] = box;
  const w = x2 - x1, h = y2 - y1;
  if (!(w > 0 && h > 0)) return null;
  const tall = Math.min(h, Math.max(1.2 * w, h / 2));
  const r: Box = [
    Math.max(0, Math.floor(x1 - 0.1 * w)),
    Math.max(0, Math.floor(y1 - 0.05 * h)),
    Math.min(frameWidth, Math.ceil(x2 + 0.1 * w)),
    Math.min(frameHeight, Math.ceil(y1 + tall)),
  ];
  return r[2] - r[0] >= 1 && r[3] - r[1] >= 1 ? r : null;
}

/**
 * Decodes `image` (JPEG, PNG, WebP …; EXIF orientation applied), cuts `region` (px of the
 * decoded image; whole image when omitted), shrinks it to at most {@link MAX_MODEL_SIDE}
 * and pads it square.
 * @throws Error `invalid image: …` when it cannot be decoded or the region is empty
 */
export async function prepareImage(image: Uint8Array, region?: Box): Promise<PreparedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(image).metadata();
  } catch (err) {
    throw new Error(`invalid image: ${(err as Error).message}`);
  }
  // EXIF orientations 5–8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const srcW = (swap ? meta.height : meta.width) ?? 0;
  const srcH = (swap ? meta.width : meta.height) ?? 0;
  const r: Box = region ?? [0, 0, srcW, srcH];
  const left = Math.max(0, Math.round(r[0])), top = Math.max(0, Math.round(r[1]));
  const width = Math.min(srcW, Math.round(r[2])) - left, height = Math.min(srcH, Math.round(r[3])) - top;
  if (!(width > 0 && height > 0)) throw new Error(`invalid image: empty region ${JSON.stringify(r)} of ${srcW}x${srcH}`);
  const scale = Math.min(1, MAX_MODEL_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
  const side = Math.max(w, h);
  try {
    const { data } = await sharp(image)
      .rotate()
      .extract({ left, top, width, height })
      .resize(w, h, { fit: 'fill' })
      .extend({ right: side - w, bottom: side - h, background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (data.length !== side * side * 3) throw new Error(`decoded ${data.length} bytes, expected ${side * side * 3}`);
    return { rgb: data, side, scale: w / width, offset: [left, top], sourceWidth: srcW, sourceHeight: srcH, region: [left, top, left + width, top + height] };
  } catch (err) {
    throw new Error(`invalid image: ${(err as Error).message}`);
  }
}

/** Maps a box in px of a {@link PreparedImage} back to px of its source (rounded, clamped to the region looked at: not into the padding). */
export function toSource(p: PreparedImage, box: Box): Box {
  const [rx1, ry1, rx2, ry2] = p.region;
  const map = (v: number, o: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v / p.scale + o)));
  return [map(box[0], p.offset[0], rx1, rx2), map(box[1], p.offset[1], ry1, ry2), map(box[2], p.offset[0], rx1, rx2), map(box[3], p.offset[1], ry1, ry2)];
}

/**
 * A face cut from its frame for later enrolment: the face box enlarged `factor`× about its
 * centre (so BlazeFace finds the face again in it), clamped to the frame, at most `maxSide`
 * px, JPEG quality 90.
 * @param box face box, px of the frame
 * @throws Error when the frame cannot be decoded
 */
export async function cropFace(frame: Uint8Array, box: Box, frameWidth: number, frameHeight: number, factor = 1.6, maxSide = 400): Promise<Buffer> {
  const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
  const half = (Math.max(box[2] - box[0], box[3] - box[1]) * factor) / 2;
  const left = Math.max(0, Math.floor(cx - half)), top = Math.max(0, Math.floor(cy - half));
  const right = Math.min(frameWidth, Math.ceil(cx + half)), bottom = Math.min(frameHeight, Math.ceil(cy + half));
  return sharp(frame)
    .rotate()
    .extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) })
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 90 })
    .toBuffer();
}
