/**
 * Changes to the hub's principals (users, API keys, devices), announced by their stores
 * after each write, for whoever mirrors them elsewhere — the dynamic-security sync of an
 * external Mosquitto (`hub/broker/dynsec-sync.ts`), which needs the clear secret at the
 * one moment it exists: Vigil keeps only hashes (scrypt for passwords, SHA-256 for keys),
 * Mosquitto hashes the clear secret itself.
 */
import { createHash } from 'node:crypto';

/** One change: `secret` is the clear password, API key or device password when the write had it. */
export interface PrincipalChange {
  kind: 'user' | 'apikey' | 'device';
  /** User id, key id or device id. */
  id: string;
  /** `write`: created or changed; `remove`: deleted or revoked; `seen`: the secret was just verified (a login, a key used on REST). */
  op: 'write' | 'remove' | 'seen';
  secret?: string;
  /** {@link fingerprint} of the stored hash, with `secret`. */
  fingerprint?: string;
}

/** A short, one-way name of a stored hash (16 hex of its SHA-256): tells whether a copy of the secret elsewhere is the current one. */
export function fingerprint(storedHash: string): string {
  return createHash('sha256').update(storedHash).digest('hex').slice(0, 16);
}

/** Listeners of {@link PrincipalChange}s. */
export class ChangeFeed {
  private readonly listeners = new Set<(c: PrincipalChange) => unknown>();

  /** Calls `listener` after each change (awaited by the writer, see {@link emit}). @returns a function that removes it */
  on(listener: (c: PrincipalChange) => unknown): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Tells every listener and waits for them (so an API call that creates or revokes a
   * credential returns once the broker has it); a listener's failure never fails the write.
   */
  async emit(change: PrincipalChange): Promise<void> {
    await Promise.all([...this.listeners].map(async (l) => {
      try { await l(change); } catch { /* the listener logs its own failures */ }
    }));
  }
}
