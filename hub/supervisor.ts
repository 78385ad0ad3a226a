/**
 * Starts and stops the in-process components, each in its own try/catch so one
 * failing component never takes the hub down (Zigbee2MQTT `lib/controller.ts`).
 */
import type { Logger } from 'pino';
import type { Component } from '../components/protocol/component.ts';

export interface SupervisedComponent {
  component: Component;
  /** Closes what the component owns besides itself (its bus client). */
  close: () => Promise<void>;
  status: 'running' | 'failed' | 'stopped';
  error?: string;
}

export class Supervisor {
  readonly entries: SupervisedComponent[] = [];

  constructor(private readonly logger: Logger) {}

  /** Starts `component`; a failure is logged and recorded, never thrown. */
  async start(component: Component, close: () => Promise<void>): Promise<void> {
    const entry: SupervisedComponent = { component, close, status: 'stopped' };
    this.entries.push(entry);
    try {
      await component.start();
      entry.status = 'running';
      this.logger.info({ component: component.id }, 'component started');
    } catch (err) {
      entry.status = 'failed';
      entry.error = (err as Error).message;
      this.logger.error({ component: component.id, err: entry.error }, 'component failed to start');
    }
  }

  /** Stops every component in reverse order, each in its own try/catch. */
  async stopAll(): Promise<void> {
    for (const e of [...this.entries].reverse()) {
      try {
        if (e.status === 'running') await e.component.stop();
      } catch (err) {
        this.logger.error({ component: e.component.id, err: (err as Error).message }, 'component failed to stop');
      }
      await e.close().catch(() => undefined);
      e.status = 'stopped';
    }
  }

  /** Status of each component for `/api/system`. */
  status(): Record<string, unknown> {
    return Object.fromEntries(this.entries.map((e) => [e.component.id, { status: e.status, ...(e.error ? { error: e.error } : {}), ...(e.status === 'running' ? e.component.status() : {}) }]));
  }
}
