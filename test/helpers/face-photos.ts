/**
 * Real photos of real people for the face tests and `bench/faces.ts`, from packages this
 * machine installs anyway (no photo is stored in the repository):
 *
 * - `@vladmandic/human` (npm) ships `assets/screenshot-facematch.jpg` (1920×954), a screenshot
 *   of its face-match demo: a grid of face tiles (~107 px square) cut from many group and
 *   party photos. The first 11 tiles of the first row are the same man, Vladimir Mandic
 *   (human's author, "vlado" in its `demo/facematch/faces.json`), in 10 different photos
 *   (tiles 0 and 1 of the "selected face" photo are the same photo as the large crop at the
 *   top left); the other tiles are other people, many of them women. The tiles carry the
 *   demo's small overlay text (similarity top-left, age/gender at the bottom).
 * - `opencv-doc` (Debian) ships `face_swapped.jpg` (a man, 320×320, a face-swap tutorial's
 *   output), `messi5.jpg` (a footballer, full body, face ~47 px) and photos without faces
 *   (`fruits.jpg`).
 *
 * Weakness: every photo of person A is a ~107 px tile of one screenshot, with overlay text;
 * held-out tiles are different original photos, but all went through the same screenshot.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../../components/protocol/tracked-object.ts';

const require = createRequire(import.meta.url);
const HUMAN_ASSETS = path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'assets');

/** The face-match screenshot (JPEG, 1920×954). */
export const FACEMATCH = path.join(HUMAN_ASSETS, 'screenshot-facematch.jpg');
export const OPENCV_HTML = '/usr/share/doc/opencv-doc/opencv4/html';
export const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';
/** A man (not person A), 320×320. */
export const FACE_SWAPPED = path.join(OPENCV_HTML, 'face_swapped.jpg');
/** A footballer kicking a ball, 548×342; his face is ~47 px wide. */
export const MESSI = path.join(OPENCV_DATA, 'messi5.jpg');
/** Messi's person box in {@link MESSI}, px (arms spread, feet to hair), measured by eye. */
export const MESSI_BOX: Box = [70, 60, 460, 335];
/** A photo without any face. */
export const FRUITS = path.join(OPENCV_DATA, 'fruits.jpg');

/** Top edge of each tile row of {@link FACEMATCH}, px (from the dark lines between rows); tiles are 106 px tall. */
const ROW_TOP = [283, 395, 508, 620, 732, 845];

/** The box of tile `col` (0–17) of row `row` (0–5) of {@link FACEMATCH}, px: 18 tiles share the 1920 px width. */
export function tile(row: number, col: number): Box {
  const x1 = Math.round((col * 1920) / 18), x2 = Math.min(1917, Math.round(((col + 1) * 1920) / 18));
  const y1 = ROW_TOP[row]!;
  return [x1, y1, x2, y1 + 106];
}

/** Person A (Vladimir Mandic): tiles enrolled… */
export const A_ENROL: Box[] = [tile(0, 0), tile(0, 1), tile(0, 3)];
/** …and tiles of other photos of him, held out. */
export const A_HELD_OUT: Box[] = [2, 4, 5, 6, 7, 8].map((c) => tile(0, c));
/** Person B and others: tiles of women (not A), row 1 and 2. */
export const OTHERS: Box[] = [[1, 6], [1, 7], [1, 9], [1, 10], [1, 11], [1, 12], [1, 14], [1, 17], [2, 1], [2, 2], [2, 3], [2, 8], [2, 9], [2, 10], [2, 11], [2, 14], [2, 15], [2, 16], [2, 17]].map(([r, c]) => tile(r!, c!));
/** Person B: one woman's tile. */
export const B_TILE: Box = tile(1, 6);

/** A tile of {@link FACEMATCH} as its own JPEG (an enrolment image). */
export async function tileJpeg(box: Box): Promise<Buffer> {
  return sharp(FACEMATCH).extract({ left: box[0], top: box[1], width: box[2] - box[0], height: box[3] - box[1] }).jpeg({ quality: 92 }).toBuffer();
}
