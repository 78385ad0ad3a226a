/**
 * Event snapshots: the frame with the object's box and label drawn, and a crop around
 * the object (Frigate `frigate/object_processing.py` draws the box and crops with 10 %
 * margin). Rendering runs in sharp/libvips threads, not on the event loop.
 */
import sharp from 'sharp';
import type { Box } from '../protocol/tracked-object.ts';

/** JPEG quality of snapshots (1–100). */
const QUALITY = 85;

/**
 * Renders the snapshot and crop JPEGs of one object.
 * @param jpeg the detect frame, JPEG
 * @param size its size, px
 * @param box the object's box, px `[x1, y1, x2, y2]`
 * @param caption text drawn over the box (e.g. `person 87%`)
 * @returns `{ snapshot, crop }` JPEG buffers
 * @throws when the JPEG cannot be decoded
 */
export async function renderSnapshot(jpeg: Buffer, size: { width: number; height: number }, box: Box, caption: string): Promise<{ snapshot: Buffer; crop: Buffer }> {
  const [x1, y1, x2, y2] = clampBox(box, size);
  const w = Math.max(1, x2 - x1);
  const h = Math.max(1, y2 - y1);
  const stroke = Math.max(2, Math.round(size.width / 320));
  const font = Math.max(12, Math.round(size.width / 40));
  const labelY = y1 > font + 4 ? y1 - 4 : y1 + font + 2;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">
    <rect x="${x1}" y="${y1}" width="${w}" height="${h}" fill="none" stroke="#ff3b30" stroke-width="${stroke}"/>
    <text x="${x1 + 2}" y="${labelY}" font-family="sans-serif" font-size="${font}" fill="#ff3b30" stroke="#000" stroke-width="0.6">${escapeXml(caption)}</text>
  </svg>`;
  const snapshot = await sharp(jpeg).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).jpeg({ quality: QUALITY }).toBuffer();
  const mx = Math.round(w * 0.1);
  const my = Math.round(h * 0.1);
  const left = Math.max(0, x1 - mx);
  const top = Math.max(0, y1 - my);
  const crop = await sharp(jpeg)
    .extract({ left, top, width: Math.min(size.width - left, w + 2 * mx), height: Math.min(size.height - top, h + 2 * my) })
    .jpeg({ quality: QUALITY })
    .toBuffer();
  return { snapshot, crop };
}

function clampBox(b: Box, s: { width: number; height: number }): Box {
  const cx = (v: number) => Math.min(s.width - 1, Math.max(0, Math.round(v)));
  const cy = (v: number) => Math.min(s.height - 1, Math.max(0, Math.round(v)));
  return [cx(b[0]), cy(b[1]), cx(b[2]), cy(b[3])];
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
