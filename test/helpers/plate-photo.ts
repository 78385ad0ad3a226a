/**
 * A real photograph of a car with a readable licence plate, for `test/lpr.test.ts` and
 * `bench/lpr.ts` — from a package this machine installs anyway (no photo is stored in the
 * repository).
 *
 * Debian's `opencv-doc` ships `examples/data/licenseplate_motion.jpg` (600×482): a photo
 * (Exif: FUJIFILM FinePix S7000) of the rear of a silver Honda Civic, taken from a moving
 * car, so motion-blurred and unreadable as it is. OpenCV ships it for its Wiener
 * deconvolution sample, whose documentation gives the blur: `deconvolution.py --angle 135
 * --d 22 licenseplate_motion.jpg` (`examples/python/deconvolution.py`; image source
 * topazlabs.com). {@link restoredPlatePhoto} runs that same restoration (grey, edges
 * tapered with `blur_edge`, linear motion PSF of 22 px at 135°, SNR 25 dB), after which a
 * person reads the plate as **127-RFS**.
 *
 * Differences from OpenCV's sample: the FFT here is radix-2, so the photo is cut to 512
 * columns (x 44–555, the whole car) and its 482 rows padded to 512 by repeating the edge
 * rows (15 above, 15 below); the PSF is the centre line splatted bilinearly (OpenCV warps a
 * 1×d row with cubic interpolation); the edge blur is a Gaussian with OpenCV's default sigma
 * for a 63-tap kernel (9.8 px), wrapped like OpenCV's `BORDER_WRAP` padding.
 *
 * Weakness: the frame the enricher sees is grey and restored (ringing, stripes), not a clean
 * camera frame; the plate is large (≈ 150 px of 512).
 */
import sharp from 'sharp';
import type { Box } from '../../components/protocol/tracked-object.ts';

/** The motion-blurred original (Debian `opencv-doc`). */
export const PLATE_PHOTO = '/usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg';
/** The plate as a person reads it on the restored photo, and as the enricher normalizes it. */
export const PLATE_TEXT = '127-RFS';
export const PLATE_NORMALIZED = '127RFS';

/** Where the restored frame sits in the original: restored (x, y) = original (x − 44, y + 15). */
const CROP_X = 44;
const PAD_Y = 15;
const SIZE = 512;

/** The restored photo: a 512×512 JPEG (3-channel, grey) and a box mapper from original px. */
export interface RestoredPhoto {
  jpeg: Buffer;
  width: number;
  height: number;
  /** Maps a box in px of the original photo to px of the restored one (clamped to it). */
  fromOriginal(box: Box): Box;
}

/**
 * Restores {@link PLATE_PHOTO} with OpenCV's documented Wiener deconvolution (see the file header).
 * @throws Error when the photo is missing (`apt-get install opencv-doc`) or not 600×482.
 */
export async function restoredPlatePhoto(): Promise<RestoredPhoto> {
  const { data, info } = await sharp(PLATE_PHOTO).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== 600 || info.height !== 482 || info.channels !== 1) {
    throw new Error(`${PLATE_PHOTO}: expected 600x482 grey, got ${info.width}x${info.height}x${info.channels}`);
  }
  const n = SIZE;
  const img = new Float64Array(n * n);
  for (let y = 0; y < n; y++) {
    const sy = Math.min(info.height - 1, Math.max(0, y - PAD_Y));
    for (let x = 0; x < n; x++) img[y * n + x] = data[sy * info.width + x + CROP_X]! / 255;
  }
  const tapered = blurEdge(img, n, 31);

  // PSF: a 22 px line at 135° through the origin (wrapped), normalized to sum 1.
  const psf = new Float64Array(n * n);
  const d = 22, angle = (135 * Math.PI) / 180;
  const steps = d * 8;
  for (let i = 0; i < steps; i++) {
    const u = (i / (steps - 1)) * (d - 1) - (d - 1) / 2;
    const x = Math.cos(angle) * u, y = Math.sin(angle) * u;
    const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
    const put = (px: number, py: number, w: number): void => { psf[(((py % n) + n) % n) * n + (((px % n) + n) % n)]! += w; };
    put(x0, y0, (1 - fx) * (1 - fy)); put(x0 + 1, y0, fx * (1 - fy)); put(x0, y0 + 1, (1 - fx) * fy); put(x0 + 1, y0 + 1, fx * fy);
  }
  const sum = psf.reduce((a, b) => a + b, 0);
  for (let i = 0; i < psf.length; i++) psf[i]! /= sum;

  const imRe = tapered, imIm = new Float64Array(n * n);
  const pRe = psf, pIm = new Float64Array(n * n);
  fft2d(imRe, imIm, n, false);
  fft2d(pRe, pIm, n, false);
  const noise = 10 ** (-0.1 * 25);
  for (let i = 0; i < n * n; i++) {
    // IMG · conj(PSF) / (|PSF|² + noise)
    const a = imRe[i]!, b = imIm[i]!, c = pRe[i]!, e = pIm[i]!;
    const den = c * c + e * e + noise;
    imRe[i] = (a * c + b * e) / den;
    imIm[i] = (b * c - a * e) / den;
  }
  fft2d(imRe, imIm, n, true);
  const out = Buffer.alloc(n * n);
  for (let i = 0; i < n * n; i++) out[i] = Math.max(0, Math.min(255, Math.round(imRe[i]! * 255)));
  const jpeg = await sharp(out, { raw: { width: n, height: n, channels: 1 } }).toColourspace('srgb').jpeg({ quality: 90 }).toBuffer();
  const clamp = (v: number): number => Math.max(0, Math.min(n, v));
  return {
    jpeg, width: n, height: n,
    fromOriginal: (b) => [clamp(b[0] - CROP_X), clamp(b[1] + PAD_Y), clamp(b[2] - CROP_X), clamp(b[3] + PAD_Y)],
  };
}

/** OpenCV sample's `blur_edge`: blends the image towards a wrapped Gaussian blur of itself within `d` px of its edges. */
function blurEdge(img: Float64Array, n: number, d: number): Float64Array {
  const ksize = 2 * d + 1;
  const sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8; // OpenCV's getGaussianKernel default
  const k = Array.from({ length: ksize }, (_, i) => Math.exp(-((i - d) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const tmp = new Float64Array(n * n), blur = new Float64Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let s = 0;
    for (let i = 0; i < ksize; i++) s += k[i]! * img[y * n + ((x + i - d + n) % n)]!;
    tmp[y * n + x] = s / ks;
  }
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let s = 0;
    for (let i = 0; i < ksize; i++) s += k[i]! * tmp[((y + i - d + n) % n) * n + x]!;
    blur[y * n + x] = s / ks;
  }
  const out = new Float64Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const w = Math.min(Math.min(x, n - x - 1, y, n - y - 1) / d, 1);
    out[y * n + x] = img[y * n + x]! * w + blur[y * n + x]! * (1 - w);
  }
  return out;
}

/** In-place 2-D FFT of an n×n complex array (n a power of 2); `inverse` scales by 1/n². */
function fft2d(re: Float64Array, im: Float64Array, n: number, inverse: boolean): void {
  const r = new Float64Array(n), i = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) { r[x] = re[y * n + x]!; i[x] = im[y * n + x]!; }
    fft(r, i, inverse);
    for (let x = 0; x < n; x++) { re[y * n + x] = r[x]!; im[y * n + x] = i[x]!; }
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) { r[y] = re[y * n + x]!; i[y] = im[y * n + x]!; }
    fft(r, i, inverse);
    for (let y = 0; y < n; y++) { re[y * n + x] = r[y]!; im[y * n + x] = i[y]!; }
  }
  if (inverse) for (let k = 0; k < n * n; k++) { re[k]! /= n * n; im[k]! /= n * n; }
}

/** Iterative radix-2 Cooley–Tukey FFT, in place (length a power of 2). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j]!, re[i]!]; [im[i], im[j]] = [im[j]!, im[i]!]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let s = 0; s < n; s += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = s + k, b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci, ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr; im[b] = im[a]! - ti;
        re[a] = re[a]! + tr; im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}
