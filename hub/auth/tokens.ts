/**
 * Signed tokens (JWT, HS256 via `jose`) with the hub's `jwt.key`:
 * - session access tokens: 15 min, `aud: vigil`, `sub` user id, `sid` session id;
 * - media tokens: 5 min, `aud: vigil-media`, scoped to one camera (`cam`) or one
 *   event's files (`evt`), for URLs put into `<img>`/`<video>`/kiosk cells so the
 *   session never travels in a URL (Vistralio's media tokens).
 */
import { SignJWT, jwtVerify, errors } from 'jose';

export const ACCESS_TTL_S = 15 * 60;
export const MEDIA_TTL_S = 5 * 60;
const ISSUER = 'vigil';

export interface AccessClaims { sub: string; sid: string }
export interface MediaClaims { sub: string; cam?: string; evt?: string }

export class TokenSigner {
  constructor(private readonly secret: Buffer) {}

  /** A session access token. */
  async access(c: AccessClaims, ttlS = ACCESS_TTL_S): Promise<string> {
    return new SignJWT({ sid: c.sid }).setProtectedHeader({ alg: 'HS256' }).setSubject(c.sub).setIssuer(ISSUER).setAudience('vigil')
      .setIssuedAt().setExpirationTime(`${ttlS}s`).sign(this.secret);
  }

  /** A media token for one camera or one event's files. */
  async media(c: MediaClaims, ttlS = MEDIA_TTL_S): Promise<string> {
    const claims: Record<string, string> = {};
    if (c.cam) claims.cam = c.cam;
    if (c.evt) claims.evt = c.evt;
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(c.sub).setIssuer(ISSUER).setAudience('vigil-media')
      .setIssuedAt().setExpirationTime(`${ttlS}s`).sign(this.secret);
  }

  /** Verifies an access token. @returns null when invalid, tampered, expired or of another audience. */
  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const p = await this.verify(token, 'vigil');
    return p && typeof p.sub === 'string' && typeof p.sid === 'string' ? { sub: p.sub, sid: p.sid } : null;
  }

  /** Verifies a media token. @returns null when invalid or expired. */
  async verifyMedia(token: string): Promise<MediaClaims | null> {
    const p = await this.verify(token, 'vigil-media');
    if (!p || typeof p.sub !== 'string') return null;
    return { sub: p.sub, ...(typeof p.cam === 'string' ? { cam: p.cam } : {}), ...(typeof p.evt === 'string' ? { evt: p.evt } : {}) };
  }

  private async verify(token: string, audience: string): Promise<Record<string, unknown> | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience });
      return payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}
