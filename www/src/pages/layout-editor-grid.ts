/**
 * `<vigil-layout-grid>`: the 12×12 grid of the layouts editor, with its regions as buttons.
 *
 * Pointer (mouse, pen, touch): drag across empty cells to draw a region; drag a region to
 * move it; drag its bottom-right corner to resize it. Everything snaps to whole cells. While
 * dragging, a ghost shows where the region would go — dashed red with the reason when it
 * would overlap another region or hold more than {@link MAX_CELLS} regions; releasing there
 * changes nothing and the reason is announced.
 *
 * Keyboard: Tab to a region (selecting it); arrow keys move it one cell, Shift + arrow keys
 * resize it (→ ↓ grow, ← ↑ shrink), Delete removes it. Moves that would overlap or leave the
 * grid are refused and announced. (The editor also offers x/y/w/h number inputs.)
 *
 * The grid never changes its `regions` itself: it asks its parent with events (all bubble
 * and are composed), and the parent updates the property:
 * - `region-select` `{key}` — a region was clicked or focused
 * - `region-change` `{key, box}` — move or resize to `box` (grid units; checked: fits, no overlap)
 * - `region-create` `{box}` — draw a new region (checked)
 * - `region-remove` `{key}` — Delete pressed on a region
 * - `region-refused` `{message}` — a drag or key press was refused (the parent announces it)
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { shared } from '../styles.ts';
import { GRID, MAX_CELLS, clamp, fits, overlapIndex, spanBox, type Box, type Cell } from './layouts-grid.ts';

/** A region as the editor holds it: `key` identifies it while its name or place changes. */
export interface EdRegion extends Box { key: number; name: string; cell?: Cell }

interface Drag {
  mode: 'create' | 'move' | 'resize';
  pointer: number;
  /** The region moved or resized (not for create). */
  key?: number;
  /** Grid cell where the drag started. */
  start: { x: number; y: number };
  /** The region's box when the drag started. */
  origin?: Box;
  /** Where it would go now. */
  box: Box;
  /** Why it may not go there ('' = it may). */
  refusal: string;
  moved: boolean;
}

export class VigilLayoutGrid extends LitElement {
  static override properties = {
    regions: { attribute: false }, selected: { type: Number }, problems: { attribute: false }, describe: { attribute: false }, drag: { state: true },
  };
  declare regions: EdRegion[];
  /** Key of the selected region, or -1. */
  declare selected: number;
  /** Region key → the problem to show on it (an API error or an overlap). */
  declare problems: Map<number, string>;
  /** What a region shows, for its label (from the editor: camera names, "web page" …). */
  declare describe: (r: EdRegion) => string;
  declare drag: Drag | null;

  constructor() {
    super();
    this.regions = [];
    this.selected = -1;
    this.problems = new Map();
    this.describe = () => '';
    this.drag = null;
  }

  static override styles = [shared, css`
    :host { display: block; }
    .grid { position: relative; width: 100%; aspect-ratio: 16 / 9; border: 1px solid var(--line); border-radius: 6px; touch-action: none; user-select: none;
      background-color: var(--input);
      background-image: linear-gradient(to right, var(--line) 1px, transparent 1px), linear-gradient(to bottom, var(--line) 1px, transparent 1px);
      background-size: calc(100% / 12) calc(100% / 12); cursor: crosshair; }
    .region { position: absolute; min-height: 0; padding: 2px 4px; border-radius: 3px; display: block; white-space: pre-line; overflow-wrap: anywhere;
      font-weight: 400; font-size: .78rem; line-height: 1.2; overflow: hidden; text-align: left; vertical-align: top; cursor: grab;
      background: color-mix(in srgb, var(--accent) 22%, var(--card)); color: var(--fg); border: 2px solid color-mix(in srgb, var(--accent) 55%, var(--card)); }
    .region.empty { background: var(--card); }
    .region[aria-pressed="true"] { border-color: var(--accent); box-shadow: inset 0 0 0 2px var(--accent); }
    .region.problem { border-color: var(--bad); border-style: dashed; }
    .region::first-line { font-weight: 700; }
    .region:focus-visible { outline: 3px solid var(--focus); outline-offset: -3px; z-index: 2; }
    .handle { position: absolute; right: 0; bottom: 0; width: 14px; height: 14px; cursor: nwse-resize; background: var(--accent);
      clip-path: polygon(100% 0, 100% 100%, 0 100%); }
    @media (pointer: coarse) { .handle { width: 22px; height: 22px; } }
    .ghost { position: absolute; pointer-events: none; border: 2px solid var(--ok); background: color-mix(in srgb, var(--ok) 18%, transparent); border-radius: 3px; z-index: 3;
      display: flex; align-items: center; justify-content: center; font-size: .8rem; font-weight: 700; color: var(--fg); text-align: center; }
    .ghost.refused { border: 2px dashed var(--bad); background: color-mix(in srgb, var(--bad) 22%, transparent); }
    .help { margin: 6px 0 0; font-size: .85rem; }
  `];

  /** Puts keyboard focus on a region's button (after it was added or selected elsewhere). */
  async focusRegion(key: number): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(`button[data-key="${key}"]`)?.focus();
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private nameOf(i: number): string { return this.regions[i]?.name ?? '?'; }

  /** Why `box` may not take the place of region `key` (or a new region): '' when it may. */
  private refusal(box: Box, key?: number): string {
    if (!fits(box)) return `must stay inside the ${GRID}×${GRID} grid`;
    const skip = key === undefined ? -1 : this.regions.findIndex((r) => r.key === key);
    const o = overlapIndex(this.regions, box, skip);
    if (o >= 0) return `would overlap ${this.nameOf(o)}`;
    if (key === undefined && this.regions.length >= MAX_CELLS) return `a layout has at most ${MAX_CELLS} regions`;
    return '';
  }

  /** The grid cell under a pointer (clamped to the grid). */
  private cellAt(e: PointerEvent): { x: number; y: number } {
    const r = this.renderRoot.querySelector<HTMLElement>('.grid')!.getBoundingClientRect();
    return {
      x: clamp(Math.floor(((e.clientX - r.left) / r.width) * GRID), 0, GRID - 1),
      y: clamp(Math.floor(((e.clientY - r.top) / r.height) * GRID), 0, GRID - 1),
    };
  }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0 || this.drag) return;
    const path = e.composedPath() as HTMLElement[];
    const regionEl = path.find((n) => n instanceof HTMLElement && n.dataset?.key !== undefined);
    const handle = path.some((n) => n instanceof HTMLElement && n.classList?.contains('handle'));
    const start = this.cellAt(e);
    e.preventDefault(); // no text selection, no native drag; focus is set below
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    if (regionEl) {
      const key = Number(regionEl.dataset.key);
      const r = this.regions.find((x) => x.key === key);
      if (!r) return;
      this.emit('region-select', { key });
      void this.focusRegion(key);
      const origin = { x: r.x, y: r.y, w: r.w, h: r.h };
      this.drag = { mode: handle ? 'resize' : 'move', pointer: e.pointerId, key, start, origin, box: origin, refusal: '', moved: false };
    } else {
      const box = spanBox(start, start);
      this.drag = { mode: 'create', pointer: e.pointerId, start, box, refusal: this.refusal(box), moved: false };
    }
  }

  private onMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d || e.pointerId !== d.pointer) return;
    const c = this.cellAt(e);
    let box: Box;
    if (d.mode === 'create') box = spanBox(d.start, c);
    else if (d.mode === 'move') {
      const o = d.origin!;
      box = { x: clamp(o.x + c.x - d.start.x, 0, GRID - o.w), y: clamp(o.y + c.y - d.start.y, 0, GRID - o.h), w: o.w, h: o.h };
    } else {
      const o = d.origin!;
      box = { x: o.x, y: o.y, w: clamp(c.x - o.x + 1, 1, GRID - o.x), h: clamp(c.y - o.y + 1, 1, GRID - o.y) };
    }
    const moved = d.moved || c.x !== d.start.x || c.y !== d.start.y;
    this.drag = { ...d, box, moved, refusal: this.refusal(box, d.key) };
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    if (!d || e.pointerId !== d.pointer) return;
    this.drag = null;
    if (e.type === 'pointercancel' || !d.moved) return;
    const same = d.origin && d.origin.x === d.box.x && d.origin.y === d.box.y && d.origin.w === d.box.w && d.origin.h === d.box.h;
    if (same) return;
    if (d.refusal) {
      const what = d.mode === 'create' ? 'New region' : this.regions.find((r) => r.key === d.key)?.name ?? 'Region';
      this.emit('region-refused', { message: `${what} not ${d.mode === 'create' ? 'drawn' : d.mode === 'move' ? 'moved' : 'resized'}: it ${d.refusal}.` });
      return;
    }
    if (d.mode === 'create') this.emit('region-create', { box: d.box });
    else this.emit('region-change', { key: d.key, box: d.box });
  }

  private onKey(e: KeyboardEvent, r: EdRegion): void {
    const step: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      this.emit('region-remove', { key: r.key });
      return;
    }
    const s = step[e.key];
    if (!s || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    if (this.selected !== r.key) this.emit('region-select', { key: r.key });
    const box = e.shiftKey ? { x: r.x, y: r.y, w: r.w + s[0], h: r.h + s[1] } : { x: r.x + s[0], y: r.y + s[1], w: r.w, h: r.h };
    const why = box.w < 1 || box.h < 1 ? 'cannot get smaller than one cell' : this.refusal(box, r.key);
    if (why) this.emit('region-refused', { message: `${r.name} not ${e.shiftKey ? 'resized' : 'moved'}: it ${why}.` });
    else this.emit('region-change', { key: r.key, box });
  }

  private pos(b: Box): string {
    const p = (n: number) => `${((n / GRID) * 100).toFixed(4)}%`;
    return `left:${p(b.x)};top:${p(b.y)};width:${p(b.w)};height:${p(b.h)}`;
  }

  override render(): TemplateResult {
    const d = this.drag;
    return html`<div class="grid" role="group" aria-label="Layout grid, ${GRID} by ${GRID} cells" aria-describedby="grid-help"
        @pointerdown=${(e: PointerEvent) => this.onDown(e)} @pointermove=${(e: PointerEvent) => this.onMove(e)}
        @pointerup=${(e: PointerEvent) => this.onUp(e)} @pointercancel=${(e: PointerEvent) => this.onUp(e)}
        @lostpointercapture=${(e: PointerEvent) => this.onUp(e)}>
        ${repeat(this.regions, (r) => r.key, (r) => this.region(r))}
        ${d && d.moved ? html`<div class="ghost ${d.refusal ? 'refused' : ''}" data-ghost style=${this.pos(d.box)}>${d.refusal ? `✕ ${d.refusal}` : `${d.box.w}×${d.box.h}`}</div>` : nothing}
      </div>
      <p class="help muted" id="grid-help">Drag across empty cells to draw a region, drag a region to move it, drag its corner to resize it.
        Keyboard: Tab to a region, arrow keys move it, Shift + arrow keys resize it, Delete removes it.</p>`;
  }

  private region(r: EdRegion): TemplateResult {
    const problem = this.problems.get(r.key);
    const what = this.describe(r);
    // The name starts with the visible text (name, then what it shows) so speech input users can say it.
    const label = `${r.name} ${what}, column ${r.x + 1}, row ${r.y + 1}, ${r.w} by ${r.h} cells${problem ? `, problem: ${problem}` : ''}`;
    return html`<button type="button" class="region ${r.cell ? '' : 'empty'} ${problem ? 'problem' : ''}" data-key=${r.key} data-region=${r.name}
        style=${this.pos(r)} aria-pressed=${this.selected === r.key ? 'true' : 'false'} aria-label=${label}
        @click=${() => this.emit('region-select', { key: r.key })} @focus=${() => { if (this.selected !== r.key) this.emit('region-select', { key: r.key }); }}
        @keydown=${(e: KeyboardEvent) => this.onKey(e, r)}>${`${r.name}\n${what}`}<span class="handle" aria-hidden="true"></span></button>`;
  }
}
customElements.define('vigil-layout-grid', VigilLayoutGrid);
