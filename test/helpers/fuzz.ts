/**
 * fast-check arbitraries for the fuzz tests (test/fuzz-*.test.ts): bad payloads derived
 * from a valid-shaped sample — random bytes, truncated JSON, JSON of the wrong type, the
 * sample with one field replaced by a wrong type or an out-of-range value — and the
 * fixed seed every fuzz test runs with (printed by fast-check with the counterexample;
 * `FUZZ_SEED=<n>` runs another). `FUZZ_SCALE=<k>` multiplies every run count and time cap
 * (a longer hunt: `FUZZ_SCALE=10 FUZZ_SEED=7 npx vitest run test/fuzz-mqtt.test.ts`).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

/** The seed of every fuzz run: `FUZZ_SEED` or a fixed default, so a failure replays. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_251_204);

/** Multiplier of run counts and time caps (`FUZZ_SCALE`, default 1); scale test timeouts with it too. */
export const FUZZ_SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SCALE = FUZZ_SCALE;

/** fast-check parameters for a bounded run: `numRuns` and a time cap (ms), both × `FUZZ_SCALE`; the fixed seed; verbose counterexamples. */
export function fuzzParams(numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  return { numRuns: Math.round(numRuns * SCALE), seed: FUZZ_SEED, interruptAfterTimeLimit: timeLimitMs * SCALE, markInterruptAsFailure: false, verbose: 1, endOnFailure: true };
}

/** A real JPEG (OpenCV's sample data, Debian `opencv-doc`), to truncate and corrupt. */
export const REAL_JPEG = readFileSync('/usr/share/doc/opencv-doc/examples/data/HappyFish.jpg');

/** Numbers no field expects: negative, zero, huge, fractional where integers go, ±1e308. */
export const weirdNumber = fc.constantFrom(-1, 0, -0, 0.5, 1e308, -1e308, 2 ** 53, -(2 ** 31), 4_294_967_296, 1e-320, 65_536);

/** Strings no field expects: empty, long, control and path characters, another type's text. */
export const weirdString = fc.oneof(
  fc.constantFrom('', ' ', '../../etc/passwd', 'a/b/#', '+', '\u0000', 'null', 'NaN', '-1', '1e999', '<script>', '\ud800', 'x'.repeat(5000), 'ON ', 'on', 'TRUE'),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
);

/** Any JSON value, nested a little. */
export const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Every path (array of keys) to a value inside a JSON object, the object itself excluded. */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v as Record<string, unknown>);
  return entries.flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
}

/** `sample` (a JSON object) with the value at one path replaced by `value`, or the key deleted. */
function replaceAt(sample: unknown, path: Array<string | number>, value: unknown, remove: boolean): unknown {
  const copy = structuredClone(sample) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(at)) delete at[last];
  else at[last] = value;
  return copy;
}

/**
 * Valid-shaped but wrong: `sample` with one field (at any depth) replaced by a weird number,
 * a weird string, any JSON value, or removed.
 */
export function mutated(sample: unknown): fc.Arbitrary<unknown> {
  const ps = paths(sample);
  if (ps.length === 0) return anyJson;
  return fc.tuple(fc.nat({ max: ps.length - 1 }), fc.oneof(weirdNumber, weirdString, anyJson, fc.constant(null)), fc.boolean()).map(([i, v, rm]) => replaceAt(sample, ps[i]!, v, rm && i % 3 === 0));
}

/** Bad payloads for a topic whose good payload is JSON like `sample`. */
export function badJson(sample: unknown): fc.Arbitrary<Buffer> {
  const text = JSON.stringify(sample);
  return fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => Buffer.from(text.slice(0, n))),
    anyJson.map((v) => Buffer.from(JSON.stringify(v))),
    mutated(sample).map((v) => Buffer.from(JSON.stringify(v))),
    weirdString.map((s) => Buffer.from(s)),
  );
}

/** Bad payloads for a topic whose good payload is short text (`ON`, `OFF`, a number…). */
export function badText(good: string[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    weirdString.map((s) => Buffer.from(s)),
    weirdNumber.map((n) => Buffer.from(String(n))),
    fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
    fc.constantFrom(...good).map((g) => Buffer.from(` ${g}\n`)),
    anyJson.map((v) => Buffer.from(JSON.stringify(v))),
  );
}

/** Bad JPEGs: random bytes, a JPEG start then garbage, a real JPEG cut short or with bytes flipped. */
export const badJpeg: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(b)])),
  fc.nat({ max: REAL_JPEG.length - 1 }).map((n) => REAL_JPEG.subarray(0, n)),
  fc.tuple(fc.nat({ max: REAL_JPEG.length - 1 }), fc.nat({ max: 255 })).map(([i, b]) => { const c = Buffer.from(REAL_JPEG); c[i] = b; return c; }),
);

/** A JSON document of about `bytes` bytes (an object holding a long array of strings). */
export function hugeJson(bytes: number, shape: Record<string, unknown> = {}): Buffer {
  const item = 'x'.repeat(1000);
  const n = Math.max(0, Math.floor((bytes - 64) / (item.length + 3)));
  return Buffer.from(JSON.stringify({ ...shape, huge: Array.from({ length: n }, () => item) }));
}
