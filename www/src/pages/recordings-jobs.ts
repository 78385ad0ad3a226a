/**
 * Export and event-clip jobs in the browser (docs/recording.md "Event clips and exports"):
 * their shape, the progress messages on `vigil/recorder/export/<id>` (docs/mqtt.md; the
 * final state is retained, an empty retained message means the job was deleted), and
 * {@link watchJobs}, which keeps a page's jobs current from those messages — and from
 * `GET /api/exports/:id` while a job is active, every second when the live connection is
 * down, every 5 s as a safety net when it is up.
 */
import { ApiError, get } from '../api.ts';
import { bus } from '../bus.ts';
import { duration } from '../format.ts';
import { clock, dayOf } from './recordings-time.ts';

/** A `GET /api/exports` row (hub/store/recordings-repo.ts `ExportRow`); times Unix s, `progress` 0–1. */
export interface ExportJob {
  id: string;
  kind: 'clip' | 'export';
  camera: string;
  event_id: string | null;
  start_time: number;
  end_time: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  bytes?: number | null;
  error?: string | null;
  created_by?: string | null;
  /** Unix s. */
  created_at?: number;
}

/** Topic filter of every job's progress. */
export const JOBS_TOPIC = 'vigil/recorder/export/+';
const RANK: Record<ExportJob['status'], number> = { queued: 0, running: 1, done: 2, failed: 2 };

/** Whether a job may still change by itself. */
export const isActive = (j: ExportJob): boolean => j.status === 'queued' || j.status === 'running';

/**
 * A progress message as a job (its fields over `known`, if any).
 * @returns `{gone: id}` for the empty retained message of a deleted job; null when the payload is not a job
 */
export function jobFromMessage(topic: string, payload: Uint8Array): ExportJob | { gone: string } | null {
  const id = topic.split('/').pop() ?? '';
  if (payload.length === 0) return id ? { gone: id } : null;
  let m: Partial<ExportJob>;
  try { m = JSON.parse(new TextDecoder().decode(payload)) as Partial<ExportJob>; } catch { return null; }
  if (typeof m.id !== 'string' || typeof m.camera !== 'string' || typeof m.status !== 'string' || !(m.status in RANK)) return null;
  return {
    id: m.id, kind: m.kind === 'clip' ? 'clip' : 'export', camera: m.camera, event_id: m.event_id ?? null,
    start_time: Number(m.start_time), end_time: Number(m.end_time), status: m.status, progress: Number(m.progress ?? 0),
    bytes: m.bytes ?? null, error: m.error ?? null,
  };
}

/**
 * `incoming` merged over `old`: fields the message lacks (`created_at`, `created_by`,
 * `event_id`) are kept, and a job never goes back from a final state or to less progress
 * (a late REST answer or poll must not undo a newer MQTT message).
 */
export function mergeJob(old: ExportJob | undefined, incoming: ExportJob): ExportJob {
  if (!old) return incoming;
  if (RANK[incoming.status] < RANK[old.status]) return old;
  const progress = incoming.status === old.status ? Math.max(old.progress, incoming.progress) : incoming.progress;
  return {
    ...old, ...incoming, progress,
    event_id: incoming.event_id ?? old.event_id, created_at: incoming.created_at ?? old.created_at, created_by: incoming.created_by ?? old.created_by,
  };
}

/** The job's state in words: `Queued`, `Running, 42 %`, `Done`, `Failed: <why>`. */
export function jobState(j: ExportJob): string {
  switch (j.status) {
    case 'queued': return 'Queued (waiting for the recording)';
    case 'running': return `Running, ${Math.round(j.progress * 100)} %`;
    case 'done': return 'Done';
    default: return `Failed${j.error ? `: ${j.error}` : ''}`;
  }
}

/** The job's range in words: `2026-12-04 14:03:21 – 14:03:41 (20 s)` (local time; the end's date when it differs). */
export function jobRange(j: Pick<ExportJob, 'start_time' | 'end_time'>): string {
  const sameDay = dayOf(j.start_time) === dayOf(j.end_time);
  return `${dayOf(j.start_time)} ${clock(j.start_time)} – ${sameDay ? '' : `${dayOf(j.end_time)} `}${clock(j.end_time)} (${duration(j.end_time - j.start_time)})`;
}

/** Bytes as `12.3 MB` (SI units); `—` when unknown. */
export function size(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}

/** What {@link watchJobs} reports to. */
export interface JobSink {
  /** A job changed (or a new one appeared): merge it with {@link mergeJob}. */
  job(j: ExportJob): void;
  /** A job was deleted. */
  gone(id: string): void;
  /** The ids of the active jobs the page shows (polled through REST). */
  active(): string[];
}

/**
 * Keeps `sink` current: every `vigil/recorder/export/<id>` message, and polls of
 * `GET /api/exports/:id` for `sink.active()` (every 1 s while the live connection is not
 * online, every 5 s while it is). A polled job that answers 404 is reported gone.
 * @returns a function that stops watching
 */
export function watchJobs(sink: JobSink): () => void {
  const off = bus.on(JOBS_TOPIC, (topic, payload) => {
    const j = jobFromMessage(topic, payload);
    if (!j) return;
    if ('gone' in j) sink.gone(j.gone); else sink.job(j);
  });
  let tick = 0;
  let busy = false;
  const timer = setInterval(() => {
    tick++;
    if (busy || (bus.state === 'online' && tick % 5 !== 0)) return;
    const ids = sink.active();
    if (!ids.length) return;
    busy = true;
    void Promise.all(ids.map((id) => get<ExportJob>(`/api/exports/${encodeURIComponent(id)}`).then(
      (j) => sink.job(j),
      (err: unknown) => { if (err instanceof ApiError && err.status === 404) sink.gone(id); },
    ))).finally(() => { busy = false; });
  }, 1000);
  return () => { off(); clearInterval(timer); };
}
