/**
 * `<vigil-events>`: the event list. The filters (camera, label, zone, time range) and the
 * page live in the URL query (`/events?camera=door&label=person&after=…&before=…&page=2`,
 * times in Unix s), so a filtered list is a link; the form writes them there. Pages of
 * {@link PAGE_SIZE} from `GET /api/events`, with the total from `X-Total-Count`. Two views
 * (`view=timeline` in the URL): the table, or a timeline — events grouped by hour with their
 * thumbnails, newest first. On the first page, new and updated events matching the filters
 * arrive live from `vigil/events`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { bus } from '../bus.ts';
import { duration, fromLocalInput, pct, toLocalInput } from '../format.ts';
import { eventFromMessage, mergeEvent } from '../live-events.ts';
import { navigate } from '../router.ts';
import { shared } from '../styles.ts';
import type { Camera, EventRecord } from '../types.ts';
import { eventTable } from './event-table.ts';

/** A live event's thumbnail is asked for this long after it arrived (ms), as on the dashboard. */
const THUMB_DELAY_MS = 1_500;

/** Events per page. */
export const PAGE_SIZE = 25;
const FILTERS = ['camera', 'label', 'zone', 'after', 'before'] as const;

export class VigilEvents extends LitElement {
  static override properties = { query: { type: String }, events: { state: true }, total: { state: true }, cameras: { state: true }, error: { state: true }, fieldErrors: { state: true } };
  declare query: string;
  declare events: EventRecord[] | null;
  declare total: number;
  declare cameras: Camera[];
  declare error: string;
  declare fieldErrors: Record<string, string>;
  private loading?: AbortController;
  private stop?: () => void;
  /** Events first seen live → when (ms): the hub stores their images a moment after the row. */
  private readonly arrived = new Map<string, number>();

  constructor() {
    super();
    this.query = '';
    this.events = null;
    this.total = 0;
    this.cameras = [];
    this.error = '';
    this.fieldErrors = {};
  }

  static override styles = [shared, css`
    form { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; padding: 16px; align-items: end; }
    .actions { display: flex; gap: 8px; }
    .list { overflow-x: auto; padding: 4px 8px; margin-top: 16px; }
    .pager { display: flex; gap: 12px; align-items: center; margin-top: 12px; flex-wrap: wrap; }
    .views { display: flex; gap: 8px; margin: 0 0 8px; }
    .views a[aria-current="page"] { border-color: var(--accent); box-shadow: inset 0 -3px 0 var(--accent); }
    ol.timeline { list-style: none; margin: 16px 0 0; padding: 0 0 0 18px; border-left: 2px solid var(--line); }
    ol.timeline > li { margin: 0 0 16px; }
    ol.timeline h3 { position: relative; font-size: .95rem; color: var(--muted); margin: 0 0 8px; }
    ol.timeline h3::before { content: ''; position: absolute; left: -25px; top: 4px; width: 12px; height: 12px; border-radius: 50%; background: var(--accent); }
    ol.items { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px; }
    ol.items a { display: grid; grid-template-columns: 96px 1fr; gap: 10px; padding: 8px; color: var(--fg); text-decoration: none; }
    ol.items a:hover { border-color: var(--accent); }
    ol.items img, ol.items .noimg { width: 96px; height: 72px; object-fit: cover; border-radius: 4px; background: #000; }
    ol.items .what { font-weight: 600; }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    get<Camera[]>('/api/cameras').then((c) => { this.cameras = c; }, () => { /* the list still works without the names */ });
    this.stop = bus.on('vigil/events', (_t, payload) => this.onLive(payload));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.loading?.abort();
    this.stop?.();
  }

  /** A live event: merged into the first page when it matches the filters (a new one adds to the total). */
  private onLive(payload: Uint8Array): void {
    const e = eventFromMessage(payload);
    if (!e || e.false_positive || !this.events || this.page !== 1) return;
    const p = this.params;
    const after = Number(p.get('after') ?? -Infinity);
    const before = Number(p.get('before') ?? Infinity);
    const cams = p.get('camera')?.split(',');
    const labels = p.get('label')?.split(',');
    if ((cams && !cams.includes(e.camera)) || (labels && !labels.includes(e.label)) || (p.get('zone') && !e.zones.includes(p.get('zone')!))) return;
    if (e.start_time < after || e.start_time >= before) return;
    const known = this.events.some((x) => x.id === e.id);
    if (!known && e.has_snapshot) { this.arrived.set(e.id, Date.now()); setTimeout(() => this.requestUpdate(), THUMB_DELAY_MS + 50); }
    this.events = mergeEvent(this.events, e, PAGE_SIZE);
    if (!known) this.total++;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('query')) void this.load();
  }

  private get params(): URLSearchParams { return new URLSearchParams(this.query); }
  private get page(): number { return Math.max(1, Math.floor(Number(this.params.get('page') ?? '1')) || 1); }

  private async load(): Promise<void> {
    this.loading?.abort();
    const ctl = new AbortController();
    this.loading = ctl;
    const q = new URLSearchParams();
    for (const k of FILTERS) { const v = this.params.get(k); if (v) q.set(k, v); }
    q.set('limit', String(PAGE_SIZE));
    q.set('offset', String((this.page - 1) * PAGE_SIZE));
    this.error = '';
    this.fieldErrors = {};
    try {
      const r = await api<EventRecord[]>('GET', `/api/events?${q}`, undefined, ctl.signal);
      this.events = r.data;
      this.total = Number(r.headers.get('x-total-count') ?? r.data.length);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.events = [];
      this.total = 0;
      if (err instanceof ApiError && err.field) this.fieldErrors = { [err.field.replace(/^query\./, '')]: err.message };
      else this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  private apply(e: Event): void {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const q = new URLSearchParams();
    for (const k of ['camera', 'label', 'zone'] as const) { const v = String(f.get(k) ?? '').trim(); if (v) q.set(k, v); }
    if (this.params.get('view') === 'timeline') q.set('view', 'timeline');
    const errors: Record<string, string> = {};
    for (const k of ['after', 'before'] as const) {
      const raw = String(f.get(k) ?? '');
      const v = fromLocalInput(raw);
      if (raw && v === null) errors[k] = 'Not a date and time.';
      else if (v !== null) q.set(k, String(v));
    }
    if (q.has('after') && q.has('before') && Number(q.get('after')) >= Number(q.get('before'))) errors.before = 'Must be later than "From".';
    this.fieldErrors = errors;
    if (Object.keys(errors).length) return;
    const s = q.toString();
    navigate(`/events${s ? `?${s}` : ''}`);
  }

  private pageLink(page: number): string {
    const q = this.params;
    if (page <= 1) q.delete('page'); else q.set('page', String(page));
    const s = q.toString();
    return `/events${s ? `?${s}` : ''}`;
  }

  private thumbReady(e: EventRecord): boolean { return Date.now() - (this.arrived.get(e.id) ?? 0) >= THUMB_DELAY_MS; }

  /** The current filters with `view` set (or removed for the table). */
  private viewLink(view: 'table' | 'timeline'): string {
    const q = this.params;
    q.delete('page');
    if (view === 'timeline') q.set('view', 'timeline'); else q.delete('view');
    const s = q.toString();
    return `/events${s ? `?${s}` : ''}`;
  }

  /** Events grouped by the local hour they started in, newest first, each with its thumbnail. */
  private timeline(events: EventRecord[]) {
    const groups = new Map<string, EventRecord[]>();
    for (const e of events) {
      const d = new Date(e.start_time * 1000);
      d.setMinutes(0, 0, 0);
      const k = d.toISOString();
      groups.set(k, [...(groups.get(k) ?? []), e]);
    }
    return html`<ol class="timeline" aria-label="Events by hour">${[...groups].map(([k, list]) => {
      const d = new Date(k);
      return html`<li><h3><time datetime=${k}>${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time></h3>
        <ol class="items">${list.map((e) => html`<li data-event=${e.id}><a class="card" href=${`/events/${encodeURIComponent(e.id)}`}>
          ${e.has_snapshot && this.thumbReady(e) ? html`<img loading="lazy" alt="" src=${`/api/events/${encodeURIComponent(e.id)}/thumbnail.jpg`}>` : html`<span class="noimg"></span>`}
          <span><span class="what">${e.label}${typeof e.sub_label === 'string' && e.sub_label ? ` (${e.sub_label})` : ''}</span> on ${e.camera}<br>
            <span class="muted">${new Date(e.start_time * 1000).toLocaleTimeString()} · ${e.end_time === null ? 'in progress' : duration(e.end_time - e.start_time)} · ${pct(e.top_score)}</span>
            ${e.zones.length ? html`<br><span class="muted">${e.zones.join(', ')}</span>` : nothing}</span>
        </a></li>`)}</ol></li>`;
    })}</ol>`;
  }

  private input(name: string, label: string, type: string, value: string, extra: { list?: string } = {}) {
    const err = this.fieldErrors[name];
    return html`<div class="field"><label for=${`flt-${name}`}>${label}</label>
      <input id=${`flt-${name}`} name=${name} type=${type} .value=${value} list=${extra.list ?? nothing}
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `flt-${name}-error` : nothing}>
      ${err ? html`<span class="field-error" id=${`flt-${name}-error`}>${err}</span>` : nothing}</div>`;
  }

  override render() {
    const p = this.params;
    const time = (k: string) => { const v = Number(p.get(k)); return p.get(k) && Number.isFinite(v) ? toLocalInput(v) : ''; };
    const cam = p.get('camera') ?? '';
    const from = (this.page - 1) * PAGE_SIZE;
    const pages = Math.max(1, Math.ceil(this.total / PAGE_SIZE));
    const zones = [...new Set(this.cameras.flatMap((c) => (c.zones ?? []).map((z) => z.name)))];
    const timeline = p.get('view') === 'timeline';
    return html`
      <h1>Events</h1>
      <form class="card" role="search" aria-label="Filter events" @submit=${this.apply}>
        <div class="field"><label for="flt-camera">Camera</label>
          <select id="flt-camera" name="camera" aria-invalid=${this.fieldErrors.camera ? 'true' : 'false'}>
            <option value="">All cameras</option>
            ${this.cameras.map((c) => html`<option value=${c.name} ?selected=${c.name === cam}>${c.name}</option>`)}
            ${cam && !this.cameras.some((c) => c.name === cam) ? html`<option value=${cam} selected>${cam}</option>` : nothing}
          </select>
          ${this.fieldErrors.camera ? html`<span class="field-error">${this.fieldErrors.camera}</span>` : nothing}</div>
        ${this.input('label', 'Label', 'text', p.get('label') ?? '', { list: 'labels' })}
        <datalist id="labels">${['person', 'car', 'bicycle', 'motorcycle', 'bus', 'truck', 'dog', 'cat', 'bird'].map((l) => html`<option value=${l}></option>`)}</datalist>
        ${this.input('zone', 'Zone', 'text', p.get('zone') ?? '', { list: 'zones' })}
        <datalist id="zones">${zones.map((z) => html`<option value=${z}></option>`)}</datalist>
        ${this.input('after', 'From', 'datetime-local', time('after'))}
        ${this.input('before', 'Until', 'datetime-local', time('before'))}
        <div class="actions"><button type="submit">Apply filters</button><a class="button secondary" href="/events">Clear</a></div>
      </form>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <h2 id="results-h">Results</h2>
      <nav class="views" aria-label="View">
        <a class="button secondary" href=${this.viewLink('table')} aria-current=${timeline ? nothing : 'page'}>Table</a>
        <a class="button secondary" href=${this.viewLink('timeline')} aria-current=${timeline ? 'page' : nothing}>Timeline</a>
      </nav>
      <p role="status" id="events-count">${this.events === null ? 'Loading…' : this.total === 0 ? 'No event matches.' : `Events ${from + 1}–${from + this.events.length} of ${this.total}`}</p>
      ${!this.events?.length ? nothing : timeline ? this.timeline(this.events) : html`<div class="card list">${eventTable(this.events, 'Events matching the filters', (e) => this.thumbReady(e))}</div>`}
      ${this.total > PAGE_SIZE ? html`<nav class="pager" aria-label="Pages">
        ${this.page > 1 ? html`<a class="button secondary" href=${this.pageLink(this.page - 1)} rel="prev">Previous page</a>` : nothing}
        <span>Page ${this.page} of ${pages}</span>
        ${this.page < pages ? html`<a class="button secondary" href=${this.pageLink(this.page + 1)} rel="next">Next page</a>` : nothing}
      </nav>` : nothing}`;
  }
}
customElements.define('vigil-events', VigilEvents);
