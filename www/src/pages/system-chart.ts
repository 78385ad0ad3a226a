/**
 * `<vigil-system-chart>`: a small line chart in SVG for the System page (CPU, memory,
 * inference time over the last hour). Hand-made rather than a chart library: a few lines of
 * SVG whose colours are the theme's custom properties. Accessible: a title, the latest value
 * as text, and the SVG is one image whose label summarizes the series (latest, lowest,
 * highest, span). `data-points` holds the number of points drawn (tests read it).
 */
import { LitElement, css, html, nothing, svg, type TemplateResult } from 'lit';
import { shared } from '../styles.ts';

/** One line of a chart: its name, its values (aligned with `times`; null = a gap) and a CSS colour. */
export interface ChartSeries { name: string; values: (number | null)[]; color: string }

const W = 600;
const H = 160;

/** A round upper bound for the y axis (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^n) at or above `max`. */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export class VigilSystemChart extends LitElement {
  static override properties = {
    label: { type: String }, unit: { type: String }, times: { attribute: false }, series: { attribute: false }, digits: { type: Number },
  };
  /** The chart's title, e.g. `CPU`. */
  declare label: string;
  /** The unit after each value, e.g. `%`, `MiB`, `ms`. */
  declare unit: string;
  /** Sample times, Unix ms, oldest first. */
  declare times: number[];
  declare series: ChartSeries[];
  /** Decimals shown. */
  declare digits: number;

  constructor() {
    super();
    this.label = '';
    this.unit = '';
    this.times = [];
    this.series = [];
    this.digits = 1;
  }

  static override styles = [shared, css`
    figure { margin: 0; padding: 12px; display: grid; gap: 6px; }
    figcaption { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; flex-wrap: wrap; }
    .title { font-weight: 600; }
    .latest { font-variant-numeric: tabular-nums; }
    .plot { position: relative; }
    svg { display: block; width: 100%; height: 140px; }
    .axis { display: flex; justify-content: space-between; color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
    .ymax { position: absolute; top: 0; left: 4px; color: var(--muted); font-size: .8rem; }
    .legend { display: flex; gap: 12px; font-size: .85rem; flex-wrap: wrap; }
    .swatch { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 4px; }
    .empty { color: var(--muted); margin: 0; }
  `];

  private fmt(v: number | null | undefined): string {
    return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(this.digits)} ${this.unit}`.trim();
  }

  /** The text an assistive technology reads for the chart. */
  summary(): string {
    const n = this.times.length;
    if (n === 0) return `${this.label}: no data yet`;
    const span = Math.round((this.times[n - 1]! - this.times[0]!) / 60_000);
    const parts = this.series.map((s) => {
      const vals = s.values.filter((v): v is number => v !== null && Number.isFinite(v));
      if (!vals.length) return `${s.name}: no value`;
      return `${s.name} latest ${this.fmt(vals[vals.length - 1])}, lowest ${this.fmt(Math.min(...vals))}, highest ${this.fmt(Math.max(...vals))}`;
    });
    return `${this.label} over the last ${span < 1 ? 'minute' : `${span} min`}: ${parts.join('; ')}`;
  }

  override render(): TemplateResult {
    const n = this.times.length;
    const all = this.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
    const top = niceMax(Math.max(0, ...all));
    const t0 = this.times[0] ?? 0;
    const span = Math.max(1, (this.times[n - 1] ?? 0) - t0);
    const x = (t: number) => ((t - t0) / span) * W;
    const y = (v: number) => H - (v / top) * H;
    const latest = this.series.map((s) => { const v = [...s.values].reverse().find((z) => z !== null); return `${this.series.length > 1 ? `${s.name} ` : ''}${this.fmt(v)}`; }).join(' · ');
    const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return html`<figure data-points=${n}>
      <figcaption><span class="title">${this.label}</span><span class="latest">${n ? latest : '—'}</span></figcaption>
      ${n < 2 ? html`<p class="empty">Collecting figures (one every few seconds)…</p>` : html`
        <div class="plot">
          <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label=${this.summary()}>
            ${[0.25, 0.5, 0.75].map((f) => svg`<line x1="0" x2=${W} y1=${H * f} y2=${H * f} stroke="var(--line)" stroke-width="1" vector-effect="non-scaling-stroke" />`)}
            <line x1="0" x2=${W} y1=${H - 0.5} y2=${H - 0.5} stroke="var(--muted)" stroke-width="1" vector-effect="non-scaling-stroke" />
            ${this.series.map((s) => {
              const pts = this.times.map((t, i) => (s.values[i] === null || s.values[i] === undefined ? null : `${x(t).toFixed(1)},${y(s.values[i]!).toFixed(1)}`));
              // A gap (null) splits the line.
              const runs = pts.reduce<string[][]>((acc, p) => { if (p === null) acc.push([]); else acc[acc.length - 1]!.push(p); return acc; }, [[]]).filter((r) => r.length);
              return runs.map((r) => svg`<polyline points=${r.join(' ')} fill="none" stroke=${s.color} stroke-width="2" vector-effect="non-scaling-stroke" stroke-linejoin="round" />`);
            })}
          </svg>
          <span class="ymax" aria-hidden="true">${this.fmt(top)}</span>
        </div>
        <div class="axis" aria-hidden="true"><span>${clock(t0)}</span><span>${clock(this.times[n - 1]!)}</span></div>`}
      ${this.series.length > 1 ? html`<div class="legend" aria-hidden="true">${this.series.map((s) => html`<span><span class="swatch" style="background:${s.color}"></span>${s.name}</span>`)}</div>` : nothing}
    </figure>`;
  }
}
customElements.define('vigil-system-chart', VigilSystemChart);
