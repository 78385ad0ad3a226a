/**
 * The hub's link to one camera's ONVIF device: log in, read its relay outputs, keep a
 * pull-point subscription and hand every notification on, normalized; take PTZ and relay
 * commands; report its state.
 *
 * The loop: open a session ({@link OnvifSession.open}) → create a subscription → pull
 * (renewing when less than half its lifetime is left) until stopped. A fault on a
 * subscription that has delivered (it expired, the device dropped it) → unsubscribe and
 * subscribe again at once; anything else (the device unreachable, a reboot, a refused
 * login, a fault on a fresh subscription) → drop the session and start over after a
 * backoff (1 s doubling to 60 s; 5 min after a refused login; reset by a successful pull).
 */
import type { Logger } from 'pino';
import type { PtzCommand, TriggerEvent } from '../../components/protocol/rules.ts';
import { OnvifSession, type DeviceInfo, type DeviceLogin, type RelayOutput } from './device.ts';
import { relayStateOf, toTriggerEvent } from './notification.ts';
import { PullPoint } from './pull-point.ts';
import { runPtz } from './ptz.ts';
import { OnvifError, classify, type XmlNode } from './soap.ts';

/** Timing of a link; every field has a default ({@link DEFAULT_TIMING}). */
export interface LinkTiming {
  /** Timeout of each request other than PullMessages, ms. */
  requestTimeoutMs: number;
  /** How long one PullMessages waits on the device, s (ONVIF devices must allow 1 min). */
  pullTimeoutS: number;
  /** Subscription lifetime asked for at creation and renewal, s. */
  lifetimeS: number;
  /** First retry delay after a failure, ms (doubles per failure). */
  retryMinMs: number;
  /** Longest retry delay, ms. */
  retryMaxMs: number;
  /** Retry delay after the device refused the credentials, ms. */
  authRetryMs: number;
}

/** Production timing: 10 s requests, 20 s pulls, 60 s subscriptions, retries 1 s → 60 s, 5 min after a refused login. */
export const DEFAULT_TIMING: LinkTiming = { requestTimeoutMs: 10_000, pullTimeoutS: 20, lifetimeS: 60, retryMinMs: 1000, retryMaxMs: 60_000, authRetryMs: 300_000 };

/** Most messages one PullMessages may return. */
const MESSAGE_LIMIT = 100;
/** Longest wait for the Unsubscribe sent when a link stops, ms. */
const UNSUBSCRIBE_TIMEOUT_MS = 2000;

/** What a link does with what it learns. */
export interface LinkOutputs {
  /** A notification, normalized (publish it on `vigil/onvif/<cam>/event`). */
  event(e: TriggerEvent): void;
  /** A relay's state, from an event or a successful set (publish it retained). */
  relay(token: string, on: boolean): void;
}

/** A link's counters and state, as `/api/system` shows them under `components.onvif.cameras.<cam>`. */
export interface LinkStatus {
  /** Device service URL. */
  url: string;
  /** `connecting`, `connected`, `retrying` (waiting `next_retry_at`), `stopped`. */
  state: 'connecting' | 'connected' | 'retrying' | 'stopped';
  connected: boolean;
  /** Unix ms of the current session's login, or null. */
  connected_since: number | null;
  /** The device, once logged in. */
  device: DeviceInfo | null;
  /** The camera config's `onvif.events` / `onvif.ptz`. */
  events_enabled: boolean;
  ptz_enabled: boolean;
  /** The device has a PTZ profile (known once connected). */
  ptz: boolean;
  /** Names of the PTZ presets (GetPresets at each login, with `ptz_enabled` and a PTZ profile; the last list read stays while disconnected). */
  presets: string[];
  /** Relay tokens → `ON`/`OFF`, or null until an event or a set tells. */
  relays: Record<string, 'ON' | 'OFF' | null>;
  /** A pull-point subscription is live. */
  subscribed: boolean;
  /** Subscriptions created; `resubscribes` = those after the first (expiry, reboot, reconnect). */
  subscriptions: number;
  resubscribes: number;
  renewals: number;
  /** Notifications received; those that did not fit the event schema are counted in `events_dropped`. */
  events_received: number;
  events_dropped: number;
  /** Unix ms and topic of the newest notification. */
  last_event: number | null;
  last_event_topic: string | null;
  /** Failures (login, requests, subscriptions), the newest as text with its Unix ms. */
  errors: number;
  last_error: string | null;
  last_error_at: number | null;
  /** Unix ms of the next login attempt while `retrying`. */
  next_retry_at: number | null;
}

/** One camera's link. `start()` once, `stop()` once. */
export class CameraLink {
  private readonly aborter = new AbortController();
  private session?: OnvifSession;
  private relayOutputs: RelayOutput[] = [];
  private running?: Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly st: LinkStatus;

  /**
   * @param camera the camera's name
   * @param login the device and the camera's credentials
   * @param features the camera's `onvif.events` / `onvif.ptz`
   */
  constructor(
    readonly camera: string,
    private readonly login: DeviceLogin,
    private readonly features: { events: boolean; ptz: boolean },
    private readonly out: LinkOutputs,
    private readonly logger: Logger,
    private readonly timing: LinkTiming = DEFAULT_TIMING,
  ) {
    this.st = {
      url: login.url, state: 'connecting', connected: false, connected_since: null, device: null, events_enabled: features.events, ptz_enabled: features.ptz, ptz: false, presets: [],
      relays: {}, subscribed: false, subscriptions: 0, resubscribes: 0, renewals: 0, events_received: 0, events_dropped: 0, last_event: null, last_event_topic: null,
      errors: 0, last_error: null, last_error_at: null, next_retry_at: null,
    };
  }

  /** Starts the loop in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops: aborts what is in flight, unsubscribes (≤ 2 s) and waits for the loop to end. */
  async stop(): Promise<void> {
    this.aborter.abort();
    await this.running;
  }

  /** Relay tokens this link has published a state for (to clear them when the camera goes). */
  get publishedRelays(): string[] { return Object.keys(this.st.relays).filter((t) => this.st.relays[t] !== null); }

  /** A copy of the state and counters. */
  status(): LinkStatus { return structuredClone(this.st); }

  /**
   * Runs a PTZ command after the ones before it.
   * @throws Error why it cannot run (PTZ off, not connected, no PTZ profile, unknown preset) or the device's refusal
   */
  ptz(cmd: PtzCommand): Promise<void> {
    return this.serial(async () => {
      if (!this.features.ptz) throw new Error(`camera ${this.camera}: PTZ is off (onvif.ptz: false)`);
      const session = this.requireSession();
      const profile = session.ptzProfile;
      if (!profile) throw new Error(`camera ${this.camera} has no PTZ (no profile with a PTZ configuration)`);
      await runPtz(session, profile.token, cmd);
    });
  }

  /**
   * Switches a relay output; its new state is published at once.
   * @throws Error naming an unknown relay or why the device refused
   */
  setRelay(token: string, on: boolean): Promise<void> {
    return this.serial(async () => {
      const session = this.requireSession();
      if (!this.relayOutputs.some((r) => r.token === token)) {
        throw new Error(`camera ${this.camera} has no relay ${JSON.stringify(token)}; relays: ${this.relayOutputs.map((r) => r.token).join(', ') || 'none'}`);
      }
      await session.setRelay(token, on);
      this.relayState(token, on);
    });
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run.catch((err: Error) => { throw err instanceof OnvifError ? new Error(`camera ${this.camera}: ${err.message}`) : err; });
  }

  private requireSession(): OnvifSession {
    if (!this.session) throw new Error(`camera ${this.camera}: ONVIF device not connected${this.st.last_error ? ` (${this.st.last_error})` : ''}`);
    return this.session;
  }

  private get stopping(): boolean { return this.aborter.signal.aborted; }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.st.state = 'connecting';
      this.st.next_retry_at = null;
      let delay = 0;
      try {
        // The client's own requests cannot be aborted: a stop does not wait for a login in flight.
        const opening = OnvifSession.open(this.login, this.timing.requestTimeoutMs);
        const session = await abortable(opening, this.aborter.signal).catch((err: Error) => {
          if (this.stopping) opening.then((s) => s.close(), () => undefined);
          throw err;
        });
        await this.attach(session);
        if (this.features.events && session.hasEvents) await this.pullLoop(session, () => { failures = 0; });
        else { failures = 0; await sleep(Infinity, this.aborter.signal); }
      } catch (err) {
        const e = classify(err as Error);
        if (!this.stopping) {
          this.fail(e, 'ONVIF link failed');
          delay = e.kind === 'unauthorized' ? this.timing.authRetryMs : Math.min(this.timing.retryMaxMs, this.timing.retryMinMs * 2 ** failures++);
        }
      }
      this.detach();
      if (this.stopping) break;
      this.st.state = 'retrying';
      this.st.next_retry_at = Date.now() + delay;
      await sleep(delay, this.aborter.signal);
    }
    this.st.state = 'stopped';
    this.st.next_retry_at = null;
  }

  private async attach(session: OnvifSession): Promise<void> {
    this.session = session;
    this.relayOutputs = await session.relayOutputs().catch((err: Error) => { this.fail(classify(err), 'GetRelayOutputs failed'); return []; });
    for (const r of this.relayOutputs) this.st.relays[r.token] ??= null;
    const ptzProfile = this.features.ptz ? session.ptzProfile : undefined;
    if (ptzProfile) {
      this.st.presets = await session.presets(ptzProfile.token).then((ps) => ps.map((p) => p.name), (err: Error) => { this.fail(classify(err), 'GetPresets failed'); return this.st.presets; });
    }
    Object.assign(this.st, { state: 'connected', connected: true, connected_since: Date.now(), device: session.info, ptz: Boolean(session.ptzProfile) });
    this.logger.info({ camera: this.camera, device: session.info, profiles: session.profiles.length, relays: this.relayOutputs.length }, 'ONVIF device connected');
  }

  private detach(): void {
    this.session?.close();
    this.session = undefined;
    Object.assign(this.st, { connected: false, connected_since: null, subscribed: false });
  }

  /** Subscribes and pulls until stopped; returns on stop, throws when the link must start over. */
  private async pullLoop(session: OnvifSession, healthy: () => void): Promise<void> {
    const { signal } = this.aborter;
    const { pullTimeoutS, lifetimeS } = this.timing;
    let pp = await this.subscribe(session);
    let delivered = false;
    try {
      while (!this.stopping) {
        try {
          if (pp.expiresAt - Date.now() < (lifetimeS * 1000) / 2) {
            await pp.renew(lifetimeS, signal);
            this.st.renewals++;
          }
          const messages = await pp.pull(pullTimeoutS, MESSAGE_LIMIT, signal);
          delivered = true;
          healthy();
          for (const m of messages) this.deliver(m);
        } catch (err) {
          const e = classify(err as Error);
          // The device answered but the subscription is gone (expired, dropped): subscribe again at once.
          if (this.stopping || e.kind !== 'fault' || !delivered) throw e;
          this.fail(e, 'pull-point subscription lost; subscribing again');
          this.st.subscribed = false;
          void pp.unsubscribe(UNSUBSCRIBE_TIMEOUT_MS);
          pp = await this.subscribe(session);
          delivered = false;
        }
      }
    } finally {
      this.st.subscribed = false;
      if (this.stopping) await pp.unsubscribe(UNSUBSCRIBE_TIMEOUT_MS);
    }
  }

  private async subscribe(session: OnvifSession): Promise<PullPoint> {
    const pp = await PullPoint.create(session, this.timing.lifetimeS, this.aborter.signal);
    this.st.subscriptions++;
    this.st.resubscribes = this.st.subscriptions - 1;
    this.st.subscribed = true;
    this.logger.debug({ camera: this.camera, address: pp.address, subscriptions: this.st.subscriptions }, 'ONVIF pull-point subscription created');
    return pp;
  }

  private deliver(message: XmlNode): void {
    const e = toTriggerEvent(this.camera, message);
    if (!e) {
      this.st.events_dropped++;
      return;
    }
    this.st.events_received++;
    this.st.last_event = Date.now();
    this.st.last_event_topic = e.topic;
    this.out.event(e);
    const relay = relayStateOf(e);
    if (relay) this.relayState(relay.token, relay.on);
  }

  private relayState(token: string, on: boolean): void {
    this.st.relays[token] = on ? 'ON' : 'OFF';
    this.out.relay(token, on);
  }

  /** Counts a failure; logs a warning, or at debug level when it repeats the last one (a device down for hours). */
  private fail(e: OnvifError, what: string): void {
    const text = `${e.kind}: ${e.message}`;
    const level = text === this.st.last_error ? 'debug' : 'warn';
    this.st.errors++;
    this.st.last_error = text;
    this.st.last_error_at = Date.now();
    this.logger[level]({ camera: this.camera, url: this.login.url, kind: e.kind, subcode: e.subcode, err: e.message }, what);
  }
}

/** Resolves after `ms` (forever when `ms` is Infinity), or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or an `aborted` OnvifError as soon as `signal` aborts (its listener removed once `p` settles). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new OnvifError('aborted', 'stopped'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
