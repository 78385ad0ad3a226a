/**
 * Where the kiosk keeps its pairing (`localStorage`, so it survives restarts of Chromium
 * with a persistent profile): the {@link PairingResult} the hub gave once.
 */
import type { PairingResult } from '../../components/protocol/pairing.ts';

const KEY = 'vigil.kiosk.pairing';

/** The stored pairing, or null when there is none or it is not a pairing result. */
export function loadPairing(storage: Storage = localStorage): PairingResult | null {
  try {
    const v = JSON.parse(storage.getItem(KEY) ?? 'null') as Partial<PairingResult> | null;
    const ok = v?.status === 'paired' && typeof v.kiosk_id === 'string' && Array.isArray(v.displays)
      && typeof v.mqtt?.username === 'string' && typeof v.mqtt.password === 'string' && typeof v.prefix === 'string';
    return ok ? (v as PairingResult) : null;
  } catch {
    return null;
  }
}

/** Stores `result` (replacing any earlier pairing). */
export function savePairing(result: PairingResult, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(result));
}

/** Forgets the pairing (the hub refused it): the page pairs again. */
export function clearPairing(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}
