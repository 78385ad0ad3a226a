/**
 * Face descriptor similarity, exactly as `@vladmandic/human` computes it
 * (`src/face/match.ts`: `distance`, `similarity`, with the options its FaceID demo uses for
 * the `faceres` model: Euclidean (`order` 2), `multiplier` 25, normalized to `min` 0.2 …
 * `max` 0.8). Copied rather than imported so matching runs on the detector's event loop
 * without loading human and TF.js there; `test/faces-enricher.test.ts` checks it against
 * human's own function on real descriptors.
 */

/** human's `multiplier` for `faceres` descriptors. */
const MULTIPLIER = 25;
/** human's normalization range for `faceres` descriptors. */
const MIN = 0.2;
const MAX = 0.8;

/**
 * human's `distance`: `multiplier` × the squared Euclidean distance, rounded to 2 decimals.
 * @returns ≥ 0; `Number.MAX_SAFE_INTEGER` when the lengths differ or either is empty.
 */
export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || a.length !== b.length) return Number.MAX_SAFE_INTEGER;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.round(100 * MULTIPLIER * sum) / 100;
}

/**
 * human's `similarity` of two `faceres` descriptors: `1 − √distance / 100`, mapped from
 * 0.2–0.8 to 0–1, clamped and rounded to 2 decimals. Identical descriptors give 1.
 * @returns similarity, 0–1 (0 when the lengths differ)
 */
export function descriptorSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const dist = descriptorDistance(a, b);
  if (dist === 0) return 1;
  if (dist === Number.MAX_SAFE_INTEGER) return 0;
  const norm = (1 - Math.sqrt(dist) / 100 - MIN) / (MAX - MIN);
  return Math.round(100 * Math.max(Math.min(norm, 1), 0)) / 100;
}
