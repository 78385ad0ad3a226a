/**
 * The hub's Home Assistant step. With `homeassistant.enabled` (the default): the stats
 * publisher (`vigil/hub/stats`), the detection-event relay (`vigil/camera/<cam>/<label>/event`)
 * and the discovery service. With it off, the discovery service only clears the hub's
 * retained configs.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { VigilConfig } from '../../components/protocol/config/schema.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { HubService } from '../service.ts';
import type { EventListener } from '../services/event-feed.ts';
import type { HaCamera } from './camera-entities.ts';
import { detectionEventRelay } from './event-relay.ts';
import { HaDiscoveryService } from './ha-service.ts';
import { HubStats, type ComponentView } from './hub-stats.ts';
import type { HaHead } from './head-entities.ts';
import type { HaKiosk } from './wall-entities.ts';

/** What the step takes from the hub, read when it starts. */
export interface HomeAssistantDeps {
  config: Pick<VigilConfig, 'homeassistant' | 'http'>;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  version: string;
  /** The HTTP port the hub listens on. */
  httpPort: number;
  cameras: () => Promise<HaCamera[]>;
  wall: {
    layouts(): Promise<Array<{ id: string }>>;
    kiosks(): Promise<HaKiosk[]>;
    onChange(fn: () => void): () => void;
  };
  /** Camera heads (their info) and a change callback. */
  heads?: { list(): Array<{ info: HaHead }>; onChange(fn: () => void): () => void };
  /** Registers a listener on the hub's `vigil/events` feed. */
  onEvent: (name: string, fn: EventListener) => void;
  components: () => Iterable<[string, ComponentView]>;
  eventsSince: (since: number) => Promise<number>;
}

/** `homeassistant.base_url`, else `http://<http.host or hostname>:<port>/`. */
export function hubBaseUrl(config: HomeAssistantDeps['config'], port: number): string {
  if (config.homeassistant.base_url) return config.homeassistant.base_url.replace(/\/?$/, '/');
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? hostname() : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** The hub's service step (optional: a failure is logged and the hub runs on). */
export function homeAssistantService(deps: () => HomeAssistantDeps): HubService {
  let stats: HubStats | undefined;
  let discovery: HaDiscoveryService | undefined;
  return {
    name: 'homeassistant',
    required: false,
    start: async () => {
      const d = deps();
      const { bus, topics, logger, config } = d;
      const enabled = config.homeassistant.enabled;
      if (enabled) {
        stats = new HubStats({ bus, topics, logger, components: d.components, eventsSince: d.eventsSince });
        await stats.start();
        d.onEvent('home assistant events', detectionEventRelay(bus, topics, logger));
      }
      discovery = new HaDiscoveryService({
        bus, topics, logger, enabled,
        ctx: { topics, version: d.version, baseUrl: hubBaseUrl(config, d.httpPort) },
        model: async () => ({ cameras: await d.cameras(), layouts: await d.wall.layouts(), kiosks: await d.wall.kiosks(), heads: d.heads?.list().map((h) => h.info) ?? [] }),
        onWallChange: (fn) => {
          const offWall = d.wall.onChange(fn);
          const offHeads = d.heads?.onChange(fn);
          return () => { offWall(); offHeads?.(); };
        },
        republishStats: async () => { await stats?.publish(); },
      });
      await discovery.start();
    },
    stop: async () => {
      await discovery?.stop();
      stats?.stop();
    },
    status: () => ({ ...(discovery?.stats ?? {}) }),
  };
}
