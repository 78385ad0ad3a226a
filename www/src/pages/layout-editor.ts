/**
 * `<vigil-layout-editor layoutId="front">` (`/layouts/<id>`; `/layouts/new` creates; admins):
 * the camera-wall layouts editor (docs/kiosk.md).
 *
 * - Start from a preset (fullscreen, 2×2, 1+3, 3×3, 1+7, 4×4: the presets of
 *   `POST /api/layouts`): its regions fill the grid; cells already bound are kept, in order.
 * - Draw, move and resize regions on the 12×12 grid with the pointer (`<vigil-layout-grid>`),
 *   or with the keyboard (arrow keys, Shift + arrow keys, "Add region", and the selected
 *   region's x / y / w / h number inputs). Overlaps are refused while dragging and
 *   flagged on the region when typed.
 * - Bind the selected region: a camera (stream auto / main / sub), a web page (http(s) URL),
 *   custom HTML, or nothing.
 * - The layout's name, id (new layouts; suggested from the name), priority (hot / normal),
 *   cooling timeout (s) and the cameras to preload.
 *
 * Save sends `POST /api/layouts` (new) or `PUT /api/layouts/<id>` with `regions`. The API's
 * field errors (`regions.1` for an overlap, `regions.0.cell.camera`, `name` …; the hub lists
 * every problem as `path: message; …`) are shown on the region and the field they name, with
 * a summary whose buttons select the region at fault.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { navigate } from '../router.ts';
import { shared } from '../styles.ts';
import type { Camera } from '../types.ts';
import './layout-editor-grid.ts';
import type { EdRegion, VigilLayoutGrid } from './layout-editor-grid.ts';
import {
  GRID, MAX_CELLS, PRESETS, cellText, fieldErrors, fits, freeSpot, nextRegionName, overlapping, presetRegions, slugify,
  type Box, type Cell, type Layout, type PresetName, type Region, type StreamChoice,
} from './layouts-grid.ts';

/** A message for the editor that replaces this one after "create" navigated to the new layout's URL. */
let flash = '';

const KINDS = [
  { id: '', label: 'Nothing (empty)' },
  { id: 'camera', label: 'Camera' },
  { id: 'web', label: 'Web page' },
  { id: 'html', label: 'Custom HTML' },
] as const;

/** Layout-level fields, their API path and label (for the error summary). */
const LAYOUT_FIELDS: Record<string, string> = {
  id: 'Id', name: 'Name', priority: 'Priority', cooling_timeout_seconds: 'Cooling timeout', preload_camera_ids: 'Preload cameras', regions: 'Regions',
};

export class VigilLayoutEditor extends LitElement {
  static override properties = {
    layoutId: { type: String },
    loaded: { state: true }, loadError: { state: true }, cameras: { state: true },
    name: { state: true }, lid: { state: true }, priority: { state: true }, cooling: { state: true }, preload: { state: true },
    regions: { state: true }, selected: { state: true }, errors: { state: true }, regionErrors: { state: true },
    message: { state: true }, busy: { state: true },
  };
  declare layoutId: string;
  declare loaded: boolean;
  declare loadError: string;
  declare cameras: string[];
  declare name: string;
  declare lid: string;
  declare priority: 'hot' | 'normal';
  declare cooling: number;
  declare preload: string[];
  declare regions: EdRegion[];
  declare selected: number;
  /** Layout-level API errors: path (`name`, `preload_camera_ids.0`, `''` for the form) → message. */
  declare errors: Record<string, string>;
  /** API errors on regions: region key → (rest of the path: `''`, `x`, `cell.camera` …) → message. */
  declare regionErrors: Map<number, Record<string, string>>;
  declare message: string;
  declare busy: boolean;
  private idEdited = false;
  private nextKey = 1;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.layoutId = '';
    this.loaded = false;
    this.loadError = '';
    this.cameras = [];
    this.name = '';
    this.lid = '';
    this.priority = 'normal';
    this.cooling = 30;
    this.preload = [];
    this.regions = [];
    this.selected = -1;
    this.errors = {};
    this.regionErrors = new Map();
    this.message = '';
    this.busy = false;
  }

  static override styles = [shared, css`
    form { display: grid; gap: 16px; }
    section { display: grid; gap: 12px; }
    section > h2 { margin: 8px 0 0; }
    .row { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); align-items: start; }
    .editor { display: grid; gap: 16px; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); align-items: start; }
    @media (max-width: 820px) { .editor { grid-template-columns: 1fr; } }
    fieldset { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 0; display: grid; gap: 10px; background: var(--card); min-width: 0; }
    legend { font-weight: 600; padding: 0 4px; }
    .presets { display: flex; flex-wrap: wrap; gap: 8px; }
    .presets button { min-width: 64px; }
    .boxes { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; align-items: end; }
    .boxes input { width: 100%; }
    .checks { display: flex; flex-wrap: wrap; gap: 6px 18px; }
    .check { display: flex; align-items: center; gap: 8px; font-weight: 400; }
    .check input { width: 20px; height: 20px; min-height: 0; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    textarea { font: .9rem ui-monospace, monospace; color: var(--fg); background: var(--input); border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-height: 120px; width: 100%; }
    textarea[aria-invalid="true"] { border-color: var(--bad); }
    .summary { border: 1px solid var(--bad); border-radius: 8px; padding: 10px 14px; background: var(--card); }
    .summary h2 { margin: 0 0 6px; color: var(--bad); font-size: 1rem; }
    .summary ul { margin: 0; padding-left: 18px; display: grid; gap: 4px; }
    .summary button { min-height: 32px; padding: 2px 10px; }
    .link-button { background: none; border: 0; color: var(--accent); padding: 0; min-height: 0; text-decoration: underline; font-weight: 400; }
    .warning { color: var(--bad); margin: 0; font-size: .9rem; }
    .id { font-family: ui-monospace, monospace; }
  `];

  private get isNew(): boolean { return !this.layoutId || this.layoutId === 'new'; }

  override connectedCallback(): void {
    super.connectedCallback();
    this.message = flash;
    flash = '';
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
  }

  private async load(): Promise<void> {
    try {
      const [cams, layout] = await Promise.all([
        get<Camera[]>('/api/cameras', this.abort.signal),
        this.isNew ? Promise.resolve(null) : get<Layout>(`/api/layouts/${encodeURIComponent(this.layoutId)}`, this.abort.signal),
      ]);
      this.cameras = cams.map((c) => c.name).sort();
      if (layout) {
        this.name = layout.name;
        this.lid = layout.id;
        this.priority = layout.priority;
        this.cooling = layout.cooling_timeout_seconds;
        this.preload = [...layout.preload_camera_ids];
        this.regions = layout.regions.map((r) => this.keyed(r));
        this.selected = this.regions[0]?.key ?? -1;
      } else {
        this.applyPreset('2x2', true);
      }
      this.loaded = true;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.loadError = err instanceof ApiError && err.status === 404 ? `There is no layout ${this.layoutId}, or it shows a camera you may not see.` : err instanceof ApiError ? err.message : String(err);
    }
  }

  private keyed(r: Region): EdRegion {
    return { key: this.nextKey++, name: r.name, x: r.x, y: r.y, w: r.w, h: r.h, ...(r.cell ? { cell: { ...r.cell } } : {}) };
  }

  private get sel(): EdRegion | undefined { return this.regions.find((r) => r.key === this.selected); }
  private indexOf(key: number): number { return this.regions.findIndex((r) => r.key === key); }
  private grid(): VigilLayoutGrid | null { return this.renderRoot.querySelector('vigil-layout-grid'); }

  /** Focuses region `key`'s button once this editor (and so the grid) has rendered it. */
  private async focusRegion(key: number): Promise<void> {
    await this.updateComplete;
    await this.grid()?.focusRegion(key);
  }

  private say(text: string): void {
    // The same text twice in a row would not be announced again: toggle a trailing no-break space.
    this.message = text === this.message ? `${text}\u00a0` : text;
  }

  /** Replaces region `key` (its errors are cleared: they were about what it was). */
  private update1(key: number, patch: Partial<EdRegion>): void {
    this.regions = this.regions.map((r) => (r.key === key ? { ...r, ...patch } : r));
    if (this.regionErrors.has(key)) {
      const m = new Map(this.regionErrors);
      m.delete(key);
      this.regionErrors = m;
    }
  }

  private applyPreset(p: PresetName, quiet = false): void {
    const old = this.regions;
    const next = presetRegions(p).map((r, i) => this.keyed({ ...r, ...(old[i]?.cell ? { cell: old[i]!.cell } : {}) }));
    const kept = next.filter((r) => r.cell).length;
    this.regions = next;
    this.regionErrors = new Map();
    this.selected = next[0]!.key;
    const label = PRESETS.find((x) => x.id === p)!.label;
    if (!quiet) this.say(`Preset ${label}: ${next.length} ${next.length === 1 ? 'region' : 'regions'}${kept ? `, ${kept} bound ${kept === 1 ? 'cell' : 'cells'} kept in order` : ''}.`);
  }

  private addRegion(): void {
    if (this.regions.length >= MAX_CELLS) { this.say(`A layout has at most ${MAX_CELLS} regions.`); return; }
    const spot = freeSpot(this.regions);
    if (!spot) { this.say('No free cell left: make a region smaller or remove one first.'); return; }
    this.create(spot);
  }

  private create(box: Box): void {
    const r = this.keyed({ name: nextRegionName(this.regions), ...box });
    this.regions = [...this.regions, r];
    this.selected = r.key;
    this.say(`Region ${r.name} added at column ${box.x + 1}, row ${box.y + 1}, ${box.w} by ${box.h} cells.`);
    void this.focusRegion(r.key);
  }

  private removeRegion(key: number): void {
    const i = this.indexOf(key);
    if (i < 0) return;
    const name = this.regions[i]!.name;
    this.regions = this.regions.filter((r) => r.key !== key);
    const m = new Map(this.regionErrors);
    m.delete(key);
    this.regionErrors = m;
    const next = this.regions[Math.min(i, this.regions.length - 1)];
    this.selected = next?.key ?? -1;
    this.say(`Region ${name} removed.`);
    if (next) void this.focusRegion(next.key);
  }

  private moved(key: number, box: Box): void {
    const r = this.regions.find((x) => x.key === key);
    if (!r) return;
    const resized = r.w !== box.w || r.h !== box.h;
    this.update1(key, box);
    this.say(resized ? `${r.name} is now ${box.w} by ${box.h} cells.` : `${r.name} moved to column ${box.x + 1}, row ${box.y + 1}.`);
  }

  private setBox(k: keyof Box, v: string): void {
    const r = this.sel;
    const n = Number(v);
    if (!r || v === '' || !Number.isInteger(n)) return;
    this.update1(r.key, { [k]: n });
  }

  private setKind(kind: string): void {
    const r = this.sel;
    if (!r) return;
    let cell: Cell | undefined;
    if (kind === 'camera') cell = { type: 'camera', camera: r.cell?.type === 'camera' ? r.cell.camera : this.cameras[0] ?? '', stream: r.cell?.type === 'camera' ? r.cell.stream ?? 'auto' : 'auto' };
    else if (kind === 'web') cell = { type: 'web', url: r.cell?.type === 'web' ? r.cell.url : 'https://' };
    else if (kind === 'html') cell = { type: 'html', html: r.cell?.type === 'html' ? r.cell.html : '' };
    this.update1(r.key, { cell });
  }

  private setCell(patch: Record<string, string>): void {
    const r = this.sel;
    if (!r?.cell) return;
    this.update1(r.key, { cell: { ...r.cell, ...patch } as Cell });
  }

  private onName(v: string): void {
    this.name = v;
    if (this.isNew && !this.idEdited) this.lid = slugify(v);
  }

  private togglePreload(cam: string, on: boolean): void {
    this.preload = on ? [...this.preload.filter((c) => c !== cam), cam] : this.preload.filter((c) => c !== cam);
  }

  /** Client-side problems: regions that overlap an earlier one or leave the grid (the hub refuses both). */
  private localProblems(): Map<number, string> {
    const out = new Map<number, string>();
    const over = overlapping(this.regions);
    this.regions.forEach((r, i) => {
      if (!fits(r)) out.set(r.key, `must fit the ${GRID}×${GRID} grid`);
      else if (over.has(i)) {
        const j = this.regions.findIndex((o, k) => k < i && o.x < r.x + r.w && r.x < o.x + o.w && o.y < r.y + r.h && r.y < o.y + o.h);
        out.set(r.key, `overlaps ${this.regions[j]?.name ?? 'another region'}`);
      }
    });
    return out;
  }

  private body(): Record<string, unknown> {
    return {
      ...(this.isNew ? { id: this.lid } : {}),
      name: this.name,
      regions: this.regions.map((r) => ({ name: r.name, x: r.x, y: r.y, w: r.w, h: r.h, ...(r.cell ? { cell: r.cell } : {}) })),
      priority: this.priority,
      cooling_timeout_seconds: this.cooling,
      preload_camera_ids: this.preload,
    };
  }

  private async save(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.errors = {};
    this.regionErrors = new Map();
    this.busy = true;
    const sent = this.regions;
    try {
      const path = this.isNew ? '/api/layouts' : `/api/layouts/${encodeURIComponent(this.layoutId)}`;
      const saved = (await api<Layout>(this.isNew ? 'POST' : 'PUT', path, this.body())).data;
      if (this.isNew) {
        flash = `Layout ${saved.name} created.`;
        navigate(`/layouts/${encodeURIComponent(saved.id)}`, true);
        return;
      }
      this.say(`Layout ${saved.name} saved.`);
    } catch (err) {
      this.showErrors(err, sent);
    } finally {
      this.busy = false;
    }
  }

  /** Spreads an API error over the regions and fields it names, selects the first region at fault and focuses the summary. */
  private async showErrors(err: unknown, sent: EdRegion[]): Promise<void> {
    if (!(err instanceof ApiError)) { this.errors = { '': String(err) }; return; }
    const all = err.code === 'conflict' && !err.field ? { id: err.message } : fieldErrors(err.message, err.field);
    const layoutErrs: Record<string, string> = {};
    const regionErrs = new Map<number, Record<string, string>>();
    for (const [path, msg] of Object.entries(all)) {
      const m = /^regions\.(\d+)(?:\.(.+))?$/.exec(path);
      const r = m ? sent[Number(m[1])] : undefined;
      if (r && this.indexOf(r.key) >= 0) regionErrs.set(r.key, { ...regionErrs.get(r.key), [m![2] ?? '']: msg });
      else if (/^preload_camera_ids\.\d+$/.test(path)) layoutErrs.preload_camera_ids = msg;
      else layoutErrs[path in LAYOUT_FIELDS ? path : ''] = path in LAYOUT_FIELDS || !path ? msg : `${path}: ${msg}`;
    }
    this.errors = layoutErrs;
    this.regionErrors = regionErrs;
    const first = [...regionErrs.keys()][0];
    if (first !== undefined) this.selected = first;
    this.say('The layout was not saved.');
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#error-summary')?.focus();
  }

  override render(): TemplateResult {
    const title = this.isNew ? 'New layout' : `Edit layout ${this.name || this.layoutId}`;
    if (this.loadError) return html`<h1>${title}</h1><p class="form-error" role="alert">${this.loadError}</p><p><a href="/layouts">All layouts</a></p>`;
    if (!this.loaded) return html`<h1>${title}</h1><p aria-busy="true">Loading…</p>`;
    const problems = this.localProblems();
    for (const [k, e] of this.regionErrors) if (e[''] ?? Object.values(e)[0]) problems.set(k, e[''] ?? Object.values(e)[0]!);
    return html`
      <h1 tabindex="-1">${title}</h1>
      <p role="status" id="editor-message">${this.message}</p>
      ${this.summary()}
      <form @submit=${(e: SubmitEvent) => this.save(e)} novalidate>
        <section aria-labelledby="about-h">
          <h2 id="about-h">Layout</h2>
          <div class="row">
            ${this.input('name', 'Name', this.name, (v) => this.onName(v), { required: true, maxlength: 128 })}
            ${this.isNew ? this.input('id', 'Id', this.lid, (v) => { this.lid = v; this.idEdited = true; }, { hint: 'a-z, 0-9, _ and -; used in MQTT topics.', required: true, maxlength: 64 })
              : html`<div class="field"><span class="hint">Id</span><span class="id" id="layout-id">${this.lid}</span></div>`}
            <div class="field">
              <label for="f-priority">Priority</label>
              <select id="f-priority" .value=${this.priority} aria-describedby="f-priority-hint" aria-invalid=${this.errors.priority ? 'true' : 'false'}
                @change=${(e: Event) => { this.priority = (e.target as HTMLSelectElement).value as 'hot' | 'normal'; }}>
                <option value="normal" ?selected=${this.priority === 'normal'}>Normal</option>
                <option value="hot" ?selected=${this.priority === 'hot'}>Hot (streams always warm)</option>
              </select>
              <span class="hint" id="f-priority-hint">Hot layouts keep their cameras decoding on every kiosk, so switching to them is instant.</span>
              ${this.errors.priority ? html`<span class="field-error">${this.errors.priority}</span>` : nothing}
            </div>
            ${this.input('cooling_timeout_seconds', 'Cooling timeout (s)', String(this.cooling), (v) => { if (v !== '' && Number.isFinite(Number(v))) this.cooling = Number(v); },
              { type: 'number', min: 0, max: 86400, hint: 'How long a stream stays warm after the wall stops showing it.' })}
          </div>
        </section>

        <section aria-labelledby="regions-h">
          <h2 id="regions-h">Regions</h2>
          <fieldset>
            <legend>Start from a preset</legend>
            <div class="presets">${PRESETS.map((p) => html`<button type="button" class="secondary" data-preset=${p.id} aria-label=${`Preset ${p.label}`}
              @click=${() => this.applyPreset(p.id)}>${p.label}</button>`)}</div>
            <span class="hint">A preset replaces the regions; cameras and pages already bound stay, in order.</span>
          </fieldset>
          ${this.errors.regions ? html`<p class="field-error" id="regions-error">${this.errors.regions}</p>` : nothing}
          <div class="editor">
            <div>
              <vigil-layout-grid .regions=${this.regions} .selected=${this.selected} .problems=${problems} .describe=${(r: EdRegion) => cellText(r.cell)}
                @region-select=${(e: CustomEvent<{ key: number }>) => { this.selected = e.detail.key; }}
                @region-change=${(e: CustomEvent<{ key: number; box: Box }>) => this.moved(e.detail.key, e.detail.box)}
                @region-create=${(e: CustomEvent<{ box: Box }>) => this.create(e.detail.box)}
                @region-remove=${(e: CustomEvent<{ key: number }>) => this.removeRegion(e.detail.key)}
                @region-refused=${(e: CustomEvent<{ message: string }>) => this.say(e.detail.message)}></vigil-layout-grid>
              <div class="actions">
                <button type="button" class="secondary" id="add-region" @click=${() => this.addRegion()}>Add region</button>
                <span class="hint">${this.regions.length} of at most ${MAX_CELLS} regions</span>
              </div>
            </div>
            ${this.panel(problems)}
          </div>
        </section>

        <fieldset aria-describedby="preload-hint">
          <legend>Preload cameras</legend>
          <span class="hint" id="preload-hint">Kept warm while this layout is shown, so switching to a layout with them is instant.</span>
          ${this.cameras.length === 0 ? html`<span class="muted">No camera yet.</span>` : html`<div class="checks">${this.cameras.map((c) => html`<label class="check">
            <input type="checkbox" .checked=${this.preload.includes(c)} @change=${(e: Event) => this.togglePreload(c, (e.target as HTMLInputElement).checked)}>${c}</label>`)}</div>`}
          ${this.errors.preload_camera_ids ? html`<span class="field-error">${this.errors.preload_camera_ids}</span>` : nothing}
        </fieldset>

        ${this.errors[''] ? html`<p class="form-error" role="alert">${this.errors['']}</p>` : nothing}
        <div class="actions">
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Saving…' : this.isNew ? 'Create layout' : 'Save layout'}</button>
          <a href="/layouts">Back to layouts</a>
        </div>
      </form>`;
  }

  /** Every API error, each with a way to it (a region's button selects it). */
  private summary(): TemplateResult | typeof nothing {
    const layoutErrs = Object.entries(this.errors).filter(([k]) => k !== '');
    if (!layoutErrs.length && !this.regionErrors.size) return nothing;
    return html`<div class="summary" id="error-summary" role="alert" tabindex="-1">
      <h2>The hub refused the layout</h2>
      <ul>
        ${layoutErrs.map(([k, m]) => html`<li>${LAYOUT_FIELDS[k] ?? k}: ${m}</li>`)}
        ${[...this.regionErrors].map(([key, errs]) => {
          const r = this.regions.find((x) => x.key === key);
          return Object.entries(errs).map(([path, m]) => html`<li>Region ${r?.name}${path ? ` (${path})` : ''}: ${m}
            <button type="button" class="secondary" @click=${() => { this.selected = key; void this.focusRegion(key); }}>Select ${r?.name}</button></li>`);
        })}
      </ul>
    </div>`;
  }

  /** The selected region's fields. */
  private panel(problems: Map<number, string>): TemplateResult {
    const r = this.sel;
    if (!r) return html`<fieldset><legend>Region</legend><p class="muted">Select a region on the grid, draw one, or add one.</p></fieldset>`;
    const errs = this.regionErrors.get(r.key) ?? {};
    const kind = r.cell?.type ?? '';
    const problem = errs[''] ?? problems.get(r.key);
    return html`<fieldset id="region-panel" aria-describedby=${problem ? 'region-error' : nothing}>
      <legend>Region ${r.name}</legend>
      ${problem ? html`<p class="warning" id="region-error">${problem}</p>` : nothing}
      ${this.input('r-name', 'Region name', r.name, (v) => this.update1(r.key, { name: v }), { error: errs.name, required: true, maxlength: 64 })}
      <div class="boxes">
        ${(['x', 'y', 'w', 'h'] as const).map((k) => this.input(`r-${k}`, { x: 'Left (x)', y: 'Top (y)', w: 'Width (w)', h: 'Height (h)' }[k], String(r[k]),
          (v) => this.setBox(k, v), { type: 'number', min: k === 'w' || k === 'h' ? 1 : 0, max: k === 'w' || k === 'h' ? GRID : GRID - 1, error: errs[k] }))}
      </div>
      <div class="field">
        <label for="r-kind">Shows</label>
        <select id="r-kind" @change=${(e: Event) => this.setKind((e.target as HTMLSelectElement).value)} aria-invalid=${errs.cell || errs['cell.type'] ? 'true' : 'false'}>
          ${KINDS.map((k) => html`<option value=${k.id} ?selected=${k.id === kind}>${k.label}</option>`)}
        </select>
        ${errs.cell || errs['cell.type'] ? html`<span class="field-error">${errs.cell ?? errs['cell.type']}</span>` : nothing}
      </div>
      ${r.cell?.type === 'camera' ? this.cameraFields(r.cell, errs) : nothing}
      ${r.cell?.type === 'web' ? this.input('r-url', 'Web page URL', r.cell.url, (v) => this.setCell({ url: v }), { error: errs['cell.url'], type: 'url', hint: 'http:// or https://; the page may need to allow framing.' }) : nothing}
      ${r.cell?.type === 'html' ? html`<div class="field">
        <label for="r-html">HTML</label>
        <span class="hint" id="r-html-hint">Shown in a sandboxed frame without scripts.</span>
        <textarea id="r-html" .value=${r.cell.html} aria-describedby="r-html-hint" aria-invalid=${errs['cell.html'] ? 'true' : 'false'}
          @input=${(e: Event) => this.setCell({ html: (e.target as HTMLTextAreaElement).value })}></textarea>
        ${errs['cell.html'] ? html`<span class="field-error">${errs['cell.html']}</span>` : nothing}
      </div>` : nothing}
      <div class="actions"><button type="button" class="secondary" id="remove-region" @click=${() => this.removeRegion(r.key)}>Remove region ${r.name}</button></div>
    </fieldset>`;
  }

  private cameraFields(c: Extract<Cell, { type: 'camera' }>, errs: Record<string, string>): TemplateResult {
    const err = errs['cell.camera'];
    const known = this.cameras.includes(c.camera);
    return html`<div class="field">
        <label for="r-camera">Camera</label>
        <select id="r-camera" aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 'r-camera-error' : nothing}
          @change=${(e: Event) => this.setCell({ camera: (e.target as HTMLSelectElement).value })}>
          ${known ? nothing : html`<option value=${c.camera} selected>${c.camera || '(choose a camera)'}</option>`}
          ${this.cameras.map((n) => html`<option value=${n} ?selected=${n === c.camera}>${n}</option>`)}
        </select>
        ${err ? html`<span class="field-error" id="r-camera-error">${err}</span>` : nothing}
      </div>
      <div class="field">
        <label for="r-stream">Stream</label>
        <select id="r-stream" aria-describedby="r-stream-hint" aria-invalid=${errs['cell.stream'] ? 'true' : 'false'}
          @change=${(e: Event) => this.setCell({ stream: (e.target as HTMLSelectElement).value as StreamChoice })}>
          ${(['auto', 'main', 'sub'] as const).map((s) => html`<option value=${s} ?selected=${(c.stream ?? 'auto') === s}>${{ auto: 'Auto (by cell size)', main: 'Main (full resolution)', sub: 'Sub (small)' }[s]}</option>`)}
        </select>
        <span class="hint" id="r-stream-hint">Auto plays the sub stream in cells under 20 % of the screen.</span>
        ${errs['cell.stream'] ? html`<span class="field-error">${errs['cell.stream']}</span>` : nothing}
      </div>`;
  }

  /** A labelled input with its hint and the API's error for it (`id` doubles as the layout field's API path). */
  private input(id: string, label: string, value: string, set: (v: string) => void,
    o: { type?: string; hint?: string; error?: string; required?: boolean; min?: number; max?: number; maxlength?: number } = {}): TemplateResult {
    const fid = `f-${id}`;
    const err = o.error ?? (id in LAYOUT_FIELDS ? this.errors[id] : undefined);
    const described = [o.hint ? `${fid}-hint` : '', err ? `${fid}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field">
      <label for=${fid}>${label}</label>
      ${o.hint ? html`<span class="hint" id=${`${fid}-hint`}>${o.hint}</span>` : nothing}
      <input id=${fid} type=${o.type ?? 'text'} .value=${value} autocomplete="off" spellcheck="false" ?required=${o.required}
        min=${o.min ?? nothing} max=${o.max ?? nothing} maxlength=${o.maxlength ?? nothing} step=${o.type === 'number' ? '1' : nothing}
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}
        @input=${(e: Event) => set((e.target as HTMLInputElement).value)}>
      ${err ? html`<span class="field-error" id=${`${fid}-error`}>${err}</span>` : nothing}
    </div>`;
  }
}
customElements.define('vigil-layout-editor', VigilLayoutEditor);
