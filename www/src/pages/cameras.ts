/**
 * `<vigil-cameras>`: the cameras the user may see (`GET /api/cameras`) as a table — name
 * (a link to its page), availability (live from `vigil/camera/<cam>/availability`, first
 * from `/api/system`), detect / record / snapshots (live from
 * `vigil/camera/<cam>/<feature>/state`, first from the camera's config). For admins: an
 * "Add camera" form (`POST /api/cameras`; the API's `{error: {field}}` is shown next to
 * the field it names, e.g. `paths.detect`) and a Delete button per camera that asks
 * for confirmation in a dialog (`DELETE /api/cameras/<name>`).
 *
 * Each stream URL field has a "Test connection" button (`<vigil-camera-probe>`,
 * cameras-probe.ts: `POST /api/cameras/probe`), and `<vigil-cameras-onvif>`
 * (cameras-onvif.ts) adds ONVIF cameras found by discovery.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { shared } from '../styles.ts';
import type { Camera, SystemInfo } from '../types.ts';
import './cameras-probe.ts';
import './cameras-onvif.ts';

/** The three switchable features the pages show. */
export const FEATURES = ['detect', 'record', 'snapshots'] as const;
export type Feature = typeof FEATURES[number];

/** `GET /api/cameras` item with the fields this page reads. */
export type CameraRow = Camera & Partial<Record<Feature, { enabled?: boolean }>>;

/** A form field of the add form: its id, the API field it maps to and its label. */
const FIELDS: { id: string; api: string; label: string; type?: string; hint?: string; required?: boolean }[] = [
  { id: 'name', api: 'name', label: 'Name', required: true, hint: 'Letters, digits, _ and -; used in MQTT topics.' },
  { id: 'detect', api: 'paths.detect', label: 'Detect stream URL', required: true, hint: 'rtsp://, rtsps:// or file:// — the stream used for detection.' },
  { id: 'live', api: 'paths.live', label: 'Live stream URL (optional)' },
  { id: 'record', api: 'paths.record', label: 'Record stream URL (optional)' },
  { id: 'username', api: 'username', label: 'Camera username (optional)' },
  { id: 'password', api: 'password', label: 'Camera password (optional)', type: 'password' },
];

export class VigilCameras extends LitElement {
  static override properties = {
    cameras: { state: true }, live: { state: true }, error: { state: true }, fieldErrors: { state: true },
    formError: { state: true }, busy: { state: true }, confirming: { state: true }, message: { state: true },
  };
  declare cameras: CameraRow[] | null;
  /** `<cam>/<topic>` → latest payload (availability and feature states). */
  declare live: Record<string, string>;
  declare error: string;
  declare fieldErrors: Record<string, string>;
  declare formError: string;
  declare busy: boolean;
  declare confirming: string;
  declare message: string;
  private stops: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.cameras = null;
    this.live = {};
    this.error = '';
    this.fieldErrors = {};
    this.formError = '';
    this.busy = false;
    this.confirming = '';
    this.message = '';
  }

  static override styles = [shared, css`
    .list { overflow-x: auto; padding: 4px 8px; }
    form { display: grid; gap: 12px; padding: 16px; max-width: 640px; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; max-width: 420px; }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
  `];

  private get isAdmin(): boolean { return session.user?.role === 'admin'; }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    const put = (t: string, p: Uint8Array): void => {
      const parts = t.split('/'); // vigil/camera/<cam>/availability | vigil/camera/<cam>/<feature>/state
      const key = `${parts[2]}/${parts[3]}`;
      this.live = { ...this.live, [key]: new TextDecoder().decode(p).trim() };
    };
    this.stops.push(bus.on('vigil/camera/+/availability', put));
    for (const f of FEATURES) this.stops.push(bus.on(`vigil/camera/+/${f}/state`, put));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    for (const s of this.stops) s();
  }

  private async load(): Promise<void> {
    try {
      const [cams, system] = await Promise.all([
        get<CameraRow[]>('/api/cameras', this.abort.signal),
        get<SystemInfo>('/api/system', this.abort.signal).catch(() => null),
      ]);
      this.cameras = cams;
      const live = { ...this.live };
      for (const [name, c] of Object.entries(system?.cameras ?? {})) if (c.availability && !live[`${name}/availability`]) live[`${name}/availability`] = c.availability;
      this.live = live;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = (id: string): string => (form.elements.namedItem(id) as HTMLInputElement).value.trim();
    const body: Record<string, unknown> = { name: v('name'), paths: { detect: v('detect') } };
    const paths = body.paths as Record<string, string>;
    if (v('live')) paths.live = v('live');
    if (v('record')) paths.record = v('record');
    if (v('username')) body.username = v('username');
    if (v('password')) body.password = v('password');
    this.fieldErrors = {};
    this.formError = '';
    this.message = '';
    this.busy = true;
    try {
      const cam = (await api<CameraRow>('POST', '/api/cameras', body)).data;
      form.reset();
      this.message = `Camera ${cam.name} added.`;
      await this.load();
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const f = a?.field ? FIELDS.find((x) => x.api === a.field || a.field!.startsWith(`${x.api}.`)) : undefined;
      if (f) this.fieldErrors = { [f.id]: a!.message };
      else this.formError = a ? (a.code === 'conflict' ? `${a.message}` : a.message) : String(err);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(f ? `#f-${f.id}` : '#add-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  private askDelete(name: string): void {
    this.confirming = name;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.showModal());
  }

  private async confirmDelete(): Promise<void> {
    const name = this.confirming;
    this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.close();
    this.confirming = '';
    try {
      await api('DELETE', `/api/cameras/${encodeURIComponent(name)}`);
      this.message = `Camera ${name} deleted.`;
      await this.load();
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : String(err);
    }
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  private state(c: CameraRow, f: Feature): string {
    return this.live[`${c.name}/${f}`] ?? (c[f]?.enabled === undefined ? 'unknown' : c[f]!.enabled ? 'ON' : 'OFF');
  }

  override render(): TemplateResult {
    return html`
      <h1 tabindex="-1">Cameras</h1>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <p role="status" id="cameras-message">${this.message}</p>
      ${this.cameras === null ? html`<p aria-busy="true">Loading cameras…</p>`
        : this.cameras.length === 0 ? html`<p class="muted" id="no-cameras">No camera yet.</p>`
        : html`<div class="card list">${this.table(this.cameras)}</div>`}
      ${this.isAdmin ? html`${this.addForm()}<vigil-cameras-onvif @camera-added=${(e: CustomEvent<{ name: string }>) => { this.message = `Camera ${e.detail.name} added.`; void this.load(); }}></vigil-cameras-onvif>` : nothing}
      <dialog aria-labelledby="del-h" @close=${() => { this.confirming = ''; }}>
        <h2 id="del-h">Delete camera ${this.confirming}?</h2>
        <p>Its configuration is removed and it stops within 2 s. Stored events and recordings stay.</p>
        <div class="actions">
          <button class="secondary" @click=${() => this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.close()}>Cancel</button>
          <button id="confirm-delete" @click=${() => this.confirmDelete()}>Delete ${this.confirming}</button>
        </div>
      </dialog>`;
  }

  private table(cams: CameraRow[]): TemplateResult {
    return html`<table id="camera-list">
      <caption class="visually-hidden">Cameras you may see</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Availability</th>
        ${FEATURES.map((f) => html`<th scope="col">${f[0]!.toUpperCase() + f.slice(1)}</th>`)}
        ${this.isAdmin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : nothing}</tr></thead>
      <tbody>${cams.map((c) => {
        const avail = this.live[`${c.name}/availability`];
        return html`<tr data-camera=${c.name}>
          <td><a href=${`/cameras/${encodeURIComponent(c.name)}`}>${c.name}</a></td>
          <td><span class="badge ${avail === 'online' ? 'ok' : avail === 'offline' ? 'bad' : 'idle'}" data-badge="availability">${avail ?? 'unknown'}</span></td>
          ${FEATURES.map((f) => { const s = this.state(c, f); return html`<td><span class="badge ${s === 'ON' ? 'ok' : 'idle'}" data-feature=${f}>${s}</span></td>`; })}
          ${this.isAdmin ? html`<td><button class="secondary" @click=${() => this.askDelete(c.name)} aria-label=${`Delete ${c.name}`}>Delete</button></td>` : nothing}
        </tr>`;
      })}</tbody>
    </table>`;
  }

  private addForm(): TemplateResult {
    return html`<section aria-labelledby="add-h">
      <h2 id="add-h">Add camera</h2>
      <form class="card" @submit=${(e: SubmitEvent) => this.add(e)} novalidate>
        ${FIELDS.map((f) => this.field(f))}
        ${this.formError ? html`<p class="form-error" id="add-error" role="alert" tabindex="-1">${this.formError}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>${this.busy ? 'Adding…' : 'Add camera'}</button></div>
      </form>
    </section>`;
  }

  private field(f: typeof FIELDS[number]): TemplateResult {
    const id = `f-${f.id}`;
    const err = this.fieldErrors[f.id];
    const described = [f.hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field">
      <label for=${id}>${f.label}</label>
      ${f.hint ? html`<span class="hint" id=${`${id}-hint`}>${f.hint}</span>` : nothing}
      <input id=${id} name=${f.id} type=${f.type ?? 'text'} autocomplete=${f.type === 'password' ? 'new-password' : 'off'} spellcheck="false"
        ?required=${f.required} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}
      ${f.api.startsWith('paths.') ? html`<vigil-camera-probe for=${id} label=${f.label}></vigil-camera-probe>` : nothing}
    </div>`;
  }
}
customElements.define('vigil-cameras', VigilCameras);
