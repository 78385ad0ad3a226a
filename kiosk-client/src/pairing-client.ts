/**
 * The kiosk's side of pairing (components/protocol/pairing.ts, RFC 8628 style): ask the hub
 * for a ticket, show its code, poll every `interval` s with `X-Pairing-Secret` until an admin
 * enters the code. An expired or vanished ticket (410 / 404) is replaced by a new one; a hub
 * that cannot be reached is retried every {@link RETRY_MS} ms. Runs until paired or aborted.
 */
import { PAIRING_POLL_S, type PairingResult, type PairingStart, type PairingTicket } from '../../components/protocol/pairing.ts';

/** Wait before trying again after a failed request, ms. */
const RETRY_MS = 5_000;

/** Callbacks of {@link pairKiosk}. */
export interface PairingHandlers {
  /** A new ticket: show `ticket.code`. */
  onTicket: (ticket: PairingTicket) => void;
  /** A request failed (shown on screen; pairing goes on). */
  onError: (message: string) => void;
}

/** Thrown inside {@link pairKiosk} for an HTTP answer it cannot use. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const t = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
    const stop = (): void => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener('abort', stop, { once: true });
  });
}

async function json<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!res.ok) throw new HttpError(res.status, body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/**
 * Pairs this kiosk with the hub that served the page.
 * @param about what the kiosk tells the hub about itself (screen size px, user agent)
 * @returns the pairing result (device credential, displays, topic prefix)
 * @throws the abort reason when `signal` aborts
 */
export async function pairKiosk(about: PairingStart, handlers: PairingHandlers, signal: AbortSignal): Promise<PairingResult> {
  for (;;) {
    let ticket: PairingTicket;
    try {
      ticket = await json<PairingTicket>(await fetch('/api/kiosks/pairing', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(about), signal,
      }));
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      handlers.onError(`cannot reach the hub: ${(e as Error).message}`);
      await sleep(RETRY_MS, signal);
      continue;
    }
    handlers.onTicket(ticket);
    const result = await poll(ticket, handlers, signal);
    if (result) return result;
  }
}

/** Polls one ticket: the result, or null when the ticket is gone or expired. */
async function poll(ticket: PairingTicket, handlers: PairingHandlers, signal: AbortSignal): Promise<PairingResult | null> {
  const expires = Date.now() + ticket.expires_in * 1000;
  const every = Math.max(ticket.interval || PAIRING_POLL_S, 0.5) * 1000;
  while (Date.now() < expires) {
    await sleep(every, signal);
    try {
      const r = await json<PairingResult | { status: 'pending' }>(await fetch(`/api/kiosks/pairing/${encodeURIComponent(ticket.pairing_id)}`, {
        headers: { 'x-pairing-secret': ticket.poll_secret }, signal,
      }));
      if (r.status === 'paired') return r;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof HttpError && (e.status === 404 || e.status === 410)) return null;
      handlers.onError(`polling failed: ${(e as Error).message}`);
      await sleep(RETRY_MS, signal);
    }
  }
  return null;
}
