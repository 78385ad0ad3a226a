/**
 * `<vigil-api-keys>` (`/api-keys`, admins): API keys and device credentials.
 *
 * - API keys (`GET/POST /api/api-keys`, `DELETE /api/api-keys/:id`): name, scope
 *   (`read` = viewer, `control` = operator, `admin`), cameras (all or a list). Creating one
 *   shows the key `vgl_…` once, with a Copy button and a warning; Revoke asks first.
 * - Devices (`GET/POST /api/devices`, `DELETE /api/devices/:id`): MQTT credentials for a
 *   camera, kiosk, camera head, component process or the Home Assistant integration
 *   (docs/security.md, the MQTT ACL). Creating one shows the MQTT username and password
 *   once; creating an existing id again gives it a new password (the old one stops
 *   working). Delete revokes it: the broker refuses it from then on.
 *
 * Revoked keys and devices stay listed (greyed) for the record. Neither has an MQTT topic:
 * the lists reload after each change made here.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { shared } from '../styles.ts';
import { errorText, fieldText, grantsText, whenMs, type VigilCameraGrants, type VigilConfirm } from './users-parts.ts';
import './users-parts.ts';

/** `GET /api/api-keys` item (times Unix ms). */
export interface ApiKeyRow { id: string; name: string; scope: 'read' | 'control' | 'admin'; cameras: string[] | null; created_at: number; last_used_at: number | null; revoked_at: number | null }
/** `GET /api/devices` item (times Unix ms). */
export interface DeviceRow { id: string; kind: DeviceKind; displays: string[]; created_at: number; last_seen_at: number | null; revoked_at: number | null }
type DeviceKind = 'camera' | 'kiosk' | 'head' | 'component' | 'ha';

const SCOPES = [
  { v: 'read', d: 'read — like a viewer' },
  { v: 'control', d: 'control — like an operator' },
  { v: 'admin', d: 'admin — everything' },
] as const;

const KINDS: { v: DeviceKind; d: string }[] = [
  { v: 'camera', d: 'camera — publishes under vigil/camera/<id>/' },
  { v: 'kiosk', d: 'kiosk — shows the displays chosen below' },
  { v: 'head', d: 'head — a camera head, vigil/head/<id>/' },
  { v: 'component', d: 'component — a camera or detector process elsewhere' },
  { v: 'ha', d: 'ha — the Home Assistant integration' },
];

type Errors = Record<string, string>;

export class VigilApiKeys extends LitElement {
  static override properties = {
    keys: { state: true }, devices: { state: true }, cameras: { state: true }, displays: { state: true }, error: { state: true },
    message: { state: true }, keyErrors: { state: true }, devErrors: { state: true }, keyGrants: { state: true }, devKind: { state: true },
    devDisplays: { state: true }, newKey: { state: true }, newDevice: { state: true }, busy: { state: true },
  };
  declare keys: ApiKeyRow[] | null;
  declare devices: DeviceRow[] | null;
  declare cameras: string[];
  declare displays: string[];
  declare error: string;
  declare message: string;
  declare keyErrors: Errors;
  declare devErrors: Errors;
  declare keyGrants: string[] | null;
  declare devKind: DeviceKind;
  declare devDisplays: string[];
  declare newKey: { name: string; key: string } | null;
  declare newDevice: { id: string; username: string; password: string } | null;
  declare busy: boolean;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.keys = null;
    this.devices = null;
    this.cameras = [];
    this.displays = [];
    this.error = '';
    this.message = '';
    this.keyErrors = {};
    this.devErrors = {};
    this.keyGrants = null;
    this.devKind = 'camera';
    this.devDisplays = [];
    this.newKey = null;
    this.newDevice = null;
    this.busy = false;
  }

  static override styles = [shared, css`
    .top { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; justify-content: space-between; }
    .list { overflow-x: auto; padding: 4px 8px; }
    form.card { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; padding: 16px; max-width: 640px; }
    select, input { max-width: 100%; min-width: 0; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
    .once { border: 2px solid var(--warn); border-radius: 8px; padding: 12px 16px; margin: 12px 0; background: var(--card); display: grid; gap: 8px; max-width: 760px; }
    .once h3 { margin: 0; }
    tr.revoked td, tr.revoked th { color: var(--muted); }
    fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 12px; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
    legend { font-weight: 600; padding: 0 4px; }
    .opt { display: flex; align-items: center; gap: 8px; font-weight: 400; min-height: 32px; }
    .opt input { min-height: 0; width: 18px; height: 18px; }
    code { font-size: .85rem; }
    .create-h { margin: 16px 0 8px; }
    @media (max-width: 720px) {
      thead { display: none; }
      tr { display: grid; border-bottom: 1px solid var(--line); padding: 8px 0; }
      td, th[scope="row"] { border: 0; padding: 2px 8px; }
      td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
    }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
  }

  private async load(): Promise<void> {
    const s = this.abort.signal;
    try {
      const [keys, devices, cams, displays] = await Promise.all([
        get<ApiKeyRow[]>('/api/api-keys', s),
        get<DeviceRow[]>('/api/devices', s),
        get<{ name: string }[]>('/api/cameras', s),
        get<{ id: string }[]>('/api/displays', s).catch(() => []),
      ]);
      this.keys = keys;
      this.devices = devices;
      this.cameras = cams.map((c) => c.name).sort();
      this.displays = displays.map((d) => d.id).sort();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = errorText(err);
    }
  }

  private confirm(): VigilConfirm { return this.renderRoot.querySelector<VigilConfirm>('vigil-confirm')!; }

  private place(err: unknown, known: string[]): Errors {
    if (err instanceof ApiError && err.field) {
      const f = err.field.split('.')[0]!;
      if (known.includes(f)) return { [f]: fieldText(err) };
    }
    return { _form: errorText(err) };
  }

  private async focusAfter(sel: string): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(sel)?.focus();
  }

  // ---- API keys ---------------------------------------------------------------------------

  private async createKey(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim();
    const scope = (form.elements.namedItem('scope') as HTMLSelectElement).value;
    this.message = '';
    if (!name) { this.keyErrors = { name: 'A name is required (what the key is for).' }; void this.focusAfter('#k-name'); return; }
    this.keyErrors = {};
    this.busy = true;
    try {
      const out = (await api<ApiKeyRow & { key: string }>('POST', '/api/api-keys', { name, scope, cameras: this.keyGrants })).data;
      form.reset();
      this.keyGrants = null;
      this.newKey = { name: out.name, key: out.key };
      await this.load();
      void this.focusAfter('#new-key h3');
    } catch (err) {
      this.keyErrors = this.place(err, ['name', 'scope', 'cameras']);
      void this.focusAfter('#key-form [aria-invalid="true"], #key-form .form-error');
    } finally {
      this.busy = false;
    }
  }

  private async revokeKey(k: ApiKeyRow): Promise<void> {
    const ok = await this.confirm().ask({
      title: `Revoke the API key ${k.name}?`,
      text: 'Every client using it is refused at once, on the REST API and on MQTT. This cannot be undone; create a new key instead.',
      confirm: `Revoke ${k.name}`,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/api-keys/${encodeURIComponent(k.id)}`);
      this.message = `API key ${k.name} revoked.`;
      if (this.newKey?.name === k.name) this.newKey = null;
      await this.load();
    } catch (err) {
      this.error = `Could not revoke ${k.name}: ${errorText(err)}`;
    }
    void this.focusAfter('#keys-h');
  }

  // ---- devices ----------------------------------------------------------------------------

  private async createDevice(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const id = (form.elements.namedItem('id') as HTMLInputElement).value.trim();
    this.message = '';
    if (!id) { this.devErrors = { id: 'An id is required: it is the MQTT username.' }; void this.focusAfter('#d-id'); return; }
    const body: Record<string, unknown> = { id, kind: this.devKind };
    if (this.devKind === 'kiosk') body.displays = this.devDisplays;
    const existing = this.devices?.find((d) => d.id === id && d.revoked_at === null);
    if (existing) {
      const ok = await this.confirm().ask({
        title: `Replace the credential of ${id}?`,
        text: `A device ${id} exists already. A new password is made and the old one stops working.`,
        confirm: 'Make a new password',
      });
      if (!ok) return;
    }
    this.devErrors = {};
    this.busy = true;
    try {
      const out = (await api<DeviceRow & { username: string; password: string }>('POST', '/api/devices', body)).data;
      form.reset();
      this.devKind = 'camera';
      this.devDisplays = [];
      this.newDevice = { id: out.id, username: out.username, password: out.password };
      await this.load();
      void this.focusAfter('#new-device h3');
    } catch (err) {
      this.devErrors = this.place(err, ['id', 'kind', 'displays']);
      void this.focusAfter('#device-form [aria-invalid="true"], #device-form .form-error');
    } finally {
      this.busy = false;
    }
  }

  private async removeDevice(d: DeviceRow): Promise<void> {
    const ok = await this.confirm().ask({
      title: `Delete the device ${d.id}?`,
      text: 'Its MQTT credential is revoked: the broker refuses it from now on. Create it again to give it a new password.',
      confirm: `Delete ${d.id}`,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/devices/${encodeURIComponent(d.id)}`);
      this.message = `Device ${d.id} deleted.`;
      if (this.newDevice?.id === d.id) this.newDevice = null;
      await this.load();
    } catch (err) {
      this.error = `Could not delete ${d.id}: ${errorText(err)}`;
    }
    void this.focusAfter('#devices-h');
  }

  // ---- render -----------------------------------------------------------------------------

  override render(): TemplateResult {
    return html`
      <div class="top">
        <h1 tabindex="-1">API keys and devices</h1>
        <a href="/users">Users</a>
      </div>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <p role="status" id="keys-message">${this.message}</p>
      ${this.keysSection()}
      ${this.devicesSection()}
      <vigil-confirm></vigil-confirm>`;
  }

  private keysSection(): TemplateResult {
    const e = this.keyErrors;
    return html`<section aria-labelledby="keys-h">
      <h2 id="keys-h" tabindex="-1">API keys</h2>
      <p class="hint">For scripts and integrations: send it as <code>X-API-Key</code>, or as the MQTT password (any username).</p>
      ${this.newKey ? html`<div class="once" id="new-key" role="region" aria-labelledby="new-key-h">
        <h3 id="new-key-h" tabindex="-1">API key ${this.newKey.name} created</h3>
        <p role="alert"><strong>Copy it now: it is shown only once.</strong> Vigil keeps only a hash of it; if you lose it, revoke it and create another.</p>
        <vigil-shown-once label="API key" .value=${this.newKey.key}></vigil-shown-once>
        <div><button class="secondary" @click=${() => { this.newKey = null; void this.focusAfter('#k-name'); }}>Done, I saved it</button></div>
      </div>` : nothing}
      ${this.keys === null ? html`<p aria-busy="true">Loading API keys…</p>` : this.keys.length === 0 ? html`<p class="muted" id="no-keys">No API key yet.</p>` : html`
        <div class="card list"><table id="key-list">
          <caption class="visually-hidden">API keys</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Cameras</th><th scope="col">Created</th>
            <th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${this.keys.map((k) => html`<tr data-key=${k.name} class=${k.revoked_at ? 'revoked' : ''}>
            <th scope="row">${k.name}</th><td data-label="Scope">${k.scope}</td><td data-label="Cameras">${grantsText(k.cameras)}</td>
            <td data-label="Created">${whenMs(k.created_at)}</td><td data-label="Last used">${whenMs(k.last_used_at)}</td>
            <td data-label="State"><span class="badge ${k.revoked_at ? 'bad' : 'ok'}" data-state>${k.revoked_at ? 'revoked' : 'active'}</span></td>
            <td>${k.revoked_at ? '' : html`<button class="secondary" @click=${() => this.revokeKey(k)} aria-label=${`Revoke ${k.name}`}>Revoke</button>`}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <h3 id="key-form-h" class="create-h">Create an API key</h3>
      <form class="card" id="key-form" @submit=${(ev: SubmitEvent) => this.createKey(ev)} novalidate aria-labelledby="key-form-h">
        ${this.textField('k-name', 'name', 'Key name', e, 'What it is for, e.g. home-assistant or backup-script.')}
        <div class="field">
          <label for="k-scope">Scope</label>
          <select id="k-scope" name="scope" aria-invalid=${e.scope ? 'true' : 'false'}>${SCOPES.map((s) => html`<option value=${s.v}>${s.d}</option>`)}</select>
          ${e.scope ? html`<span class="field-error">${e.scope}</span>` : nothing}
        </div>
        <vigil-camera-grants legend="Cameras the key may see" .cameras=${this.cameras} .value=${this.keyGrants} .error=${e.cameras ?? ''}
          @change=${(ev: Event) => { this.keyGrants = (ev.target as VigilCameraGrants).value; }}></vigil-camera-grants>
        ${e._form ? html`<p class="form-error" role="alert" tabindex="-1">${e._form}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Create API key</button></div>
      </form>
    </section>`;
  }

  private devicesSection(): TemplateResult {
    const e = this.devErrors;
    return html`<section aria-labelledby="devices-h">
      <h2 id="devices-h" tabindex="-1">Devices</h2>
      <p class="hint">MQTT credentials for processes and machines that join the bus: the id is the MQTT username. Kiosks paired on the
        <a href="/displays">Kiosks and displays</a> page get theirs automatically.</p>
      ${this.newDevice ? html`<div class="once" id="new-device" role="region" aria-labelledby="new-device-h">
        <h3 id="new-device-h" tabindex="-1">Device ${this.newDevice.id} created</h3>
        <p role="alert"><strong>Copy the password now: it is shown only once.</strong> Create the device again to get a new one.</p>
        <vigil-shown-once label="MQTT username" .value=${this.newDevice.username}></vigil-shown-once>
        <vigil-shown-once label="MQTT password" .value=${this.newDevice.password}></vigil-shown-once>
        <div><button class="secondary" @click=${() => { this.newDevice = null; void this.focusAfter('#d-id'); }}>Done, I saved it</button></div>
      </div>` : nothing}
      ${this.devices === null ? html`<p aria-busy="true">Loading devices…</p>` : this.devices.length === 0 ? html`<p class="muted" id="no-devices">No device yet.</p>` : html`
        <div class="card list"><table id="device-list">
          <caption class="visually-hidden">Devices</caption>
          <thead><tr><th scope="col">Id (MQTT username)</th><th scope="col">Kind</th><th scope="col">Displays</th><th scope="col">Created</th>
            <th scope="col">Last seen</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${this.devices.map((d) => html`<tr data-device=${d.id} class=${d.revoked_at ? 'revoked' : ''}>
            <th scope="row">${d.id}</th><td data-label="Kind">${d.kind}</td><td data-label="Displays">${d.displays.join(', ')}</td>
            <td data-label="Created">${whenMs(d.created_at)}</td><td data-label="Last seen">${whenMs(d.last_seen_at)}</td>
            <td data-label="State"><span class="badge ${d.revoked_at ? 'bad' : 'ok'}" data-state>${d.revoked_at ? 'revoked' : 'active'}</span></td>
            <td>${d.revoked_at ? '' : html`<button class="secondary" @click=${() => this.removeDevice(d)} aria-label=${`Delete ${d.id}`}>Delete</button>`}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <h3 id="device-form-h" class="create-h">Create a device</h3>
      <form class="card" id="device-form" @submit=${(ev: SubmitEvent) => this.createDevice(ev)} novalidate aria-labelledby="device-form-h">
        ${this.textField('d-id', 'id', 'Device id', e, 'Lower-case letters, digits, _ and -; for a camera, its camera name.')}
        <div class="field">
          <label for="d-kind">Kind</label>
          <select id="d-kind" name="kind" .value=${this.devKind} aria-invalid=${e.kind ? 'true' : 'false'}
            @change=${(ev: Event) => { this.devKind = (ev.target as HTMLSelectElement).value as DeviceKind; }}>
            ${KINDS.map((k) => html`<option value=${k.v} ?selected=${k.v === this.devKind}>${k.d}</option>`)}
          </select>
          ${e.kind ? html`<span class="field-error">${e.kind}</span>` : nothing}
        </div>
        ${this.devKind === 'kiosk' ? html`<fieldset aria-invalid=${e.displays ? 'true' : 'false'}>
          <legend>Displays this kiosk shows</legend>
          ${e.displays ? html`<span class="field-error">${e.displays}</span>` : nothing}
          ${this.displays.length === 0 ? html`<span class="muted">No display yet (pair a kiosk first).</span>` : this.displays.map((id) => html`<label class="opt">
            <input type="checkbox" .checked=${this.devDisplays.includes(id)} @change=${(ev: Event) => {
              const on = (ev.target as HTMLInputElement).checked;
              this.devDisplays = on ? [...this.devDisplays, id] : this.devDisplays.filter((x) => x !== id);
            }}> ${id}</label>`)}
        </fieldset>` : nothing}
        ${e._form ? html`<p class="form-error" role="alert" tabindex="-1">${e._form}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Create device</button></div>
      </form>
    </section>`;
  }

  private textField(id: string, name: string, label: string, errors: Errors, hint: string): TemplateResult {
    const err = errors[name];
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <span class="hint" id=${`${id}-hint`}>${hint}</span>
      <input id=${id} name=${name} autocomplete="off" spellcheck="false" aria-invalid=${err ? 'true' : 'false'}
        aria-describedby=${err ? `${id}-hint ${id}-error` : `${id}-hint`}>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}
    </div>`;
  }
}
customElements.define('vigil-api-keys', VigilApiKeys);
