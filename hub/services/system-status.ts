/**
 * What `/api/system` and the page at `/` show about the running system, gathered from
 * the bus (retained camera availability/state/snapshots, component states) so that
 * components in other processes show up too.
 */
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';

export interface CameraLive {
  availability: 'online' | 'offline' | 'unknown';
  state: Record<string, unknown> | null;
  motion: 'ON' | 'OFF' | null;
  /** Latest `…/snapshot` JPEG and when it arrived (Unix ms). */
  snapshot?: { jpeg: Buffer; at: number };
}

export class SystemStatus {
  readonly cameras = new Map<string, CameraLive>();
  readonly components = new Map<string, { availability: string; state: Record<string, unknown> | null }>();

  constructor(private readonly bus: Bus, private readonly topics: Topics) {}

  async start(): Promise<void> {
    const t = this.topics;
    const cam = (name: string): CameraLive => {
      let c = this.cameras.get(name);
      if (!c) { c = { availability: 'unknown', state: null, motion: null }; this.cameras.set(name, c); }
      return c;
    };
    const json = (b: Buffer): Record<string, unknown> | null => { try { return JSON.parse(b.toString()) as Record<string, unknown>; } catch { return null; } };
    const onCamera = (topic: string, payload: Buffer): void => {
      const p = t.parse(topic);
      if (!p || !('camera' in p)) return;
      if (p.kind === 'camera.config' && payload.length === 0) { this.cameras.delete(p.camera); return; }
      if (p.kind === 'camera.availability') cam(p.camera).availability = payload.toString() === 'online' ? 'online' : 'offline';
      else if (p.kind === 'camera.state') cam(p.camera).state = json(payload);
      else if (p.kind === 'camera.motion') cam(p.camera).motion = payload.toString() === 'ON' ? 'ON' : 'OFF';
      else if (p.kind === 'camera.snapshot' && payload.length > 2) cam(p.camera).snapshot = { jpeg: payload, at: Date.now() };
    };
    // Not `camera/+/+`: that would pull every detect frame through the hub.
    for (const kind of ['config', 'availability', 'state', 'motion', 'snapshot']) await this.bus.subscribe(t.sub.cameraLeaf(kind), onCamera, 0);
    const onComponent = (topic: string, payload: Buffer): void => {
      const p = t.parse(topic);
      if (p?.kind !== 'component.state' && p?.kind !== 'component.availability') return;
      const c = this.components.get(p.component) ?? { availability: 'unknown', state: null };
      if (p.kind === 'component.state') c.state = json(payload);
      else c.availability = payload.toString();
      this.components.set(p.component, c);
    };
    await this.bus.subscribe(t.sub.componentStates(), onComponent);
    await this.bus.subscribe(t.sub.componentAvailability(), onComponent);
  }
}
