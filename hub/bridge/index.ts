/**
 * Management over MQTT as one optional hub service: `vigil/bridge/request/<op>` answered
 * on `vigil/bridge/response/<op>`, with `vigil/bridge/info` and `vigil/bridge/state`
 * retained (see `bridge.ts`; the operations in `operations.ts`, their roles in `roles.ts`).
 * Reported as `components.bridge` in `/api/system` (requests and errors answered).
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { VigilConfig } from '../../components/protocol/config/schema.ts';
import type { ActivityLog } from '../auth/activity.ts';
import type { BridgeRequestHandler } from '../broker/policy.ts';
import type { CameraService } from '../services/camera-service.ts';
import { EventTriggers } from '../services/event-triggers.ts';
import type { ExportService } from '../services/exports.ts';
import type { WallService } from '../services/wall-service.ts';
import type { HubService } from '../service.ts';
import { BridgeApi } from './bridge.ts';
import { configSummary, readCommit } from './info.ts';
import { Operations } from './operations.ts';

/** What the bridge takes from the hub (read when the service starts). */
export interface BridgeDeps {
  config: VigilConfig;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  version: string;
  /** The embedded broker's policy; absent with an external broker (`mqtt.url`). */
  policy?: { onBridgeRequest?: BridgeRequestHandler };
  cameras: CameraService;
  wall: WallService;
  exports: ExportService;
  activity: ActivityLog;
  /** Start of the hub, Unix ms. */
  started: number;
  /** Why `GET /api/health` would answer 503, or null when healthy. */
  healthProblem: () => string | null;
  /** Bus components → their availability (`SystemStatus.components`). */
  components: () => ReadonlyMap<string, { availability: string }>;
  /** Optional hub services → their state (`ServiceGraph.optionalStatus`). */
  services: () => Record<string, { status?: unknown }>;
}

/** The bridge as an optional {@link HubService} named `bridge`. */
export function bridgeService(deps: () => BridgeDeps): HubService {
  let api: BridgeApi | undefined;
  return {
    name: 'bridge',
    required: false,
    start: async () => {
      const d = deps();
      const broker = d.config.mqtt.url ? 'external' : 'embedded';
      const commit = readCommit();
      const operations = new Operations({
        cameras: d.cameras, wall: d.wall, exports: d.exports, activity: d.activity, config: d.config,
        triggers: new EventTriggers(d.bus, d.topics, (c) => d.cameras.config(c) !== undefined),
        health: () => {
          const problem = d.healthProblem();
          return {
            status: problem ? 'not_ready' : 'ok', ...(problem ? { message: problem } : {}),
            version: d.version, uptime_s: (Date.now() - d.started) / 1000, broker,
            components: Object.fromEntries([...d.components()].map(([id, c]) => [id, c.availability])),
            services: Object.fromEntries(Object.entries(d.services()).map(([id, s]) => [id, String(s.status)])),
          };
        },
      });
      api = new BridgeApi({
        bus: d.bus, topics: d.topics, logger: d.logger, operations, policy: d.policy,
        info: async () => ({
          version: d.version, ...(commit ? { commit } : {}), prefix: d.topics.prefix, broker,
          cameras: (await d.cameras.list()).map((c) => c.name).sort(), config: configSummary(d.config),
        }),
      });
      await api.start();
    },
    stop: async () => { await api?.stop(); },
    status: () => ({ ...(api?.stats ?? {}) }),
  };
}
