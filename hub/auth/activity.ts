/**
 * The activity log: who did what, when, from where (Vistralio's "secret redaction in
 * the activity log"). Details are redacted before they are stored: any key that looks
 * like a secret has its value replaced by `[redacted]`, at any depth.
 */
import type { DataSource } from 'typeorm';
import { ActivityEntity, type ActivityRow } from '../store/security-entities.ts';
import { redactCredentials } from '../../components/protocol/log.ts';

const SECRET_KEY = /pass|secret|token|key|totp|code|credential|authorization|cookie/i;

/** Deep copy of `v` with secret-looking keys redacted; URLs lose their user:password. */
export function redact(v: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (Array.isArray(v)) return v.map((x) => redact(x, depth + 1));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && x !== null && typeof x !== 'boolean' ? '[redacted]' : redact(x, depth + 1)]));
  }
  if (typeof v === 'string') return redactCredentials(v);
  return v;
}

export interface ActivityEntry {
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  outcome?: 'ok' | 'denied' | 'failed';
  details?: Record<string, unknown>;
}

export class ActivityLog {
  constructor(private readonly ds: DataSource) {}

  /** Records one entry (never throws: the log must not break the action it logs). */
  async record(e: ActivityEntry): Promise<void> {
    try {
      await this.ds.getRepository(ActivityEntity).insert({
        ts: Date.now(), actor: e.actor, action: e.action, target: e.target ?? null, ip: e.ip ?? null,
        outcome: e.outcome ?? 'ok', details: JSON.stringify(redact(e.details ?? {})),
      });
    } catch {
      // a full disk or closed database must not fail the request
    }
  }

  /** Newest first. `after`/`before` Unix ms. */
  async list(q: { limit: number; offset: number; actor?: string; action?: string; after?: number; before?: number }): Promise<{ total: number; entries: Array<Omit<ActivityRow, 'details'> & { details: unknown }> }> {
    const qb = this.ds.getRepository(ActivityEntity).createQueryBuilder('a');
    if (q.actor) qb.andWhere('a.actor = :actor', { actor: q.actor });
    if (q.action) qb.andWhere('a.action = :action', { action: q.action });
    if (q.after !== undefined) qb.andWhere('a.ts >= :after', { after: q.after });
    if (q.before !== undefined) qb.andWhere('a.ts < :before', { before: q.before });
    const total = await qb.getCount();
    const rows = await qb.orderBy('a.id', 'DESC').limit(q.limit).offset(q.offset).getMany();
    return { total, entries: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown })) };
  }
}
