/**
 * `<vigil-event-detail>`: one event (`GET /api/events/:id`): its facts, the best snapshot
 * with the box drawn (`snapshot.jpg`), the object crop (`snapshot.jpg?crop=1`), and — when
 * it has a clip (`has_clip`) — a player for the clip export (`/api/exports/:id/file`, the
 * `kind: "clip"` export of the event; docs/recording.md). Updates of the event on
 * `vigil/events` refresh it while it is open.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, get } from '../api.ts';
import { bus } from '../bus.ts';
import { duration, pct, when } from '../format.ts';
import { eventFromMessage } from '../live-events.ts';
import { shared } from '../styles.ts';
import type { EventRecord, ExportRow } from '../types.ts';

export class VigilEventDetail extends LitElement {
  static override properties = { eventId: { type: String }, event: { state: true }, clip: { state: true }, error: { state: true } };
  declare eventId: string;
  declare event: EventRecord | null;
  declare clip: ExportRow | null;
  declare error: string;
  private stop?: () => void;

  constructor() {
    super();
    this.eventId = '';
    this.event = null;
    this.clip = null;
    this.error = '';
  }

  static override styles = [shared, css`
    .pics { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; align-items: start; }
    figure { margin: 0; padding: 8px; }
    figure img, video { width: 100%; display: block; background: #000; border-radius: 4px; }
    figcaption { padding-top: 6px; color: var(--muted); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; padding: 12px 16px; }
    dt { color: var(--muted); } dd { margin: 0; }
    @media (max-width: 720px) { .pics { grid-template-columns: 1fr; } }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    this.stop = bus.on('vigil/events', (_t, p) => {
      const e = eventFromMessage(p);
      if (e && e.id === this.eventId && this.event) this.event = { ...this.event, ...e, zones: e.zones.length ? e.zones : this.event.zones };
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('eventId') && this.eventId) void this.load();
  }

  private async load(): Promise<void> {
    this.event = null;
    this.clip = null;
    this.error = '';
    try {
      const e = await get<EventRecord>(`/api/events/${encodeURIComponent(this.eventId)}`);
      this.event = e;
      document.title = `${e.label} on ${e.camera} · Vigil`;
      if (e.has_clip) {
        const rows = await get<ExportRow[]>(`/api/exports?camera=${encodeURIComponent(e.camera)}`);
        this.clip = rows.find((r) => r.kind === 'clip' && r.event_id === e.id && r.status === 'done') ?? null;
      }
    } catch (err) {
      this.error = err instanceof ApiError && err.status === 404 ? 'There is no such event (or it is on a camera you may not see).' : err instanceof ApiError ? err.message : String(err);
    }
  }

  override render() {
    if (this.error) return html`<h1>Event</h1><p class="form-error" role="alert">${this.error}</p><p><a href="/events">Back to the events</a></p>`;
    const e = this.event;
    if (!e) return html`<h1>Event</h1><p aria-busy="true">Loading…</p>`;
    const id = encodeURIComponent(e.id);
    return html`
      <p><a href="/events">← All events</a></p>
      <h1>${e.label} on ${e.camera}</h1>
      <div class="pics">
        ${e.has_snapshot ? html`
          <figure class="card"><img id="snapshot" src=${`/api/events/${id}/snapshot.jpg`} alt=${`Best snapshot of the ${e.label}, with its box`}><figcaption>Best snapshot</figcaption></figure>
          <figure class="card"><img id="crop" src=${`/api/events/${id}/snapshot.jpg?crop=1`} alt=${`The ${e.label}, cropped`}><figcaption>The object</figcaption></figure>`
          : html`<p class="muted">This event has no snapshot.</p>`}
      </div>
      ${this.clip ? html`<h2>Clip</h2><video id="clip" controls preload="metadata" src=${`/api/exports/${encodeURIComponent(this.clip.id)}/file`}
          aria-label=${`Clip of the ${e.label} on ${e.camera}`}></video>
          <p><a href=${`/api/exports/${encodeURIComponent(this.clip.id)}/file?download=1`} download>Download the clip</a></p>`
        : e.has_clip ? html`<p class="muted">The clip is being prepared.</p>` : nothing}
      <h2>Details</h2>
      <dl class="card" id="facts">
        <dt>Camera</dt><dd>${e.camera}</dd>
        <dt>Label</dt><dd>${e.label}${typeof e.sub_label === 'string' && e.sub_label ? ` (${e.sub_label})` : ''}</dd>
        <dt>Top score</dt><dd>${pct(e.top_score)}</dd>
        <dt>Zones</dt><dd>${e.zones.length ? e.zones.join(', ') : '—'}</dd>
        <dt>Started</dt><dd>${when(e.start_time)}</dd>
        <dt>Ended</dt><dd>${e.end_time === null ? 'in progress' : `${when(e.end_time)} (${duration(e.end_time - e.start_time)})`}</dd>
        <dt>Event id</dt><dd><code>${e.id}</code></dd>
      </dl>`;
  }
}
customElements.define('vigil-event-detail', VigilEventDetail);
