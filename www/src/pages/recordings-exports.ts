/**
 * `<vigil-recordings-exports camera="yard">`: exports of one camera's recordings.
 *
 * - The form (operators and admins): "From" / "To" in local time with seconds, prefilled
 *   from the timeline's `selection` and settable from the `playhead`; "Export" sends
 *   `POST /api/exports {camera, start, end}` (Unix s; at most {@link MAX_RANGE_S}), the
 *   hub's field error shows next to its input. The new job's progress follows (a progress
 *   bar and a status line), then a Download link (`/api/exports/:id/file?download=1`) and
 *   a Play button.
 * - The list of the camera's exports and event clips (`GET /api/exports?camera=`) with their
 *   state live ({@link watchJobs}: `vigil/recorder/export/<id>`, REST polls while active),
 *   Play / Download, and Delete after a confirmation (operators and admins, `DELETE /api/exports/:id`).
 *
 * Fires `play-export` (detail: the {@link ExportJob}) when a Play button is pressed.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';
import { isActive, jobRange, jobState, mergeJob, size, watchJobs, type ExportJob } from './recordings-jobs.ts';
import { fromLocalSeconds, toLocalSeconds, type Span } from './recordings-time.ts';

/** Longest export the hub makes, s (hub/services/export-plan.ts `MAX_RANGE_S`). */
export const MAX_RANGE_S = 24 * 3600;

export class VigilRecordingsExports extends LitElement {
  static override properties = {
    camera: { type: String }, selection: { attribute: false }, playhead: { type: Number },
    jobs: { state: true }, start: { state: true }, end: { state: true }, fieldErrors: { state: true }, formError: { state: true },
    current: { state: true }, busy: { state: true }, message: { state: true }, confirming: { state: true }, listError: { state: true },
  };
  declare camera: string;
  declare selection: Span | null;
  declare playhead: number | null;
  declare jobs: ExportJob[] | null;
  declare start: string;
  declare end: string;
  declare fieldErrors: Record<string, string>;
  declare formError: string;
  /** Id of the job this form made last. */
  declare current: string;
  declare busy: boolean;
  declare message: string;
  declare confirming: ExportJob | null;
  declare listError: string;
  private stop?: () => void;
  private loading?: AbortController;

  constructor() {
    super();
    this.camera = '';
    this.selection = null;
    this.playhead = null;
    this.jobs = null;
    this.start = '';
    this.end = '';
    this.fieldErrors = {};
    this.formError = '';
    this.current = '';
    this.busy = false;
    this.message = '';
    this.confirming = null;
    this.listError = '';
  }

  static override styles = [shared, css`
    form { padding: 16px; display: grid; gap: 12px; }
    .range { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 340px)); gap: 12px 16px; align-items: start; }
    .range input { width: 100%; }
    .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .field button { justify-self: start; min-height: 36px; padding: 4px 10px; font-weight: 500; }
    progress { width: min(100%, 320px); height: 14px; accent-color: var(--accent); }
    .job { display: grid; gap: 8px; }
    .list { overflow-x: auto; padding: 4px 8px; }
    td.actions { white-space: nowrap; }
    td.actions > * { margin: 2px 6px 2px 0; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; max-width: 420px; }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    .actions-row { display: flex; gap: 8px; justify-content: flex-end; }
  `];

  private get canExport(): boolean { return atLeast(session.user?.role, 'operator'); }

  override connectedCallback(): void {
    super.connectedCallback();
    this.stop = watchJobs({
      job: (j) => { if (j.camera === this.camera) this.upsert(j); },
      gone: (id) => { if (this.jobs) this.jobs = this.jobs.filter((j) => j.id !== id); },
      active: () => (this.jobs ?? []).filter(isActive).map((j) => j.id),
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
    this.loading?.abort();
  }

  override willUpdate(changed: PropertyValues): void {
    if (changed.has('camera') && this.camera) {
      this.current = '';
      this.jobs = null;
      void this.load();
    }
    if (changed.has('selection') && this.selection) {
      this.start = toLocalSeconds(this.selection.start);
      this.end = toLocalSeconds(this.selection.end);
      this.fieldErrors = {};
    }
  }

  private async load(): Promise<void> {
    this.loading?.abort();
    const ctl = new AbortController();
    this.loading = ctl;
    this.listError = '';
    try {
      const rows = await get<ExportJob[]>(`/api/exports?camera=${encodeURIComponent(this.camera)}`, ctl.signal);
      const known = new Map((this.jobs ?? []).filter((j) => j.camera === this.camera).map((j) => [j.id, j]));
      this.jobs = rows.map((r) => mergeJob(known.get(r.id), r));
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.jobs = [];
      this.listError = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** Adds or updates a job, newest first. */
  private upsert(j: ExportJob): void {
    const list = this.jobs ?? [];
    const old = list.find((x) => x.id === j.id);
    const merged = mergeJob(old, j);
    if (old === merged) return;
    this.jobs = old ? list.map((x) => (x.id === j.id ? merged : x)) : [merged, ...list];
  }

  private fromPlayhead(which: 'start' | 'end'): void {
    if (this.playhead === null) return;
    this[which] = toLocalSeconds(this.playhead);
    this.fieldErrors = { ...this.fieldErrors, [which]: '' };
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const start = fromLocalSeconds(this.start), end = fromLocalSeconds(this.end);
    const errors: Record<string, string> = {};
    if (start === null) errors.start = 'Enter a date and time.';
    if (end === null) errors.end = 'Enter a date and time.';
    else if (start !== null && end <= start) errors.end = 'Must be later than "From".';
    else if (start !== null && end - start > MAX_RANGE_S) errors.end = 'An export is at most 24 hours long.';
    this.fieldErrors = errors;
    this.formError = '';
    this.message = '';
    if (Object.keys(errors).length || start === null || end === null) {
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(errors.start ? '#exp-start' : '#exp-end')?.focus();
      return;
    }
    this.busy = true;
    try {
      const row = (await api<ExportJob>('POST', '/api/exports', { camera: this.camera, start, end })).data;
      this.upsert(row);
      this.current = row.id;
      this.message = 'Export queued.';
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const field = a?.field?.replace(/^body\./, '');
      if (field === 'start' || field === 'end') this.fieldErrors = { [field]: a!.message.replace(/^(start|end): /, '') };
      else this.formError = a ? a.message : String(err);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(field === 'start' || field === 'end' ? `#exp-${field}` : '#exp-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  private play(j: ExportJob): void {
    this.dispatchEvent(new CustomEvent('play-export', { detail: j }));
  }

  private askDelete(j: ExportJob): void {
    this.confirming = j;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.showModal());
  }

  private async confirmDelete(): Promise<void> {
    const j = this.confirming;
    this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.close();
    if (!j) return;
    try {
      await api('DELETE', `/api/exports/${encodeURIComponent(j.id)}`);
      if (this.jobs) this.jobs = this.jobs.filter((x) => x.id !== j.id);
      if (this.current === j.id) this.current = '';
      this.message = `${j.kind === 'clip' ? 'Event clip' : 'Export'} deleted.`;
    } catch (err) {
      this.listError = err instanceof ApiError ? err.message : String(err);
    }
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#exports-h')?.focus();
  }

  override render(): TemplateResult {
    const job = this.jobs?.find((j) => j.id === this.current);
    return html`
      <section aria-labelledby="export-h">
        <h2 id="export-h">Export a range</h2>
        ${this.canExport ? this.form(job) : html`<p class="muted">Operators and admins can export recordings.</p>`}
      </section>
      <section aria-labelledby="exports-h">
        <h2 id="exports-h" tabindex="-1">Exports and event clips</h2>
        ${this.listError ? html`<p class="form-error" role="alert">${this.listError}</p>` : nothing}
        ${this.jobs === null ? html`<p aria-busy="true">Loading exports…</p>`
          : this.jobs.length === 0 ? html`<p class="muted" id="no-exports">No export of ${this.camera} yet.</p>`
          : html`<div class="card list">${this.table(this.jobs)}</div>`}
      </section>
      <dialog aria-labelledby="del-export-h" @close=${() => { this.confirming = null; }}>
        <h2 id="del-export-h">Delete this ${this.confirming?.kind === 'clip' ? 'event clip' : 'export'}?</h2>
        <p>${this.confirming ? jobRange(this.confirming) : ''}. Its file is removed; the recordings stay.</p>
        <div class="actions-row">
          <button class="secondary" @click=${() => this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.close()}>Cancel</button>
          <button id="confirm-delete-export" @click=${() => this.confirmDelete()}>Delete</button>
        </div>
      </dialog>`;
  }

  private input(name: 'start' | 'end', label: string): TemplateResult {
    const err = this.fieldErrors[name];
    return html`<div class="field">
      <label for=${`exp-${name}`}>${label}</label>
      <input id=${`exp-${name}`} name=${name} type="datetime-local" step="1" required .value=${this[name]}
        @input=${(e: Event) => { this[name] = (e.target as HTMLInputElement).value; }}
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `exp-${name}-error` : nothing}>
      ${err ? html`<span class="field-error" id=${`exp-${name}-error`}>${err}</span>` : nothing}
      <button type="button" class="secondary" ?disabled=${this.playhead === null} @click=${() => this.fromPlayhead(name)}>${label} the playhead</button>
    </div>`;
  }

  private form(job: ExportJob | undefined): TemplateResult {
    return html`<form class="card" @submit=${this.submit} novalidate aria-describedby="exp-help">
      <p class="muted" id="exp-help">Drag across the timeline to select a range, or type it (local time, at most 24 hours).</p>
      <div class="range">${this.input('start', 'From')}${this.input('end', 'To')}</div>
      ${this.formError ? html`<p class="form-error" role="alert" id="exp-error" tabindex="-1">${this.formError}</p>` : nothing}
      <div class="row"><button type="submit" ?disabled=${this.busy}>Export</button></div>
      <div class="job" id="export-job">
        ${job ? html`
          <label for="export-progress">Progress of the export ${jobRange(job)}</label>
          <progress id="export-progress" max="1" .value=${job.status === 'done' ? 1 : job.progress}></progress>` : nothing}
        <p role="status" id="export-status">${job ? `Export ${jobState(job).toLowerCase()}.` : this.message}</p>
        ${job?.status === 'done' ? html`<div class="row">
          <a class="button" id="export-download" href=${`/api/exports/${encodeURIComponent(job.id)}/file?download=1`} download>Download the export</a>
          <button type="button" class="secondary" @click=${() => this.play(job)}>Play the export</button></div>` : nothing}
      </div>
    </form>`;
  }

  private table(jobs: ExportJob[]): TemplateResult {
    return html`<table id="export-list">
      <caption class="visually-hidden">Exports and event clips of ${this.camera}</caption>
      <thead><tr><th scope="col">Range</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Size</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${jobs.map((j) => {
        const range = jobRange(j);
        return html`<tr data-export=${j.id} data-status=${j.status}>
          <td>${range}</td>
          <td>${j.kind === 'clip' ? html`Event clip${j.event_id ? html` (<a href=${`/events/${encodeURIComponent(j.event_id)}`}>event</a>)` : nothing}` : 'Export'}</td>
          <td><span class="badge ${j.status === 'done' ? 'ok' : j.status === 'failed' ? 'bad' : 'warn'}" data-state>${jobState(j)}</span></td>
          <td>${size(j.bytes)}</td>
          <td class="actions">
            ${j.status === 'done' ? html`
              <button class="secondary" aria-label=${`Play ${range}`} @click=${() => this.play(j)}>Play</button>
              <a href=${`/api/exports/${encodeURIComponent(j.id)}/file?download=1`} download aria-label=${`Download ${range}`}>Download</a>` : nothing}
            ${this.canExport ? html`<button class="secondary" aria-label=${`Delete ${range}`} @click=${() => this.askDelete(j)}>Delete</button>` : nothing}
          </td></tr>`;
      })}</tbody></table>`;
  }
}
customElements.define('vigil-recordings-exports', VigilRecordingsExports);
