/**
 * `<vigil-dashboard>`: a live tile per camera the user may see (`<vigil-live-view
 * stream="sub">`: MSE of the camera's sub stream, else its latest JPEG every second; a tile
 * out of view stops streaming), with availability and motion
 * badges from `vigil/camera/<cam>/availability` and `…/motion`; system health from
 * `/api/system` and `/api/health` (every 15 s); the latest ten events from
 * `/api/events?limit=10`, with new and updated ones from `vigil/events` as they happen.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, get } from '../api.ts';
import { bus } from '../bus.ts';
import { duration } from '../format.ts';
import { eventFromMessage, mergeEvent } from '../live-events.ts';
import { shared } from '../styles.ts';
import type { Camera, EventRecord, SystemInfo } from '../types.ts';
import { eventTable } from './event-table.ts';
import './live-view.ts';

interface Tile { availability?: string; motion?: string }

const HEALTH_MS = 15_000;
/** The hub stores an event's images when it has stored the event (a few ms; more on a busy hub). */
const THUMB_DELAY_MS = 1_500;

export class VigilDashboard extends LitElement {
  static override properties = { cameras: { state: true }, tiles: { state: true }, system: { state: true }, health: { state: true }, events: { state: true }, error: { state: true } };
  declare cameras: Camera[] | null;
  declare tiles: Record<string, Tile>;
  declare system: SystemInfo | null;
  declare health: string;
  declare events: EventRecord[] | null;
  declare error: string;
  private stops: (() => void)[] = [];
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly abort = new AbortController();
  /** Events first seen on MQTT → when (ms): their thumbnail is asked for {@link THUMB_DELAY_MS} later. */
  private readonly arrived = new Map<string, number>();

  constructor() {
    super();
    this.cameras = null;
    this.tiles = {};
    this.system = null;
    this.health = '';
    this.events = null;
    this.error = '';
  }

  static override styles = [shared, css`
    .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 12px; list-style: none; padding: 0; margin: 0; }
    .tile { overflow: hidden; }
    .tile vigil-live-view { border-radius: 8px 8px 0 0; }
    .tile .meta { padding: 8px 10px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
    .tile .meta h3 { margin-right: auto; }
    dl.health { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; padding: 12px 16px; }
    dt { color: var(--muted); } dd { margin: 0; }
    .events { overflow-x: auto; padding: 4px 8px; }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    void this.loadHealth();
    this.timers.push(setInterval(() => void this.loadHealth(), HEALTH_MS));
    this.stops.push(
      bus.on('vigil/camera/+/availability', (t, p) => this.setTile(t, { availability: text(p) })),
      bus.on('vigil/camera/+/motion', (t, p) => this.setTile(t, { motion: text(p) })),
      bus.on('vigil/events', (_t, p) => {
        const e = eventFromMessage(p);
        if (!e || e.false_positive || !this.events) return;
        if (e.has_snapshot && !this.arrived.has(e.id)) {
          this.arrived.set(e.id, Date.now());
          setTimeout(() => this.requestUpdate(), THUMB_DELAY_MS + 50);
        }
        this.events = mergeEvent(this.events, e, 10);
      }),
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    for (const s of this.stops) s();
    for (const t of this.timers) clearInterval(t);
  }

  private async load(): Promise<void> {
    try {
      const [cameras, events] = await Promise.all([get<Camera[]>('/api/cameras', this.abort.signal), get<EventRecord[]>('/api/events?limit=10', this.abort.signal)]);
      this.cameras = cameras;
      this.events = events.filter((e) => !e.false_positive);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  private async loadHealth(): Promise<void> {
    try {
      this.system = await get<SystemInfo>('/api/system', this.abort.signal);
      await get('/api/health', this.abort.signal);
      this.health = 'ok';
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.health = err instanceof ApiError ? err.message : String(err);
    }
  }

  private setTile(topic: string, patch: Tile): void {
    const cam = topic.split('/')[2];
    if (!cam) return;
    this.tiles = { ...this.tiles, [cam]: { ...this.tiles[cam], ...patch } };
  }

  override render() {
    return html`
      <h1>Dashboard</h1>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <section aria-labelledby="cams-h">
        <h2 id="cams-h">Cameras</h2>
        ${this.cameras === null ? html`<p aria-busy="true">Loading cameras…</p>`
          : this.cameras.length === 0 ? html`<p class="muted">No camera yet.</p>`
          : html`<ul class="tiles">${this.cameras.map((c) => this.tile(c))}</ul>`}
      </section>
      <section aria-labelledby="events-h">
        <h2 id="events-h">Latest events</h2>
        ${this.events === null ? html`<p aria-busy="true">Loading events…</p>`
          : this.events.length === 0 ? html`<p class="muted" id="no-events">No event yet.</p>`
          : html`<div class="card events" aria-live="polite">${eventTable(this.events, 'The latest ten events', (e) => Date.now() - (this.arrived.get(e.id) ?? 0) >= THUMB_DELAY_MS)}</div>`}
        <p><a href="/events">All events</a></p>
      </section>
      <section aria-labelledby="health-h">
        <h2 id="health-h">System</h2>
        ${this.healthList()}
      </section>`;
  }

  private tile(c: Camera) {
    const t = this.tiles[c.name] ?? {};
    const avail = t.availability ?? this.system?.cameras[c.name]?.availability;
    const motion = t.motion ?? this.system?.cameras[c.name]?.motion;
    return html`<li class="tile card" data-camera=${c.name}>
      <vigil-live-view camera=${c.name} stream="sub"></vigil-live-view>
      <div class="meta">
        <h3><a href=${`/cameras/${encodeURIComponent(c.name)}`}>${c.name}</a>${c.friendly_name ? html` <span class="muted">${c.friendly_name}</span>` : nothing}</h3>
        <span class="badge ${avail === 'online' ? 'ok' : avail === 'offline' ? 'bad' : 'idle'}" data-badge="availability">${avail ?? 'unknown'}</span>
        <span class="badge ${motion === 'ON' ? 'warn' : 'idle'}" data-badge="motion">${motion === 'ON' ? 'motion' : 'no motion'}</span>
        <a href=${`/events?camera=${encodeURIComponent(c.name)}`} aria-label=${`Events of ${c.name}`}>Events</a>
      </div>
    </li>`;
  }

  private healthList() {
    const s = this.system;
    if (!s) return html`<p aria-busy="true">Loading…</p>`;
    const comps = Object.entries(s.components ?? {});
    return html`<dl class="health card" id="health">
      <dt>Hub</dt><dd><span class="badge ${this.health === 'ok' ? 'ok' : 'bad'}">${this.health === 'ok' ? 'ready' : this.health || 'checking'}</span></dd>
      <dt>Version</dt><dd>${s.version}</dd>
      <dt>Up for</dt><dd>${duration(s.uptime_s)}</dd>
      ${s.mqtt ? html`<dt>MQTT broker</dt><dd>${s.mqtt.connected ? 'connected' : 'disconnected'}${s.mqtt.clients !== undefined ? `, ${s.mqtt.clients} clients` : ''}</dd>` : nothing}
      ${comps.map(([name, c]) => html`<dt>${name}</dt><dd>${typeof c.status === 'string' ? c.status : '—'}</dd>`)}
    </dl>`;
  }
}
customElements.define('vigil-dashboard', VigilDashboard);

function text(p: Uint8Array): string { return new TextDecoder().decode(p).trim(); }
