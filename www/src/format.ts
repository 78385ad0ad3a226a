/** Display helpers. */

/** A Unix time (s) as the browser's local date and time, e.g. `12/05/2025, 14:03:21`. */
export function when(unixS: number | null | undefined): string {
  if (unixS === null || unixS === undefined || !Number.isFinite(unixS)) return '—';
  return new Date(unixS * 1000).toLocaleString();
}

/** A duration in s as `1 h 2 min`, `3 min 4 s` or `5 s`. */
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return '—';
  const t = Math.round(s);
  if (t >= 86_400) return `${Math.floor(t / 86_400)} d ${Math.floor((t % 86_400) / 3600)} h`;
  if (t >= 3600) return `${Math.floor(t / 3600)} h ${Math.floor((t % 3600) / 60)} min`;
  if (t >= 60) return `${Math.floor(t / 60)} min ${t % 60} s`;
  return `${t} s`;
}

/** A 0–1 score as a percentage (`87 %`). */
export function pct(score: number | null | undefined): string {
  return score === null || score === undefined || !Number.isFinite(score) ? '—' : `${Math.round(score * 100)} %`;
}

/** `<input type="datetime-local">` value ⇄ Unix s (local time). */
export function toLocalInput(unixS: number): string {
  const d = new Date(unixS * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
export function fromLocalInput(v: string): number | null {
  if (!v) return null;
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}
