/**
 * The component contract (after Zigbee2MQTT `lib/extension/extension.ts`): a class whose
 * constructor only stores its context, with `start()`/`stop()`. Components speak only
 * MQTT through their own {@link Bus}, so the same class runs inside the hub or as its
 * own process (`components/main.ts`).
 */
import type { Logger } from 'pino';
import type { Bus } from './bus.ts';
import type { Topics } from './topics.ts';
import type { SecretBox } from './secret-box.ts';

/** What every component gets. */
export interface ComponentContext {
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** Opens sealed credentials in camera configs (the hub's `secret.key` / `VIGIL_SECRET_KEY`). */
  secrets?: SecretBox;
}

/** A unit the supervisor starts and stops. */
export interface Component {
  /** Short id, e.g. `camera`, `detector`. */
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Status for `/api/system`: free-form counters. */
  status(): Record<string, unknown>;
}
