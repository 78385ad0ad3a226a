/**
 * Known plates: `lpr.known_plates` maps a name to plate patterns, as Frigate's
 * `lpr.known_plates` (`{"Wife's car": ["ABC-1234", "ABC-I234"], "Johnny": ["J*N-*234"]}`).
 *
 * Matching ignores case and separators: both the read plate and the pattern are reduced to
 * upper-case A–Z / 0–9 (`abc-1234`, `ABC 1234` and `ABC1234` are one plate). A pattern may
 * use shell-style wildcards (Frigate documents `*` as "any number of characters"):
 * - `*` — any run of characters, also none;
 * - `?` — exactly one character;
 * - `[S5]`, `[0-9]`, `[!O]` — one character of (or, with `!` / `^`, not of) a set.
 * Anything else outside `[…]` that is not a letter or a digit is a separator and dropped.
 * Frigate also takes full regular expressions; Vigil does not (a pattern is never compiled
 * as user regex, so a bad pattern cannot throw or backtrack without bound).
 */
import { normalizePlate } from './plate-ocr.ts';

/** A compiled pattern list: name → matchers. */
export type KnownPlates = Array<{ name: string; patterns: RegExp[] }>;

/**
 * Compiles `known_plates`.
 * @param known `{name: [pattern, …]}`; patterns that reduce to nothing (only separators) are skipped.
 * @returns the compiled list in the map's order (the first name that matches wins).
 */
export function compileKnownPlates(known: Readonly<Record<string, readonly string[]>> | undefined): KnownPlates {
  const out: KnownPlates = [];
  for (const [name, patterns] of Object.entries(known ?? {})) {
    const compiled = patterns.map(globToRegExp).filter((r): r is RegExp => r !== null);
    if (compiled.length) out.push({ name, patterns: compiled });
  }
  return out;
}

/**
 * The name of the first known plate that `plate` matches.
 * @param plate the plate as read (any case and separators).
 * @returns the name, or null when none matches (or the plate has no letters or digits).
 */
export function matchKnownPlate(plate: string, known: KnownPlates): string | null {
  const p = normalizePlate(plate);
  if (!p) return null;
  for (const k of known) if (k.patterns.some((r) => r.test(p))) return k.name;
  return null;
}

/**
 * One pattern as an anchored RegExp over normalized plates, or null when it has no letter,
 * digit or wildcard. Unclosed `[` is a separator.
 */
export function globToRegExp(pattern: string): RegExp | null {
  const src = pattern.normalize('NFKC').toUpperCase();
  let re = '';
  let meaningful = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '*') { if (!re.endsWith('.*')) re += '.*'; meaningful = true; continue; }
    if (c === '?') { re += '[A-Z0-9]'; meaningful = true; continue; }
    if (c === '[') {
      const end = src.indexOf(']', i + 1);
      const set = end > i ? charSet(src.slice(i + 1, end)) : null;
      if (set) { re += set; meaningful = true; i = end; }
      continue;
    }
    if (/[A-Z0-9]/.test(c)) { re += c; meaningful = true; }
  }
  return meaningful ? new RegExp(`^${re}$`) : null;
}

/** `S5`, `0-9`, `!O` → a RegExp class of A–Z / 0–9 members; null when it has none. */
function charSet(body: string): string | null {
  let negate = false;
  if (body.startsWith('!') || body.startsWith('^')) { negate = true; body = body.slice(1); }
  let members = '';
  for (let i = 0; i < body.length; i++) {
    const a = body[i]!;
    const b = body[i + 2];
    if (body[i + 1] === '-' && b !== undefined && /[A-Z0-9]/.test(a) && /[A-Z0-9]/.test(b) && a <= b) {
      members += `${a}-${b}`;
      i += 2;
    } else if (/[A-Z0-9]/.test(a)) {
      members += a;
    }
  }
  if (!members) return null;
  return negate ? `(?![${members}])[A-Z0-9]` : `[${members}]`;
}
