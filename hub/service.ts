/**
 * The hub's start-up as an ordered list of services, the way Zigbee2MQTT's controller
 * starts its extensions (`lib/controller.ts`): each service starts in list order and stops
 * in reverse. A `required` service that fails to start stops every started one and the
 * error is thrown; an optional one (rules, in-process components) is logged, reported as
 * `failed` in `/api/system`, and the hub runs on without it.
 */
import type { Logger } from 'pino';

/** One step of the hub's start-up. */
export interface HubService {
  /** Short name, used in logs and as the key in `/api/system` `components` for optional services. */
  readonly name: string;
  /** A failure to start aborts the hub (default true). */
  readonly required?: boolean;
  start(): Promise<void>;
  /** Releases what `start` took; called in reverse order, only for started services. */
  stop?(): Promise<void>;
  /** Counters for `/api/system` while running. */
  status?(): Record<string, unknown>;
}

/** State of one service in the graph. */
export type ServiceState = 'pending' | 'running' | 'failed' | 'stopped';

interface Entry {
  service: HubService;
  state: ServiceState;
  error?: string;
}

/** Runs {@link HubService}s in order. One graph per hub; not reusable after `stop`. */
export class ServiceGraph {
  private readonly entries: Entry[];

  /** @param services in start order. */
  constructor(services: HubService[], private readonly logger: Logger) {
    this.entries = services.map((service) => ({ service, state: 'pending' }));
  }

  /**
   * Starts every service in order.
   * @throws the first error of a required service, after stopping the started ones in reverse.
   */
  async start(): Promise<void> {
    for (const e of this.entries) {
      const { service } = e;
      try {
        await service.start();
        e.state = 'running';
        this.logger.debug({ service: service.name }, 'service started');
      } catch (err) {
        e.state = 'failed';
        e.error = (err as Error).message;
        if (service.required !== false) {
          this.logger.error({ service: service.name, err: e.error }, 'required service failed to start; stopping the hub');
          await this.stop();
          throw err;
        }
        this.logger.error({ service: service.name, err: e.error }, 'service failed to start; running without it');
      }
    }
  }

  /** Stops every running service in reverse order, each in its own try/catch. Safe to call twice. */
  async stop(): Promise<void> {
    for (const e of [...this.entries].reverse()) {
      if (e.state !== 'running') continue;
      e.state = 'stopped';
      try {
        await e.service.stop?.();
      } catch (err) {
        this.logger.error({ service: e.service.name, err: (err as Error).message }, 'service failed to stop');
      }
    }
  }

  /** `{name: {status, error?, ...counters}}` of the optional services (what `/api/system` lists as components). */
  optionalStatus(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.entries.filter((e) => e.service.required === false).map((e) => [e.service.name, {
      status: e.state,
      ...(e.error ? { error: e.error } : {}),
      ...(e.state === 'running' ? e.service.status?.() ?? {} : {}),
    }]));
  }
}

/** A service from two functions (for the small steps of the hub's list). */
export function step(name: string, start: () => unknown, stop?: () => unknown): HubService {
  return { name, start: async () => { await start(); }, stop: stop ? async () => { await stop(); } : undefined };
}
