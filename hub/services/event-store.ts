/**
 * Persists what the detector announces: `vigil/events` → event rows; and
 * `vigil/events/<id>/snapshot|crop` → JPEG files under `<data_dir>/snapshots/<camera>/`.
 * Events come validated from the {@link EventFeed}; images that fail their checks are
 * logged and dropped; nothing stored is touched.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../components/protocol/atomic-write.ts';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { EventFeed, EventStep } from './event-feed.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import { safeJoin } from './safe-path.ts';

export class EventStore {
  /** Event id → camera, for placing images that arrive before/after the row. */
  private readonly cameraOf = new Map<string, string>();
  private readonly pendingImages = new Map<string, Array<{ kind: 'snapshot' | 'crop'; jpeg: Buffer; n: number }>>();
  /** `<id>/<kind>` → arrival number of its newest image: an older one is never written after it. */
  private readonly newestImage = new Map<string, number>();
  private imageArrivals = 0;
  /** Per-event write chain so rows are written in message order. */
  private chains = new Map<string, Promise<void>>();
  private readonly counts = { events_stored: 0, images_stored: 0, images_rejected: 0 };

  constructor(private readonly repo: EventsRepo, private readonly feed: EventFeed, private readonly bus: Bus, private readonly topics: Topics, private readonly snapshotDir: string, private readonly logger: Logger) {}

  /** Counters for `/api/system`: rows and images stored, messages rejected (invalid events and images). */
  get stats(): { events_stored: number; images_stored: number; rejected: number } {
    return { events_stored: this.counts.events_stored, images_stored: this.counts.images_stored, rejected: this.counts.images_rejected + this.feed.stats.rejected };
  }

  async start(): Promise<void> {
    // Events left open by a crash or a hard stop end now.
    const ended = await this.repo.endOpen(Date.now() / 1000);
    if (ended) this.logger.info({ ended }, 'ended events left open by the previous run');
    this.feed.on('event store', (step) => this.onEvent(step));
    await this.bus.subscribe(this.topics.sub.eventImages(), (topic, payload) => this.onImage(topic, payload));
  }

  /** Path of an event's JPEG. */
  imagePath(camera: string, id: string, kind: 'snapshot' | 'crop'): string {
    return safeJoin(this.snapshotDir, camera, `${id}${kind === 'crop' ? '-crop' : ''}.jpg`);
  }

  /** Reads an event's JPEG, or undefined when there is none. */
  async readImage(camera: string, id: string, kind: 'snapshot' | 'crop'): Promise<Buffer | undefined> {
    const file = this.imagePath(camera, id, kind); // throws on traversal: never swallowed as 'missing'
    try { return await readFile(file); } catch { return undefined; }
  }

  /** Deletes an event's snapshot and crop files (missing ones are fine). */
  async deleteImages(camera: string, id: string): Promise<void> {
    await Promise.all((['snapshot', 'crop'] as const).map((k) => rm(this.imagePath(camera, id, k), { force: true })));
  }

  private onEvent(msg: EventStep): void {
    const s = msg.after;
    this.cameraOf.set(s.id, s.camera);
    const prev = this.chains.get(s.id) ?? Promise.resolve();
    const next = prev.then(async () => {
      await this.repo.upsert(s);
      this.counts.events_stored++;
      const pending = this.pendingImages.get(s.id);
      this.pendingImages.delete(s.id);
      for (const p of pending ?? []) await this.write(s.camera, s.id, p.kind, p.jpeg, p.n);
    }).catch((err: Error) => this.logger.error({ id: s.id, err: err.message }, 'storing event failed'));
    this.chains.set(s.id, next);
    if (msg.type === 'end') {
      void next.then(() => {
        this.chains.delete(s.id);
        setTimeout(() => { this.cameraOf.delete(s.id); this.newestImage.delete(`${s.id}/snapshot`); this.newestImage.delete(`${s.id}/crop`); }, 60_000).unref();
      });
    }
  }

  private async onImage(topic: string, payload: Buffer): Promise<void> {
    const p = this.topics.parse(topic);
    if (p?.kind !== 'event.image') return;
    if (!/^[A-Za-z0-9._-]{1,80}$/.test(p.id) || payload[0] !== 0xff || payload[1] !== 0xd8) {
      this.counts.images_rejected++;
      this.bus.warnBadMessage(topic, 'bad-image', 'event image is not a JPEG or has a bad id; dropped', {}, this.logger);
      return;
    }
    const n = ++this.imageArrivals;
    this.newestImage.set(`${p.id}/${p.image}`, n);
    // Bounded like pendingImages: ids of events that never get a row must not pile up.
    if (this.newestImage.size > 4000) this.newestImage.delete(this.newestImage.keys().next().value!);
    const camera = this.cameraOf.get(p.id);
    if (!camera) {
      // The event row is not known yet: keep the newest image of each kind until it is.
      const list = (this.pendingImages.get(p.id) ?? []).filter((x) => x.kind !== p.image);
      list.push({ kind: p.image, jpeg: payload, n });
      this.pendingImages.set(p.id, list);
      if (this.pendingImages.size > 200) this.pendingImages.delete(this.pendingImages.keys().next().value!);
      return;
    }
    await this.write(camera, p.id, p.image, payload, n);
  }

  /** Writes image number `n` (arrival order) unless a newer image of the same event and kind arrived meanwhile. */
  private async write(camera: string, id: string, kind: 'snapshot' | 'crop', jpeg: Buffer, n: number): Promise<void> {
    const file = this.imagePath(camera, id, kind);
    await mkdir(safeJoin(this.snapshotDir, camera), { recursive: true });
    // A held image flushed when the row lands may come after a newer one written directly.
    if (this.newestImage.get(`${id}/${kind}`) !== n) return;
    // Atomic replace, one writer per file (a burst of images for one event, or a pending
    // image flushed while a new one arrives, writes the same path): readers never see half a JPEG.
    // No fsync: a snapshot lost to a power cut is replaced by the next one.
    await writeFileAtomic(file, jpeg, { fsync: false });
    this.counts.images_stored++;
  }
}
