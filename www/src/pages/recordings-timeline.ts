/**
 * `<vigil-recordings-timeline>`: one camera's recordings between `from` and `to` (Unix s)
 * as an SVG strip — hour ticks, recorded runs, motion and object marks of the segments,
 * event marks with their labels, the export selection and the playhead — inside a
 * keyboard-operable `role="slider"` whose value is the playhead.
 *
 * Pointer: a click (or a tap) scrubs there and plays (`scrub` with `play: true`); a drag of
 * more than 4 px selects a range (`select`). Keyboard: ←/→ move the playhead 10 s (1 min
 * with Shift), PageUp/PageDown 10 min, Home/End to the first recording in view / the end of
 * the view (`scrub` with `play: false`); Enter or Space plays from the playhead (`play`).
 *
 * Events (not composed; listen on the element): `scrub` `{time, play}`, `select`
 * `{start, end}`, `play` (no detail). Colours are the theme's custom properties.
 */
import { LitElement, css, html, svg, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { clock, isRecorded, runs, type Segment, type Span } from './recordings-time.ts';

/** An event mark: what the timeline needs of a `GET /api/events` item. Unix s. */
export interface EventMark { id: string; label: string; start_time: number; end_time: number | null }

/** Height of the strip, px. */
const H = 104;
/** Tick steps, s: the first giving ≥ 64 px between labels is used. */
const STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600];
/** Pointer travel (px) after which a press becomes a drag (a selection). */
const DRAG_PX = 4;

export class VigilRecordingsTimeline extends LitElement {
  static override properties = {
    from: { type: Number }, to: { type: Number }, segments: { attribute: false }, events: { attribute: false },
    playhead: { type: Number }, selection: { attribute: false }, label: { type: String }, width: { state: true },
    dragging: { state: true },
  };
  declare from: number;
  declare to: number;
  declare segments: Segment[];
  declare events: EventMark[];
  declare playhead: number | null;
  declare selection: Span | null;
  declare label: string;
  declare width: number;
  declare dragging: Span | null;
  private observer?: ResizeObserver;
  private press?: { x: number; id: number; moved: boolean };

  constructor() {
    super();
    this.from = 0;
    this.to = 86_400;
    this.segments = [];
    this.events = [];
    this.playhead = null;
    this.selection = null;
    this.label = 'Timeline';
    this.width = 600;
    this.dragging = null;
  }

  static override styles = css`
    :host { display: block; }
    .slider { position: relative; border-radius: 6px; cursor: crosshair; touch-action: pan-y; user-select: none; -webkit-user-select: none; }
    .slider:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
    svg { display: block; width: 100%; height: ${H}px; overflow: visible; }
    .tick-label { fill: var(--muted); font: 11px system-ui, sans-serif; }
    .ev-label { fill: var(--fg); font: 11px system-ui, sans-serif; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.observer = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0 && w !== this.width) this.width = w;
    });
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
  }

  override updated(changed: PropertyValues): void {
    if (changed.has('from') || changed.has('to')) this.dragging = null;
  }

  private x(t: number): number { return ((t - this.from) / Math.max(1, this.to - this.from)) * this.width; }
  private t(x: number): number { return this.from + (Math.min(Math.max(0, x), this.width) / Math.max(1, this.width)) * (this.to - this.from); }
  private xOf(e: PointerEvent): number { return e.clientX - (this.renderRoot.querySelector('.slider') as HTMLElement).getBoundingClientRect().left; }

  private emit(type: string, detail?: unknown): void { this.dispatchEvent(new CustomEvent(type, { detail })); }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.press = { x: this.xOf(e), id: e.pointerId, moved: false };
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
  }

  private onMove(e: PointerEvent): void {
    const p = this.press;
    if (!p || p.id !== e.pointerId) return;
    const x = this.xOf(e);
    if (!p.moved && Math.abs(x - p.x) < DRAG_PX) return;
    p.moved = true;
    const a = this.t(p.x), b = this.t(x);
    this.dragging = { start: Math.min(a, b), end: Math.max(a, b) };
  }

  private onUp(e: PointerEvent): void {
    const p = this.press;
    if (!p || p.id !== e.pointerId) return;
    this.press = undefined;
    if (p.moved && this.dragging) {
      const sel = { start: Math.round(this.dragging.start), end: Math.round(this.dragging.end) };
      this.dragging = null;
      if (sel.end > sel.start) this.emit('select', sel);
      return;
    }
    this.emit('scrub', { time: this.t(this.xOf(e)), play: true });
  }

  private onCancel(): void {
    this.press = undefined;
    this.dragging = null;
  }

  private onKey(e: KeyboardEvent): void {
    const at = this.playhead ?? this.from;
    const step = e.shiftKey ? 60 : 10;
    let to: number | null = null;
    switch (e.key) {
      case 'ArrowLeft': case 'ArrowDown': to = at - step; break;
      case 'ArrowRight': case 'ArrowUp': to = at + step; break;
      case 'PageDown': to = at - 600; break;
      case 'PageUp': to = at + 600; break;
      case 'Home': to = this.segments.find((s) => s.end_time > this.from)?.start_time ?? this.from; break;
      case 'End': to = this.to; break;
      case 'Enter': case ' ':
        e.preventDefault();
        this.emit('play');
        return;
      default: return;
    }
    e.preventDefault();
    this.emit('scrub', { time: Math.max(this.from, Math.min(this.to, to)), play: false });
  }

  private valueText(): string {
    if (this.playhead === null) return 'no position yet';
    return `${clock(this.playhead)}, ${isRecorded(this.segments, this.playhead) ? 'recorded' : 'not recorded'}`;
  }

  override render(): TemplateResult {
    const ph = this.playhead;
    return html`<div class="slider" role="slider" tabindex="0" aria-label=${this.label}
        aria-valuemin=${Math.floor(this.from)} aria-valuemax=${Math.ceil(this.to)} aria-valuenow=${ph === null ? Math.floor(this.from) : Math.round(ph)}
        aria-valuetext=${this.valueText()} aria-describedby="tl-help"
        @pointerdown=${this.onDown} @pointermove=${this.onMove} @pointerup=${this.onUp} @pointercancel=${this.onCancel} @keydown=${this.onKey}>
      <svg aria-hidden="true" viewBox=${`0 0 ${this.width} ${H}`} preserveAspectRatio="none">${this.strip()}</svg>
      <span id="tl-help" hidden>Arrow keys move 10 seconds, with Shift 1 minute; Page Up and Page Down 10 minutes; Enter plays.</span>
    </div>`;
  }

  /** The SVG content (everything in px of the current width). */
  private strip() {
    const { from, to, width } = this;
    const inView = this.segments.filter((s) => s.end_time > from && s.start_time < to);
    const bar = (s: Span, y: number, h: number, fill: string, cls: string) => {
      const x0 = Math.max(0, this.x(s.start)), x1 = Math.min(width, this.x(s.end));
      return svg`<rect class=${cls} x=${x0} y=${y} width=${Math.max(1, x1 - x0)} height=${h} fill=${fill}></rect>`;
    };
    const sel = this.dragging ?? this.selection;
    const step = STEPS.find((s) => (s / Math.max(1, to - from)) * width >= 64) ?? 21600;
    const midnight = new Date(from * 1000);
    midnight.setHours(0, 0, 0, 0);
    const base = midnight.getTime() / 1000;
    const ticks: number[] = [];
    for (let t = base + Math.ceil((from - base) / step) * step; t <= to; t += step) ticks.push(t);
    let lastLabelX = -Infinity;
    const evs = this.events.filter((e) => (e.end_time ?? e.start_time) >= from && e.start_time <= to).sort((a, b) => a.start_time - b.start_time);
    return svg`
      ${ticks.map((t) => {
        const x = this.x(t);
        return svg`<line x1=${x} x2=${x} y1="16" y2=${H} stroke="var(--line)" stroke-width="1"></line>
          <text class="tick-label" x=${Math.min(x + 3, width - 34)} y="12">${clock(t, step >= 60)}</text>`;
      })}
      <rect x="0" y="20" width=${width} height="32" fill="var(--bg)" stroke="var(--line)"></rect>
      ${runs(inView).map((s) => bar(s, 20, 32, 'var(--accent)', 'rec'))}
      ${runs(inView, (s) => s.motion === true).map((s) => bar(s, 55, 8, 'var(--warn)', 'motion'))}
      ${runs(inView, (s) => s.objects === true).map((s) => bar(s, 65, 8, 'var(--bad)', 'objects'))}
      ${evs.map((e) => {
        const x = this.x(e.start_time);
        const xe = this.x(e.end_time ?? Math.min(to, Date.now() / 1000));
        const showLabel = x - lastLabelX > 70 && x < width - 10;
        if (showLabel) lastLabelX = x;
        return svg`<g class="event"><title>${e.label} at ${clock(e.start_time)}</title>
          <rect x=${x} y="76" width=${Math.max(2, xe - x)} height="6" fill="var(--fg)" opacity=".75"></rect>
          <line x1=${x} x2=${x} y1="74" y2=${H - 2} stroke="var(--fg)" stroke-width="2"></line>
          ${showLabel ? svg`<text class="ev-label" x=${x + 4} y=${H - 6}>${e.label}</text>` : nothing}</g>`;
      })}
      ${sel ? svg`<rect class="selection" x=${this.x(sel.start)} y="18" width=${Math.max(2, this.x(sel.end) - this.x(sel.start))} height=${H - 18}
          fill="var(--accent)" fill-opacity=".22" stroke="var(--accent)" stroke-width="2"></rect>` : nothing}
      ${this.playheadMark()}`;
  }

  /** The playhead, or nothing when it is unset or out of view. */
  private playheadMark() {
    const t = this.playhead;
    if (t === null || t < this.from || t > this.to) return nothing;
    const x = this.x(t);
    return svg`<g class="playhead"><line x1=${x} x2=${x} y1="16" y2=${H} stroke="var(--fg)" stroke-width="2"></line>
      <path d=${`M${x - 6} 14 L${x + 6} 14 L${x} 22 Z`} fill="var(--fg)"></path></g>`;
  }
}

customElements.define('vigil-recordings-timeline', VigilRecordingsTimeline);
