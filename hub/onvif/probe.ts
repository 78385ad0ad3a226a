/**
 * Probing a device before it becomes a camera: log in, read what it is and what it
 * streams, and suggest the camera config (`POST /api/onvif/probe`, `POST /api/cameras/onvif`).
 * Failures are domain errors naming the field at fault: `password` when the device refused
 * the login, `url` when nothing ONVIF answered there.
 */
import { z } from 'zod';
import { onvifConfig } from '../../components/protocol/camera-config.ts';
import { InvalidInput, parseWith } from '../errors.ts';
import { OnvifSession, type DeviceInfo, type MediaProfile, type RelayOutput } from './device.ts';
import { OnvifError } from './soap.ts';

/** `POST /api/onvif/probe` body: the device service URL and the login. */
export const probeInput = z
  .object({
    url: onvifConfig.shape.url,
    username: z.string().max(128).optional(),
    password: z.string().max(1024).optional(),
  })
  .strict();
/** A parsed {@link probeInput}. */
export type ProbeInput = z.infer<typeof probeInput>;

/** A media profile with its RTSP URI (credentials removed) or null when the device gave none. */
export type ProbedProfile = MediaProfile & { stream_uri: string | null };

/** What a probe found. Credentials are never in it (stripped from every URI too). */
export interface ProbeResult {
  url: string;
  device: DeviceInfo;
  capabilities: {
    /** The device has an event service (pull points). */
    events: boolean;
    /** The device has a PTZ service and a profile with a PTZ configuration. */
    ptz: boolean;
    /** Relay outputs (lights, sirens). */
    relays: number;
  };
  relays: RelayOutput[];
  /** Every media profile, in the device's order. */
  profiles: ProbedProfile[];
  /** Snapshot URI of the main (highest-resolution) profile, or null. */
  snapshot_uri: string | null;
  /**
   * A camera config to start from: `paths.record` and `paths.live` = the highest-resolution
   * profile's RTSP URI, `paths.detect` = the lowest's (the sub stream; the same URI when
   * there is one profile), `onvif.url`. Empty `paths` when the device reports no RTSP stream.
   */
  suggested: { paths: { record?: string; live?: string; detect?: string }; onvif: { url: string } };
}

/**
 * Logs in and reads the device.
 * @param timeoutMs per request
 * @throws InvalidInput: the body (field named), `password` (login refused), `url` (unreachable, not ONVIF, or the device failed)
 */
export async function probeDevice(body: unknown, timeoutMs = 10_000): Promise<ProbeResult> {
  const login = parseWith(probeInput, body);
  let session: OnvifSession;
  try {
    session = await OnvifSession.open(login, timeoutMs);
  } catch (err) {
    throw loginError(err as Error, login.url);
  }
  try {
    const profiles: ProbedProfile[] = [];
    for (const p of session.profiles) {
      const uri = await session.streamUri(p.token).catch(() => null);
      profiles.push({ ...p, stream_uri: uri && /^rtsps?:\/\//i.test(uri) && URL.canParse(uri) ? withoutCredentials(uri) : null });
    }
    const relays = await session.relayOutputs().catch(() => []);
    const streams = profiles.filter((p) => p.stream_uri).sort((a, b) => area(b) - area(a));
    const main = streams[0];
    const sub = streams.at(-1);
    const snapshot = main ? await session.snapshotUri(main.token) : null;
    return {
      url: login.url,
      device: session.info,
      capabilities: { events: session.hasEvents, ptz: Boolean(session.ptzProfile), relays: relays.length },
      relays,
      profiles,
      snapshot_uri: snapshot && URL.canParse(snapshot) ? withoutCredentials(snapshot) : null,
      suggested: {
        paths: main && sub ? { record: main.stream_uri!, live: main.stream_uri!, detect: sub.stream_uri! } : {},
        onvif: { url: login.url },
      },
    };
  } catch (err) {
    throw loginError(err as Error, login.url);
  } finally {
    session.close();
  }
}

/** A probe failure as the field at fault: `password` for a refused login, `url` for the rest. */
function loginError(err: Error, url: string): InvalidInput {
  if (!(err instanceof OnvifError)) return new InvalidInput(`url: the device at ${url} failed: ${err.message}`, 'url');
  switch (err.kind) {
    case 'unauthorized':
      return new InvalidInput('password: the device refused the login (wrong username or password)', 'password');
    case 'unreachable':
    case 'timeout':
      return new InvalidInput(`url: no ONVIF device reachable at ${url} (${err.message})`, 'url');
    case 'protocol':
      return new InvalidInput(`url: ${url} did not answer as an ONVIF device service (${err.message})`, 'url');
    default:
      return new InvalidInput(`url: the device at ${url} refused: ${err.message}`, 'url');
  }
}

function area(p: MediaProfile): number {
  return (p.width ?? 0) * (p.height ?? 0);
}

function withoutCredentials(uri: string): string {
  const u = new URL(uri);
  u.username = '';
  u.password = '';
  return u.toString();
}
