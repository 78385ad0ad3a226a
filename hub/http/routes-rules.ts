/**
 * `/api/rules` — the simple rules (mount at `/api`, after `authenticate`): list and one
 * (operator+), create / replace / delete (admin), and `/rules-status` (whether they are
 * deployed to the rules engine). Errors are {@link SimpleRules}' domain errors.
 */
import { Router, type Request } from 'express';
import type { AuthService } from '../auth/auth-service.ts';
import type { SimpleRules } from '../services/simple-rules.ts';
import { route } from './errors.ts';
import { requireRole } from './auth.ts';

export function rulesRouter(rules: SimpleRules, auth: AuthService): Router {
  const r = Router();
  const operator = requireRole('operator');
  const admin = requireRole('admin');
  const id = (req: Request) => String(req.params.id);
  const log = (req: Request, action: string, target: string) => auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action, target });

  r.get('/rules', operator, route(async (_req, res) => { res.json(await rules.list()); }));
  r.get('/rules-status', operator, route(async (_req, res) => { res.json(rules.status()); }));
  r.get('/rules/:id', operator, route(async (req, res) => { res.json(await rules.get(id(req))); }));
  r.post('/rules', admin, route(async (req, res) => {
    const rule = await rules.save(req.body);
    await log(req, 'rule.create', `rule:${rule.id}`);
    res.status(201).json(rule);
  }));
  r.put('/rules/:id', admin, route(async (req, res) => {
    const rule = await rules.save(req.body, id(req));
    await log(req, 'rule.update', `rule:${rule.id}`);
    res.json(rule);
  }));
  r.delete('/rules/:id', admin, route(async (req, res) => {
    await rules.delete(id(req));
    await log(req, 'rule.delete', `rule:${id(req)}`);
    res.status(204).end();
  }));
  return r;
}
