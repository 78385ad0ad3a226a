/**
 * Sessions: a login creates a session row and returns a short-lived access token (JWT,
 * 15 min) plus an opaque refresh token (256 bits, 30 days, stored as SHA-256, rotated
 * on every refresh). Logout revokes the session: its access tokens stop working at once,
 * because every request checks the session row.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SessionEntity } from '../store/security-entities.ts';
import { ACCESS_TTL_S, type TokenSigner } from './tokens.ts';

export const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What a login or refresh hands out. */
export interface IssuedSession {
  session_id: string;
  access_token: string;
  refresh_token: string;
  /** Seconds until the access token expires. */
  expires_in: number;
}

/** A revoked session (`sessionId`), or every session of a user (`userId`). */
export type SessionRevocation = { sessionId: string } | { userId: string };

export class SessionStore {
  private readonly revokedListeners = new Set<(r: SessionRevocation) => void>();

  constructor(private readonly ds: DataSource, private readonly signer: TokenSigner) {}

  /**
   * Calls `listener` after each revocation (the broker drops MQTT connections opened with
   * the session's access token at once). @returns a function that removes the listener
   */
  onRevoked(listener: (r: SessionRevocation) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private revoked(r: SessionRevocation): void {
    for (const l of this.revokedListeners) {
      try { l(r); } catch { /* a listener's failure never fails the logout */ }
    }
  }
  private get repo() { return this.ds.getRepository(SessionEntity); }

  /** Opens a session for `userId`. */
  async open(userId: string, ip: string | null): Promise<IssuedSession> {
    const id = randomUUID();
    const refresh = randomBytes(32).toString('base64url');
    const now = Date.now();
    await this.repo.insert({ id, user_id: userId, refresh_hash: sha256(refresh), created_at: now, expires_at: now + REFRESH_TTL_MS, revoked_at: null, ip });
    return { session_id: id, access_token: await this.signer.access({ sub: userId, sid: id }), refresh_token: refresh, expires_in: ACCESS_TTL_S };
  }

  /** Exchanges a refresh token for new tokens (rotation). @returns null when unknown, expired or revoked. */
  async refresh(refreshToken: string): Promise<IssuedSession | null> {
    const s = await this.repo.findOneBy({ refresh_hash: sha256(refreshToken) });
    if (!s || s.revoked_at || s.expires_at < Date.now()) return null;
    const next = randomBytes(32).toString('base64url');
    await this.repo.update({ id: s.id }, { refresh_hash: sha256(next) });
    return { session_id: s.id, access_token: await this.signer.access({ sub: s.user_id, sid: s.id }), refresh_token: next, expires_in: ACCESS_TTL_S };
  }

  /** True while the session exists, is not revoked and not expired. */
  async isLive(id: string, userId: string): Promise<boolean> {
    const s = await this.repo.findOneBy({ id });
    return !!s && s.user_id === userId && !s.revoked_at && s.expires_at > Date.now();
  }

  /** Revokes one session. */
  async revoke(id: string): Promise<void> {
    await this.repo.update({ id }, { revoked_at: Date.now() });
    this.revoked({ sessionId: id });
  }

  /**
   * Revokes every live session of a user but `keepId` (the user's own password change: the
   * browser that made it stays signed in, every other is signed out). Each revoked session is
   * announced on its own, so only its MQTT connections are closed.
   */
  async revokeOthers(userId: string, keepId: string | undefined): Promise<number> {
    const live = await this.repo.createQueryBuilder('s').select('s.id', 'id').where('s.user_id = :u AND s.revoked_at IS NULL', { u: userId }).getRawMany<{ id: string }>();
    const gone = live.map((r) => r.id).filter((id) => id !== keepId);
    for (const id of gone) await this.revoke(id);
    return gone.length;
  }

  /** Revokes every session of a user (password change, deletion). */
  async revokeAll(userId: string): Promise<void> {
    await this.repo.createQueryBuilder().update().set({ revoked_at: Date.now() }).where('user_id = :u AND revoked_at IS NULL', { u: userId }).execute();
    this.revoked({ userId });
  }
}
