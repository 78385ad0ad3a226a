/**
 * ONVIF in the hub (one per hub): a {@link CameraLink} per enabled camera with an `onvif`
 * block, and the commands and look-ups around them.
 *
 * - Cameras are followed on the retained `vigil/camera/+/config` topic (the camera
 *   service publishes every create, change and removal there); each message makes the
 *   service compare the camera's current config ({@link CameraService.config}, credentials
 *   opened) with its link and start, restart (URL, credentials or features changed) or
 *   stop it. Other changes leave the link alone.
 * - Events: every notification, normalized, on `vigil/onvif/<cam>/event` (QoS 1, not
 *   retained); relay states retained on `vigil/camera/<cam>/relay/<token>/state`
 *   (`ON`/`OFF`, from the device's relay events and after each successful set; cleared
 *   when the camera or its `onvif` block goes).
 * - Commands: `vigil/camera/<cam>/ptz` (Frigate's payloads) and
 *   `vigil/camera/<cam>/relay/<token>/set` (`ON`/`OFF`). A refused one is answered on
 *   `vigil/bridge/response/ptz` or `…/relay` with `{status: 'error', error, data: {topic,
 *   payload}}` and logged; nothing is answered on success (the device, or `…/state`, shows it).
 * - Look-ups for the REST API: {@link discover}, {@link probe}, {@link addCamera}.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { cameraName } from '../../components/protocol/camera-config.ts';
import { parsePtz, type TriggerEvent } from '../../components/protocol/rules.ts';
import type { CameraService, PublicCamera } from '../services/camera-service.ts';
import { Conflict, InvalidInput, parseWith } from '../errors.ts';
import { CameraLink, DEFAULT_TIMING, type LinkStatus, type LinkTiming } from './camera-link.ts';
import { DISCOVERY_TIMEOUT, discoverDevices, type DiscoveredDevice } from './discovery.ts';
import { probeDevice, probeInput, type ProbeResult } from './probe.ts';

/** What the service needs from the hub. */
export interface OnvifServiceDeps {
  bus: Bus;
  topics: Topics;
  cameras: CameraService;
  logger: Logger;
  /** Link timing (tests shorten retries); defaults {@link DEFAULT_TIMING}. */
  timing?: Partial<LinkTiming>;
}

/** `POST /api/cameras/onvif` body: a name, the probe's login, and any other camera config field (merged over the suggestion). */
export const addCameraInput = probeInput.extend({ name: cameraName }).loose();

/** `POST /api/onvif/discover` body. */
export const discoverInput = z
  .object({ timeout_ms: z.number().int().min(DISCOVERY_TIMEOUT.min).max(DISCOVERY_TIMEOUT.max).default(DISCOVERY_TIMEOUT.default) })
  .strict();

/** What `/api/system` shows under `components.onvif`. */
export interface OnvifStatus {
  /** Each linked camera's state and counters. */
  cameras: Record<string, LinkStatus>;
}

const PTZ_COMMANDS = 'preset_<name>, MOVE_LEFT, MOVE_RIGHT, MOVE_UP, MOVE_DOWN, ZOOM_IN, ZOOM_OUT, STOP';

/** The hub's ONVIF service (see the module comment). `start()`/`stop()` once, as a hub service. */
export class OnvifService {
  private readonly links = new Map<string, { key: string; url: string; link: CameraLink }>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly timing: LinkTiming;
  private stopped = false;

  constructor(private readonly d: OnvifServiceDeps) {
    this.timing = { ...DEFAULT_TIMING, ...d.timing };
  }

  /** Links every stored camera with an `onvif` block, then follows config changes and takes PTZ and relay commands. */
  async start(): Promise<void> {
    const { bus, topics } = this.d;
    await bus.subscribe(topics.sub.cameraConfigs(), (topic) => {
      const p = topics.parse(topic);
      if (p?.kind === 'camera.config') this.sync(p.camera);
    });
    await bus.subscribe(topics.sub.cameraPtzs(), (topic, payload) => this.onPtz(topic, payload));
    await bus.subscribe(topics.sub.cameraRelaySets(), (topic, payload) => this.onRelaySet(topic, payload));
    for (const c of await this.d.cameras.list()) this.sync(c.name);
  }

  /** Stops every link (each unsubscribes from its device, ≤ 2 s). Retained relay states stay. */
  async stop(): Promise<void> {
    this.stopped = true;
    const { bus, topics } = this.d;
    // Not the config filter: the camera service subscribes it on the same client, and Bus.unsubscribe drops every handler.
    await Promise.all([bus.unsubscribe(topics.sub.cameraPtzs()), bus.unsubscribe(topics.sub.cameraRelaySets())].map((p) => p.catch(() => undefined)));
    for (const { link } of this.links.values()) this.retire(link, false);
    this.links.clear();
    await Promise.all(this.stopping);
  }

  /** Each linked camera's state and counters. */
  status(): OnvifStatus {
    return { cameras: Object.fromEntries([...this.links].map(([name, { link }]) => [name, link.status()])) };
  }

  /**
   * WS-Discovery on the hub's networks.
   * @param body `{timeout_ms?}` (100–30 000, default 3000): how long to listen
   * @throws InvalidInput for a bad body
   */
  async discover(body: unknown): Promise<DiscoveredDevice[]> {
    const { timeout_ms } = parseWith(discoverInput, body ?? {});
    return discoverDevices(timeout_ms, (err) => this.d.logger.debug({ err }, 'WS-Discovery: unreadable answer'));
  }

  /**
   * Logs in to a device and reads it (see {@link ProbeResult}).
   * @param body `{url, username?, password?}`
   * @throws InvalidInput: the body, `password` (login refused), `url` (nothing ONVIF there)
   */
  probe(body: unknown): Promise<ProbeResult> {
    return probeDevice(body, this.timing.requestTimeoutMs);
  }

  /**
   * Creates a camera from a device: probes it, then stores `{name, username, password,
   * paths: the suggestion (given slots win), onvif: {url, …given}, …the other given fields}`.
   * @param body {@link addCameraInput}
   * @returns the camera as `GET /api/cameras/:name` shows it
   * @throws InvalidInput (field named; `url` also when the device has no RTSP stream), Conflict (name taken)
   */
  async addCamera(body: unknown): Promise<PublicCamera> {
    const { name, url, username, password, ...rest } = parseWith(addCameraInput, body);
    if (this.d.cameras.config(name)) throw new Conflict(`camera ${name} exists`, 'name');
    const found = await this.probe({ url, username, password });
    const given = rest as { paths?: Record<string, unknown>; onvif?: Record<string, unknown> };
    const paths = { ...found.suggested.paths, ...(isObject(given.paths) ? given.paths : {}) };
    if (!Object.values(paths).some(Boolean)) throw new InvalidInput('url: the device reports no RTSP stream; give paths', 'url');
    return this.d.cameras.create({ ...rest, name, username, password, paths, onvif: { ...(isObject(given.onvif) ? given.onvif : {}), url } });
  }

  /** Starts, restarts or stops the link of `name` to match its current config. */
  private sync(name: string): void {
    if (this.stopped) return;
    const cfg = this.d.cameras.config(name);
    const o = cfg?.enabled ? cfg.onvif : undefined;
    const login = o ? { url: o.url, username: cfg!.username, password: cfg!.password } : undefined;
    const key = o ? JSON.stringify([login, o.events, o.ptz]) : '';
    const cur = this.links.get(name);
    if (cur?.key === key) return;
    if (cur) {
      this.links.delete(name);
      // Relay states stay for the same device (its new link publishes them again), not for another or none.
      this.retire(cur.link, cur.url !== o?.url);
    }
    if (!o || !login) return;
    const { bus, topics, logger } = this.d;
    const link = new CameraLink(name, login, { events: o.events, ptz: o.ptz }, {
      event: (e: TriggerEvent) => bus.send(topics.onvifEvent(name), e, { qos: 1 }),
      relay: (token, on) => this.publishRelay(name, token, on ? 'ON' : 'OFF'),
    }, logger, this.timing);
    this.links.set(name, { key, url: o.url, link });
    link.start();
  }

  /** Stops a link in the background (tracked for {@link stop}); `forget` clears its retained relay states. */
  private retire(link: CameraLink, forget: boolean): void {
    const done = link.stop().then(() => {
      if (!forget) return;
      const successor = this.links.get(link.camera)?.link.publishedRelays ?? [];
      for (const token of link.publishedRelays) if (!successor.includes(token)) this.publishRelay(link.camera, token, '');
    }).catch((err: Error) => this.d.logger.warn({ camera: link.camera, err: err.message }, 'ONVIF link did not stop cleanly'));
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  private publishRelay(camera: string, token: string, state: 'ON' | 'OFF' | ''): void {
    try {
      this.d.bus.publishState(this.d.topics.cameraRelayState(camera, token), state);
    } catch (err) {
      this.d.logger.warn({ camera, relay: token, err: (err as Error).message }, 'relay token is not a topic segment; state not published');
    }
  }

  /** `vigil/camera/<cam>/ptz`: a Frigate PTZ command. */
  private async onPtz(topic: string, payload: Buffer): Promise<void> {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'camera.ptz') return;
    const text = payload.toString('utf8');
    await this.command('ptz', topic, text, async () => {
      const cmd = parsePtz(text);
      if (!cmd) throw new Error(`ptz: unknown command ${JSON.stringify(text.slice(0, 64))}; one of ${PTZ_COMMANDS}`);
      await this.linkOf(p.camera).ptz(cmd);
    });
  }

  /** `vigil/camera/<cam>/relay/<token>/set`: `ON` / `OFF`. */
  private async onRelaySet(topic: string, payload: Buffer): Promise<void> {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'camera.relaySet') return;
    const text = payload.toString('utf8');
    await this.command('relay', topic, text, async () => {
      const v = text.trim().toUpperCase();
      if (v !== 'ON' && v !== 'OFF') throw new Error(`relay: must be ON or OFF (got ${JSON.stringify(text.slice(0, 64))})`);
      await this.linkOf(p.camera).setRelay(p.relay, v === 'ON');
    });
  }

  /** Runs a command; a failure is logged and answered on `vigil/bridge/response/<op>`. */
  private async command(op: 'ptz' | 'relay', topic: string, text: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      const error = (err as Error).message;
      this.d.bus.warnBadMessage(topic, `${op}-refused`, `${op} command refused`, { err: error }, this.d.logger);
      this.d.bus.send(this.d.topics.bridgeResponse(op), { status: 'error', error, data: { topic, payload: text.slice(0, 256) } }, { qos: 1 });
    }
  }

  /** @throws Error for an unknown camera, one without `onvif`, or a disabled one */
  private linkOf(camera: string): CameraLink {
    const link = this.links.get(camera)?.link;
    if (link) return link;
    const cfg = this.d.cameras.config(camera);
    if (!cfg) throw new Error(`no camera ${camera}`);
    throw new Error(cfg.onvif ? `camera ${camera} is disabled` : `camera ${camera} has no onvif block`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
