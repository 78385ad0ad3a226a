/**
 * The camera registry of the hub: CRUD over the store, and the bus side of it —
 * each camera's config is published retained on `vigil/camera/<cam>/config` (empty
 * payload when removed), which is how camera and detector components, in-process or
 * elsewhere, learn to start, restart or stop a camera; `…/<feature>/set` commands
 * change a camera and answer on `…/<feature>/state` (or with an error response).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { cameraConfig, type CameraConfig, type CameraConfigInput } from '../../components/protocol/camera-config.ts';
import type { Bus } from '../../components/protocol/bus.ts';
import { CAMERA_FEATURES, type CameraFeature, type Topics } from '../../components/protocol/topics.ts';
import type { CamerasRepo } from '../store/cameras-repo.ts';
import { Conflict, InvalidInput, NotFound, invalidFromZod } from '../errors.ts';
import type { SecretBox } from '../../components/protocol/secret-box.ts';
import { existsSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A camera as the API shows it: credentials are never echoed back. */
export type PublicCamera = Omit<CameraConfig, 'username' | 'password'> & { has_credentials: boolean };

/** Feature → how a `…/set` payload is parsed and applied. */
const FEATURE_SETTERS: Record<CameraFeature, { parse: z.ZodType<unknown>; apply: (c: CameraConfig, v: never) => void; read: (c: CameraConfig) => string }> = {
  detect: { parse: onOff(), apply: (c, v: boolean) => { c.detect.enabled = v; }, read: (c) => (c.detect.enabled ? 'ON' : 'OFF') },
  record: { parse: onOff(), apply: (c, v: boolean) => { c.record.enabled = v; }, read: (c) => (c.record.enabled ? 'ON' : 'OFF') },
  motion: { parse: onOff(), apply: (c, v: boolean) => { c.motion.enabled = v; }, read: (c) => (c.motion.enabled ? 'ON' : 'OFF') },
  snapshots: { parse: onOff(), apply: (c, v: boolean) => { c.snapshots.enabled = v; }, read: (c) => (c.snapshots.enabled ? 'ON' : 'OFF') },
  motion_threshold: { parse: z.coerce.number().int().min(1).max(255), apply: (c, v: number) => { c.motion.threshold = v; }, read: (c) => String(c.motion.threshold) },
  motion_min_area: { parse: z.coerce.number().min(0).max(1), apply: (c, v: number) => { c.motion.min_area = v; }, read: (c) => String(c.motion.min_area) },
};

function onOff(): z.ZodType<boolean> {
  return z.string().trim().toUpperCase().pipe(z.enum(['ON', 'OFF'], { message: 'must be ON or OFF' })).transform((v) => v === 'ON');
}

export class CameraService {
  private readonly known = new Set<string>();
  /** Current config of each stored camera (credentials opened), for services that need it synchronously. */
  private readonly current = new Map<string, CameraConfig>();
  /** The config body last published per camera (its sealed password differs every time). */
  private readonly published = new Map<string, string>();

  /**
   * @param box seals camera passwords in the retained config on the bus (components open them with the same key)
   * @param fileRoots directories `file://` camera URLs may point into (resolved, symlinks followed)
   */
  constructor(private readonly repo: CamerasRepo, private readonly bus: Bus, private readonly topics: Topics, private readonly logger: Logger, private readonly box: SecretBox, private readonly fileRoots: string[]) {}

  /**
   * Publishes every stored camera, clears retained configs of cameras no longer stored,
   * puts back the stored config when another client published a different one for a
   * stored camera (components run from the bus: a forged or broken config must not stay
   * there), and takes `…/set` commands.
   */
  async start(): Promise<void> {
    const cams = await this.repo.list();
    for (const c of cams) this.publish(c);
    await this.bus.subscribe(this.topics.sub.cameraConfigs(), (topic, payload, { retain }) => {
      const p = this.topics.parse(topic);
      if (p?.kind !== 'camera.config') return;
      if (!this.known.has(p.camera)) {
        if (retain && payload.length) {
          this.logger.info({ camera: p.camera }, 'clearing retained config of a camera that is no longer stored');
          this.bus.publishState(topic, '');
        }
        return;
      }
      const mine = this.published.get(p.camera);
      if (mine === undefined || payload.toString() === mine) return;
      // A retained one is usually this hub's own from before a restart (a fresh seal differs): put back quietly.
      if (!retain) this.bus.warnBadMessage(topic, 'foreign-config', 'another client published a different config of a stored camera: publishing the stored one again', { camera: p.camera }, this.logger);
      this.bus.publishState(topic, mine);
    });
    await this.bus.subscribe(this.topics.sub.cameraSets(), (topic, payload) => this.onSet(topic, payload));
  }

  /** Every camera (credentials removed). */
  async list(): Promise<PublicCamera[]> { return (await this.repo.list()).map(toPublic); }

  /** One camera (credentials removed). @throws NotFound */
  async get(name: string): Promise<PublicCamera> { return toPublic(await this.require(name)); }

  /**
   * Checks one stream URL exactly as a camera's path slot is checked (rtsp://, rtsps:// or
   * file://, no spaces, a valid URL, `file://` inside the allowed roots) and moves inline
   * `user:pass@` out of it (given `username`/`password` win), for a connection test.
   * @returns the URL without credentials, and the credentials
   * @throws InvalidInput on field `url` (or `username`/`password` when those are wrong)
   */
  checkSource(url: unknown, username?: string, password?: string): { url: string; username?: string; password?: string } {
    try {
      const cam = this.check(parseCamera({ name: 'probe', paths: { detect: url }, username, password }));
      return { url: cam.paths.detect!, username: cam.username, password: cam.password };
    } catch (err) {
      if (!(err instanceof InvalidInput) || (err.field && err.field !== 'paths.detect')) throw err;
      throw new InvalidInput(err.message.replaceAll('paths.detect', 'url'), 'url');
    }
  }


  /**
   * Creates a camera from a REST body. Inline `user:pass@` in URLs moves to username/password.
   * @throws InvalidInput (field named) or Conflict (name taken)
   */
  async create(body: unknown): Promise<PublicCamera> {
    const cam = this.check(parseCamera(body));
    if (await this.repo.get(cam.name)) throw new Conflict(`camera ${cam.name} exists`, 'name');
    await this.repo.save(cam);
    this.publish(cam);
    this.logger.info({ camera: cam.name }, 'camera created');
    return toPublic(cam);
  }

  /**
   * Replaces (`merge` false) or patches (`merge` true, deep merge of objects) a camera.
   * Credentials not given are kept. @throws InvalidInput, NotFound
   */
  async update(name: string, body: unknown, merge: boolean): Promise<PublicCamera> {
    const current = await this.require(name);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidInput('body must be a JSON object');
    const b = body as Record<string, unknown>;
    if (b.name !== undefined && b.name !== name) throw new InvalidInput('name cannot change', 'name');
    const base: Record<string, unknown> = merge ? structuredClone(current) : { username: current.username, password: current.password };
    const cam = this.check(parseCamera(deepMerge(base, { ...b, name })));
    await this.repo.save(cam);
    this.publish(cam);
    this.logger.info({ camera: name }, 'camera updated');
    return toPublic(cam);
  }

  /** Deletes a camera; components stop it. @throws NotFound */
  async delete(name: string): Promise<void> {
    if (!(await this.repo.delete(name))) throw new NotFound(`no camera ${name}`);
    this.known.delete(name);
    this.current.delete(name);
    this.published.delete(name);
    this.bus.publishState(this.topics.cameraConfig(name), '');
    for (const f of CAMERA_FEATURES) this.bus.publishState(this.topics.cameraFeatureState(name, f), '');
    this.logger.info({ camera: name }, 'camera deleted');
  }

  private async require(name: string): Promise<CameraConfig> {
    const c = await this.repo.get(name);
    if (!c) throw new NotFound(`no camera ${name}`);
    return c;
  }

  /** `file://` paths must resolve inside an allowed root. @throws InvalidInput naming the slot. */
  private check(cam: CameraConfig): CameraConfig {
    for (const [slot, url] of Object.entries(cam.paths)) {
      if (typeof url !== 'string' || !/^file:/i.test(url)) continue;
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch (err) {
        // A host other than localhost, an encoded `/`: Node says why.
        throw new InvalidInput(`paths.${slot}: ${(err as Error).message}`, `paths.${slot}`);
      }
      if (!insideRoots(path, this.fileRoots)) {
        throw new InvalidInput(`paths.${slot}: file:// URLs must point into ${this.fileRoots.join(', ') || '(no allowed directory)'}`, `paths.${slot}`);
      }
    }
    return cam;
  }

  /** The stored config of `name`, or undefined. */
  config(name: string): CameraConfig | undefined { return this.current.get(name); }

  private publish(cam: CameraConfig): void {
    this.known.add(cam.name);
    this.current.set(cam.name, cam);
    const onBus = JSON.stringify(cam.password ? { ...cam, password: this.box.seal(cam.password) } : cam);
    this.published.set(cam.name, onBus);
    this.bus.publishState(this.topics.cameraConfig(cam.name), onBus);
    for (const f of CAMERA_FEATURES) this.bus.publishState(this.topics.cameraFeatureState(cam.name, f), FEATURE_SETTERS[f].read(cam));
  }

  /**
   * Sets one feature of a camera from its text form (`ON`/`OFF` or a number), stores it
   * and publishes the new state. @throws Error naming the problem (unknown camera or feature, bad value).
   */
  async setFeature(camera: string, featureName: string, text: string): Promise<string> {
    const feature = CAMERA_FEATURES.find((f) => f === featureName);
    if (!feature) throw new Error(`unknown feature ${featureName}; one of ${CAMERA_FEATURES.join(', ')}`);
    const cam = await this.repo.get(camera);
    if (!cam) throw new Error(`no camera ${camera}`);
    const setter = FEATURE_SETTERS[feature];
    const r = setter.parse.safeParse(text);
    if (!r.success) throw new Error(`${feature}: ${r.error.issues[0]?.message ?? 'invalid value'} (got ${JSON.stringify(text.slice(0, 64))})`);
    setter.apply(cam, r.data as never);
    await this.repo.save(cam);
    this.publish(cam);
    this.logger.info({ camera, feature, value: setter.read(cam) }, 'camera feature set');
    return setter.read(cam);
  }

  /** Handles `vigil/camera/<cam>/<feature>/set`; every failure is answered on `vigil/bridge/response/set`. */
  private async onSet(topic: string, payload: Buffer): Promise<void> {
    const p = this.topics.parse(topic);
    if (p?.kind !== 'camera.set') return;
    const text = payload.toString('utf8');
    try {
      await this.setFeature(p.camera, p.feature, text);
    } catch (err) {
      const message = (err as Error).message;
      this.bus.warnBadMessage(topic, 'set-refused', 'set command refused', { err: message }, this.logger);
      this.bus.send(this.topics.bridgeResponse('set'), { status: 'error', error: message, data: { topic, payload: text.slice(0, 256) } }, { qos: 1 });
    }
  }
}

/** Validates a REST body into a camera config; credentials inline in URLs move to username/password. */
export function parseCamera(body: unknown): CameraConfig {
  const input = structuredClone(body) as CameraConfigInput;
  if (input && typeof input === 'object' && input.paths && typeof input.paths === 'object') {
    for (const [slot, url] of Object.entries(input.paths)) {
      if (typeof url !== 'string') continue;
      try {
        const u = new URL(url);
        if (u.username) {
          input.username ??= decodeURIComponent(u.username);
          input.password ??= decodeURIComponent(u.password);
          u.username = ''; u.password = '';
          (input.paths as Record<string, string>)[slot] = u.toString();
        }
      } catch {
        // left to the schema to report
      }
    }
  }
  const r = cameraConfig.safeParse(input);
  if (!r.success) throw invalidFromZod(r.error);
  return r.data;
}

function toPublic(c: CameraConfig): PublicCamera {
  const { username, password, ...rest } = c;
  return { ...rest, has_credentials: Boolean(username || password) };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** True when `path` (symlinks resolved) lies inside one of `roots`. */
export function insideRoots(path: string, roots: string[]): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  const target = real(path);
  return roots.some((r) => {
    const root = real(r);
    return target === root || target.startsWith(root.endsWith(sep) ? root : root + sep);
  });
}
