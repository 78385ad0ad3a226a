/**
 * The sealed secret box shared by the hub and every bus client: camera passwords travel
 * sealed in the retained camera configs, and a component opens them with the hub's
 * `secret.key` (or `VIGIL_SECRET_KEY`).
 *
 * Sealed values are `sealed:v1:<base64(iv[12] ‖ tag[16] ‖ ciphertext)>` (NIST SP 800-38D
 * GCM with a random 96-bit IV per value).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { createFileExclusiveSync } from './atomic-write.ts';

const PREFIX = 'sealed:v1:';

/**
 * Reads a key file, creating it with `bytes` random bytes (mode 0600) if missing and
 * tightening its mode to 0600 if it was wider. Creation is atomic and exclusive
 * (`createFileExclusiveSync`): a crash never leaves a short key, and of two processes
 * creating it at once both end up with the one that won.
 * @throws when the file exists but holds fewer than `bytes` bytes.
 */
export function loadOrCreateKeyFile(path: string, bytes = 32): Buffer {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    createFileExclusiveSync(path, randomBytes(bytes), { mode: 0o600 });
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = readFileSync(path);
  if (key.length < bytes) throw new Error(`${path}: key file is too short (${key.length} bytes, need ${bytes})`);
  return key.subarray(0, bytes);
}

/** Parses `VIGIL_SECRET_KEY`: 64 hex characters or base64 of 32 bytes. @throws on anything else. */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('VIGIL_SECRET_KEY must be 32 bytes as 64 hex characters or base64');
  return key;
}

/** AES-256-GCM sealing of short secrets. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  /** True for values produced by {@link seal}. */
  static isSealed(v: string | null | undefined): v is string { return typeof v === 'string' && v.startsWith(PREFIX); }

  /** Encrypts `plain` (UTF-8) with a fresh IV. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
  }

  /** Decrypts a sealed value. @throws when it was tampered with or sealed with another key. */
  open(sealed: string): string {
    if (!SecretBox.isSealed(sealed)) throw new Error('not a sealed value');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
}
