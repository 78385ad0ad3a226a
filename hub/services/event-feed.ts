/**
 * The hub's one reader of `vigil/events`: each message is parsed once with the protocol's
 * schema ({@link parseEventMessage}) and handed to every listener in registration order
 * (the event store, the recordings index, event clips). A message that fails validation is
 * logged once, counted, and reaches no listener; a listener that throws is logged and the
 * others still run.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { parseEventMessage, type TrackedObjectState } from '../../components/protocol/tracked-object.ts';

/** A validated `vigil/events` message (defaults applied to `after`). */
export interface EventStep {
  type: 'new' | 'update' | 'end';
  after: TrackedObjectState;
}

/** Called for each valid message; may be async (rejections are logged). */
export type EventListener = (step: EventStep) => void | Promise<void>;

export class EventFeed {
  private readonly listeners: Array<{ name: string; fn: EventListener }> = [];
  /** Counters for `/api/system`. */
  readonly stats = { received: 0, rejected: 0 };

  constructor(private readonly bus: Bus, private readonly topics: Topics, private readonly logger: Logger) {}

  /** Adds a listener; `name` appears in the log when it fails. */
  on(name: string, fn: EventListener): void {
    this.listeners.push({ name, fn });
  }

  /** Subscribes to `vigil/events`. */
  async start(): Promise<void> {
    await this.bus.subscribe(this.topics.events(), (_t, payload) => this.dispatch(payload));
  }

  /** Parses one payload and runs the listeners (exposed for tests). */
  dispatch(payload: Buffer | string): void {
    const r = parseEventMessage(payload);
    if (!r.ok) {
      this.stats.rejected++;
      this.bus.warnBadMessage(this.topics.events(), 'invalid-event', 'invalid message on the events topic; dropped', { err: r.error }, this.logger);
      return;
    }
    this.stats.received++;
    const step: EventStep = { type: r.message.type, after: r.message.after };
    for (const l of this.listeners) {
      try {
        const p = l.fn(step);
        if (p) p.catch((err: Error) => this.logger.error({ listener: l.name, id: step.after.id, err: err.message }, 'event listener failed'));
      } catch (err) {
        this.logger.error({ listener: l.name, id: step.after.id, err: (err as Error).message }, 'event listener failed');
      }
    }
  }
}
