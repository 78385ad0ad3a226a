/**
 * Kiosk pairing, in the shape of the OAuth 2.0 device authorization grant (RFC 8628):
 * a new kiosk asks the hub for a short code, shows it on screen and polls; an admin
 * enters the code (`POST /api/kiosks/pair`); the kiosk's next poll receives its own
 * device credential (MQTT and HTTP, limited to its displays) and its first display
 * (`HDMI-0`). Pure (zod only): the hub and the kiosk client import it.
 *
 * 1. `POST /api/kiosks/pairing` (no auth) {@link pairingStart} → 201 {@link PairingTicket}
 * 2. the kiosk shows `code`; an admin sends `POST /api/kiosks/pair` {@link pairRequest}
 * 3. `GET /api/kiosks/pairing/<pairing_id>` with header `X-Pairing-Secret: <poll_secret>`
 *    → `{status: "pending"}` until then, once {@link PairingResult} (`status: "paired"`),
 *    then 404 (the ticket is gone, as after `expires_in` seconds: ask for a new code);
 *    401 with a wrong secret.
 */
import { z } from 'zod';
import { slug } from './layout.ts';

/** Alphabet of pairing codes: no 0/O, 1/I/L, 5/S, 2/Z look-alikes (Crockford-like). */
export const PAIRING_ALPHABET = '346789ABCDEFGHJKMNPQRTUVWXY';
/** Characters in a pairing code (27^6 ≈ 3.9e8 codes; tickets live 10 minutes). */
export const PAIRING_CODE_LENGTH = 6;
/** Seconds a pairing ticket lives. */
export const PAIRING_TTL_S = 600;
/** Seconds between the kiosk's polls (RFC 8628 `interval`). */
export const PAIRING_POLL_S = 1;

/** Normalizes what a person typed: upper case, without spaces and dashes. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/** `POST /api/kiosks/pairing` body: what the kiosk knows about itself (all optional). */
export const pairingStart = z
  .object({
    /** The screen's size in px, for the first display. */
    width: z.number().int().min(64).max(16_384).optional(),
    height: z.number().int().min(64).max(16_384).optional(),
    user_agent: z.string().max(512).optional(),
  })
  .strict();
export type PairingStart = z.infer<typeof pairingStart>;

/** The hub's answer to {@link pairingStart}. */
export interface PairingTicket {
  pairing_id: string;
  /** Shown on the kiosk, `PAIRING_CODE_LENGTH` characters of {@link PAIRING_ALPHABET}. */
  code: string;
  /** Sent back in `X-Pairing-Secret` when polling; never shown. */
  poll_secret: string;
  /** Seconds until the ticket expires. */
  expires_in: number;
  /** Seconds between polls. */
  interval: number;
}

/** `POST /api/kiosks/pair` body (admins). */
export const pairRequest = z
  .object({
    code: z.string().min(1).max(32).transform(normalizeCode),
    /** The kiosk's id (a slug; default `kiosk-<n>`). */
    id: slug.optional(),
    name: z.string().min(1).max(64).optional(),
  })
  .strict();
export type PairRequest = z.infer<typeof pairRequest>;

/** What the kiosk receives once paired. */
export interface PairingResult {
  status: 'paired';
  kiosk_id: string;
  /** The kiosk's displays (the first is `HDMI-0`). */
  displays: string[];
  /** Device credential: MQTT username + password, and `Authorization: Bearer <credential>` over HTTP. */
  mqtt: { username: string; password: string; /** Path of MQTT over WebSocket on the hub's HTTP port. */ path: string };
  credential: string;
  /** The hub's topic prefix. */
  prefix: string;
}
