/**
 * Camera heads as the hub sees them (`head-firmware/` on the bus): each head announces
 * itself on `vigil/head/<id>/info` (retained `HeadInfo`) and says `online`/`offline` on its
 * availability. The hub
 *
 * - keeps the heads it has seen, with their retained state (`vigil/head/<id>/state/<key>`)
 *   for `/api/heads`;
 * - registers each head's video as a camera `head_<id>` (an RTSP camera like any other: the
 *   camera component pulls it, the detector and recorder follow) and updates its URL when the
 *   head announces another one (`head_<id>` names are the heads': an existing camera of that
 *   name gets the head's stream);
 * - tells Home Assistant discovery when the heads change (`onChange`).
 *
 * A malformed info is logged once per head and ignored; it never takes the hub down.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import { headCameraName, headInfo, type HeadInfo } from '../../components/protocol/head-info.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { CameraService } from '../services/camera-service.ts';

/** A head, as `/api/heads` shows it. */
export interface HeadView {
  id: string;
  info: HeadInfo;
  availability: 'online' | 'offline' | 'unknown';
  /** The camera the hub made for its video, if any. */
  camera: string | null;
  /** Last retained value of each key, JSON-decoded. */
  state: Record<string, unknown>;
}

interface HeadEntry {
  info?: HeadInfo;
  availability: HeadView['availability'];
  state: Map<string, unknown>;
  camera: string | null;
}

/** Options of {@link HeadService}. */
export interface HeadServiceOptions {
  bus: Bus;
  topics: Topics;
  cameras: CameraService;
  logger: Logger;
}

/** The hub's view of camera heads. */
export class HeadService {
  private readonly heads = new Map<string, HeadEntry>();
  private readonly listeners = new Set<() => void>();
  /** Camera registration of each head, one at a time per head. */
  private readonly registering = new Map<string, Promise<void>>();

  constructor(private readonly o: HeadServiceOptions) {}

  /** Subscribes to the heads' info, availability and state. */
  async start(): Promise<void> {
    const { bus, topics } = this.o;
    await bus.subscribe(`${topics.prefix}/head/#`, (topic, payload) => this.onMessage(topic, payload));
  }

  /** Forgets listeners (the bus subscription ends with the hub's bus). */
  async stop(): Promise<void> {
    this.listeners.clear();
    await Promise.allSettled([...this.registering.values()]);
  }

  /** Every head that has announced itself, sorted by id. */
  list(): HeadView[] {
    return [...this.heads.entries()].filter(([, h]) => h.info).sort(([a], [b]) => a.localeCompare(b)).map(([id, h]) => this.view(id, h));
  }

  /** One head, or undefined. */
  get(id: string): HeadView | undefined {
    const h = this.heads.get(id);
    return h?.info ? this.view(id, h) : undefined;
  }

  /** Calls `fn` when a head appears, changes its info or disappears; returns its removal. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Waits until pending camera registrations are done (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.registering.values()]);
  }

  private view(id: string, h: HeadEntry): HeadView {
    return { id, info: h.info!, availability: h.availability, camera: h.camera, state: Object.fromEntries(h.state) };
  }

  private entry(id: string): HeadEntry {
    let h = this.heads.get(id);
    if (!h) {
      h = { availability: 'unknown', state: new Map(), camera: null };
      this.heads.set(id, h);
    }
    return h;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const p = this.o.topics.parse(topic);
    if (!p || !('head' in p)) return;
    if (p.kind === 'head.availability') {
      const text = payload.toString();
      this.entry(p.head).availability = text === 'online' ? 'online' : text === 'offline' ? 'offline' : 'unknown';
      return;
    }
    if (p.kind === 'head.state') {
      const h = this.entry(p.head);
      if (!payload.length) { h.state.delete(p.key); return; }
      try { h.state.set(p.key, JSON.parse(payload.toString('utf8'))); } catch { h.state.set(p.key, payload.toString('utf8')); }
      return;
    }
    if (p.kind !== 'head.info') return;
    if (!payload.length) { // the head's info was cleared: forget it
      if (this.heads.delete(p.head)) this.changed();
      return;
    }
    const h = this.entry(p.head);
    let parsed: ReturnType<typeof headInfo.safeParse>;
    try {
      parsed = headInfo.safeParse(JSON.parse(payload.toString('utf8')));
    } catch {
      parsed = headInfo.safeParse(undefined);
    }
    if (!parsed.success || parsed.data.id !== p.head) {
      this.o.bus.warnBadMessage(topic, 'invalid-info', 'invalid head info; ignored', { head: p.head, err: parsed.success ? 'id does not match the topic' : parsed.error.issues[0]?.message }, this.o.logger);
      return;
    }
    h.info = parsed.data;
    this.changed();
    const prev = this.registering.get(p.head) ?? Promise.resolve();
    const next = prev.then(() => this.register(p.head, h)).catch((err: Error) => this.o.logger.warn({ head: p.head, err: err.message }, 'head camera registration failed'));
    this.registering.set(p.head, next);
  }

  /** Creates or updates the head's camera from its announced stream. */
  private async register(id: string, h: HeadEntry): Promise<void> {
    const url = h.info?.stream?.main;
    if (!url) return;
    const name = headCameraName(id);
    const { cameras, logger } = this.o;
    const existing = await cameras.get(name).catch(() => undefined);
    if (!existing) {
      await cameras.create({ name, paths: { detect: url, live: url, record: url } });
      logger.info({ head: id, camera: name }, 'camera head registered as a camera');
    } else if (existing.paths.detect !== url || existing.paths.live !== url) {
      await cameras.update(name, { paths: { detect: url, live: url, record: url } }, true);
      logger.info({ head: id, camera: name }, 'camera head stream changed');
    }
    h.camera = name;
    this.changed();
  }

  private changed(): void {
    for (const fn of this.listeners) {
      try { fn(); } catch (err) { this.o.logger.warn({ err: (err as Error).message }, 'head change listener failed'); }
    }
  }
}
