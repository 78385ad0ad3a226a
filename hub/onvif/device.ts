/**
 * One logged-in connection to an ONVIF device: the `onvif` client's `Cam` after
 * GetSystemDateAndTime (its clock offset, for the WS-Security digests), a
 * GetDeviceInformation that proves the password (the client's `connect()` does not: with
 * GetServices answered before authentication, a wrong password only leaves it without
 * profiles), then the client's `connect()` for the service addresses and media profiles.
 *
 * Relay outputs, PTZ and the pull point go through {@link soapCall} with escaped values;
 * stream and snapshot URIs through the client (it knows Media2). Every failure is an
 * {@link OnvifError}.
 */
import onvif, { type Cam } from 'onvif';
import { OnvifError, child, childText, children, classify, soapCall, text, xmlEscape, type SoapCall, type XmlNode } from './soap.ts';

/** Where and how to log in. */
export interface DeviceLogin {
  /** Device service URL, `http(s)://host[:port]/onvif/device_service`. */
  url: string;
  username?: string;
  password?: string;
}

/** GetDeviceInformation. */
export interface DeviceInfo {
  manufacturer: string;
  model: string;
  firmware_version: string;
  serial_number: string;
  hardware_id: string;
}

/** A media profile as Vigil reports it (`null` where the device does not say). */
export interface MediaProfile {
  token: string;
  name: string;
  /** `H264`, `H265`, `JPEG` … */
  encoding: string | null;
  /** Encoder resolution, px. */
  width: number | null;
  height: number | null;
  /** Frame rate limit, frames/s. */
  fps: number | null;
  /** The profile has a PTZ configuration. */
  ptz: boolean;
}

/** A relay output (GetRelayOutputs); its state is not in it, ONVIF reports it by events. */
export interface RelayOutput {
  token: string;
  /** `Bistable` or `Monostable`. */
  mode: string | null;
  /** `open` or `closed`. */
  idle_state: string | null;
}

/** A PTZ preset. */
export interface PtzPreset {
  token: string;
  name: string;
}

/** A ContinuousMove velocity, each axis −1…1 in the generic velocity spaces; absent axes are not sent. */
export interface PtzVelocity {
  x?: number;
  y?: number;
  zoom?: number;
}

const NS = {
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  tmd: 'http://www.onvif.org/ver10/deviceIO/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
};

/** A logged-in device. One per camera link or probe; {@link close} aborts what is in flight. */
export class OnvifSession {
  private readonly aborter = new AbortController();

  private constructor(
    /** The client, connected. */
    readonly cam: Cam,
    /** The device service URL it was opened with. */
    readonly url: string,
    readonly info: DeviceInfo,
    /** Media profiles in the device's order (the first is its default). */
    readonly profiles: MediaProfile[],
    private readonly timeoutMs: number,
  ) {}

  /**
   * Logs in: GetSystemDateAndTime, GetDeviceInformation (proves the credentials), then
   * the client's connect (GetServices or GetCapabilities, GetProfiles, GetVideoSources).
   * HTTPS devices are accepted with self-signed certificates (cameras ship them).
   * @param timeoutMs per request
   * @throws OnvifError `unreachable`/`timeout`/`protocol` (wrong URL), `unauthorized` (wrong credentials), `fault`
   */
  static async open(login: DeviceLogin, timeoutMs = 10_000): Promise<OnvifSession> {
    const u = new URL(login.url);
    const secure = u.protocol === 'https:';
    const cam = new onvif.Cam({
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port) || (secure ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      username: login.username || undefined,
      password: login.password || undefined,
      useSecure: secure,
      secureOpts: { rejectUnauthorized: false },
      timeout: timeoutMs,
      autoconnect: false,
    });
    await viaClient((cb) => cam.getSystemDateAndTime(cb));
    const info = deviceInfo(await soapCall(cam, { body: `<GetDeviceInformation xmlns="${NS.tds}"/>`, timeoutMs }));
    await viaClient((cb) => cam.connect(cb));
    return new OnvifSession(cam, login.url, info, (cam.profiles ?? []).map(mediaProfile), timeoutMs);
  }

  /** The device has an event service. */
  get hasEvents(): boolean { return Boolean(this.cam.uri?.events); }

  /** The first profile with a PTZ configuration, when the device has a PTZ service. */
  get ptzProfile(): MediaProfile | undefined {
    return this.cam.uri?.ptz ? this.profiles.find((p) => p.ptz) : undefined;
  }

  /**
   * One request, aborted by `opts.signal` when given, else by {@link close}.
   * @param to a service name (`events`, `ptz`, `deviceIO` …) or a subscription's address
   * @throws OnvifError
   */
  call(to: SoapCall['to'], body: string, opts: { header?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<XmlNode> {
    return soapCall(this.cam, { to, body, header: opts.header, timeoutMs: opts.timeoutMs ?? this.timeoutMs, signal: opts.signal ?? this.aborter.signal });
  }

  /** GetRelayOutputs (DeviceIO when the device has it, else the device service); [] when the device has none or refuses. */
  async relayOutputs(): Promise<RelayOutput[]> {
    const [to, ns] = this.relayService();
    try {
      const res = await this.call(to, `<GetRelayOutputs xmlns="${ns}"/>`);
      return children(child(res, 'getRelayOutputsResponse'), 'relayOutputs').flatMap((r) => {
        const token = r.$?.token;
        const props = child(r, 'properties');
        return token ? [{ token, mode: childText(props, 'mode') ?? null, idle_state: childText(props, 'idleState') ?? null }] : [];
      });
    } catch (err) {
      if (err instanceof OnvifError && err.kind === 'fault') return [];
      throw err;
    }
  }

  /** SetRelayOutputState: `active` when `on`. @throws OnvifError */
  async setRelay(token: string, on: boolean): Promise<void> {
    const [to, ns] = this.relayService();
    await this.call(to, `<SetRelayOutputState xmlns="${ns}"><RelayOutputToken>${xmlEscape(token)}</RelayOutputToken><LogicalState>${on ? 'active' : 'inactive'}</LogicalState></SetRelayOutputState>`);
  }

  /** GetPresets of a profile. @throws OnvifError */
  async presets(profile: string): Promise<PtzPreset[]> {
    const res = await this.call('ptz', `<GetPresets xmlns="${NS.tptz}"><ProfileToken>${xmlEscape(profile)}</ProfileToken></GetPresets>`);
    return children(child(res, 'getPresetsResponse'), 'preset').flatMap((p) => {
      const token = p.$?.token;
      return token ? [{ token, name: childText(p, 'name') ?? token }] : [];
    });
  }

  /** GotoPreset. @throws OnvifError */
  async gotoPreset(profile: string, preset: string): Promise<void> {
    await this.call('ptz', `<GotoPreset xmlns="${NS.tptz}"><ProfileToken>${xmlEscape(profile)}</ProfileToken><PresetToken>${xmlEscape(preset)}</PresetToken></GotoPreset>`);
  }

  /** ContinuousMove until Stop (or the device's default PTZ timeout); only the axes given are sent. @throws OnvifError */
  async continuousMove(profile: string, v: PtzVelocity): Promise<void> {
    const panTilt = v.x !== undefined || v.y !== undefined ? `<PanTilt xmlns="${NS.tt}" x="${v.x ?? 0}" y="${v.y ?? 0}"/>` : '';
    const zoom = v.zoom !== undefined ? `<Zoom xmlns="${NS.tt}" x="${v.zoom}"/>` : '';
    await this.call('ptz', `<ContinuousMove xmlns="${NS.tptz}"><ProfileToken>${xmlEscape(profile)}</ProfileToken><Velocity>${panTilt}${zoom}</Velocity></ContinuousMove>`);
  }

  /** Stop pan, tilt and zoom. @throws OnvifError */
  async stopMove(profile: string): Promise<void> {
    await this.call('ptz', `<Stop xmlns="${NS.tptz}"><ProfileToken>${xmlEscape(profile)}</ProfileToken><PanTilt>true</PanTilt><Zoom>true</Zoom></Stop>`);
  }

  /** GetStreamUri (RTSP, unicast) of a profile. @throws OnvifError */
  async streamUri(profile: string): Promise<string> {
    const r = await viaClient<{ uri?: unknown }>((cb) => this.cam.getStreamUri({ protocol: 'RTSP', profileToken: profile }, cb));
    if (typeof r?.uri !== 'string') throw new OnvifError('protocol', `no stream URI for profile ${profile}`);
    return r.uri.trim();
  }

  /** GetSnapshotUri of a profile, or null when the device has none. */
  async snapshotUri(profile: string): Promise<string | null> {
    const r = await viaClient<{ uri?: unknown }>((cb) => this.cam.getSnapshotUri({ profileToken: profile }, cb)).catch(() => undefined);
    return typeof r?.uri === 'string' ? r.uri.trim() : null;
  }

  /** Aborts the requests in flight that were given no signal of their own, and refuses new ones. */
  close(): void { this.aborter.abort(); }

  private relayService(): [string | undefined, string] {
    return this.cam.uri?.deviceIO ? ['deviceIO', NS.tmd] : [undefined, NS.tds];
  }
}

/** Calls a callback-style client method. @throws OnvifError */
function viaClient<T = unknown>(invoke: (cb: (err: Error | null, data?: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      invoke((err, data) => (err ? reject(classify(err)) : resolve(data as T)));
    } catch (err) {
      reject(classify(err as Error));
    }
  });
}

function deviceInfo(body: XmlNode): DeviceInfo {
  const r = child(body, 'getDeviceInformationResponse');
  const f = (name: string) => childText(r, name) ?? '';
  return { manufacturer: f('manufacturer'), model: f('model'), firmware_version: f('firmwareVersion'), serial_number: f('serialNumber'), hardware_id: f('hardwareId') };
}

/** A profile from the client's flattened form (Media1 `videoEncoderConfiguration`, Media2 `configurations.videoEncoder`). */
function mediaProfile(p: Record<string, any>): MediaProfile {
  const enc = p.videoEncoderConfiguration ?? p.configurations?.videoEncoder ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const name = p.name === undefined ? undefined : text(typeof p.name === 'object' ? p.name : { _: String(p.name) });
  const token = String(p.$?.token ?? p.token ?? '');
  return {
    token,
    name: name ?? token,
    encoding: typeof enc.encoding === 'string' ? enc.encoding : null,
    width: num(enc.resolution?.width),
    height: num(enc.resolution?.height),
    fps: num(enc.rateControl?.frameRateLimit),
    ptz: Boolean(p.PTZConfiguration ?? p.configurations?.PTZ),
  };
}
