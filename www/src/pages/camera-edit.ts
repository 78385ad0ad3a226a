/**
 * `<vigil-camera-edit camera="yard">` (admin, `/cameras/:name/edit`): the camera's settings
 * as a form in fieldsets — general (friendly name, enabled, device type), streams (the
 * detect / live / record / talk path slots and the credentials, which are never shown
 * back: the API only says `has_credentials`), detection, motion, objects to track with
 * each label's `min_score` / `threshold` / areas, snapshots, recording, ONVIF, faces and
 * plates — plus an "Advanced: JSON" disclosure that edits the same draft as text.
 *
 * Save sends only what changed: `PATCH /api/cameras/:name` (the hub deep-merges), or
 * `PUT` with the whole draft when a key was removed (an emptied optional field, e.g. a path
 * slot or the ONVIF URL), which `PATCH` cannot express. The hub's `{error: {field}}` (a
 * dotted path such as `detect.fps` or `paths.record`) is shown at the input of that path
 * ({@link inputFor}); success is announced in a `role=status` region. The form's shape is
 * `components/protocol/camera-config.ts` (docs/config.md#cameras).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import type { CameraConfig } from '../../../components/protocol/camera-config.ts';
import { ApiError, api, get } from '../api.ts';
import { shared } from '../styles.ts';
import { changes, getPath, inputFor, setPath, type Obj } from './camera-edit-diff.ts';

/** `GET /api/cameras/:name`: the config without credentials. */
export type PublicCamera = Omit<CameraConfig, 'username' | 'password'> & { has_credentials: boolean };

/** One input of the form, bound to a dotted path of the config. */
interface Field {
  path: string;
  label: string;
  kind: 'text' | 'number' | 'checkbox' | 'select';
  hint?: string;
  min?: number;
  max?: number;
  step?: number | 'any';
  options?: [value: string, label: string][];
  placeholder?: string;
}

/** A fieldset of the form. */
interface Group { id: string; legend: string; fields: Field[]; hint?: string }

const num = (path: string, label: string, min: number, max?: number, step: number | 'any' = 1, hint?: string): Field => ({ path, label, kind: 'number', min, max, step, hint });
const check = (path: string, label: string, hint?: string): Field => ({ path, label, kind: 'checkbox', hint });
const url = (path: string, label: string, hint?: string): Field => ({ path, label, kind: 'text', hint, placeholder: 'rtsp://host:554/stream' });

/** The fieldsets, in order; ranges as in the zod schema. */
const GROUPS: Group[] = [
  { id: 'general', legend: 'General', fields: [
    { path: 'friendly_name', label: 'Friendly name', kind: 'text', hint: 'Shown to people; empty = the name. At most 64 characters.' },
    check('enabled', 'Enabled', 'A disabled camera is not started.'),
    { path: 'device_type', label: 'Device type', kind: 'select', options: [['camera', 'Camera'], ['camera_speaker', 'Camera with speaker'], ['doorbell', 'Doorbell']] },
  ] },
  { id: 'streams', legend: 'Streams', hint: 'rtsp://, rtsps:// or file:// URLs; at least one. Empty a slot to remove it.', fields: [
    url('paths.detect', 'Detect stream URL', 'The stream detection runs on: use the camera’s sub stream.'),
    url('paths.live', 'Live stream URL'),
    url('paths.record', 'Record stream URL', 'Recorded with -c copy; falls back to the detect stream.'),
    url('paths.talk', 'Talk (two-way audio) URL', 'Stored only: two-way audio is not implemented.'),
  ] },
  { id: 'detect', legend: 'Detection', fields: [
    check('detect.enabled', 'Detect objects'),
    num('detect.fps', 'Frames per second', 0.5, 30, 0.5, 'Decoded frames per second, 0.5–30.'),
    num('detect.width', 'Width (px)', 64, 3840, 1, 'Width of the detect frames.'),
    { ...num('detect.height', 'Height (px)', 64, 2160), hint: 'Empty = keep the stream’s aspect ratio.', placeholder: 'aspect kept' },
    { path: 'detect.mode', label: 'Mode', kind: 'select', options: [['regions', 'Regions around motion'], ['full_frame', 'Full frame']] },
    num('detect.interval_without_motion', 'Check without motion every (s)', 1, undefined, 'any'),
    num('detect.max_disappeared', 'Event ends after unseen for (s)', 0.5, undefined, 'any'),
    num('detect.stationary_after', 'Stationary after still for (s)', 1, undefined, 'any'),
  ] },
  { id: 'motion', legend: 'Motion', fields: [
    check('motion.enabled', 'Detect motion'),
    num('motion.threshold', 'Pixel change threshold (1–255)', 1, 255),
    num('motion.min_area', 'Least changed area (0–1 of the frame)', 0, 1, 'any'),
    num('motion.off_delay', 'Motion off after (s)', 0, undefined, 'any'),
  ] },
  { id: 'snapshots', legend: 'Snapshots', fields: [
    check('snapshots.enabled', 'Publish snapshots'),
    num('snapshots.interval', 'Every (s)', 1, undefined, 'any'),
  ] },
  { id: 'record', legend: 'Recording', fields: [
    check('record.enabled', 'Record'),
    { path: 'record.mode', label: 'Keep beyond event clips', kind: 'select', options: [['continuous', 'Every segment'], ['motion', 'Segments with motion'], ['objects', 'Segments with tracked objects']] },
    num('record.segment_seconds', 'Segment length (s, 10–600)', 10, 600),
    num('record.retain_days.continuous', 'Keep continuous segments (days)', 0, undefined, 'any'),
    num('record.retain_days.motion', 'Keep motion segments (days)', 0, undefined, 'any'),
    num('record.retain_days.objects', 'Keep object segments (days)', 0, undefined, 'any'),
    num('record.pre_capture', 'Clip starts before the event (s)', 0, 60, 'any'),
    num('record.post_capture', 'Clip ends after the event (s)', 0, 300, 'any'),
    check('record.event_clips', 'Make a clip for each event'),
  ] },
  { id: 'onvif', legend: 'ONVIF', hint: 'The device service URL; empty = no ONVIF. The camera’s credentials log in.', fields: [
    { path: 'onvif.url', label: 'ONVIF device service URL', kind: 'text', placeholder: 'http://host/onvif/device_service' },
    check('onvif.events', 'Publish the device’s events'),
    check('onvif.ptz', 'Take PTZ commands'),
  ] },
  { id: 'enrich', legend: 'Faces and licence plates', fields: [
    check('face_recognition.enabled', 'Recognize known faces'),
    num('face_recognition.recognition_threshold', 'Face match threshold (0–1)', 0, 1, 0.01),
    num('face_recognition.min_face_size', 'Smallest face (px wide)', 10, 1000),
    check('lpr.enabled', 'Read licence plates'),
    num('lpr.min_plate_size', 'Smallest plate (px wide)', 16, 1000),
    num('lpr.min_score', 'Plate read score at least (0–1)', 0, 1, 0.01),
  ] },
];

/** Labels offered as checkboxes (COCO labels people track at home), besides those already tracked. */
const COMMON_LABELS = ['person', 'car', 'bicycle', 'motorcycle', 'bus', 'truck', 'dog', 'cat', 'bird', 'horse'];
/** The per-label filter inputs; empty = the schema's default (placeholder). */
const FILTER_FIELDS: { key: string; label: string; min: number; max?: number; step: number | 'any'; def: number }[] = [
  { key: 'min_score', label: 'Min score', min: 0, max: 1, step: 0.01, def: 0.4 },
  { key: 'threshold', label: 'Threshold', min: 0, max: 1, step: 0.01, def: 0.55 },
  { key: 'min_area', label: 'Min area', min: 0, step: 'any', def: 0 },
  { key: 'max_area', label: 'Max area', min: 0, step: 'any', def: 24_000_000 },
];

const idOf = (path: string): string => `e-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class VigilCameraEdit extends LitElement {
  static override properties = {
    camera: { type: String }, loadError: { state: true }, draft: { state: true }, hasCredentials: { state: true },
    fieldErrors: { state: true }, formError: { state: true }, message: { state: true }, busy: { state: true },
    jsonText: { state: true }, jsonError: { state: true },
  };
  declare camera: string;
  declare loadError: string;
  /** The form's state: the loaded config, edited in place. */
  declare draft: Obj | null;
  declare hasCredentials: boolean;
  /** Input path → the hub's message. */
  declare fieldErrors: Record<string, string>;
  declare formError: string;
  declare message: string;
  declare busy: boolean;
  declare jsonText: string;
  declare jsonError: string;
  /** The config as loaded or last saved (without `has_credentials`). */
  private original: Obj = {};
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.camera = '';
    this.loadError = '';
    this.draft = null;
    this.hasCredentials = false;
    this.fieldErrors = {};
    this.formError = '';
    this.message = '';
    this.busy = false;
    this.jsonText = '';
    this.jsonError = '';
  }

  static override styles = [shared, css`
    form { display: grid; gap: 16px; }
    .groups { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 380px), 1fr)); gap: 16px; align-items: start; grid-auto-flow: dense; }
    #g-objects { grid-column: 1 / -1; }
    fieldset { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 16px; margin: 0; display: grid; gap: 12px; background: var(--card); min-width: 0; }
    legend { font-weight: 700; padding: 0 4px; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; margin: 0; }
    .check { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
    .check input { width: 20px; height: 20px; min-height: 0; margin: 0; }
    .check .hint, .check .field-error { flex-basis: 100%; padding-left: 30px; }
    .labels { display: flex; flex-wrap: wrap; gap: 6px 16px; }
    .labels .check { flex-wrap: nowrap; }
    .add-label { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
    .filters { overflow-x: auto; }
    .filters input { width: 100%; min-width: 72px; }
    .filters td, .filters th { padding: 4px; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .sub { margin: -8px 0 16px; }
    textarea { font: 13px/1.4 ui-monospace, monospace; color: var(--fg); background: var(--input); border: 1px solid var(--line); border-radius: 6px; padding: 8px; width: 100%; min-height: 320px; }
    details { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
    details[open] { display: grid; gap: 10px; }
    summary { cursor: pointer; font-weight: 700; }
  `];

  private get enc(): string { return encodeURIComponent(this.camera); }

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
      this.accept(await get<PublicCamera>(`/api/cameras/${this.enc}`, this.abort.signal));
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.loadError = err instanceof ApiError && err.status === 404 ? `There is no camera ${this.camera}.` : err instanceof ApiError ? err.message : String(err);
    }
  }

  /** Takes a config from the hub as the new starting point. */
  private accept(cam: PublicCamera): void {
    const { has_credentials, ...config } = cam;
    this.hasCredentials = has_credentials;
    this.original = clone(config) as Obj;
    this.draft = clone(config) as Obj;
    this.jsonText = JSON.stringify(this.draft, null, 2);
  }

  /** Every input path of the form (for mapping API errors). */
  private inputPaths(): string[] {
    const paths = GROUPS.flatMap((g) => g.fields.map((f) => f.path));
    paths.push('username', 'password', 'objects.track');
    for (const l of this.tracked()) for (const f of FILTER_FIELDS) paths.push(`objects.filters.${l}.${f.key}`);
    return paths;
  }

  private tracked(): string[] { return (getPath(this.draft, 'objects.track') as string[] | undefined) ?? []; }

  private set(path: string, value: unknown): void {
    if (!this.draft) return;
    setPath(this.draft, path, value);
    if (path === 'onvif.url' && value === undefined) delete this.draft.onvif; // no URL, no ONVIF block
    if (this.fieldErrors[path]) { const { [path]: _, ...rest } = this.fieldErrors; this.fieldErrors = rest; }
    this.message = '';
    this.requestUpdate();
  }

  private onInput(f: Field, e: Event): void {
    const el = e.target as HTMLInputElement | HTMLSelectElement;
    if (f.kind === 'checkbox') { this.set(f.path, (el as HTMLInputElement).checked); return; }
    if (f.kind === 'number') {
      // While typed, "0." is not a number yet: left alone until save (badInputs).
      if (!(el as HTMLInputElement).validity.badInput) this.set(f.path, el.value === '' ? undefined : Number(el.value));
      return;
    }
    this.set(f.path, el.value.trim() === '' ? undefined : el.value);
  }

  private toggleLabel(label: string, on: boolean): void {
    const now = this.tracked().filter((l) => l !== label);
    this.set('objects.track', on ? [...now, label] : now);
  }

  private addLabel(): void {
    const input = this.renderRoot.querySelector<HTMLInputElement>('#e-new-label');
    const label = input?.value.trim().toLowerCase() ?? '';
    if (!label) return;
    if (!this.tracked().includes(label)) this.toggleLabel(label, true);
    input!.value = '';
  }

  private setFilter(label: string, key: string, el: HTMLInputElement): void {
    const path = `objects.filters.${label}.${key}`;
    if (el.validity.badInput) return;
    this.set(path, el.value === '' ? undefined : Number(el.value));
    const filters = getPath(this.draft, 'objects.filters') as Obj | undefined;
    if (filters && Object.keys((filters[label] as Obj | undefined) ?? {}).length === 0) delete filters[label];
  }

  private applyJson(): void {
    this.jsonError = '';
    let v: unknown;
    try { v = JSON.parse(this.jsonText); } catch (err) { this.jsonError = `Not valid JSON: ${(err as Error).message}`; return; }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { this.jsonError = 'The configuration must be a JSON object.'; return; }
    const o = v as Obj;
    if (o.name !== undefined && o.name !== this.camera) { this.jsonError = 'The name cannot change.'; return; }
    delete o.has_credentials;
    this.draft = { ...o, name: this.camera };
    this.message = 'The JSON is in the form: check it and save.';
  }

  private async save(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.draft || this.busy) return;
    const form = e.target as HTMLFormElement;
    const user = (form.elements.namedItem('username') as HTMLInputElement).value.trim();
    const pass = (form.elements.namedItem('password') as HTMLInputElement).value;
    const forget = (form.elements.namedItem('forget') as HTMLInputElement | null)?.checked ?? false;
    const creds: Obj = forget ? { username: '', password: '' } : {};
    if (user) creds.username = user;
    if (pass) creds.password = pass;
    const bad = [...form.querySelectorAll<HTMLInputElement>('input[type="number"]')].find((i) => i.validity.badInput);
    if (bad) {
      const path = this.inputPaths().find((p) => idOf(p) === bad.id);
      this.fieldErrors = path ? { [path]: 'Not a number.' } : {};
      this.message = 'Not saved.';
      bad.focus();
      return;
    }
    const { patch, removed } = changes(this.original, this.draft);
    this.fieldErrors = {};
    this.formError = '';
    this.message = '';
    if (!Object.keys(patch).length && !removed.length && !Object.keys(creds).length) { this.message = 'Nothing changed.'; return; }
    this.busy = true;
    try {
      const path = `/api/cameras/${this.enc}`;
      const out = removed.length
        ? (await api<PublicCamera>('PUT', path, { ...this.draft, ...creds })).data
        : (await api<PublicCamera>('PATCH', path, { ...patch, ...creds })).data;
      this.accept(out);
      // Not form.reset(): it would put every input back to its (empty) default attribute.
      for (const n of ['username', 'password']) (form.elements.namedItem(n) as HTMLInputElement).value = '';
      const forgetBox = form.elements.namedItem('forget') as HTMLInputElement | null;
      if (forgetBox) forgetBox.checked = false;
      this.message = 'Saved. The camera restarts with the new settings within 2 s.';
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const at = inputFor(a?.field, this.inputPaths());
      if (at) this.fieldErrors = { [at]: a!.message };
      else this.formError = a ? a.message : String(err);
      this.message = 'Not saved.';
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(at ? `#${idOf(at)}` : '#edit-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    const title = html`<h1>Edit camera ${this.camera}</h1>`;
    if (this.loadError) return html`${title}<p class="form-error" role="alert">${this.loadError}</p><p><a href="/cameras">All cameras</a></p>`;
    if (!this.draft) return html`${title}<p aria-busy="true">Loading…</p>`;
    return html`${title}
      <p class="sub"><a href=${`/cameras/${this.enc}`}>Back to the camera</a> · <a href=${`/cameras/${this.enc}/zones`}>Zones and masks</a></p>
      <form @submit=${(e: SubmitEvent) => this.save(e)} novalidate aria-describedby="edit-status">
        <div class="groups">
          ${GROUPS.slice(0, 3).map((g) => this.group(g))}
          ${this.objectsGroup()}
          ${GROUPS.slice(3).map((g) => this.group(g))}
        </div>
        <details @toggle=${(e: Event) => { if ((e.target as HTMLDetailsElement).open) { this.jsonText = JSON.stringify(this.draft, null, 2); this.jsonError = ''; } }}>
          <summary>Advanced: JSON</summary>
          <p class="hint" id="json-hint">The whole configuration as the API takes it (docs/config.md#cameras). “Apply to the form” puts it in the form; Save sends it.</p>
          <label for="e-json">Configuration JSON</label>
          <textarea id="e-json" spellcheck="false" aria-describedby=${this.jsonError ? 'json-hint json-error' : 'json-hint'} aria-invalid=${this.jsonError ? 'true' : 'false'}
            .value=${live(this.jsonText)} @input=${(e: Event) => { this.jsonText = (e.target as HTMLTextAreaElement).value; }}></textarea>
          ${this.jsonError ? html`<span class="field-error" id="json-error" role="alert">${this.jsonError}</span>` : nothing}
          <div><button type="button" class="secondary" @click=${() => this.applyJson()}>Apply to the form</button></div>
        </details>
        ${this.formError ? html`<p class="form-error" id="edit-error" role="alert" tabindex="-1">${this.formError}</p>` : nothing}
        <div class="actions">
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Saving…' : 'Save'}</button>
          <a class="button secondary" href=${`/cameras/${this.enc}`}>Cancel</a>
          <span role="status" id="edit-status">${this.message}</span>
        </div>
      </form>`;
  }

  private group(g: Group): TemplateResult {
    return html`<fieldset id=${`g-${g.id}`}>
      <legend>${g.legend}</legend>
      ${g.hint ? html`<p class="hint">${g.hint}</p>` : nothing}
      ${g.fields.map((f) => this.field(f))}
      ${g.id === 'streams' ? this.credentials() : nothing}
    </fieldset>`;
  }

  private field(f: Field): TemplateResult {
    const id = idOf(f.path);
    const err = this.fieldErrors[f.path];
    const described = [f.hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || nothing;
    const v = getPath(this.draft, f.path);
    const hint = f.hint ? html`<span class="hint" id=${`${id}-hint`}>${f.hint}</span>` : nothing;
    const error = err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing;
    if (f.kind === 'checkbox') {
      const disabled = f.path.startsWith('onvif.') && !getPath(this.draft, 'onvif.url');
      return html`<div class="check">
        <input type="checkbox" id=${id} .checked=${live(v === true)} ?disabled=${disabled} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described}
          @change=${(e: Event) => this.onInput(f, e)}>
        <label for=${id}>${f.label}</label>${hint}${error}</div>`;
    }
    if (f.kind === 'select') {
      return html`<div class="field"><label for=${id}>${f.label}</label>${hint}
        <select id=${id} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described} @change=${(e: Event) => this.onInput(f, e)}>
          ${f.options!.map(([value, label]) => html`<option value=${value} ?selected=${v === value}>${label}</option>`)}
        </select>${error}</div>`;
    }
    const isNum = f.kind === 'number';
    return html`<div class="field"><label for=${id}>${f.label}</label>${hint}
      <input id=${id} type=${isNum ? 'number' : 'text'} .value=${isNum ? (v === undefined || v === null ? '' : String(v)) : live(v === undefined || v === null ? '' : String(v))}
        min=${f.min ?? nothing} max=${f.max ?? nothing} step=${f.step ?? nothing} placeholder=${f.placeholder ?? nothing}
        inputmode=${isNum ? (f.step === 1 ? 'numeric' : 'decimal') : nothing} spellcheck="false" autocomplete="off"
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described} @input=${(e: Event) => this.onInput(f, e)}>${error}</div>`;
  }

  private credentials(): TemplateResult {
    const hint = this.hasCredentials ? 'Credentials are stored (never shown). Leave empty to keep them.' : 'No credentials stored.';
    const errU = this.fieldErrors.username;
    const errP = this.fieldErrors.password;
    return html`<p class="hint" id="cred-hint">${hint}</p>
      <div class="field"><label for="e-username">Camera username</label>
        <input id="e-username" name="username" autocomplete="off" spellcheck="false" placeholder=${this.hasCredentials ? '(stored)' : nothing}
          aria-describedby=${errU ? 'cred-hint e-username-error' : 'cred-hint'} aria-invalid=${errU ? 'true' : 'false'}>
        ${errU ? html`<span class="field-error" id="e-username-error">${errU}</span>` : nothing}</div>
      <div class="field"><label for="e-password">Camera password</label>
        <input id="e-password" name="password" type="password" autocomplete="new-password" placeholder=${this.hasCredentials ? '(stored)' : nothing}
          aria-describedby=${errP ? 'cred-hint e-password-error' : 'cred-hint'} aria-invalid=${errP ? 'true' : 'false'}>
        ${errP ? html`<span class="field-error" id="e-password-error">${errP}</span>` : nothing}</div>
      ${this.hasCredentials ? html`<div class="check"><input type="checkbox" id="e-forget" name="forget"><label for="e-forget">Forget the stored credentials</label></div>` : nothing}`;
  }

  private objectsGroup(): TemplateResult {
    const tracked = this.tracked();
    const offered = [...COMMON_LABELS, ...tracked.filter((l) => !COMMON_LABELS.includes(l))];
    const filters = (getPath(this.draft, 'objects.filters') as Record<string, Obj> | undefined) ?? {};
    const errTrack = this.fieldErrors['objects.track'];
    const filterErrors = Object.entries(this.fieldErrors).filter(([p]) => p.startsWith('objects.filters.'));
    return html`<fieldset id="g-objects">
      <legend>Objects</legend>
      <fieldset class="labels" id=${idOf('objects.track')} tabindex="-1" aria-describedby=${errTrack ? 'track-error' : nothing}>
        <legend>Track these objects</legend>
        ${offered.map((l) => html`<div class="check"><input type="checkbox" id=${`e-track-${l.replace(/\W+/g, '-')}`} .checked=${live(tracked.includes(l))}
          @change=${(e: Event) => this.toggleLabel(l, (e.target as HTMLInputElement).checked)}><label for=${`e-track-${l.replace(/\W+/g, '-')}`}>${l}</label></div>`)}
      </fieldset>
      ${errTrack ? html`<span class="field-error" id="track-error">${errTrack}</span>` : nothing}
      <div class="add-label">
        <div class="field"><label for="e-new-label">Other label (COCO)</label>
          <input id="e-new-label" spellcheck="false" autocomplete="off" @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter') { e.preventDefault(); this.addLabel(); } }}></div>
        <button type="button" class="secondary" @click=${() => this.addLabel()}>Track it</button>
      </div>
      ${tracked.length ? html`<p class="hint" id="filters-hint">Per-object filters: scores 0–1 (a detection’s least score; the median score an object needs to count); areas in px, or ≤ 1 as a fraction of the frame. Empty = the default shown.</p>
      <div class="filters">
        <table aria-describedby="filters-hint">
          <caption class="visually-hidden">Per-object filters</caption>
          <thead><tr><th scope="col">Object</th>${FILTER_FIELDS.map((f) => html`<th scope="col">${f.label}</th>`)}</tr></thead>
          <tbody>${tracked.map((l) => html`<tr data-label=${l}><th scope="row">${l}</th>${FILTER_FIELDS.map((f) => {
            const path = `objects.filters.${l}.${f.key}`;
            const v = filters[l]?.[f.key];
            return html`<td><input id=${idOf(path)} type="number" min=${f.min} max=${f.max ?? nothing} step=${f.step} placeholder=${String(f.def)} inputmode="decimal"
              aria-label=${`${f.label} of ${l}`} aria-invalid=${this.fieldErrors[path] ? 'true' : 'false'} aria-describedby=${this.fieldErrors[path] ? 'filter-error' : nothing}
              .value=${v === undefined ? '' : String(v)} @input=${(e: Event) => this.setFilter(l, f.key, e.target as HTMLInputElement)}></td>`;
          })}</tr>`)}</tbody>
        </table>
        ${filterErrors.length ? html`<span class="field-error" id="filter-error">${filterErrors.map(([, m]) => m).join(' ')}</span>` : nothing}
      </div>` : html`<p class="hint">No object is tracked: detection finds nothing.</p>`}
    </fieldset>`;
  }
}
customElements.define('vigil-camera-edit', VigilCameraEdit);
