/**
 * The hub's Home Assistant step. With `homeassistant.enabled` (the default): the stats
 * publisher (`vigil/hub/stats`), the detection-event relay (`vigil/camera/<cam>/<label>/event`)
 * and the discovery service. With it off, the discovery service only clears the hub's
 * retained configs. The settings page changes `homeassistant.*` live through
 * {@link HomeAssistantStep.reconfigure}.
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

/** The Home Assistant step, with {@link HomeAssistantStep.reconfigure} for the settings page. */
export interface HomeAssistantStep extends HubService {
  /**
   * Applies changed `homeassistant.*` settings (already in `config`) live: the discovery
   * publisher restarts; turned off, or moved to another prefix, it first clears every config
   * it published (Home Assistant removes the entities) and the hub's topics take the new
   * prefix (the broker's ACL follows them); turned on, the stats and event relay start.
   */
  reconfigure(): Promise<void>;
}

/** The hub's service step (optional: a failure is logged and the hub runs on). */
export function homeAssistantService(deps: () => HomeAssistantDeps): HomeAssistantStep {
  let stats: HubStats | undefined;
  let statsRunning = false;
  let discovery: HaDiscoveryService | undefined;
  let relaying = false;
  let relayRegistered = false;

  /** Starts what `config.homeassistant` asks for (the stats and relay only when enabled). */
  const startParts = async (d: HomeAssistantDeps): Promise<void> => {
    const { bus, topics, logger, config } = d;
    const enabled = config.homeassistant.enabled;
    if (enabled && !statsRunning) {
      stats ??= new HubStats({ bus, topics, logger, components: d.components, eventsSince: d.eventsSince });
      await stats.start();
      statsRunning = true;
    } else if (!enabled && statsRunning) {
      stats?.stop();
      statsRunning = false;
    }
    if (enabled && !relayRegistered) {
      // Registered once (the feed has no removal); `relaying` switches it.
      const relay = detectionEventRelay(bus, topics, logger);
      d.onEvent('home assistant events', (e) => (relaying ? relay(e) : undefined));
      relayRegistered = true;
    }
    relaying = enabled;
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
  };

  return {
    name: 'homeassistant',
    required: false,
    start: () => startParts(deps()),
    reconfigure: async () => {
      const d = deps();
      const ha = d.config.homeassistant;
      const moved = d.topics.discoveryPrefix !== ha.discovery_prefix;
      if (moved || !ha.enabled) await discovery?.retire();
      else await discovery?.stop();
      if (moved) d.topics.setDiscoveryPrefix(ha.discovery_prefix);
      await startParts(d);
      d.logger.info({ enabled: ha.enabled, discovery_prefix: ha.discovery_prefix }, 'Home Assistant discovery reconfigured');
    },
    stop: async () => {
      await discovery?.stop();
      stats?.stop();
      statsRunning = false;
    },
    status: () => ({ ...(discovery?.stats ?? {}) }),
  };
}
