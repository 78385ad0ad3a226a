/**
 * The System and Settings pages' routes: `GET /api/system/metrics` (viewer+: the last hour
 * of CPU, memory, inference time and camera fps), `GET /api/system/logs` (admin: the tail of
 * the hub's log), `GET`/`PATCH /api/settings` (admin: retention, MQTT, Home Assistant, log
 * level). See docs/api.md.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { LogTail } from '../../components/protocol/log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera } from '../auth/principal.ts';
import type { MetricsHistory } from '../services/metrics-history.ts';
import type { SettingsService } from '../services/settings.ts';
import { requireRole } from './auth.ts';
import { parseWith, route } from './errors.ts';

export interface SystemRouterDeps {
  metrics: MetricsHistory;
  /** The hub logger's tail (absent when the logger keeps none: the answer is empty). */
  logs?: LogTail;
  settings: SettingsService;
  auth: AuthService;
}

const metricsQuery = z.object({ since: z.coerce.number().min(0).optional() }).strict();
const logsQuery = z.object({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  after: z.coerce.number().int().min(0).optional(),
}).strict();

export function systemRouter(d: SystemRouterDeps): Router {
  const r = Router();
  const admin = requireRole('admin');

  r.get('/system/metrics', requireRole('viewer'), (req, res) => {
    const q = parseWith(metricsQuery, req.query, 'query');
    const p = req.principal;
    const points = d.metrics.since(q.since).map((x) => ({
      ...x, cameras: Object.fromEntries(Object.entries(x.cameras).filter(([c]) => canSeeCamera(p, c))),
    }));
    res.json({ interval_ms: d.metrics.intervalMs, points });
  });

  r.get('/system/logs', admin, (req, res) => {
    const q = parseWith(logsQuery, req.query, 'query');
    res.set('Cache-Control', 'no-store').json(d.logs ? d.logs.query(q) : { lines: [], next: 0 });
  });

  r.get('/settings', admin, route(async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await d.settings.view());
  }));

  r.patch('/settings', admin, route(async (req, res) => {
    const out = await d.settings.update(req.body);
    const values = Object.fromEntries(out.changed.map((k) => [k, k === 'mqtt.password' ? '[redacted]' : out.view.settings[k]?.pending ?? out.view.settings[k]?.value ?? null]));
    if (out.changed.length) {
      await d.auth.activity.record({
        actor: req.principal!.name, ip: req.ip ?? null, action: 'settings.update', target: 'settings',
        details: { settings: values, restart_required: out.restart_required },
      });
    }
    res.set('Cache-Control', 'no-store').json({ ...out.view, restart_required: out.restart_required });
  }));
  return r;
}
