/**
 * Password hashing with scrypt (Node's crypto, RFC 7914) at OWASP's recommended cost:
 * N = 2^17, r = 8, p = 1 (OWASP Password Storage Cheat Sheet). Stored as
 * `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`; verification is constant-time.
 *
 * Shared by the hub (`hub/auth/passwords.ts` re-exports it) and the camera head
 * (`head-firmware/users/user-db.ts`), so both store and check passwords the same way.
 * Node-only (node:crypto): not for browser bundles.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 2 ** 17;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEYLEN, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const maxmem = (n: number, r: number) => 128 * n * r * 2;

/**
 * Hashes a password (~0.2–0.4 s on one core, 128 MiB of memory while it runs).
 * @returns `scrypt$131072$8$1$<salt base64>$<key base64>` (16-byte random salt, 32-byte key).
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Checks a password against a stored hash (the cost parameters are read from the hash).
 * @returns false for a wrong password and for malformed hashes.
 * @throws when scrypt itself fails (e.g. parameters beyond the memory limit).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64'), { N: n, r, p, maxmem: maxmem(n, r) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing, verified against for unknown users so timing does not reveal who exists. */
let dummy: Promise<string> | undefined;

/** Spends the time of one {@link verifyPassword} and answers false (for unknown user names). */
export async function dummyVerify(password: string): Promise<false> {
  dummy ??= hashPassword('not-a-real-password');
  await verifyPassword(password, await dummy);
  return false;
}
