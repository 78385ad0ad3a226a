/**
 * `<vigil-event-detail>`: one event (`GET /api/events/:id`): its facts, the best snapshot
 * with the box drawn (`snapshot.jpg`), the object crop (`snapshot.jpg?crop=1`), and — when
 * it has a clip (`has_clip`) — a player for the clip export (`/api/exports/:id/file`, the
 * `kind: "clip"` export of the event; docs/recording.md). Updates of the event on
 * `vigil/events` refresh it while it is open. The snapshot and the clip can be downloaded;
 * admins can delete an ended event (`DELETE /api/events/:id`, after a confirmation dialog),
 * which goes back to the list. The clip's progress shows while it is made (`vigil/recorder/export/<id>`,
 * recordings-jobs.ts); operators can export the event's range (`POST /api/exports {event}`) and
 * follow it to a download; "Open in recordings" shows the moment on the Recordings timeline.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { duration, pct, when } from '../format.ts';
import { eventFromMessage } from '../live-events.ts';
import { navigate } from '../router.ts';
import { shared } from '../styles.ts';
import type { EventRecord } from '../types.ts';
import { atLeast } from '../routes.ts';
import { isActive, jobState, mergeJob, watchJobs, type ExportJob } from './recordings-jobs.ts';
import { dayOf } from './recordings-time.ts';

export class VigilEventDetail extends LitElement {
  static override properties = { eventId: { type: String }, event: { state: true }, clip: { state: true }, error: { state: true }, deleteError: { state: true },
    exportJob: { state: true }, exportError: { state: true } };
  declare deleteError: string;
  /** The export of the event's range this page asked for. */
  declare exportJob: ExportJob | null;
  declare exportError: string;
  private stopJobs?: () => void;
  declare eventId: string;
  declare event: EventRecord | null;
  /** The event's clip (any state but failed). */
  declare clip: ExportJob | null;
  declare error: string;
  private stop?: () => void;

  constructor() {
    super();
    this.eventId = '';
    this.event = null;
    this.clip = null;
    this.error = '';
    this.deleteError = '';
    this.exportJob = null;
    this.exportError = '';
  }

  static override styles = [shared, css`
    .pics { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; align-items: start; }
    figure { margin: 0; padding: 8px; }
    figure img, video { width: 100%; display: block; background: #000; border-radius: 4px; }
    figcaption { padding-top: 6px; color: var(--muted); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; padding: 12px 16px; }
    dt { color: var(--muted); } dd { margin: 0; }
    @media (max-width: 720px) { .pics { grid-template-columns: 1fr; } }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 12px 0; }
    dialog { border: 1px solid var(--line); border-radius: 8px; background: var(--card); color: var(--fg); max-width: 420px; }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    this.stop = bus.on('vigil/events', (_t, p) => {
      const e = eventFromMessage(p);
      if (e && e.id === this.eventId && this.event) this.event = { ...this.event, ...e, zones: e.zones.length ? e.zones : this.event.zones };
    });
    this.stopJobs = watchJobs({
      job: (j) => {
        if (j.id === this.clip?.id) this.clip = mergeJob(this.clip, j);
        else if (j.id === this.exportJob?.id) this.exportJob = mergeJob(this.exportJob, j);
        // A new clip of this camera may be this event's (progress messages do not name the event).
        else if (j.kind === 'clip' && !this.clip && this.event && j.camera === this.event.camera) this.findClip(this.event).catch(() => undefined);
      },
      gone: (id) => { if (id === this.clip?.id) this.clip = null; if (id === this.exportJob?.id) this.exportJob = null; },
      active: () => [this.clip, this.exportJob].filter((j): j is ExportJob => j !== null && isActive(j)).map((j) => j.id),
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
    this.stopJobs?.();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('eventId') && this.eventId) void this.load();
  }

  private async load(): Promise<void> {
    this.event = null;
    this.clip = null;
    this.exportJob = null;
    this.exportError = '';
    this.error = '';
    try {
      const e = await get<EventRecord>(`/api/events/${encodeURIComponent(this.eventId)}`);
      this.event = e;
      document.title = `${e.label} on ${e.camera} · Vigil`;
      await this.findClip(e);
    } catch (err) {
      this.error = err instanceof ApiError && err.status === 404 ? 'There is no such event (or it is on a camera you may not see).' : err instanceof ApiError ? err.message : String(err);
    }
  }

  /** The event's clip row, done first, else one being made (a failed one is not shown). */
  private async findClip(e: EventRecord): Promise<void> {
    const rows = await get<ExportJob[]>(`/api/exports?camera=${encodeURIComponent(e.camera)}`);
    const mine = rows.filter((r) => r.kind === 'clip' && r.event_id === e.id && r.status !== 'failed');
    const row = mine.find((r) => r.status === 'done') ?? mine[0];
    if (row && e.id === this.eventId) this.clip = mergeJob(this.clip?.id === row.id ? this.clip : undefined, row);
  }

  /** Exports the event's range (with its camera's pre/post capture) as a kept export. */
  private async exportEvent(): Promise<void> {
    const e = this.event;
    if (!e) return;
    this.exportError = '';
    try {
      this.exportJob = (await api<ExportJob>('POST', '/api/exports', { event: e.id })).data;
    } catch (err) {
      this.exportError = err instanceof ApiError ? err.message : String(err);
    }
  }

  private get dialog(): HTMLDialogElement | null { return this.renderRoot.querySelector('dialog'); }

  private async deleteEvent(): Promise<void> {
    const e = this.event;
    if (!e) return;
    this.deleteError = '';
    try {
      await api('DELETE', `/api/events/${encodeURIComponent(e.id)}`);
      this.dialog?.close();
      navigate('/events');
    } catch (err) {
      this.deleteError = err instanceof ApiError ? err.message : String(err);
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
      ${this.clip?.status === 'done' ? html`<h2>Clip</h2><video id="clip" controls preload="metadata" src=${`/api/exports/${encodeURIComponent(this.clip.id)}/file`}
          aria-label=${`Clip of the ${e.label} on ${e.camera}`}></video>
          <p><a href=${`/api/exports/${encodeURIComponent(this.clip.id)}/file?download=1`} download>Download the clip</a></p>`
        : this.clip ? html`<p class="muted" role="status" id="clip-state">The clip is being prepared: ${jobState(this.clip).toLowerCase()}.</p>` : nothing}
      <div class="actions">
        ${e.has_snapshot ? html`<a class="button secondary" href=${`/api/events/${id}/snapshot.jpg`} download=${`${e.camera}-${e.label}-${e.id}.jpg`}>Download the snapshot</a>` : nothing}
        ${session.user?.role === 'admin' ? html`<button class="secondary" id="delete" ?disabled=${e.end_time === null}
          title=${e.end_time === null ? 'An event in progress cannot be deleted' : nothing}
          @click=${() => { this.deleteError = ''; this.dialog?.showModal(); }}>Delete the event</button>` : nothing}
        ${atLeast(session.user?.role, 'operator') && e.end_time !== null && !this.exportJob ? html`<button class="secondary" id="export-event" @click=${() => this.exportEvent()}>Export the event's video</button>` : nothing}
        <a class="button secondary" href=${`/recordings?${new URLSearchParams({ camera: e.camera, day: dayOf(e.start_time), t: String(Math.floor(e.start_time)) })}`}>Open in recordings</a>
      </div>
      ${this.exportError ? html`<p class="form-error" role="alert">${this.exportError}</p>` : nothing}
      ${this.exportJob ? html`<p role="status" id="event-export-state">Export ${jobState(this.exportJob).toLowerCase()}.
        ${this.exportJob.status === 'done' ? html`<a href=${`/api/exports/${encodeURIComponent(this.exportJob.id)}/file?download=1`} download>Download the export</a>` : nothing}</p>` : nothing}
      <dialog aria-labelledby="del-h">
        <h2 id="del-h">Delete this event?</h2>
        <p>The ${e.label} on ${e.camera} at ${when(e.start_time)}, its snapshot and its clip are deleted for good.</p>
        ${this.deleteError ? html`<p class="form-error" role="alert">${this.deleteError}</p>` : nothing}
        <div class="actions"><button class="danger" @click=${() => this.deleteEvent()}>Delete</button>
          <button class="secondary" @click=${() => this.dialog?.close()}>Cancel</button></div>
      </dialog>
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
