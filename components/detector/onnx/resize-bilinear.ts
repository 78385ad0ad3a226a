/**
 * Resizes a packed RGB24 frame into a planar float32 tensor (`[3, outH, outW]`, channel-major,
 * values 0–255) with TensorFlow's legacy bilinear resize — `tf.image.resizeBilinear(x, size)`
 * with `alignCorners = false`, `halfPixelCenters = false`, which is what
 * `@vladmandic/human` applies to every frame before its CenterNet model. Same sampling
 * positions and the same interpolation order as TF.js's CPU kernel
 * (`tfjs-backend-cpu` `resizeBilinear`): source = dst · (in / out), top row then bottom row
 * lerped along x, then the two lerped along y.
 */

/** Per-axis sampling table: for each output index, the two source indices and the weight of the second. */
interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
}

const tables = new Map<string, AxisTable>();

function axisTable(inSize: number, outSize: number): AxisTable {
  const key = `${inSize}>${outSize}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  const ratio = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = ratio * o;
    const f = Math.max(0, Math.floor(src));
    lo[o] = f;
    hi[o] = Math.min(inSize - 1, Math.ceil(src));
    frac[o] = src - f;
  }
  const t = { lo, hi, frac };
  if (tables.size > 32) tables.clear();
  tables.set(key, t);
  return t;
}

/**
 * Resizes `rgb` (`width`×`height` px, packed RGB24, no row padding) to `outW`×`outH` and writes
 * it planar (R plane, G plane, B plane) as float32 0–255.
 * @param out destination, at least `3 * outW * outH` floats; allocated when omitted.
 * @returns `out`.
 * @throws RangeError if a size is not a positive integer, `rgb` is not `width * height * 3`
 *   bytes, or `out` is too small.
 */
export function resizeRgbToPlanar(
  rgb: Uint8Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
  out: Float32Array = new Float32Array(3 * outW * outH),
): Float32Array {
  for (const [k, v] of Object.entries({ width, height, outW, outH })) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  if (rgb.length !== width * height * 3) throw new RangeError(`RGB buffer is ${rgb.length} bytes, expected ${width * height * 3}`);
  if (out.length < 3 * outW * outH) throw new RangeError(`output holds ${out.length} floats, needs ${3 * outW * outH}`);
  const xs = axisTable(width, outW);
  const ys = axisTable(height, outH);
  const plane = outW * outH;
  const rowStride = width * 3;
  const g = plane;
  const b2 = 2 * plane;
  for (let oy = 0; oy < outH; oy++) {
    const top = ys.lo[oy]! * rowStride;
    const bottom = ys.hi[oy]! * rowStride;
    const fy = ys.frac[oy]!;
    let o = oy * outW;
    for (let ox = 0; ox < outW; ox++, o++) {
      const l = xs.lo[ox]! * 3;
      const r = xs.hi[ox]! * 3;
      const fx = xs.frac[ox]!;
      const tl = top + l;
      const tr = top + r;
      const bl = bottom + l;
      const br = bottom + r;
      // Per channel: lerp the top and bottom rows along x, then the two along y (TF's order).
      let t = rgb[tl]! + (rgb[tr]! - rgb[tl]!) * fx;
      let bt = rgb[bl]! + (rgb[br]! - rgb[bl]!) * fx;
      out[o] = t + (bt - t) * fy;
      t = rgb[tl + 1]! + (rgb[tr + 1]! - rgb[tl + 1]!) * fx;
      bt = rgb[bl + 1]! + (rgb[br + 1]! - rgb[bl + 1]!) * fx;
      out[g + o] = t + (bt - t) * fy;
      t = rgb[tl + 2]! + (rgb[tr + 2]! - rgb[tl + 2]!) * fx;
      bt = rgb[bl + 2]! + (rgb[br + 2]! - rgb[bl + 2]!) * fx;
      out[b2 + o] = t + (bt - t) * fy;
    }
  }
  return out;
}
