/**
 * When a camera component's last will fires (`vigil/component/<id>/availability` =
 * `offline`), the cameras it ran — listed in its retained `…/state` (`role: 'camera'`) — are marked
 * `offline` on `vigil/camera/<cam>/availability`, since a dead process cannot say so
 * itself. The detector then ends their open events.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';

export class ComponentWatch {
  private readonly camerasOf = new Map<string, string[]>();

  constructor(private readonly bus: Bus, private readonly topics: Topics, private readonly logger: Logger) {}

  async start(): Promise<void> {
    const t = this.topics;
    await this.bus.subscribe(t.sub.componentStates(), (topic, payload) => {
      const p = t.parse(topic);
      if (p?.kind !== 'component.state') return;
      try {
        const state = JSON.parse(payload.toString()) as { role?: unknown; cameras?: unknown };
        if (state.role === 'camera' && Array.isArray(state.cameras)) this.camerasOf.set(p.component, state.cameras.filter((c): c is string => typeof c === 'string'));
      } catch {
        // not a camera component's state
      }
    });
    await this.bus.subscribe(t.sub.componentAvailability(), (topic, payload) => {
      const p = t.parse(topic);
      if (p?.kind !== 'component.availability' || payload.toString() !== 'offline') return;
      const cams = this.camerasOf.get(p.component) ?? [];
      if (cams.length) this.logger.info({ component: p.component, cameras: cams }, 'camera component went away; marking its cameras offline');
      for (const cam of cams) this.bus.send(t.cameraAvailability(cam), 'offline', { retain: true, qos: 1 });
    });
  }
}
