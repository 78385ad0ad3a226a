/**
 * The hub's start-up graph: order, reverse stop, required vs optional failures, and the
 * status `/api/system` shows for optional services. A real hub's start and stop through
 * it are covered by every hub test.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../components/protocol/log.ts';
import { ServiceGraph, step, type HubService } from '../hub/service.ts';

function recorder() {
  const calls: string[] = [];
  const sink = new PassThrough();
  let logs = '';
  sink.on('data', (c: Buffer) => { logs += c.toString(); });
  const svc = (name: string, opts: { required?: boolean; failStart?: boolean; failStop?: boolean } = {}): HubService => ({
    name,
    required: opts.required,
    start: async () => {
      calls.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} broke`);
    },
    stop: async () => {
      calls.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} stuck`);
    },
    status: () => ({ counter: name.length }),
  });
  return { calls, svc, logger: createLogger({ level: 'debug', destination: sink }), logs: () => logs };
}

describe('ServiceGraph', () => {
  it('starts in order and stops in reverse, once', async () => {
    const r = recorder();
    const g = new ServiceGraph([r.svc('store'), r.svc('broker'), r.svc('http')], r.logger);
    await g.start();
    await g.stop();
    await g.stop();
    expect(r.calls).toEqual(['start store', 'start broker', 'start http', 'stop http', 'stop broker', 'stop store']);
  });

  it('a required failure stops what started, in reverse, and throws the cause', async () => {
    const r = recorder();
    const g = new ServiceGraph([r.svc('store'), r.svc('broker'), r.svc('http', { failStart: true }), r.svc('setup')], r.logger);
    await expect(g.start()).rejects.toThrow('http broke');
    expect(r.calls).toEqual(['start store', 'start broker', 'start http', 'stop broker', 'stop store']);
    expect(r.logs()).toContain('required service failed to start');
  });

  it('an optional failure is logged and reported; the rest starts', async () => {
    const r = recorder();
    const g = new ServiceGraph([r.svc('store'), r.svc('rules', { required: false, failStart: true }), r.svc('camera', { required: false })], r.logger);
    await g.start();
    expect(r.calls).toEqual(['start store', 'start rules', 'start camera']);
    expect(g.optionalStatus()).toEqual({
      rules: { status: 'failed', error: 'rules broke' },
      camera: { status: 'running', counter: 6 },
    });
    await g.stop();
    // The failed service is not stopped; a failing stop does not keep the others running.
    expect(r.calls.slice(3)).toEqual(['stop camera', 'stop store']);
    expect(g.optionalStatus().camera!.status).toBe('stopped');
  });

  it('a failing stop is logged and the others still stop', async () => {
    const r = recorder();
    const g = new ServiceGraph([r.svc('store'), r.svc('bus', { failStop: true }), r.svc('http')], r.logger);
    await g.start();
    await g.stop();
    expect(r.calls.slice(3)).toEqual(['stop http', 'stop bus', 'stop store']);
    expect(r.logs()).toContain('bus stuck');
  });

  it('step() wraps two functions', async () => {
    const seen: string[] = [];
    const s = step('x', () => { seen.push('up'); return 42; }, () => { seen.push('down'); });
    await s.start();
    await s.stop!();
    expect(seen).toEqual(['up', 'down']);
    expect(s.required).toBeUndefined();
  });
});
