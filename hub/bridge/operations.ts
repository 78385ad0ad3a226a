/**
 * The management operations of `vigil/bridge/request/<op>`: each one checks the caller's
 * role ({@link BRIDGE_OP_ROLES}) and camera grants as its REST twin does, calls the same
 * service, records the same activity entry, and returns the answer's `data`. They throw
 * domain errors (`hub/errors.ts`); `bridge.ts` turns them into error responses.
 *
 * | op | body | REST twin | data |
 * |---|---|---|---|
 * | `camera/add` | a camera config | `POST /api/cameras` | the camera (no credentials) |
 * | `camera/update` | `{name, …changes}` (deep merge) | `PATCH /api/cameras/:name` | the camera |
 * | `camera/remove` | `{name}` | `DELETE /api/cameras/:name` | `{name}` |
 * | `layout/activate` | `{display, layout}` (id or whole layout) | `POST /api/displays/:id/activate` | `{display, layout, seq}` |
 * | `event/trigger` | `{camera, topic, …}` | `POST /api/events/trigger` | the normalized event |
 * | `export` | `{camera, start, end}` or `{event}` | `POST /api/exports` | the export row (`queued`) |
 * | `config/get` | — | — | the running config, secrets redacted |
 * | `health` | — | `GET /api/health` | `{status, message?, version, uptime_s, broker, components, services}` |
 */
import { z } from 'zod';
import { cameraName } from '../../components/protocol/camera-config.ts';
import type { VigilConfig } from '../../components/protocol/config/schema.ts';
import { redact, type ActivityLog } from '../auth/activity.ts';
import { canSeeCamera, hasRole, type Principal } from '../auth/principal.ts';
import { Forbidden, NotFound, parseWith } from '../errors.ts';
import type { CameraService } from '../services/camera-service.ts';
import type { EventTriggers } from '../services/event-triggers.ts';
import type { ExportService } from '../services/exports.ts';
import type { WallService } from '../services/wall-service.ts';
import { bridgeOpRole } from './roles.ts';

/** What the operations use of the hub. */
export interface OperationDeps {
  cameras: CameraService;
  wall: WallService;
  triggers: EventTriggers;
  exports: ExportService;
  activity: ActivityLog;
  /** The running configuration. */
  config: VigilConfig;
  /** The body of a `health` answer. */
  health: () => HealthData;
}

/** One request as an operation sees it. */
export interface OperationRequest {
  /** Who asks (devices already mapped by `actingPrincipal`). */
  principal: Principal;
  /** The client's address, for the activity log; null when unknown (an external broker). */
  ip: string | null;
  /** The request's JSON object without its `transaction`. */
  body: Record<string, unknown>;
}

/** `data` of a `health` answer: `/api/health` plus the state of every component and optional service. */
export interface HealthData {
  /** `ok`, or `not_ready` when `GET /api/health` would answer 503 (then `message` says why). */
  status: 'ok' | 'not_ready';
  message?: string;
  version: string;
  uptime_s: number;
  broker: 'embedded' | 'external';
  /** Bus components (in the hub or elsewhere) → their availability (`online`, `offline`). */
  components: Record<string, string>;
  /** Optional hub services (onvif, rules, camera, detector, homeassistant, bridge …) → `running`, `failed`, `stopped`, `pending`. */
  services: Record<string, string>;
}

type Operation = (req: OperationRequest) => Promise<unknown>;

const named = z.object({ name: cameraName }).loose();
const layoutRequest = z.object({ display: z.string().min(1), layout: z.unknown() }).strict();

/** @throws NotFound when `p` may not see `camera` (not Forbidden: the name is not confirmed, as over REST). */
function assertCamera(p: Principal, camera: string): void {
  if (!canSeeCamera(p, camera)) throw new NotFound(`no camera ${camera}`);
}

/** The operation table; see the module doc. */
export class Operations {
  private readonly table: Record<string, Operation>;

  constructor(private readonly d: OperationDeps) {
    this.table = {
      'camera/add': (r) => this.cameraAdd(r),
      'camera/update': (r) => this.cameraUpdate(r),
      'camera/remove': (r) => this.cameraRemove(r),
      'layout/activate': (r) => this.layoutActivate(r),
      'event/trigger': (r) => this.eventTrigger(r),
      export: (r) => this.exportRecording(r),
      'config/get': async () => redact(this.d.config),
      health: async () => this.d.health(),
    };
  }

  /** Names of every operation, sorted. */
  get names(): string[] { return Object.keys(this.table).sort(); }

  /**
   * Runs `op` for `req`.
   * @returns the answer's `data`
   * @throws NotFound `unknown_operation`; Forbidden below the op's role; the service's domain errors
   */
  async run(op: string, req: OperationRequest): Promise<unknown> {
    const fn = Object.hasOwn(this.table, op) ? this.table[op] : undefined;
    if (!fn) throw new NotFound(`unknown operation ${JSON.stringify(op)}; one of ${this.names.join(', ')}`, 'unknown_operation');
    const role = bridgeOpRole(op);
    if (!hasRole(req.principal, role)) throw new Forbidden(`needs the ${role} role`);
    return fn(req);
  }

  private log(r: OperationRequest, action: string, target: string, details?: Record<string, unknown>): Promise<void> {
    return this.d.activity.record({ actor: r.principal.name, ip: r.ip, action, target, details: { ...details, via: 'mqtt' } });
  }

  private async cameraAdd(r: OperationRequest): Promise<unknown> {
    const cam = await this.d.cameras.create(r.body);
    await this.log(r, 'camera.create', `camera:${cam.name}`, r.body);
    return cam;
  }

  private async cameraUpdate(r: OperationRequest): Promise<unknown> {
    const { name, ...changes } = parseWith(named, r.body);
    const cam = await this.d.cameras.update(name, changes, true);
    await this.log(r, 'camera.update', `camera:${name}`, changes);
    return cam;
  }

  private async cameraRemove(r: OperationRequest): Promise<unknown> {
    const { name } = parseWith(named.strict(), r.body);
    await this.d.cameras.delete(name);
    await this.log(r, 'camera.delete', `camera:${name}`);
    return { name };
  }

  private async layoutActivate(r: OperationRequest): Promise<unknown> {
    const { display, layout } = parseWith(layoutRequest, r.body);
    const b = await this.d.wall.activateFor(display, { layout }, r.principal);
    await this.log(r, 'display.activate', `display:${b.display}`, { layout: b.layout, seq: b.seq });
    return { display: b.display, layout: b.layout, seq: b.seq };
  }

  private async eventTrigger(r: OperationRequest): Promise<unknown> {
    if (typeof r.body.camera === 'string') assertCamera(r.principal, r.body.camera);
    const event = await this.d.triggers.fire(r.body);
    await this.log(r, 'event.trigger', `camera:${event.camera}`, { topic: event.topic });
    return event;
  }

  private async exportRecording(r: OperationRequest): Promise<unknown> {
    const row = await this.d.exports.request(r.body, r.principal);
    await this.log(r, 'export.create', `export:${row.id}`, { camera: row.camera, start: row.start_time, end: row.end_time, event: row.event_id });
    return row;
  }
}
