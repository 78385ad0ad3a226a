/**
 * Pairing tickets of new kiosks, in memory (RFC 8628's device authorization grant, see
 * `components/protocol/pairing.ts`): a kiosk takes a ticket (short code + poll secret),
 * an admin claims the code, the kiosk's next poll collects the result once. Tickets live
 * {@link PAIRING_TTL_S} seconds; at most {@link MAX_TICKETS} wait at once, so anonymous
 * callers cannot grow the map without bound. A hub restart forgets them (the kiosk
 * simply asks for a new code).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import {
  PAIRING_ALPHABET, PAIRING_CODE_LENGTH, PAIRING_POLL_S, PAIRING_TTL_S,
  type PairingResult, type PairingStart, type PairingTicket,
} from '../../components/protocol/pairing.ts';
import { Conflict, NotFound, Unauthenticated } from '../errors.ts';

/** Most tickets waiting at once. */
export const MAX_TICKETS = 50;

interface Ticket {
  code: string;
  secretHash: Buffer;
  expiresAt: number;
  start: PairingStart;
  result?: PairingResult;
}

/** Outcome of a poll: still waiting, or the result (given out once). */
export type PollOutcome = { status: 'pending' } | PairingResult;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export class PairingTickets {
  private readonly tickets = new Map<string, Ticket>();

  /** @param now clock, Unix ms (tests pass their own). */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Issues a ticket with a fresh code (unique among waiting tickets).
   * @throws Conflict when {@link MAX_TICKETS} are already waiting (HTTP 409; the kiosk retries later)
   */
  issue(start: PairingStart): PairingTicket {
    this.sweep();
    if (this.tickets.size >= MAX_TICKETS) throw new Conflict('too many kiosks are waiting to pair; try again in a few minutes');
    const taken = new Set([...this.tickets.values()].map((t) => t.code));
    let code = '';
    do {
      code = Array.from({ length: PAIRING_CODE_LENGTH }, () => PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)]).join('');
    } while (taken.has(code));
    const id = randomBytes(12).toString('base64url');
    const secret = randomBytes(24).toString('base64url');
    this.tickets.set(id, { code, secretHash: sha256(secret), expiresAt: this.now() + PAIRING_TTL_S * 1000, start });
    return { pairing_id: id, code, poll_secret: secret, expires_in: PAIRING_TTL_S, interval: PAIRING_POLL_S };
  }

  /**
   * The waiting ticket with `code` (normalized), for an admin about to pair it.
   * @throws NotFound when no unexpired, unclaimed ticket has that code
   */
  claimable(code: string): { id: string; start: PairingStart } {
    this.sweep();
    for (const [id, t] of this.tickets) if (t.code === code && !t.result) return { id, start: t.start };
    throw new NotFound('no kiosk is showing that code (it may have expired: the kiosk shows a new one)');
  }

  /** Attaches the result for the kiosk's next poll. @throws NotFound when the ticket is gone */
  complete(id: string, result: PairingResult): void {
    const t = this.tickets.get(id);
    if (!t) throw new NotFound('the pairing ticket expired');
    t.result = result;
  }

  /**
   * A kiosk's poll. The result is handed out once, then the ticket is forgotten.
   * @throws NotFound (unknown or expired ticket), Unauthenticated (wrong secret)
   */
  poll(id: string, secret: string): PollOutcome {
    this.sweep();
    const t = this.tickets.get(id);
    if (!t) throw new NotFound('no such pairing ticket (expired or already collected): start again');
    const given = sha256(secret);
    if (!timingSafeEqual(given, t.secretHash)) throw new Unauthenticated('wrong pairing secret');
    if (!t.result) return { status: 'pending' };
    this.tickets.delete(id);
    return t.result;
  }

  /** Tickets waiting now. */
  get size(): number { return this.tickets.size; }

  private sweep(): void {
    const now = this.now();
    for (const [id, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(id);
  }
}
