/**
 * `<vigil-zone-editor camera="yard">` (admin, `/cameras/:name/zones`): the camera's zones
 * and masks drawn over its latest frame (`GET /api/cameras/:name/latest.jpg`, fetched
 * again every {@link FRAME_MS} ms; the overlay's size is the picture's natural size).
 *
 * - Draw: "Draw zone" / "Draw mask", then click the corners on the picture; double-click,
 *   Enter or "Finish" closes the polygon (3 points at least), Backspace takes the last point
 *   back, Escape or "Cancel" drops it.
 * - Edit: select a shape (on the picture or in the list); drag its vertices; its form has
 *   the name, for zones the labels that count (checkboxes of the camera's tracked objects;
 *   none = all), minimum score, inertia and loitering time (dwell), for masks what they
 *   apply to; and every vertex as x / y number inputs in % with "Add point" and "Remove
 *   point" — the keyboard way, together with "Add zone" / "Add mask", which start from a
 *   rectangle.
 * - Save: `PATCH /api/cameras/:name` with the whole `zones` and `masks` arrays; the hub's
 *   `{error: {field}}` (`zones.1.coordinates`) selects that shape and shows the message at
 *   its input. Results are announced in a `role=status` region.
 *
 * Coordinates are normalized (0–1, origin top-left), as `components/protocol/camera-config.ts`
 * stores them; an object is in a zone by the bottom-centre of its box (docs/config.md).
 */
import { LitElement, css, html, nothing, svg, type SVGTemplateResult, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { ApiError, api, get, session } from '../api.ts';
import { shared } from '../styles.ts';
import type { PublicCamera } from './camera-edit.ts';
import {
  RECTANGLE, centre, duplicateNames, errorPlace, freeName, newMask, newZone, pointAt, withPoint,
  type Kind, type MaskDraft, type Pt, type ZoneDraft,
} from './zone-editor-shapes.ts';

/** How often the picture is fetched again (ms). */
const FRAME_MS = 3_000;
/** The overlay's size before the first picture (px): 4:3, the most common camera shape. */
const NO_FRAME = { w: 640, h: 480 };

interface Selection { kind: Kind; index: number }
interface Drawing { kind: Kind; points: Pt[] }
type Shape = ZoneDraft | MaskDraft;

const APPLIES: [MaskDraft['applies_to'], string][] = [['both', 'Motion and objects'], ['motion', 'Motion only'], ['objects', 'Objects only']];
const NOUN: Record<Kind, string> = { zones: 'zone', masks: 'mask' };
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const pct = (v: number): string => String(Math.round(v * 1000) / 10);

export class VigilZoneEditor extends LitElement {
  static override properties = {
    camera: { type: String }, loadError: { state: true }, zones: { state: true }, masks: { state: true }, track: { state: true },
    selected: { state: true }, drawing: { state: true }, frame: { state: true }, frameNote: { state: true },
    errors: { state: true }, formError: { state: true }, message: { state: true }, busy: { state: true },
  };
  declare camera: string;
  declare loadError: string;
  declare zones: ZoneDraft[] | null;
  declare masks: MaskDraft[];
  /** The camera's tracked labels (`objects.track`). */
  declare track: string[];
  declare selected: Selection | null;
  declare drawing: Drawing | null;
  /** The latest picture: a blob: URL and its natural size (px). */
  declare frame: { url: string; w: number; h: number; at: number } | null;
  declare frameNote: string;
  /** `<kind>.<index>.<input>` → the hub's message. */
  declare errors: Record<string, string>;
  declare formError: string;
  declare message: string;
  declare busy: boolean;
  private saved: { zones: ZoneDraft[]; masks: MaskDraft[] } = { zones: [], masks: [] };
  private dragging: { vertex: number; pointer: number } | null = null;
  private dragged = false;
  private timer?: ReturnType<typeof setInterval>;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.camera = '';
    this.loadError = '';
    this.zones = null;
    this.masks = [];
    this.track = [];
    this.selected = null;
    this.drawing = null;
    this.frame = null;
    this.frameNote = '';
    this.errors = {};
    this.formError = '';
    this.message = '';
    this.busy = false;
  }

  static override styles = [shared, css`
    .sub { margin: -8px 0 16px; }
    .editor { display: grid; grid-template-columns: minmax(0, 3fr) minmax(300px, 2fr); gap: 16px; align-items: start; }
    @media (max-width: 900px) { .editor { grid-template-columns: 1fr; } }
    .stage { position: relative; width: 100%; background: #000; border-radius: 8px; overflow: hidden; }
    .stage:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
    .stage img { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .stage svg { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .stage svg.active { touch-action: none; cursor: crosshair; }
    .no-frame { position: absolute; inset: 0; margin: 0; display: grid; place-items: center; color: #fff; }
    polygon, polyline { vector-effect: non-scaling-stroke; stroke-width: 2; stroke-linejoin: round; }
    .zone { fill: var(--accent); fill-opacity: .18; stroke: var(--accent); cursor: pointer; }
    .mask { fill: var(--bad); fill-opacity: .3; stroke: var(--bad); stroke-dasharray: 6 4; cursor: pointer; }
    .sel { stroke: var(--warn); stroke-width: 3; fill-opacity: .3; }
    .draft { fill: var(--warn); fill-opacity: .15; stroke: var(--warn); stroke-dasharray: 4 3; }
    .vertex { fill: var(--card); stroke: var(--warn); vector-effect: non-scaling-stroke; stroke-width: 2; pointer-events: none; }
    .hit { fill: transparent; cursor: grab; }
    text { fill: var(--fg); stroke: var(--bg); paint-order: stroke; stroke-linejoin: round; font-weight: 700; pointer-events: none; }
    .frame-info { font-size: .85rem; margin: 6px 0 0; }
    .toolbar { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; align-items: center; }
    .lists { display: grid; gap: 12px; }
    .lists ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
    .lists h2 { margin: 0 0 6px; }
    button[aria-pressed="true"] { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
    button.has-error { border-color: var(--bad); }
    fieldset { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 16px; margin: 0; display: grid; gap: 12px; background: var(--card); min-width: 0; }
    legend { font-weight: 700; padding: 0 4px; }
    fieldset fieldset { background: transparent; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; margin: 0; }
    .check { display: flex; align-items: center; gap: 8px; }
    .check input { width: 20px; height: 20px; min-height: 0; margin: 0; }
    .labels { display: flex; flex-wrap: wrap; gap: 6px 16px; }
    .points td, .points th { padding: 4px; }
    .points input { width: 100%; min-width: 72px; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .danger { background: transparent; color: var(--bad); border-color: var(--bad); }
    .savebar { margin-top: 16px; position: sticky; bottom: 0; z-index: 1; padding: 10px 0; background: var(--bg); border-top: 1px solid var(--line); }
    .savebar p { margin: 0; }
  `];

  private get enc(): string { return encodeURIComponent(this.camera); }
  private list(kind: Kind): Shape[] { return kind === 'zones' ? this.zones ?? [] : this.masks; }
  private get current(): Shape | undefined { return this.selected ? this.list(this.selected.kind)[this.selected.index] : undefined; }
  private get dirty(): boolean {
    return JSON.stringify({ zones: this.zones ?? [], masks: this.masks }) !== JSON.stringify(this.saved);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    void this.refreshFrame();
    this.timer = setInterval(() => void this.refreshFrame(), FRAME_MS);
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    clearInterval(this.timer);
    window.removeEventListener('keydown', this.onKey);
    if (this.frame) URL.revokeObjectURL(this.frame.url);
  }

  private async load(): Promise<void> {
    try {
      this.accept(await get<PublicCamera>(`/api/cameras/${this.enc}`, this.abort.signal));
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.loadError = err instanceof ApiError && err.status === 404 ? `There is no camera ${this.camera}.` : err instanceof ApiError ? err.message : String(err);
    }
  }

  private accept(cam: PublicCamera): void {
    this.saved = { zones: copy(cam.zones ?? []), masks: copy(cam.masks ?? []) };
    this.zones = copy(this.saved.zones);
    this.masks = copy(this.saved.masks);
    this.track = cam.objects?.track ?? [];
    if (this.selected && !this.current) this.selected = null;
  }

  /** Fetches the latest frame; a new picture replaces the old one only once decoded (no flicker). */
  private async refreshFrame(): Promise<void> {
    if (document.hidden || this.dragging) return;
    try {
      const res = await fetch(`/api/cameras/${this.enc}/latest.jpg`, { credentials: 'same-origin', cache: 'no-store', signal: this.abort.signal });
      if (res.status === 401) { void session.refresh(); return; }
      if (!res.ok) { this.frameNote = res.status === 404 ? 'No picture from the camera yet.' : `The picture could not be loaded (HTTP ${res.status}).`; return; }
      const url = URL.createObjectURL(await res.blob());
      const img = new Image();
      img.src = url;
      try { await img.decode(); } catch { URL.revokeObjectURL(url); this.frameNote = 'The picture could not be decoded.'; return; }
      const old = this.frame?.url;
      this.frame = { url, w: img.naturalWidth, h: img.naturalHeight, at: Date.now() };
      this.frameNote = '';
      if (old) URL.revokeObjectURL(old);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.frameNote = 'The hub cannot be reached.';
    }
  }

  // ---- changes ----------------------------------------------------------------------------------

  /** Replaces shape `index` of `kind` with `next` (immutably, so lit sees it). */
  private update1(kind: Kind, index: number, next: Partial<ZoneDraft> & Partial<MaskDraft>): void {
    if (kind === 'zones') this.zones = (this.zones ?? []).map((z, i) => (i === index ? { ...z, ...next } as ZoneDraft : z));
    else this.masks = this.masks.map((m, i) => (i === index ? { ...m, ...next } as MaskDraft : m));
    const key = Object.keys(next)[0];
    if (key) for (const k of Object.keys(this.errors)) if (k === `${kind}.${index}.${key}` || k.startsWith(`${kind}.${index}.${key}.`)) this.clearError(k);
    this.message = '';
  }

  private clearError(key: string): void {
    if (!(key in this.errors)) return;
    const { [key]: _, ...rest } = this.errors;
    this.errors = rest;
  }

  private setPoint(j: number, axis: 0 | 1, el: HTMLInputElement): void {
    const s = this.selected;
    const shape = this.current;
    if (!s || !shape || el.value === '' || !Number.isFinite(el.valueAsNumber)) return;
    const v = Math.round(el.valueAsNumber * 10) / 1000;
    const coordinates = shape.coordinates.map((p, i) => (i === j ? (axis === 0 ? [v, p[1]] : [p[0], v]) as Pt : p));
    this.update1(s.kind, s.index, { coordinates });
  }

  private addPoint(): void {
    const s = this.selected;
    const shape = this.current;
    if (!s || !shape) return;
    this.update1(s.kind, s.index, { coordinates: withPoint(shape.coordinates) });
    const n = shape.coordinates.length + 1;
    this.message = `Point ${n} added between point ${n - 1} and point 1.`;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#pt-${n - 1}-x`)?.focus());
  }

  private removePoint(j: number): void {
    const s = this.selected;
    const shape = this.current;
    if (!s || !shape || shape.coordinates.length <= 3) return;
    this.update1(s.kind, s.index, { coordinates: shape.coordinates.filter((_, i) => i !== j) });
    this.message = `Point ${j + 1} removed.`;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#pt-${Math.min(j, shape.coordinates.length - 2)}-x`)?.focus());
  }

  private add(kind: Kind, coordinates: Pt[]): void {
    const taken = this.list(kind).map((s) => s.name);
    const name = freeName(NOUN[kind], taken);
    if (kind === 'zones') this.zones = [...(this.zones ?? []), newZone(name, coordinates)];
    else this.masks = [...this.masks, newMask(name, coordinates)];
    this.selected = { kind, index: this.list(kind).length - 1 };
    this.message = `New ${NOUN[kind]} ${name} with ${coordinates.length} points: name it, then save.`;
    void this.updateComplete.then(() => {
      const el = this.renderRoot.querySelector<HTMLInputElement>('#s-name');
      el?.focus();
      el?.select();
    });
  }

  private deleteShape(): void {
    const s = this.selected;
    const shape = this.current;
    if (!s || !shape) return;
    if (s.kind === 'zones') this.zones = (this.zones ?? []).filter((_, i) => i !== s.index);
    else this.masks = this.masks.filter((_, i) => i !== s.index);
    // Errors are keyed by index: they no longer fit.
    this.errors = {};
    this.selected = null;
    this.message = `${NOUN[s.kind][0]!.toUpperCase()}${NOUN[s.kind].slice(1)} ${shape.name} deleted (save to keep it so).`;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#${s.kind}-h`)?.focus());
  }

  private select(kind: Kind, index: number): void {
    if (this.drawing) return;
    this.selected = { kind, index };
  }

  // ---- drawing and dragging on the picture -----------------------------------------------------------

  private startDrawing(kind: Kind): void {
    this.selected = null;
    this.drawing = { kind, points: [] };
    this.message = '';
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.stage')?.focus());
  }

  private finishDrawing(): void {
    const d = this.drawing;
    if (!d) return;
    if (d.points.length < 3) { this.message = `A ${NOUN[d.kind]} needs at least 3 points; it has ${d.points.length}.`; return; }
    this.drawing = null;
    this.add(d.kind, d.points);
  }

  private cancelDrawing(): void {
    const d = this.drawing;
    if (!d) return;
    this.drawing = null;
    this.message = `Drawing cancelled.`;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#draw-${d.kind}`)?.focus());
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (!this.drawing) return;
    const t = e.composedPath()[0] as HTMLElement | undefined;
    if (t && /^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(t.tagName)) return;
    if (e.key === 'Enter') { e.preventDefault(); this.finishDrawing(); }
    else if (e.key === 'Escape') { e.preventDefault(); this.cancelDrawing(); }
    else if (e.key === 'Backspace' && this.drawing.points.length) { e.preventDefault(); this.drawing = { ...this.drawing, points: this.drawing.points.slice(0, -1) }; }
  };

  private pos(e: MouseEvent): Pt {
    return pointAt((e.currentTarget as SVGSVGElement).getBoundingClientRect(), e.clientX, e.clientY);
  }

  private onPointerDown(e: PointerEvent): void {
    const vertex = (e.target as Element).getAttribute('data-vertex');
    if (this.drawing || vertex === null || !this.selected || e.button !== 0) return;
    e.preventDefault();
    (e.currentTarget as SVGSVGElement).setPointerCapture(e.pointerId);
    this.dragging = { vertex: Number(vertex), pointer: e.pointerId };
    this.dragged = false;
  }

  private onPointerMove(e: PointerEvent): void {
    const d = this.dragging;
    const s = this.selected;
    const shape = this.current;
    if (!d || d.pointer !== e.pointerId || !s || !shape) return;
    const p = this.pos(e);
    this.dragged = true;
    this.update1(s.kind, s.index, { coordinates: shape.coordinates.map((q, i) => (i === d.vertex ? p : q)) });
  }

  private onPointerUp(e: PointerEvent): void {
    const d = this.dragging;
    if (!d || d.pointer !== e.pointerId) return;
    this.dragging = null;
    const p = this.current?.coordinates[d.vertex];
    if (this.dragged && p) this.message = `Point ${d.vertex + 1} moved to ${pct(p[0])} %, ${pct(p[1])} %.`;
  }

  private onClick(e: MouseEvent): void {
    if (this.drawing) {
      if (e.detail > 1) return; // the second click of a double-click: the double-click finishes
      this.drawing = { ...this.drawing, points: [...this.drawing.points, this.pos(e)] };
      return;
    }
    if (this.dragged) { this.dragged = false; return; }
    const t = e.target as Element;
    const kind = t.getAttribute('data-kind') as Kind | null;
    if (kind) this.select(kind, Number(t.getAttribute('data-index')));
  }

  private onDblClick(e: MouseEvent): void {
    if (!this.drawing) return;
    e.preventDefault();
    this.finishDrawing();
  }

  // ---- save ---------------------------------------------------------------------------------------------

  private async save(): Promise<void> {
    if (this.busy || !this.zones) return;
    this.formError = '';
    this.message = '';
    const dup = duplicateNames(this.zones);
    if (dup.length) {
      this.errors = { [`zones.${dup[0]}.name`]: 'Another zone has this name: zone names must differ.' };
      this.selected = { kind: 'zones', index: dup[0]! };
      this.message = 'Not saved.';
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#s-name')?.focus();
      return;
    }
    this.busy = true;
    this.errors = {};
    try {
      const out = (await api<PublicCamera>('PATCH', `/api/cameras/${this.enc}`, { zones: this.zones, masks: this.masks })).data;
      this.accept(out);
      const n = (k: number, w: string): string => `${k} ${w}${k === 1 ? '' : 's'}`;
      this.message = `Saved: ${n(out.zones.length, 'zone')} and ${n(out.masks.length, 'mask')}. Detection uses them within 2 s.`;
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const at = errorPlace(a?.field);
      this.message = 'Not saved.';
      if (a && at && this.list(at.kind)[at.index]) {
        // One number of a point (`…coordinates.<j>.<0|1>`): said in the form's terms (%), at that input.
        const pt = /\.coordinates\.(\d+)\.([01])$/.exec(a.field ?? '');
        const key = `${at.kind}.${at.index}.${at.input}`;
        this.errors = pt
          ? { [key]: `Point ${Number(pt[1]) + 1} ${pt[2] === '0' ? 'x' : 'y'} must be between 0 and 100 %.`, [`${key}.${pt[1]}.${pt[2]}`]: a.message }
          : { [key]: a.message };
        this.selected = { kind: at.kind, index: at.index };
        await this.updateComplete;
        const focus = pt ? `#pt-${pt[1]}-${pt[2] === '0' ? 'x' : 'y'}` : `#s-${at.input === 'loitering_time' ? 'dwell' : at.input}`;
        this.renderRoot.querySelector<HTMLElement>(focus)?.focus();
      } else {
        this.formError = a ? a.message : String(err);
        await this.updateComplete;
        this.renderRoot.querySelector<HTMLElement>('#zones-error')?.focus();
      }
    } finally {
      this.busy = false;
    }
  }

  private discard(): void {
    this.zones = copy(this.saved.zones);
    this.masks = copy(this.saved.masks);
    this.errors = {};
    this.formError = '';
    this.drawing = null;
    if (this.selected && !this.current) this.selected = null;
    this.message = 'Changes discarded.';
  }

  // ---- render -------------------------------------------------------------------------------------------

  override render(): TemplateResult {
    const title = html`<h1>Zones and masks: ${this.camera}</h1>`;
    if (this.loadError) return html`${title}<p class="form-error" role="alert">${this.loadError}</p><p><a href="/cameras">All cameras</a></p>`;
    if (!this.zones) return html`${title}<p aria-busy="true">Loading…</p>`;
    return html`${title}
      <p class="sub"><a href=${`/cameras/${this.enc}`}>Back to the camera</a> · <a href=${`/cameras/${this.enc}/edit`}>Edit camera</a></p>
      <div class="editor">
        <section aria-labelledby="pic-h">
          <h2 id="pic-h" class="visually-hidden">Picture</h2>
          ${this.stage()}
          <p class="muted frame-info" id="frame-info">${this.frameNote || (this.frame ? `Latest frame (${this.frame.w}×${this.frame.h} px), fetched at ${new Date(this.frame.at).toLocaleTimeString()} and again every ${FRAME_MS / 1000} s.` : 'Loading the picture…')}</p>
          ${this.drawing ? this.drawingBar(this.drawing) : html`<div class="toolbar">
            <button type="button" id="draw-zones" @click=${() => this.startDrawing('zones')}>Draw zone</button>
            <button type="button" id="draw-masks" class="secondary" @click=${() => this.startDrawing('masks')}>Draw mask</button>
            <span class="hint">Or, without a pointer: “Add zone” / “Add mask” and edit the points as numbers.</span>
          </div>`}
        </section>
        <div class="lists">
          ${this.listSection('zones')}
          ${this.listSection('masks')}
          ${this.selected && this.current ? this.shapeForm(this.selected, this.current) : html`<p class="hint">Select a zone or mask to edit it.</p>`}
        </div>
      </div>
      <div class="actions savebar">
        <button type="button" id="save" ?disabled=${this.busy} @click=${() => this.save()}>${this.busy ? 'Saving…' : 'Save zones and masks'}</button>
        <button type="button" class="secondary" ?disabled=${this.busy || !this.dirty} @click=${() => this.discard()}>Discard changes</button>
        <span class="muted">${this.dirty ? 'Unsaved changes.' : ''}</span>
        <p role="status" id="zones-status">${this.message}</p>
      </div>
      ${this.formError ? html`<p class="form-error" id="zones-error" role="alert" tabindex="-1">${this.formError}</p>` : nothing}`;
  }

  private stage(): TemplateResult {
    const { w, h } = this.frame ?? NO_FRAME;
    const d = this.drawing;
    const r = Math.max(w, h) * 0.011;
    const font = Math.max(w, h) * 0.032;
    const sel = this.selected;
    const shape = this.current;
    const shapes = (kind: Kind): SVGTemplateResult[] => this.list(kind).map((s, i) => {
      const isSel = sel?.kind === kind && sel.index === i;
      const [cx, cy] = centre(s.coordinates);
      return svg`<polygon class=${`${kind === 'zones' ? 'zone' : 'mask'}${isSel ? ' sel' : ''}`} data-kind=${kind} data-index=${i}
          points=${s.coordinates.map(([x, y]) => `${x * w},${y * h}`).join(' ')}></polygon>
        <text x=${cx * w} y=${cy * h} font-size=${font} stroke-width=${font / 6} text-anchor="middle" dominant-baseline="middle">${s.name}</text>`;
    });
    return html`<div class="stage" tabindex="-1" style=${`aspect-ratio: ${w} / ${h}`} data-frame=${this.frame ? `${w}x${h}` : 'none'}
        aria-describedby=${d ? 'draw-help' : nothing}>
      ${this.frame ? html`<img src=${this.frame.url} alt=${`Latest frame of ${this.camera}`}>` : html`<p class="no-frame">${this.frameNote || 'Loading the picture…'}</p>`}
      <svg viewBox=${`0 0 ${w} ${h}`} preserveAspectRatio="none" aria-hidden="true" class=${d || shape ? 'active' : ''}
        @click=${(e: MouseEvent) => this.onClick(e)} @dblclick=${(e: MouseEvent) => this.onDblClick(e)}
        @pointerdown=${(e: PointerEvent) => this.onPointerDown(e)} @pointermove=${(e: PointerEvent) => this.onPointerMove(e)}
        @pointerup=${(e: PointerEvent) => this.onPointerUp(e)} @pointercancel=${(e: PointerEvent) => this.onPointerUp(e)}>
        ${shapes('masks')}${shapes('zones')}
        ${shape && !d ? shape.coordinates.map(([x, y], j) => svg`<circle class="hit" data-vertex=${j} cx=${x * w} cy=${y * h} r=${r * 2.6}></circle>
          <circle class="vertex" cx=${x * w} cy=${y * h} r=${r}></circle>`) : nothing}
        ${d ? svg`<polygon class="draft" points=${d.points.map(([x, y]) => `${x * w},${y * h}`).join(' ')}></polygon>
          ${d.points.map(([x, y]) => svg`<circle class="vertex" cx=${x * w} cy=${y * h} r=${r}></circle>`)}` : nothing}
      </svg>
    </div>`;
  }

  private drawingBar(d: Drawing): TemplateResult {
    const noun = NOUN[d.kind];
    return html`<div class="toolbar" role="group" aria-label=${`Drawing a new ${noun}`}>
      <p class="hint" id="draw-help">Drawing a new ${noun}: click its corners on the picture (${d.points.length} so far). Double-click, Enter or Finish closes it; Backspace takes the last point back; Escape cancels.</p>
      <button type="button" ?disabled=${d.points.length < 3} @click=${() => this.finishDrawing()}>Finish ${noun}</button>
      <button type="button" class="secondary" ?disabled=${!d.points.length} @click=${() => { this.drawing = { ...d, points: d.points.slice(0, -1) }; }}>Undo last point</button>
      <button type="button" class="secondary" @click=${() => this.cancelDrawing()}>Cancel</button>
    </div>`;
  }

  private listSection(kind: Kind): TemplateResult {
    const items = this.list(kind);
    const noun = NOUN[kind];
    const heading = kind === 'zones' ? 'Zones' : 'Masks';
    const hint = kind === 'zones'
      ? 'Events name the zones an object enters (by the bottom-centre of its box). No zone: the whole frame counts.'
      : 'Masked areas are ignored by motion detection, or drop objects standing in them, or both.';
    return html`<section aria-labelledby=${`${kind}-h`}>
      <h2 id=${`${kind}-h`} tabindex="-1">${heading}</h2>
      <p class="hint">${hint}</p>
      ${items.length ? html`<ul aria-label=${heading}>${items.map((s, i) => {
        const isSel = this.selected?.kind === kind && this.selected.index === i;
        const bad = Object.keys(this.errors).some((k) => k.startsWith(`${kind}.${i}.`));
        return html`<li><button type="button" class=${`secondary${bad ? ' has-error' : ''}`} aria-pressed=${isSel ? 'true' : 'false'} data-shape=${`${kind}-${i}`}
          ?disabled=${Boolean(this.drawing)} @click=${() => this.select(kind, i)}>${s.name}${bad ? ' (error)' : ''}</button></li>`;
      })}</ul>` : html`<p class="muted">No ${noun} yet.</p>`}
      <div class="toolbar"><button type="button" class="secondary" ?disabled=${Boolean(this.drawing)} @click=${() => this.add(kind, RECTANGLE.map((p) => [...p] as Pt))}>Add ${noun}</button></div>
    </section>`;
  }

  private err(sel: Selection, input: string): string | undefined { return this.errors[`${sel.kind}.${sel.index}.${input}`]; }

  private shapeForm(sel: Selection, shape: Shape): TemplateResult {
    const noun = NOUN[sel.kind];
    const e = (input: string): string | undefined => this.err(sel, input);
    const errEl = (input: string, id: string): TemplateResult | typeof nothing => (e(input) ? html`<span class="field-error" id=${`${id}-error`}>${e(input)}</span>` : nothing);
    const desc = (id: string, input: string, hint?: boolean): string | typeof nothing => [hint ? `${id}-hint` : '', e(input) ? `${id}-error` : ''].filter(Boolean).join(' ') || nothing;
    const numberField = (id: string, input: 'threshold' | 'inertia' | 'loitering_time', label: string, hint: string, min: number, max: number | undefined, step: number | 'any'): TemplateResult => {
      const z = shape as ZoneDraft;
      return html`<div class="field"><label for=${`s-${id}`}>${label}</label><span class="hint" id=${`s-${id}-hint`}>${hint}</span>
        <input id=${`s-${id}`} type="number" min=${min} max=${max ?? nothing} step=${step} inputmode="decimal" .value=${String(z[input])}
          aria-invalid=${e(input) ? 'true' : 'false'} aria-describedby=${desc(`s-${id}`, input, true)}
          @input=${(ev: Event) => { const el = ev.target as HTMLInputElement; if (el.value !== '' && Number.isFinite(el.valueAsNumber)) this.update1(sel.kind, sel.index, { [input]: el.valueAsNumber }); }}>
        ${errEl(input, `s-${id}`)}</div>`;
    };
    return html`<fieldset id="shape-form" data-shape=${`${sel.kind}-${sel.index}`}>
      <legend>${noun[0]!.toUpperCase()}${noun.slice(1)} ${shape.name}</legend>
      ${e('item') ? html`<p class="form-error">${e('item')}</p>` : nothing}
      <div class="field"><label for="s-name">Name</label>
        ${sel.kind === 'zones' ? html`<span class="hint" id="s-name-hint">Lower-case letters, digits, _ and -; events and MQTT use it.</span>` : nothing}
        <input id="s-name" .value=${live(shape.name)} spellcheck="false" autocomplete="off" aria-invalid=${e('name') ? 'true' : 'false'}
          aria-describedby=${desc('s-name', 'name', sel.kind === 'zones')} @input=${(ev: Event) => this.update1(sel.kind, sel.index, { name: (ev.target as HTMLInputElement).value })}>
        ${errEl('name', 's-name')}</div>
      ${sel.kind === 'zones' ? this.zoneFields(sel, shape as ZoneDraft, numberField) : this.maskFields(sel, shape as MaskDraft)}
      ${this.pointsFields(sel, shape)}
      <div class="actions"><button type="button" class="danger" @click=${() => this.deleteShape()}>Delete ${noun}</button></div>
    </fieldset>`;
  }

  private zoneFields(sel: Selection, z: ZoneDraft, numberField: (id: string, input: 'threshold' | 'inertia' | 'loitering_time', label: string, hint: string, min: number, max: number | undefined, step: number | 'any') => TemplateResult): TemplateResult {
    const offered = [...this.track, ...z.objects.filter((l) => !this.track.includes(l))];
    const err = this.err(sel, 'objects');
    const toggle = (label: string, on: boolean): void => {
      const rest = z.objects.filter((l) => l !== label);
      this.update1(sel.kind, sel.index, { objects: on ? [...rest, label] : rest });
    };
    return html`<fieldset class="labels" id="s-objects" tabindex="-1" aria-describedby=${err ? 's-objects-hint s-objects-error' : 's-objects-hint'}>
        <legend>Objects that count</legend>
        <span class="hint" id="s-objects-hint">None checked: every tracked object counts.</span>
        ${offered.length ? offered.map((l) => {
          const id = `s-obj-${l.replace(/\W+/g, '-')}`;
          return html`<div class="check"><input type="checkbox" id=${id} .checked=${live(z.objects.includes(l))}
            @change=${(ev: Event) => toggle(l, (ev.target as HTMLInputElement).checked)}><label for=${id}>${l}${this.track.includes(l) ? '' : ' (not tracked)'}</label></div>`;
        }) : html`<span class="hint">The camera tracks no object (Edit camera → Objects).</span>`}
        ${err ? html`<span class="field-error" id="s-objects-error">${err}</span>` : nothing}
      </fieldset>
      ${numberField('threshold', 'threshold', 'Minimum score (0–1)', '0 = each object’s own threshold.', 0, 1, 0.01)}
      ${numberField('inertia', 'inertia', 'Inertia (frames, 1–30)', 'Frames an object must be inside before it enters the zone.', 1, 30, 1)}
      ${numberField('dwell', 'loitering_time', 'Loitering time (dwell, s)', 'Seconds inside before the object counts as loitering; 0 = off.', 0, undefined, 'any')}`;
  }

  private maskFields(sel: Selection, m: MaskDraft): TemplateResult {
    const err = this.err(sel, 'applies_to');
    return html`<div class="field"><label for="s-applies_to">Applies to</label>
      <select id="s-applies_to" aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 's-applies_to-error' : nothing}
        @change=${(ev: Event) => this.update1(sel.kind, sel.index, { applies_to: (ev.target as HTMLSelectElement).value as MaskDraft['applies_to'] })}>
        ${APPLIES.map(([v, label]) => html`<option value=${v} ?selected=${m.applies_to === v}>${label}</option>`)}
      </select>
      ${err ? html`<span class="field-error" id="s-applies_to-error">${err}</span>` : nothing}</div>`;
  }

  private pointsFields(sel: Selection, shape: Shape): TemplateResult {
    const err = this.err(sel, 'coordinates');
    const bad = (j: number, axis: 0 | 1): boolean => this.err(sel, `coordinates.${j}.${axis}`) !== undefined;
    const n = shape.coordinates.length;
    return html`<fieldset id="s-coordinates" tabindex="-1" aria-describedby=${err ? 's-points-hint s-coordinates-error' : 's-points-hint'}>
      <legend>Points</legend>
      <span class="hint" id="s-points-hint">In % of the picture from its top-left corner; drag them on the picture, or type them here. At least 3.</span>
      <table class="points">
        <thead><tr><th scope="col">Point</th><th scope="col">x (%)</th><th scope="col">y (%)</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
        <tbody>${shape.coordinates.map(([x, y], j) => html`<tr>
          <th scope="row">${j + 1}</th>
          <td><input id=${`pt-${j}-x`} type="number" min="0" max="100" step="0.1" inputmode="decimal" aria-label=${`Point ${j + 1} x (%)`} .value=${pct(x)}
            aria-invalid=${bad(j, 0) ? 'true' : 'false'} aria-describedby=${bad(j, 0) ? 's-coordinates-error' : nothing}
            @input=${(ev: Event) => this.setPoint(j, 0, ev.target as HTMLInputElement)}></td>
          <td><input id=${`pt-${j}-y`} type="number" min="0" max="100" step="0.1" inputmode="decimal" aria-label=${`Point ${j + 1} y (%)`} .value=${pct(y)}
            aria-invalid=${bad(j, 1) ? 'true' : 'false'} aria-describedby=${bad(j, 1) ? 's-coordinates-error' : nothing}
            @input=${(ev: Event) => this.setPoint(j, 1, ev.target as HTMLInputElement)}></td>
          <td><button type="button" class="secondary" ?disabled=${n <= 3} aria-label=${`Remove point ${j + 1}`} @click=${() => this.removePoint(j)}>Remove</button></td>
        </tr>`)}</tbody>
      </table>
      ${err ? html`<span class="field-error" id="s-coordinates-error">${err}</span>` : nothing}
      <div><button type="button" class="secondary" @click=${() => this.addPoint()}>Add point</button></div>
    </fieldset>`;
  }
}
customElements.define('vigil-zone-editor', VigilZoneEditor);

