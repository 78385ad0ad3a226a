/** Shapes of the REST answers the pages use (docs/api.md). */

/** `GET /api/events` item (times in Unix s, `box` in px of the detect frame). */
export interface EventRecord {
  id: string; camera: string; label: string; sub_label: unknown; score: number; top_score: number;
  box: unknown; area: number; zones: string[]; start_time: number; end_time: number | null;
  has_snapshot: boolean; has_clip: boolean; false_positive: boolean;
}

/** `GET /api/cameras` item (the fields the pages read). */
export interface Camera { name: string; enabled?: boolean; friendly_name?: string | null; zones?: { name: string }[] }

/** `GET /api/system` (viewers get version, uptime and cameras only). */
export interface SystemInfo {
  version: string; uptime_s: number;
  mqtt?: { embedded: boolean; connected: boolean; clients?: number };
  components?: Record<string, { status?: string } & Record<string, unknown>>;
  cameras: Record<string, { availability?: string; motion?: string; fps?: number; last_error?: string | null }>;
}

/** `GET /api/exports` item. */
export interface ExportRow { id: string; camera: string; kind: string; event_id: string | null; status: string; start_time: number; end_time: number }
