/**
 * `<vigil-settings>` (`/settings`, admin): the hub's settings that live in its configuration
 * file (`GET`/`PATCH /api/settings`, docs/api.md#settings), in four fieldsets — Retention
 * (`recordings.*`), MQTT (`mqtt.*`, which take effect after a restart), Home Assistant
 * (`homeassistant.*`) and Logging (`log.level`).
 *
 * Each field shows the schema's description; a value set by an environment variable is shown
 * disabled with the variable named (it wins over the file). Save sends only what changed
 * (an emptied field removes the key: back to its default; an empty password field keeps the
 * password). The hub's `field` error is shown at its field; the keys waiting for a restart
 * are listed in a notice.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { shared } from '../styles.ts';

/** One setting as `GET /api/settings` returns it. */
interface Setting {
  value: unknown; source: 'default' | 'file' | 'env'; env: string; default?: unknown; live: boolean; description: string;
  has_password?: boolean; pending?: unknown;
}
interface SettingsView { file: string | null; writable: boolean; settings: Record<string, Setting>; restart_required?: string[] }

/** A control of the form. */
interface Field {
  key: string;
  label: string;
  type: 'number' | 'text' | 'password' | 'checkbox' | 'select';
  options?: { value: string; label: string }[];
  step?: string;
  min?: number;
  max?: number;
  /** Shown before the schema's description. */
  hint?: string;
}

interface Group { id: string; legend: string; note?: string; fields: Field[] }

const GROUPS: Group[] = [
  { id: 'retention', legend: 'Retention', fields: [
    { key: 'recordings.clip_retain_days', label: 'Keep event clips (days)', type: 'number', step: 'any', min: 0 },
    { key: 'recordings.max_size_gb', label: 'Size cap of recordings (GB)', type: 'number', step: 'any', min: 0 },
    { key: 'recordings.max_percent', label: 'Largest share of the disk (%)', type: 'number', step: 'any', min: 1, max: 100 },
    { key: 'recordings.min_free_gb', label: 'Free space always kept (GB)', type: 'number', step: 'any', min: 0 },
    { key: 'recordings.sweep_interval_s', label: 'Seconds between retention sweeps', type: 'number', step: 'any', min: 1 },
    { key: 'recordings.root', label: 'Recordings folder', type: 'text', hint: 'Takes effect after a restart.' },
  ] },
  { id: 'mqtt', legend: 'MQTT', note: 'MQTT settings take effect after the hub restarts.', fields: [
    { key: 'mqtt.url', label: 'External broker URL', type: 'text' },
    { key: 'mqtt.username', label: 'Broker user name', type: 'text' },
    { key: 'mqtt.password', label: 'Broker password', type: 'password' },
    { key: 'mqtt.protocol_version', label: 'Protocol version', type: 'select', options: [{ value: '4', label: 'MQTT 3.1.1 (4)' }, { value: '5', label: 'MQTT 5' }] },
    { key: 'mqtt.prefix', label: 'Topic prefix', type: 'text' },
    { key: 'mqtt.port', label: 'Embedded broker port', type: 'number', min: 0, max: 65535 },
    { key: 'mqtt.host', label: 'Embedded broker address', type: 'text' },
    { key: 'mqtt.websocket', label: 'MQTT over WebSocket at /mqtt', type: 'checkbox' },
    { key: 'mqtt.allow_anonymous', label: 'Allow anonymous clients from this machine', type: 'checkbox' },
  ] },
  { id: 'ha', legend: 'Home Assistant', fields: [
    { key: 'homeassistant.enabled', label: 'Publish Home Assistant discovery', type: 'checkbox' },
    { key: 'homeassistant.discovery_prefix', label: 'Discovery prefix', type: 'text' },
    { key: 'homeassistant.base_url', label: 'Hub address for Home Assistant', type: 'text' },
  ] },
  { id: 'log', legend: 'Logging', fields: [
    { key: 'log.level', label: 'Log level', type: 'select', options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => ({ value: l, label: l })) },
  ] },
];
const FIELDS = GROUPS.flatMap((g) => g.fields);
const idOf = (key: string): string => `s-${key.replace(/\./g, '-')}`;
const labelOf = (key: string): string => FIELDS.find((f) => f.key === key)?.label ?? key;

/** The schema's description (Markdown with `code` spans) as text and `<code>`. */
function describe(text: string): TemplateResult[] {
  return text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : html`${part}`));
}

/** A setting's value as the control's value ('' for unset). */
function shown(f: Field, s: Setting | undefined): string | boolean {
  const v = s?.value;
  if (f.type === 'checkbox') return v === true;
  if (f.type === 'password') return '';
  return v === null || v === undefined ? '' : String(v);
}

export class VigilSettings extends LitElement {
  static override properties = {
    camera: { type: String }, layoutId: { type: String }, query: { type: String },
    view: { state: true }, error: { state: true }, fieldErrors: { state: true }, formError: { state: true }, message: { state: true }, busy: { state: true },
  };
  declare camera: string;
  declare layoutId: string;
  declare query: string;
  declare view: SettingsView | null;
  declare error: string;
  declare fieldErrors: Record<string, string>;
  declare formError: string;
  declare message: string;
  declare busy: boolean;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.camera = '';
    this.layoutId = '';
    this.query = '';
    this.view = null;
    this.error = '';
    this.fieldErrors = {};
    this.formError = '';
    this.message = '';
    this.busy = false;
  }

  static override styles = [shared, css`
    form { display: grid; gap: 16px; max-width: 760px; }
    fieldset { border: 1px solid var(--line); border-radius: 8px; background: var(--card); padding: 12px 16px 16px; margin: 0; display: grid; gap: 14px; }
    legend { font-weight: 700; font-size: 1.05rem; padding: 0 6px; }
    .note { margin: 0; color: var(--warn); font-weight: 600; }
    .hint { color: var(--muted); font-size: .88rem; font-weight: 400; }
    .lock { color: var(--warn); font-size: .88rem; font-weight: 400; }
    .pending { color: var(--warn); font-size: .88rem; font-weight: 400; }
    .check { display: flex; gap: 8px; align-items: center; }
    .check input { min-height: auto; width: 20px; height: 20px; margin: 0; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .restart { border: 1px solid var(--warn); border-radius: 8px; padding: 10px 14px; background: var(--card); }
    .restart:empty { display: none; }
    input[disabled], select[disabled] { opacity: .7; cursor: not-allowed; }
    code { overflow-wrap: anywhere; }
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
    try {
      this.view = await get<SettingsView>('/api/settings', this.abort.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** The changed controls as a partial settings object (`null` = remove the key). */
  private changes(form: HTMLFormElement): Record<string, Record<string, unknown>> {
    const patch: Record<string, Record<string, unknown>> = {};
    const put = (key: string, v: unknown) => {
      const [section, ...rest] = key.split('.');
      (patch[section!] ??= {})[rest.join('.')] = v;
    };
    for (const f of FIELDS) {
      const s = this.view!.settings[f.key];
      const el = form.elements.namedItem(f.key) as HTMLInputElement | HTMLSelectElement | null;
      if (!el || !s || el.disabled) continue;
      if (f.type === 'checkbox') {
        const on = (el as HTMLInputElement).checked;
        if (on !== (s.value === true)) put(f.key, on);
        continue;
      }
      const raw = el.value.trim();
      if (f.type === 'password') {
        const clear = (form.elements.namedItem('mqtt.password.clear') as HTMLInputElement | null)?.checked;
        if (raw) put(f.key, raw);
        else if (clear) put(f.key, null);
        continue;
      }
      if (raw === shown(f, s)) continue;
      if (raw === '') { put(f.key, null); continue; }
      // A number the hub refuses (or text in a number field) is sent as typed: its error comes back for this field.
      const numeric = f.type === 'number' || f.key === 'mqtt.protocol_version';
      put(f.key, numeric && Number.isFinite(Number(raw)) ? Number(raw) : raw);
    }
    return patch;
  }

  private async save(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const patch = this.changes(form);
    this.fieldErrors = {};
    this.formError = '';
    this.message = '';
    if (!Object.keys(patch).length) { this.message = 'Nothing changed.'; return; }
    this.busy = true;
    try {
      const r = (await api<SettingsView>('PATCH', '/api/settings', patch)).data;
      this.view = r;
      const restart = r.restart_required ?? [];
      this.message = restart.length
        ? `Saved. ${restart.map(labelOf).join(', ')}: after a restart of the hub.`
        : 'Saved and applied.';
      await this.updateComplete;
      form.reset(); // the controls show the new values (their defaults come from the view)
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const f = a?.field ? FIELDS.find((x) => x.key === a.field || a.field!.startsWith(`${x.key}.`)) : undefined;
      // At its field the message needs no `key:` in front.
      if (f) this.fieldErrors = { [f.key]: a!.message.startsWith(`${a!.field}: `) ? a!.message.slice(a!.field!.length + 2) : a!.message };
      else this.formError = a ? a.message : String(err);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(f ? `#${idOf(f.key)}` : '#settings-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    const v = this.view;
    return html`
      <h1 tabindex="-1">Settings</h1>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${v === null ? (this.error ? nothing : html`<p aria-busy="true">Loading settings…</p>`) : this.form(v)}`;
  }

  private form(v: SettingsView): TemplateResult {
    const pending = Object.entries(v.settings).filter(([, s]) => s.pending !== undefined).map(([k]) => labelOf(k));
    return html`
      <p class="muted">${v.file ? html`Saved in <code>${v.file}</code>, keeping its comments.` : 'The hub was started without a configuration file: these settings are read-only.'}
        Values set by an environment variable cannot be changed here.</p>
      <div class="restart" id="restart-notice">${pending.length ? html`<strong>Waiting for a restart of the hub:</strong> ${pending.join(', ')}.` : nothing}</div>
      <form @submit=${(e: SubmitEvent) => this.save(e)} novalidate aria-describedby="restart-notice">
        ${GROUPS.map((g) => html`<fieldset id=${`group-${g.id}`} ?disabled=${!v.writable}>
          <legend>${g.legend}</legend>
          ${g.note ? html`<p class="note" id=${`note-${g.id}`}>${g.note}</p>` : nothing}
          ${g.fields.map((f) => this.field(f, v.settings[f.key], g))}
        </fieldset>`)}
        ${this.formError ? html`<p class="form-error" id="settings-error" role="alert" tabindex="-1">${this.formError}</p>` : nothing}
        <div class="actions">
          <button type="submit" ?disabled=${this.busy || !v.writable}>${this.busy ? 'Saving…' : 'Save settings'}</button>
          <p role="status" id="settings-message">${this.message}</p>
        </div>
      </form>`;
  }

  private field(f: Field, s: Setting | undefined, g: Group): TemplateResult {
    if (!s) return html``;
    const id = idOf(f.key);
    const err = this.fieldErrors[f.key];
    const locked = s.source === 'env';
    const value = shown(f, s);

    const described = [`${id}-hint`, locked ? `${id}-lock` : '', s.pending !== undefined ? `${id}-pending` : '', g.note ? `note-${g.id}` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ');
    const extra = html`
      <span class="hint" id=${`${id}-hint`}>${f.hint ? `${f.hint} ` : ''}${describe(s.description)}${s.default !== undefined && f.type !== 'checkbox' ? ` Default: ${String(s.default)}.` : ''}</span>
      ${locked ? html`<span class="lock" id=${`${id}-lock`}>Set by ${s.env} in the environment: change it where the hub is started.</span>` : nothing}
      ${s.pending !== undefined ? html`<span class="pending" id=${`${id}-pending`}>After a restart: ${f.type === 'password' ? 'the new password' : s.pending === null ? '(unset)' : String(s.pending)}.</span>` : nothing}
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}`;
    const common = { invalid: err ? 'true' : 'false' };
    if (f.type === 'checkbox') {
      return html`<div class="field" data-key=${f.key}>
        <div class="check"><input type="checkbox" id=${id} name=${f.key} ?checked=${value === true} .defaultChecked=${value === true} ?disabled=${locked}
          aria-invalid=${common.invalid} aria-describedby=${described}><label for=${id}>${f.label}</label></div>
        ${extra}
      </div>`;
    }
    if (f.type === 'select') {
      return html`<div class="field" data-key=${f.key}>
        <label for=${id}>${f.label}</label>
        <select id=${id} name=${f.key} ?disabled=${locked} aria-invalid=${common.invalid} aria-describedby=${described}>
          ${f.options!.map((o) => html`<option value=${o.value} ?selected=${o.value === value} .defaultSelected=${o.value === value}>${o.label}</option>`)}
        </select>
        ${extra}
      </div>`;
    }
    return html`<div class="field" data-key=${f.key}>
      <label for=${id}>${f.label}</label>
      <input id=${id} name=${f.key} type=${f.type} .defaultValue=${value as string} .value=${value as string} ?disabled=${locked}
        inputmode=${f.type === 'number' ? 'decimal' : nothing} step=${f.step ?? nothing} min=${f.min ?? nothing} max=${f.max ?? nothing}
        autocomplete=${f.type === 'password' ? 'new-password' : 'off'} spellcheck="false"
        placeholder=${f.type === 'password' && s.has_password ? '(unchanged)' : nothing}
        aria-invalid=${common.invalid} aria-describedby=${described}>
      ${f.type === 'password' && (s.has_password || s.pending !== undefined) ? html`<div class="check"><input type="checkbox" id=${`${id}-clear`} name="mqtt.password.clear" ?disabled=${locked}><label for=${`${id}-clear`}>Remove the password</label></div>` : nothing}
      ${extra}
    </div>`;
  }
}
customElements.define('vigil-settings', VigilSettings);
