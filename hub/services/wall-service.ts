/**
 * The camera wall on the hub's side (BetterFrame on the bus): layouts, kiosks and their
 * displays, pairing, and activation.
 *
 * Activating a layout on a display — `vigil/display/<id>/layout/set` (operators, see the
 * ACL) or `POST /api/displays/:id/activate` — validates the request, compiles the layout
 * for the display ({@link compileLayout}: pixel rectangles, a concrete stream and a URL
 * with a media token per camera cell, the warm set hints) and publishes the bundle
 * retained on `vigil/display/<id>/layout/state`. A refused MQTT request is answered on
 * `vigil/display/<id>/layout/error` and changes nothing.
 *
 * Bundles carry media tokens owned by the display's kiosk device (they stop working when
 * the kiosk is removed), valid {@link BUNDLE_TOKEN_TTL_S}; the hub re-issues every
 * display's bundle (same `seq`) every {@link REFRESH_INTERVAL_MS} and at start, so a
 * kiosk always holds usable URLs.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { liveStreamUrls, type CameraConfig } from '../../components/protocol/camera-config.ts';
import {
  display as displaySchema, layout as layoutSchema, layoutFromInput, layoutInput, parseLayoutSet, streamKey,
  type Bundle, type Display, type Layout, type LayoutError, type StreamKey,
} from '../../components/protocol/layout.ts';
import { pairRequest, pairingStart, type PairingResult, type PairingTicket } from '../../components/protocol/pairing.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera, type Principal } from '../auth/principal.ts';
import type { WallRepo, KioskRow, DisplayRecord } from '../store/wall-repo.ts';
import { Conflict, DomainError, InvalidInput, NotFound, invalidFromZod, parseWith } from '../errors.ts';
import { compileLayout } from './layout-compiler.ts';
import { PairingTickets, type PollOutcome } from './kiosk-pairing.ts';
import { z } from 'zod';

/** Lifetime of the media tokens in a bundle, s (24 h). */
export const BUNDLE_TOKEN_TTL_S = 24 * 3600;
/** How often every display's bundle is re-issued with fresh tokens, ms (12 h: half the token life). */
export const REFRESH_INTERVAL_MS = 12 * 3600 * 1000;
/** Name and size of the display a kiosk gets when paired (BetterFrame: "Pairing creates HDMI-0"). */
export const FIRST_DISPLAY = { suffix: 'hdmi-0', name: 'HDMI-0', width: 1920, height: 1080 };

/** A kiosk as the API shows it. */
export interface PublicKiosk { id: string; name: string; created_at: number; displays: Display[] }

/** What the wall needs from the rest of the hub. */
export interface WallDeps {
  repo: WallRepo;
  bus: Bus;
  topics: Topics;
  auth: AuthService;
  /** The current config of a camera, or undefined when it does not exist. */
  camera: (name: string) => CameraConfig | undefined;
  logger: Logger;
}

/** `PATCH /api/displays/:id` body. */
export const displayPatch = z.object({ name: displaySchema.shape.name, width: displaySchema.shape.width, height: displaySchema.shape.height }).partial().strict();
/** `POST /api/kiosks/:id/displays` body. */
export const displayCreate = displaySchema.pick({ id: true, name: true, width: true, height: true }).strict();
/** `POST /api/displays/:id/activate` body. */
/** True when `p` may see every camera `l` shows or preloads (who may list, read and activate it). */
export function seesLayout(p: Principal | undefined, l: Layout): boolean {
  const cams = [...l.regions.flatMap((r) => (r.cell?.type === 'camera' ? [r.cell.camera] : [])), ...l.preload_camera_ids];
  return cams.every((c) => canSeeCamera(p, c));
}

export const activateBody = z.object({ layout: z.union([layoutSchema.shape.id, layoutSchema]) }).strict();

export class WallService {
  readonly pairing = new PairingTickets();
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly d: WallDeps) {}

  /** Takes `…/layout/set` commands and re-issues every display's bundle. */
  async start(): Promise<void> {
    const { bus, topics } = this.d;
    await bus.subscribe(topics.sub.displayLayoutSets(), (topic, payload) => this.onLayoutSet(topic, payload));
    await this.refreshAll();
    this.timer = setInterval(() => { this.refreshAll().catch((err: Error) => this.d.logger.warn({ err: err.message }, 'bundle refresh failed')); }, REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Calls `fn` after layouts, kiosks or displays were created, changed or deleted (Home
   * Assistant's discovery follows them). A listener that throws is ignored.
   * @returns a function that removes the listener
   */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  private changed(): void {
    for (const fn of this.listeners) { try { fn(); } catch { /* a listener's failure is its own */ } }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.d.bus.unsubscribe(this.d.topics.sub.displayLayoutSets()).catch(() => undefined);
  }

  // ---- layouts -----------------------------------------------------------------------

  async layouts(): Promise<Layout[]> { return this.d.repo.layouts(); }

  /** @throws NotFound */
  async layout(id: string): Promise<Layout> {
    const l = await this.d.repo.layout(id);
    if (!l) throw new NotFound(`no layout ${id}`);
    return l;
  }

  /**
   * Creates (`replace` false) or replaces (`replace` true, `id` from the path) a layout from a
   * `POST /api/layouts` body (regions, or a preset with cells). Displays showing a replaced
   * layout get it at once; a change to a priority-hot layout re-issues every display (their
   * warm sets change).
   * @throws InvalidInput (field named; unknown cameras too), Conflict (id taken on create), NotFound (replace of an unknown id)
   */
  async saveLayout(body: unknown, replace?: string): Promise<Layout> {
    const input = parseWith(layoutInput, replace && body && typeof body === 'object' ? { id: replace, ...body } : body);
    if (replace && input.id !== replace) throw new InvalidInput('id: must match the path', 'id');
    let l: Layout;
    try {
      l = layoutFromInput(input);
    } catch (err) {
      throw err instanceof z.ZodError ? invalidFromZod(err) : err;
    }
    this.checkCameras(l);
    const old = await this.d.repo.layout(l.id);
    if (!replace && old) throw new Conflict(`layout ${l.id} exists`, 'id');
    if (replace && !old) throw new NotFound(`no layout ${replace}`);
    await this.d.repo.saveLayout(l);
    this.changed();
    if (old) await this.reissue((d) => d.layout_id === l.id || l.priority === 'hot' || old.priority === 'hot', true);
    else if (l.priority === 'hot') await this.reissue(() => true, false);
    return l;
  }

  /** Deletes a layout; displays showing it keep their bundle. @throws NotFound */
  async deleteLayout(id: string): Promise<void> {
    const old = await this.layout(id);
    await this.d.repo.deleteLayout(id);
    this.changed();
    if (old.priority === 'hot') await this.reissue(() => true, false);
  }

  /**
   * Checks that a rule's target exists: display `display`, layout `layout`, and `revertTo`
   * (`previous` or a layout id).
   * @throws InvalidInput naming `do.display`, `do.layout_id` or `do.revert_to`
   */
  async checkTarget(display: string, layout: string, revertTo: string): Promise<void> {
    if (!(await this.d.repo.display(display))) throw new InvalidInput(`do.display: no display ${display}`, 'do.display');
    if (!(await this.d.repo.layout(layout))) throw new InvalidInput(`do.layout_id: no layout ${layout}`, 'do.layout_id');
    if (revertTo !== 'previous' && !(await this.d.repo.layout(revertTo))) throw new InvalidInput(`do.revert_to: no layout ${revertTo}`, 'do.revert_to');
  }

  // ---- kiosks and pairing --------------------------------------------------------------

  /** Step 1 of pairing (anonymous): a ticket with the code to show. @throws InvalidInput, Conflict (too many waiting) */
  startPairing(body: unknown): PairingTicket {
    return this.pairing.issue(parseWith(pairingStart, body ?? {}));
  }

  /** Step 3 of pairing (the kiosk polls). @throws NotFound, Unauthenticated */
  pollPairing(id: string, secret: string): PollOutcome {
    return this.pairing.poll(id, secret);
  }

  /**
   * Step 2 of pairing (an admin typed the code): creates the kiosk, its device credential
   * (kind `kiosk`, limited to its displays) and its first display `HDMI-0` at the size the
   * kiosk reported (default 1920×1080).
   * @throws InvalidInput, NotFound (no kiosk shows that code), Conflict (the id is taken by a kiosk or a device)
   */
  async pair(body: unknown): Promise<PublicKiosk> {
    const req = parseWith(pairRequest, body);
    const ticket = this.pairing.claimable(req.code);
    const id = req.id ?? (await this.nextKioskId());
    if ((await this.d.repo.kiosk(id)) || (await this.d.auth.credentials.deviceById(id))) throw new Conflict(`kiosk or device ${id} exists`, 'id');
    const first: Display = {
      id: `${id}-${FIRST_DISPLAY.suffix}`, kiosk_id: id, name: FIRST_DISPLAY.name,
      width: ticket.start.width ?? FIRST_DISPLAY.width, height: ticket.start.height ?? FIRST_DISPLAY.height, layout_id: null,
    };
    if (await this.d.repo.display(first.id)) throw new Conflict(`display ${first.id} exists`, 'id');
    const dev = await this.d.auth.credentials.createDevice({ id, kind: 'kiosk', displays: [first.id] });
    await this.d.repo.createKiosk({ id, name: req.name ?? id, device_id: id, created_at: Date.now() }, first);
    const result: PairingResult = {
      status: 'paired', kiosk_id: id, displays: [first.id], credential: dev.password,
      mqtt: { username: id, password: dev.password, path: '/mqtt' }, prefix: this.d.topics.prefix,
    };
    this.pairing.complete(ticket.id, result);
    this.changed();
    this.d.logger.info({ kiosk: id, display: first.id }, 'kiosk paired');
    return this.kiosk(id);
  }

  async kiosks(): Promise<PublicKiosk[]> {
    const all = await this.d.repo.displays();
    return (await this.d.repo.kiosks()).map((k) => toPublicKiosk(k, all.filter((d) => d.kiosk_id === k.id)));
  }

  /** @throws NotFound */
  async kiosk(id: string): Promise<PublicKiosk> {
    const k = await this.d.repo.kiosk(id);
    if (!k) throw new NotFound(`no kiosk ${id}`);
    return toPublicKiosk(k, await this.d.repo.displays(id));
  }

  /**
   * Removes a kiosk: its device credential is revoked (its MQTT login and media tokens stop),
   * its displays go, and their retained bundles and the kiosk's retained topics are cleared.
   * @throws NotFound
   */
  async deleteKiosk(id: string): Promise<void> {
    const k = await this.kiosk(id);
    await this.d.auth.credentials.revokeDevice(k.id).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
    await this.d.repo.deleteKiosk(id);
    this.changed();
    const { bus, topics } = this.d;
    for (const d of k.displays) bus.publishState(topics.displayLayoutState(d.id), '');
    bus.publishState(topics.kioskState(id), '');
    bus.publishState(topics.kioskAvailability(id), '');
  }

  /**
   * Adds a display to a kiosk (a second screen); the kiosk's credential may read it from
   * its next MQTT connection.
   * @throws InvalidInput, NotFound (kiosk), Conflict (display id taken)
   */
  async addDisplay(kioskId: string, body: unknown): Promise<Display> {
    const k = await this.kiosk(kioskId);
    const input = parseWith(displayCreate, body);
    if (await this.d.repo.display(input.id)) throw new Conflict(`display ${input.id} exists`, 'id');
    const d: DisplayRecord = { ...input, kiosk_id: k.id, layout_id: null, seq: 0 };
    await this.d.repo.saveDisplay(d);
    await this.d.auth.credentials.setDeviceDisplays(k.id, [...k.displays.map((x) => x.id), d.id]);
    this.changed();
    return toDisplay(d);
  }

  // ---- displays and activation -----------------------------------------------------------

  async displays(): Promise<Display[]> { return (await this.d.repo.displays()).map(toDisplay); }

  /** @throws NotFound */
  async display(id: string): Promise<Display> { return toDisplay(await this.requireDisplay(id)); }

  /** Renames or resizes a display; a display showing a layout gets it recompiled. @throws InvalidInput, NotFound */
  async updateDisplay(id: string, body: unknown): Promise<Display> {
    const d = await this.requireDisplay(id);
    const next = { ...d, ...parseWith(displayPatch, body) };
    await this.d.repo.saveDisplay(next);
    this.changed();
    if (next.layout_id && (next.width !== d.width || next.height !== d.height)) await this.reissue((x) => x.id === id, true);
    return toDisplay(next);
  }

  /**
   * {@link activate} for a caller: `body` is `{layout: id | Layout}` ({@link activateBody}),
   * and `principal` must see every camera the layout shows or preloads ({@link seesLayout}).
   * Used by `POST /api/displays/:id/activate` and the bridge's `layout/activate`.
   * @throws InvalidInput with the field; NotFound (display, layout, or a layout showing a camera the caller cannot see)
   */
  async activateFor(id: string, body: unknown, principal: Principal): Promise<Bundle> {
    const b = parseWith(activateBody, body);
    const l = typeof b.layout === 'string' ? await this.layout(b.layout) : b.layout;
    if (!seesLayout(principal, l)) throw new NotFound('this layout shows a camera you cannot see');
    return this.activate(id, b.layout);
  }

  /**
   * Activates `layout` (a stored layout's id, or a whole layout shown once and not stored)
   * on display `id` and publishes the bundle retained.
   * @returns the bundle
   * @throws InvalidInput (bad layout, unknown camera), NotFound (display or layout)
   */
  async activate(id: string, layoutOrId: string | Layout): Promise<Bundle> {
    const d = await this.requireDisplay(id);
    const l = typeof layoutOrId === 'string' ? await this.layout(layoutOrId) : parseWith(layoutSchema, layoutOrId, 'layout');
    this.checkCameras(l);
    const seq = await this.d.repo.activated(d.id, l.id);
    const bundle = await this.compile(l, d, seq);
    this.d.bus.publishState(this.d.topics.displayLayoutState(d.id), bundle);
    this.d.logger.info({ display: d.id, layout: l.id, seq }, 'layout activated');
    return bundle;
  }

  /**
   * The bundle display `id` shows, compiled now with fresh media tokens (a kiosk whose
   * tokens expired, or a page that wants the URLs); null when it shows nothing.
   * @throws NotFound
   */
  async currentBundle(id: string): Promise<Bundle | null> {
    const d = await this.requireDisplay(id);
    const l = d.layout_id ? await this.d.repo.layout(d.layout_id) : undefined;
    return l ? this.compile(l, d, d.seq) : null;
  }

  /** Handles `vigil/display/<id>/layout/set`; a refusal goes to `…/layout/error`. */
  private async onLayoutSet(topic: string, payload: Buffer): Promise<void> {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'display.layoutSet') return;
    const parsed = parseLayoutSet(payload.toString('utf8'));
    const transaction = parsed.ok ? parsed.request.transaction : parsed.transaction;
    try {
      if (!parsed.ok) throw new InvalidInput(parsed.error, parsed.field);
      await this.activate(p.display, parsed.request.layout);
    } catch (err) {
      const e = err instanceof DomainError ? err : new DomainError('invalid', 'internal_error', (err as Error).message);
      if (!(err instanceof DomainError)) this.d.logger.error({ topic, err: (err as Error).message }, 'layout activation failed');
      else this.d.bus.warnBadMessage(topic, 'layout-set-refused', 'layout/set refused', { err: e.message }, this.d.logger);
      const body: LayoutError = { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) }, ...(transaction ? { transaction } : {}) };
      this.d.bus.send(this.d.topics.displayLayoutError(p.display), body, { qos: 1 });
    }
  }

  /** Compiles `l` for `d`: media tokens owned by the display's kiosk device. */
  private async compile(l: Layout, d: DisplayRecord, seq: number): Promise<Bundle> {
    const layouts = await this.d.repo.layouts();
    const hotLayouts = layouts.filter((x) => x.priority === 'hot');
    const urls = new Map<string, string>();
    const wanted = (s: StreamKey): StreamKey => {
      const cam = this.d.camera(s.camera);
      // A camera without a distinct sub stream plays main for `sub` (the same bytes; no second player).
      return s.stream === 'sub' && cam && !liveStreamUrls(cam).sub ? { camera: s.camera, stream: 'main' } : s;
    };
    // Tokens are async; compile is pure: mint every URL first, for every stream the compiler may ask for.
    for (const cam of new Set([...l.regions, ...hotLayouts.flatMap((h) => h.regions)].flatMap((r) => (r.cell?.type === 'camera' ? [r.cell.camera] : [])).concat(l.preload_camera_ids))) {
      if (!this.d.camera(cam)) continue;
      const token = await this.d.auth.signer.media({ sub: `dev:${d.kiosk_id}`, cam }, BUNDLE_TOKEN_TTL_S);
      for (const stream of ['main', 'sub'] as const) {
        const s = wanted({ camera: cam, stream });
        urls.set(streamKey({ camera: cam, stream }), `/api/cameras/${encodeURIComponent(cam)}/live?stream=${s.stream}&token=${encodeURIComponent(token)}`);
      }
    }
    const complete = (x: Layout) => x.regions.every((r) => r.cell?.type !== 'camera' || this.d.camera(r.cell.camera));
    return compileLayout(l, d, { seq, now: Date.now(), layouts: layouts.filter(complete), streamUrl: (s) => urls.get(streamKey(s)) ?? '', resolve: wanted });
  }

  /** Re-publishes the bundles of the displays `pick` selects that show a stored layout (`bump`: as a new activation, seq + 1). */
  private async reissue(pick: (d: DisplayRecord) => boolean, bump: boolean): Promise<void> {
    for (const d of await this.d.repo.displays()) {
      if (!d.layout_id || !pick(d)) continue;
      const l = await this.d.repo.layout(d.layout_id);
      if (!l) continue;
      try {
        const seq = bump ? await this.d.repo.activated(d.id, l.id) : d.seq;
        this.d.bus.publishState(this.d.topics.displayLayoutState(d.id), await this.compile(l, d, seq));
      } catch (err) {
        this.d.logger.warn({ display: d.id, err: (err as Error).message }, 'could not re-issue the bundle');
      }
    }
  }

  private refreshAll(): Promise<void> { return this.reissue(() => true, false); }

  /** @throws InvalidInput naming the first cell or preload entry whose camera does not exist */
  private checkCameras(l: Layout): void {
    l.regions.forEach((r, i) => {
      if (r.cell?.type === 'camera' && !this.d.camera(r.cell.camera)) throw new InvalidInput(`regions.${i}.cell.camera: no camera ${r.cell.camera}`, `regions.${i}.cell.camera`);
    });
    l.preload_camera_ids.forEach((c, i) => {
      if (!this.d.camera(c)) throw new InvalidInput(`preload_camera_ids.${i}: no camera ${c}`, `preload_camera_ids.${i}`);
    });
  }

  private async requireDisplay(id: string): Promise<DisplayRecord> {
    const d = await this.d.repo.display(id);
    if (!d) throw new NotFound(`no display ${id}`);
    return d;
  }

  private async nextKioskId(): Promise<string> {
    for (let n = 1; ; n++) {
      const id = `kiosk-${n}`;
      if (!(await this.d.repo.kiosk(id)) && !(await this.d.auth.credentials.deviceById(id))) return id;
    }
  }
}

function toDisplay(d: DisplayRecord): Display {
  return { id: d.id, kiosk_id: d.kiosk_id, name: d.name, width: d.width, height: d.height, layout_id: d.layout_id };
}

function toPublicKiosk(k: KioskRow, displays: DisplayRecord[]): PublicKiosk {
  return { id: k.id, name: k.name, created_at: k.created_at, displays: displays.map(toDisplay) };
}
