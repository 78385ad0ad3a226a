/**
 * WS-Discovery of ONVIF devices through the `onvif` client's `Discovery.probe` (a
 * multicast Probe for `dn:NetworkVideoTransmitter` to 239.255.255.250:3702).
 *
 * The client's `Discovery` is one process-wide EventEmitter: it emits `error` for any
 * datagram it cannot parse (without a listener that throws out of a `setImmediate` and
 * kills the process) and every probe's `device` events go to every listener. So a
 * permanent `error` listener is installed on first use, and probes run one at a time.
 */
import onvif from 'onvif';

/** A device that answered a probe. */
export interface DiscoveredDevice {
  /** Its device service URL (the XAddr on the address it answered from, else the first). */
  xaddr: string;
  /** Every XAddr it advertised. */
  xaddrs: string[];
  /** WS-Discovery endpoint reference (`urn:uuid:…`), stable per device. */
  urn: string;
  /** From its scopes (`onvif://www.onvif.org/name/…`, `…/hardware/…`, `…/location/…`), URL-decoded; null when absent. */
  name: string | null;
  hardware: string | null;
  location: string | null;
  /** The address (ip) the answer came from. */
  address: string;
}

/** Bounds of a probe's listening time, ms. */
export const DISCOVERY_TIMEOUT = { min: 100, max: 30_000, default: 3000 };

let queue: Promise<unknown> = Promise.resolve();
let guarded = false;
const probeErrors: string[] = [];

/**
 * Probes and listens `timeoutMs` for answers. Never rejects for what the network says:
 * unparsable answers and socket errors are logged by the caller through `onError`.
 * @param timeoutMs clamped to {@link DISCOVERY_TIMEOUT}
 * @returns the devices, one per endpoint reference, in order of answer
 */
export function discoverDevices(timeoutMs: number, onError: (message: string) => void = () => undefined): Promise<DiscoveredDevice[]> {
  const run = queue.then(() => probeOnce(Math.min(DISCOVERY_TIMEOUT.max, Math.max(DISCOVERY_TIMEOUT.min, timeoutMs)), onError));
  queue = run.catch(() => undefined);
  return run;
}

function probeOnce(timeoutMs: number, onError: (message: string) => void): Promise<DiscoveredDevice[]> {
  const d = onvif.Discovery;
  if (!guarded) {
    guarded = true;
    d.on('error', (err: Error | string) => { probeErrors.push(String(err instanceof Error ? err.message : err)); });
  }
  const found = new Map<string, DiscoveredDevice>();
  const onDevice = (data: unknown, rinfo: { address: string }) => {
    for (const dev of parseProbeMatches(data, rinfo.address)) if (!found.has(dev.urn)) found.set(dev.urn, dev);
  };
  probeErrors.length = 0;
  d.on('device', onDevice);
  return new Promise((resolve) => {
    d.probe({ timeout: timeoutMs, resolve: false }, (_err, devices) => {
      // The callback runs once more per socket error before the final call with the list.
      if (!Array.isArray(devices)) return;
      d.removeListener('device', onDevice);
      for (const e of probeErrors.splice(0)) onError(e);
      resolve([...found.values()]);
    });
  });
}

/** The ProbeMatches of one answer (the client's flattened form: one match is an object, several an array). */
function parseProbeMatches(data: unknown, from: string): DiscoveredDevice[] {
  const pm = (data as { probeMatches?: { probeMatch?: unknown } } | undefined)?.probeMatches?.probeMatch;
  const matches = Array.isArray(pm) ? pm : pm ? [pm] : [];
  return matches.flatMap((m: Record<string, any>) => {
    const urn = String(m?.endpointReference?.address ?? '').trim();
    const xaddrs = String(m?.XAddrs ?? '').split(/\s+/).filter((x) => URL.canParse(x) && /^https?:/i.test(x));
    if (!urn || !xaddrs.length) return [];
    const scopes = String(m?.scopes ?? '').split(/\s+/).filter(Boolean);
    const scope = (kind: string) => {
      const prefix = `onvif://www.onvif.org/${kind}/`;
      const s = scopes.find((x) => x.toLowerCase().startsWith(prefix));
      return s === undefined ? null : safeDecode(s.slice(prefix.length));
    };
    return [{
      xaddr: xaddrs.find((x) => new URL(x).hostname === from) ?? xaddrs[0]!,
      xaddrs, urn, name: scope('name'), hardware: scope('hardware'), location: scope('location'), address: from,
    }];
  });
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
