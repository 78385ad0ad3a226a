/**
 * Image preparation for the two PaddleOCR models, on packed RGB24 pixels (row-major,
 * `width * height * 3` bytes). The models were trained on OpenCV's BGR order, so the
 * tensors are built in BGR, as PaddleOCR (`tools/infer/predict_det.py`, `predict_rec.py`) and
 * Frigate feed them.
 */
import type { RotatedRect } from './text-boxes.ts';

/** Packed RGB24 pixels and their size, px. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** ImageNet mean and std PaddleOCR's detection model was trained with, in tensor channel order (B, G, R). */
const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

/**
 * The detection model's input: `[1, 3, h, w]` float32, BGR, `(v/255 − mean) / std` (PaddleOCR's
 * `NormalizeImage` with its ImageNet constants, applied in BGR order as PaddleOCR does).
 * @throws RangeError when the buffer size does not match.
 */
export function detTensor(img: RgbImage): Float32Array {
  const { data, width, height } = img;
  if (data.length !== width * height * 3) throw new RangeError(`RGB buffer is ${data.length} bytes, expected ${width * height * 3}`);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c; // B, G, R from R, G, B
    const k = 1 / (255 * DET_STD[c]!);
    const m = DET_MEAN[c]! / DET_STD[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = data[i * 3 + src]! * k - m;
  }
  return out;
}

/**
 * Cuts a rotated rectangle out of an image into an upright `outW × outH` RGB crop
 * (OpenCV's `getPerspectiveTransform` + `warpPerspective` as PaddleOCR's
 * `get_rotate_crop_image` uses it, reduced to the affine case of a rectangle). Each output
 * pixel averages a grid of bilinear samples (more when shrinking), so shrinking a large
 * plate does not alias. Pixels outside the image repeat the border (`BORDER_REPLICATE`).
 * @throws RangeError for a non-positive output size.
 */
export function warpRect(img: RgbImage, rect: RotatedRect, outW: number, outH: number): RgbImage {
  if (!(outW >= 1 && outH >= 1)) throw new RangeError(`invalid crop size ${outW}x${outH}`);
  const { data, width, height } = img;
  const ux = Math.cos(rect.angle), uy = Math.sin(rect.angle);
  const sx = rect.width / outW; // source px per output px along the width
  const sy = rect.height / outH;
  const nx = Math.max(1, Math.ceil(sx)), ny = Math.max(1, Math.ceil(sy));
  const out = new Uint8Array(outW * outH * 3);
  const acc = [0, 0, 0];
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let j = 0; j < ny; j++) {
        const v = (oy + (j + 0.5) / ny) * sy - rect.height / 2;
        for (let i = 0; i < nx; i++) {
          const u = (ox + (i + 0.5) / nx) * sx - rect.width / 2;
          // Source position of the sample (pixel centres at +0.5).
          const x = Math.min(width - 1, Math.max(0, rect.cx + u * ux - v * uy - 0.5));
          const y = Math.min(height - 1, Math.max(0, rect.cy + u * uy + v * ux - 0.5));
          const x0 = Math.floor(x), y0 = Math.floor(y);
          const x1 = Math.min(width - 1, x0 + 1), y1 = Math.min(height - 1, y0 + 1);
          const fx = x - x0, fy = y - y0;
          const a = (y0 * width + x0) * 3, b = (y0 * width + x1) * 3, c = (y1 * width + x0) * 3, d = (y1 * width + x1) * 3;
          for (let ch = 0; ch < 3; ch++) {
            const top = data[a + ch]! + (data[b + ch]! - data[a + ch]!) * fx;
            const bottom = data[c + ch]! + (data[d + ch]! - data[c + ch]!) * fx;
            acc[ch]! += top + (bottom - top) * fy;
          }
        }
      }
      const o = (oy * outW + ox) * 3;
      const n = nx * ny;
      out[o] = Math.round(acc[0]! / n);
      out[o + 1] = Math.round(acc[1]! / n);
      out[o + 2] = Math.round(acc[2]! / n);
    }
  }
  return { data: out, width: outW, height: outH };
}

/**
 * The recognition model's input for a batch of line crops of one height: `[n, 3, h, w]`
 * float32, BGR, `(v/255 − 0.5) / 0.5`, each crop left-aligned and zero-padded to `width`
 * (PaddleOCR's `resize_norm_img`).
 * @throws RangeError when a crop is taller than the others or wider than `width`.
 */
export function recTensor(crops: readonly RgbImage[], width: number): Float32Array {
  const h = crops[0]?.height ?? 0;
  const plane = h * width;
  const out = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    if (crop.height !== h || crop.width > width) throw new RangeError(`crop ${crop.width}x${crop.height} does not fit ${width}x${h}`);
    for (let c = 0; c < 3; c++) {
      const src = 2 - c;
      const base = (n * 3 + c) * plane;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < crop.width; x++) out[base + y * width + x] = crop.data[(y * crop.width + x) * 3 + src]! / 127.5 - 1;
      }
    }
  });
  return out;
}
