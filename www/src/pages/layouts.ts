/**
 * `<vigil-layouts>` (`/layouts`): the camera-wall layouts the user may see (`GET
 * /api/layouts`, cut by the hub to layouts whose cameras the user sees), each with a small
 * picture of its regions, its priority, and the displays showing it now (live from the
 * retained `vigil/display/+/layout/state`, first from `GET /api/displays`).
 *
 * - Operators and admins: "Show on display…" opens a dialog to pick a display
 *   (`POST /api/displays/:id/activate {layout}`).
 * - Admins: "New layout" (`/layouts/new`), Edit (`/layouts/<id>`), Delete after a
 *   confirmation (`DELETE /api/layouts/<id>`; displays showing it keep their picture).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';
import type { Bundle, Display, Layout } from './layouts-grid.ts';
import { previewStyles, regionBoxes, wallPreview } from './layouts-preview.ts';

export class VigilLayouts extends LitElement {
  static override properties = {
    layouts: { state: true }, displays: { state: true }, shown: { state: true }, error: { state: true }, message: { state: true },
    deleting: { state: true }, showing: { state: true }, target: { state: true }, activateError: { state: true }, busy: { state: true },
  };
  declare layouts: Layout[] | null;
  declare displays: Display[];
  /** Display id → the layout id its retained bundle shows ('' when cleared). */
  declare shown: Record<string, string>;
  declare error: string;
  declare message: string;
  /** The layout the delete dialog asks about. */
  declare deleting: Layout | null;
  /** The layout the "show on display" dialog is for. */
  declare showing: Layout | null;
  declare target: string;
  declare activateError: string;
  declare busy: boolean;
  private stops: (() => void)[] = [];
  private readonly abort = new AbortController();
  /** The button that opened a dialog: focus goes back to it when the dialog closes. */
  private opener: HTMLElement | null = null;

  constructor() {
    super();
    this.layouts = null;
    this.displays = [];
    this.shown = {};
    this.error = '';
    this.message = '';
    this.deleting = null;
    this.showing = null;
    this.target = '';
    this.activateError = '';
    this.busy = false;
  }

  static override styles = [shared, previewStyles, css`
    .top { display: flex; gap: 8px 16px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
    .top h1 { margin: 0 auto 0 0; }
    ul.grid { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
    li.layout { padding: 12px; display: grid; gap: 8px; align-content: start; }
    .meta { display: flex; gap: 6px 10px; flex-wrap: wrap; align-items: center; }
    .meta h2 { margin: 0; font-size: 1.05rem; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
    .id { font-family: ui-monospace, monospace; font-size: .85rem; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; max-width: min(440px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    dialog form { display: grid; gap: 12px; }
  `];

  private get isAdmin(): boolean { return atLeast(session.user?.role, 'admin'); }
  private get canActivate(): boolean { return atLeast(session.user?.role, 'operator'); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.stops.push(bus.on('vigil/display/+/layout/state', (topic, payload) => {
      const id = topic.split('/')[2]!;
      let layout = '';
      try { layout = payload.length ? (JSON.parse(new TextDecoder().decode(payload)) as Bundle).layout ?? '' : ''; } catch { /* not a bundle */ }
      this.shown = { ...this.shown, [id]: layout };
    }));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    for (const s of this.stops) s();
  }

  private async load(): Promise<void> {
    try {
      const [layouts, displays] = await Promise.all([
        get<Layout[]>('/api/layouts', this.abort.signal),
        get<Display[]>('/api/displays', this.abort.signal).catch(() => [] as Display[]),
      ]);
      this.layouts = layouts.sort((a, b) => a.name.localeCompare(b.name));
      this.displays = displays;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** Displays showing layout `id` now: the live bundle when one arrived, else what the API said. */
  private showingOn(id: string): Display[] {
    return this.displays.filter((d) => (d.id in this.shown ? this.shown[d.id] : d.layout_id) === id);
  }

  private dialog(id: string): HTMLDialogElement | null { return this.renderRoot.querySelector<HTMLDialogElement>(`#${id}`); }

  private open(id: string, e: Event): void {
    this.opener = e.currentTarget as HTMLElement;
    void this.updateComplete.then(() => this.dialog(id)?.showModal());
  }

  private closed(): void {
    this.deleting = null;
    this.showing = null;
    this.activateError = '';
    const o = this.opener;
    this.opener = null;
    if (o?.isConnected) o.focus();
    else this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  private askDelete(l: Layout, e: Event): void {
    this.deleting = l;
    this.open('delete-dialog', e);
  }

  private async confirmDelete(): Promise<void> {
    const l = this.deleting;
    if (!l) return;
    this.dialog('delete-dialog')?.close();
    this.error = '';
    try {
      await api('DELETE', `/api/layouts/${encodeURIComponent(l.id)}`);
      this.message = `Layout ${l.name} deleted.`;
      await this.load();
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  private askShow(l: Layout, e: Event): void {
    this.showing = l;
    this.activateError = '';
    this.target = this.displays.some((d) => d.id === this.target) ? this.target : this.displays[0]?.id ?? '';
    this.open('show-dialog', e);
  }

  private async activate(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const l = this.showing;
    if (!l || !this.target) return;
    this.busy = true;
    this.activateError = '';
    try {
      const b = (await api<Bundle>('POST', `/api/displays/${encodeURIComponent(this.target)}/activate`, { layout: l.id })).data;
      const d = this.displays.find((x) => x.id === b.display);
      this.shown = { ...this.shown, [b.display]: b.layout };
      this.message = `${l.name} is now shown on ${d?.name ?? b.display} (${b.display}).`;
      this.dialog('show-dialog')?.close();
    } catch (err) {
      this.activateError = err instanceof ApiError ? err.message : String(err);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#activate-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    return html`
      <div class="top">
        <h1 tabindex="-1">Layouts</h1>
        <a href="/displays">Kiosks and displays</a>
        ${this.isAdmin ? html`<a class="button" href="/layouts/new" id="new-layout">New layout</a>` : nothing}
      </div>
      <p class="muted">Layouts place cameras, web pages and HTML on a 12×12 grid; a kiosk's display shows one at a time.</p>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <p role="status" id="layouts-message">${this.message}</p>
      ${this.layouts === null ? html`<p aria-busy="true">Loading layouts…</p>`
        : this.layouts.length === 0 ? html`<p class="muted" id="no-layouts">No layout yet.${this.isAdmin ? ' Create one with “New layout”.' : ''}</p>`
        : html`<ul class="grid" id="layout-list">${this.layouts.map((l) => this.item(l))}</ul>`}
      ${this.deleteDialog()}
      ${this.showDialog()}`;
  }

  private item(l: Layout): TemplateResult {
    const on = this.showingOn(l.id);
    return html`<li class="card layout" data-layout=${l.id} aria-labelledby=${`l-${l.id}`}>
      <div class="meta">
        <h2 id=${`l-${l.id}`}>${l.name}</h2>
        <span class="id muted">${l.id}</span>
        ${l.priority === 'hot' ? html`<span class="badge warn" title="Its streams stay warm on every kiosk">hot</span>` : nothing}
      </div>
      ${wallPreview(regionBoxes(l.regions), `Layout ${l.name}: ${l.regions.length} ${l.regions.length === 1 ? 'region' : 'regions'}`)}
      <p class="muted" data-shown-on>${on.length ? html`Shown on ${on.map((d) => `${d.name} (${d.kiosk_id})`).join(', ')}` : 'Not shown on any display'}</p>
      <div class="actions">
        ${this.canActivate ? html`<button class="secondary" @click=${(e: Event) => this.askShow(l, e)} ?disabled=${this.displays.length === 0}
          aria-label=${`Show on display… ${l.name}`}>Show on display…</button>` : nothing}
        ${this.isAdmin ? html`<a class="button secondary" href=${`/layouts/${encodeURIComponent(l.id)}`} aria-label=${`Edit ${l.name}`}>Edit</a>
          <button class="secondary" @click=${(e: Event) => this.askDelete(l, e)} aria-label=${`Delete ${l.name}`}>Delete</button>` : nothing}
      </div>
    </li>`;
  }

  private deleteDialog(): TemplateResult {
    return html`<dialog id="delete-dialog" aria-labelledby="del-h" @close=${() => this.closed()}>
      <h2 id="del-h">Delete layout ${this.deleting?.name ?? ''}?</h2>
      <p>Displays showing it keep their picture until another layout is activated.</p>
      <div class="actions">
        <button class="secondary" @click=${() => this.dialog('delete-dialog')?.close()}>Cancel</button>
        <button id="confirm-delete" @click=${() => this.confirmDelete()}>Delete ${this.deleting?.name ?? ''}</button>
      </div>
    </dialog>`;
  }

  private showDialog(): TemplateResult {
    return html`<dialog id="show-dialog" aria-labelledby="show-h" @close=${() => this.closed()}>
      <form @submit=${(e: SubmitEvent) => this.activate(e)}>
        <h2 id="show-h">Show ${this.showing?.name ?? ''} on a display</h2>
        <div class="field">
          <label for="show-display">Display</label>
          <select id="show-display" .value=${this.target} @change=${(e: Event) => { this.target = (e.target as HTMLSelectElement).value; }}
            aria-invalid=${this.activateError ? 'true' : 'false'} aria-describedby=${this.activateError ? 'activate-error' : nothing}>
            ${this.displays.map((d) => html`<option value=${d.id} ?selected=${d.id === this.target}>${d.name} (${d.id}, ${d.width}×${d.height})</option>`)}
          </select>
        </div>
        ${this.activateError ? html`<p class="form-error" id="activate-error" role="alert" tabindex="-1">${this.activateError}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.dialog('show-dialog')?.close()}>Cancel</button>
          <button type="submit" ?disabled=${this.busy || !this.target}>${this.busy ? 'Activating…' : 'Activate'}</button>
        </div>
      </form>
    </dialog>`;
  }
}
customElements.define('vigil-layouts', VigilLayouts);
