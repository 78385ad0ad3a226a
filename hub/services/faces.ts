/**
 * Known faces, the hub's side (`/api/faces`): the enrolled images and the unknown faces the
 * detectors saw. The hub never runs the face models: it publishes each enrolled image on the
 * bus and the detectors answer (`components/protocol/faces.ts`).
 *
 * - **Library**: `<data>/faces/<name>/<id>.jpg` (re-encoded JPEG, EXIF orientation applied,
 *   at most {@link MAX_IMAGE_SIDE} px), each published retained on
 *   `vigil/faces/library/<name>/<id>` at start and when enrolled, cleared when removed. A
 *   detector with face recognition on describes it and publishes the outcome, retained, on
 *   `vigil/faces/descriptor/<name>/<id>`; the hub keeps the latest outcome for the bytes it
 *   published (by SHA-256) to answer the enrolment and the list.
 * - **Unknown faces**: crops published on `vigil/faces/unknown/<camera>/<id>` are kept under
 *   `<data>/faces/unknown/<camera>/<id>.jpg`, at most `unknownMaxCount` of them and none
 *   older than `unknownMaxAgeDays` (oldest dropped first); one can be enrolled under a name.
 *
 * Errors are the domain errors of `hub/errors.ts` (400 with the field, 404).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { z } from 'zod';
import type { Bus } from '../../components/protocol/bus.ts';
import { cameraName } from '../../components/protocol/camera-config.ts';
import { faceDescriptorMessage, faceImageId, faceName, unknownFaceId, type FaceDescriptorMessage } from '../../components/protocol/faces.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { InvalidInput, NotFound, parseWith } from '../errors.ts';

/** Enrolled images are re-encoded to fit this many px (longest side). */
export const MAX_IMAGE_SIDE = 1280;
/** Largest unknown face crop taken from the bus, bytes. */
const MAX_UNKNOWN_BYTES = 2 * 1024 * 1024;

/** What the hub needs. */
export interface FaceServiceDeps {
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** `<data>/faces`. */
  dir: string;
  /** How long an enrolment waits for a detector's outcome, ms; default 5000. */
  answerTimeoutMs?: number;
  /** Unknown faces kept at most; default 200. */
  unknownMaxCount?: number;
  /** Unknown faces older than this are dropped, days; default 14. */
  unknownMaxAgeDays?: number;
}

/** One enrolled image, as listed. */
export interface FaceImage {
  id: string;
  /** A detector found a face in it (true), found none or could not read it (false), or none answered yet (null). */
  ok: boolean | null;
  /** The detector's face score, 0–1, when `ok`. */
  face_score?: number;
  /** `no_face` / `invalid_image` / `failed` when not `ok`. */
  error?: string;
  /** The detector that answered. */
  detector?: string;
  /** Enrolled at, Unix s. */
  created: number;
  /** JPEG size, bytes. */
  bytes: number;
}

/** One unknown face crop, as listed. */
export interface UnknownFace {
  id: string;
  /** The camera that saw it. */
  camera: string;
  /** When it was seen, Unix s. */
  time: number;
  bytes: number;
}

/** Result of an enrolment: `described` once a detector found the face (201), `pending` when none answered in time (202). */
export interface EnrolOutcome {
  status: 'described' | 'pending';
  name: string;
  image: FaceImage;
}

interface Entry {
  created: number;
  bytes: number;
  sha256: string;
  outcome?: FaceDescriptorMessage;
}

const enrolUnknownBody = z.object({ name: faceName }).strict();

export class FaceService {
  private readonly library = new Map<string, Map<string, Entry>>();
  private readonly unknown = new Map<string, UnknownFace>();
  private readonly waiters = new Map<string, Array<(o: FaceDescriptorMessage | null) => void>>();
  private pruneTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly d: FaceServiceDeps) {}

  private get unknownDir(): string { return join(this.d.dir, 'unknown'); }

  /**
   * Reads the library and the unknown faces from disk, follows the bus, and publishes every
   * enrolled image (retained).
   * @throws when the directory cannot be created or the bus refuses a subscription
   */
  async start(): Promise<void> {
    const { bus, topics } = this.d;
    await mkdir(this.unknownDir, { recursive: true });
    await this.loadLibrary();
    await this.loadUnknown();
    await bus.subscribe(topics.sub.faceDescriptors(), (topic, payload, packet) => this.onDescriptor(topic, payload, packet.retain));
    await bus.subscribe(topics.sub.faceUnknowns(), (topic, payload) => this.onUnknown(topic, payload));
    await bus.subscribe(topics.sub.faceLibrary(), (topic, payload, packet) => this.onLibrary(topic, payload, packet.retain));
    for (const [name, images] of this.library) {
      for (const id of images.keys()) bus.publishState(topics.faceLibrary(name, id), await readFile(this.imagePath(name, id)));
    }
    await this.pruneUnknown();
    this.pruneTimer = setInterval(() => { void this.pruneUnknown(); }, 3600_000);
    this.pruneTimer.unref();
  }

  /** Stops following the bus; enrolments still waiting answer `pending`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    for (const list of this.waiters.values()) for (const w of list) w(null);
    this.waiters.clear();
  }

  /** Every person with their images, names sorted, images oldest first. */
  list(): Record<string, FaceImage[]> {
    const out: Record<string, FaceImage[]> = {};
    for (const name of [...this.library.keys()].sort()) {
      out[name] = [...this.library.get(name)!].map(([id, e]) => view(id, e)).sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
    }
    return out;
  }

  /**
   * The file of one enrolled image.
   * @throws InvalidInput (bad name or id, field named), NotFound
   */
  imageFile(name: string, id: string): string {
    this.entry(name, id);
    return this.imagePath(name, id);
  }

  /**
   * Enrols an image of `name`: stores it, publishes it and waits up to `answerTimeoutMs` for a
   * detector's outcome.
   * @param image JPEG, PNG or WebP bytes (re-encoded as JPEG, at most {@link MAX_IMAGE_SIDE} px)
   * @returns `described` (a face was found) or `pending` (no detector answered in time; the image is kept)
   * @throws InvalidInput — `name` (not a slug, or `unknown`); `image` with code `invalid_image`
   *   (not a decodable image) or `no_face` (the detector found no face; the image is not kept)
   */
  async enrol(name: unknown, image: Buffer): Promise<EnrolOutcome> {
    const n = parseWith(faceName, name, 'name');
    const jpeg = await normalize(image);
    const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const file = this.imagePath(n, id);
    await mkdir(join(this.d.dir, n), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, jpeg);
    await rename(tmp, file);
    const entry: Entry = { created: Date.now() / 1000, bytes: jpeg.length, sha256: sha256(jpeg) };
    if (!this.library.has(n)) this.library.set(n, new Map());
    this.library.get(n)!.set(id, entry);
    const answer = this.waitFor(`${n}/${id}`, this.d.answerTimeoutMs ?? 5000);
    this.d.bus.publishState(this.d.topics.faceLibrary(n, id), jpeg);
    this.d.logger.info({ name: n, id, bytes: jpeg.length }, 'face image enrolled; waiting for a detector');
    const o = await answer;
    if (!o) return { status: 'pending', name: n, image: view(id, entry) };
    if (o.ok) return { status: 'described', name: n, image: view(id, entry) };
    await this.removeImage(n, id);
    throw o.error === 'invalid_image'
      ? new InvalidInput(`the detector could not read the image: ${o.message ?? 'invalid image'}`, 'image', 'invalid_image')
      : new InvalidInput('no face found in the image', 'image', o.error ?? 'no_face');
  }

  /** @throws InvalidInput (bad name), NotFound */
  async deleteName(name: string): Promise<number> {
    const n = parseWith(faceName, name, 'name');
    const images = this.library.get(n);
    if (!images) throw new NotFound(`no face named ${n}`);
    const ids = [...images.keys()];
    for (const id of ids) await this.removeImage(n, id);
    await rm(join(this.d.dir, n), { recursive: true, force: true });
    return ids.length;
  }

  /** @throws InvalidInput (bad name or id), NotFound */
  async deleteImage(name: string, id: string): Promise<void> {
    this.entry(name, id);
    await this.removeImage(name, id);
  }

  /** Unknown faces of the cameras `canSee` allows, newest first. */
  listUnknown(canSee: (camera: string) => boolean): UnknownFace[] {
    return [...this.unknown.values()].filter((u) => canSee(u.camera)).sort((a, b) => b.time - a.time || b.id.localeCompare(a.id));
  }

  /**
   * One unknown face and its file (callers check the camera grant).
   * @throws InvalidInput (bad id), NotFound
   */
  unknownFace(id: string): UnknownFace & { file: string } {
    const i = parseWith(unknownFaceId, id, 'id');
    const u = this.unknown.get(i);
    if (!u) throw new NotFound(`no unknown face ${i}`);
    return { ...u, file: join(this.unknownDir, u.camera, `${u.id}.jpg`) };
  }

  /**
   * Enrols an unknown face under `body.name` (as {@link enrol}); the unknown face is removed
   * unless the detector found no face in it.
   * @throws InvalidInput (`name`, `image` no_face), NotFound
   */
  async enrolUnknown(id: string, body: unknown): Promise<EnrolOutcome> {
    const u = this.unknownFace(id);
    const { name } = parseWith(enrolUnknownBody, body);
    const outcome = await this.enrol(name, await readFile(u.file));
    await this.deleteUnknown(u.id).catch(() => undefined);
    return outcome;
  }

  /** @throws InvalidInput (bad id), NotFound */
  async deleteUnknown(id: string): Promise<void> {
    const u = this.unknownFace(id);
    this.unknown.delete(u.id);
    await rm(u.file, { force: true });
  }

  // ---- bus ----------------------------------------------------------------------------

  private onDescriptor(topic: string, payload: Buffer, retained: boolean): void {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'face.descriptor') return;
    const entry = this.library.get(p.name)?.get(p.id);
    if (!entry) {
      // A retained outcome for an image the hub no longer has (removed while the broker kept it): clear it.
      // Live ones are left alone: clearing them could make a detector that still has the image describe it again, and again.
      if (retained && payload.length > 0 && faceName.safeParse(p.name).success && faceImageId.safeParse(p.id).success) this.d.bus.publishState(topic, '');
      return;
    }
    if (payload.length === 0) {
      entry.outcome = undefined;
      return;
    }
    let json: unknown;
    try { json = JSON.parse(payload.toString()); } catch { return; }
    const m = faceDescriptorMessage.safeParse(json);
    if (!m.success || m.data.sha256 !== entry.sha256) return; // not for these bytes
    entry.outcome = m.data;
    const key = `${p.name}/${p.id}`;
    for (const w of this.waiters.get(key) ?? []) w(m.data);
    this.waiters.delete(key);
  }

  /** A retained library image the hub does not have (removed while the broker kept it): clear it. */
  private onLibrary(topic: string, payload: Buffer, retained: boolean): void {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'face.library' || !retained || payload.length === 0 || this.library.get(p.name)?.has(p.id)) return;
    if (!faceName.safeParse(p.name).success || !faceImageId.safeParse(p.id).success) return;
    this.d.logger.info({ name: p.name, id: p.id }, 'clearing a stale retained face image');
    this.d.bus.publishState(topic, '');
    this.d.bus.publishState(this.d.topics.faceDescriptor(p.name, p.id), '');
  }

  private async onUnknown(topic: string, payload: Buffer): Promise<void> {
    const p = this.d.topics.parse(topic);
    if (p?.kind !== 'face.unknown' || this.stopped) return;
    const bad = !cameraName.safeParse(p.camera).success ? 'camera' : !unknownFaceId.safeParse(p.id).success ? 'id'
      : payload.length === 0 || payload.length > MAX_UNKNOWN_BYTES ? 'size' : !(payload[0] === 0xff && payload[1] === 0xd8) ? 'not a JPEG' : null;
    if (bad) {
      this.d.bus.warnBadMessage(topic, 'bad-unknown-face', 'ignoring an unknown face message', { bytes: payload.length, bad }, this.d.logger);
      return;
    }
    if (this.unknown.has(p.id)) return;
    const dir = join(this.unknownDir, p.camera);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${p.id}.jpg`);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, payload);
    await rename(tmp, file);
    this.unknown.set(p.id, { id: p.id, camera: p.camera, time: Number(p.id.slice(0, 13)) / 1000, bytes: payload.length });
    this.d.logger.debug({ camera: p.camera, id: p.id }, 'unknown face kept');
    await this.pruneUnknown();
  }

  // ---- storage ------------------------------------------------------------------------

  private imagePath(name: string, id: string): string { return join(this.d.dir, name, `${id}.jpg`); }

  /** @throws InvalidInput (bad name or id), NotFound */
  private entry(name: string, id: string): Entry {
    const n = parseWith(faceName, name, 'name');
    const i = parseWith(faceImageId, id, 'id');
    const e = this.library.get(n)?.get(i);
    if (!e) throw new NotFound(`no face image ${n}/${i}`);
    return e;
  }

  private async removeImage(name: string, id: string): Promise<void> {
    const images = this.library.get(name);
    images?.delete(id);
    if (images && images.size === 0) this.library.delete(name);
    await rm(this.imagePath(name, id), { force: true });
    await rmdir(join(this.d.dir, name)).catch(() => undefined); // only when empty
    // The image first, then its outcome: a detector seeing the outcome cleared still knows the image is gone.
    this.d.bus.publishState(this.d.topics.faceLibrary(name, id), '');
    this.d.bus.publishState(this.d.topics.faceDescriptor(name, id), '');
    this.d.logger.info({ name, id }, 'face image removed');
  }

  private waitFor(key: string, ms: number): Promise<FaceDescriptorMessage | null> {
    return new Promise((resolve) => {
      const done = (o: FaceDescriptorMessage | null): void => {
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(key)?.filter((w) => w !== done) ?? [];
        if (list.length) this.waiters.set(key, list);
        else this.waiters.delete(key);
        resolve(null);
      }, ms);
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), done]);
    });
  }

  private async loadLibrary(): Promise<void> {
    for (const d of await readdir(this.d.dir, { withFileTypes: true })) {
      if (!d.isDirectory() || !faceName.safeParse(d.name).success) continue;
      const images = new Map<string, Entry>();
      for (const f of await readdir(join(this.d.dir, d.name))) {
        const id = f.endsWith('.jpg') ? f.slice(0, -4) : '';
        if (!faceImageId.safeParse(id).success) continue;
        const file = this.imagePath(d.name, id);
        const [bytes, st] = await Promise.all([readFile(file), stat(file)]);
        images.set(id, { created: st.mtimeMs / 1000, bytes: bytes.length, sha256: sha256(bytes) });
      }
      if (images.size) this.library.set(d.name, images);
    }
  }

  private async loadUnknown(): Promise<void> {
    for (const d of await readdir(this.unknownDir, { withFileTypes: true })) {
      if (!d.isDirectory() || !cameraName.safeParse(d.name).success) continue;
      for (const f of await readdir(join(this.unknownDir, d.name))) {
        const id = f.endsWith('.jpg') ? f.slice(0, -4) : '';
        if (!unknownFaceId.safeParse(id).success) continue;
        const st = await stat(join(this.unknownDir, d.name, f));
        this.unknown.set(id, { id, camera: d.name, time: Number(id.slice(0, 13)) / 1000, bytes: st.size });
      }
    }
  }

  /** Drops unknown faces older than `unknownMaxAgeDays`, then the oldest beyond `unknownMaxCount`. */
  private async pruneUnknown(): Promise<void> {
    const maxAge = (this.d.unknownMaxAgeDays ?? 14) * 86400;
    const max = this.d.unknownMaxCount ?? 200;
    const now = Date.now() / 1000;
    const all = [...this.unknown.values()].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    const drop = all.filter((u, i) => now - u.time > maxAge || i < all.length - max);
    for (const u of drop) {
      this.unknown.delete(u.id);
      const file = join(this.unknownDir, u.camera, `${u.id}.jpg`);
      if (existsSync(file)) await rm(file, { force: true });
    }
  }
}

function view(id: string, e: Entry): FaceImage {
  const o = e.outcome;
  return {
    id,
    ok: o ? o.ok : null,
    ...(o?.ok && o.face_score !== undefined ? { face_score: o.face_score } : {}),
    ...(o && !o.ok ? { error: o.error ?? 'failed' } : {}),
    ...(o ? { detector: o.detector } : {}),
    created: Math.round(e.created * 1000) / 1000,
    bytes: e.bytes,
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * The enrolled form of an image: EXIF orientation applied, at most {@link MAX_IMAGE_SIDE} px, JPEG quality 90.
 * @throws InvalidInput `image` / `invalid_image` when it is not a decodable image
 */
async function normalize(image: Buffer): Promise<Buffer> {
  if (!Buffer.isBuffer(image) || image.length === 0) throw new InvalidInput('send the image as the body (image/jpeg or image/png) or as the multipart field "file"', 'image', 'invalid_image');
  try {
    return await sharp(image, { limitInputPixels: 50_000_000 })
      .rotate()
      .resize(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#000' })
      .jpeg({ quality: 90 })
      .toBuffer();
  } catch (err) {
    throw new InvalidInput(`not a JPEG or PNG image: ${(err as Error).message}`, 'image', 'invalid_image');
  }
}
