/**
 * `<vigil-camera camera="yard">`: one camera — its live view (`<vigil-live-view>`: MSE,
 * else `latest.jpg` polling), availability (`vigil/camera/<cam>/availability`), switches for
 * detect / record / snapshots (operators and admins; `POST /api/cameras/<cam>/features`,
 * the REST form of `vigil/camera/<cam>/<feature>/set`) that show the retained state of
 * `vigil/camera/<cam>/<feature>/state` as it changes, and the camera's latest 20 events
 * (`GET /api/events?camera=<cam>`, new ones live from `vigil/events`).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { eventFromMessage, mergeEvent } from '../live-events.ts';
import { shared } from '../styles.ts';
import type { EventRecord } from '../types.ts';
import { FEATURES, type CameraRow, type Feature } from './cameras.ts';
import { eventTable } from './event-table.ts';
import './live-view.ts';
import './camera-ptz.ts';

const LABELS: Record<Feature, string> = { detect: 'Detection', record: 'Recording', snapshots: 'Snapshots' };

export class VigilCamera extends LitElement {
  static override properties = {
    camera: { type: String }, config: { state: true }, states: { state: true }, availability: { state: true },
    events: { state: true }, error: { state: true }, pending: { state: true },
  };
  declare camera: string;
  declare config: CameraRow | null;
  declare states: Partial<Record<Feature, string>>;
  declare availability: string;
  declare events: EventRecord[] | null;
  declare error: string;
  declare pending: Feature | '';
  private stops: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.camera = '';
    this.config = null;
    this.states = {};
    this.availability = '';
    this.events = null;
    this.error = '';
    this.pending = '';
  }

  static override styles = [shared, css`
    .top { display: grid; grid-template-columns: minmax(0, 2fr) minmax(240px, 1fr); gap: 16px; align-items: start; }
    @media (max-width: 720px) { .top { grid-template-columns: 1fr; } }
    fieldset { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 0; display: grid; gap: 10px; background: var(--card); }
    legend { font-weight: 600; padding: 0 4px; }
    .switch { display: flex; align-items: center; gap: 10px; }
    .switch input { width: 20px; height: 20px; min-height: 0; }
    .events { overflow-x: auto; padding: 4px 8px; }
  `];

  private get canControl(): boolean { return session.user?.role === 'admin' || session.user?.role === 'operator'; }
  private get enc(): string { return encodeURIComponent(this.camera); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    const cam = this.camera;
    this.stops.push(bus.on(`vigil/camera/${cam}/availability`, (_t, p) => { this.availability = text(p); }));
    for (const f of FEATURES) this.stops.push(bus.on(`vigil/camera/${cam}/${f}/state`, (_t, p) => { this.states = { ...this.states, [f]: text(p) }; }));
    this.stops.push(bus.on('vigil/events', (_t, p) => {
      const e = eventFromMessage(p);
      if (!e || e.camera !== cam || e.false_positive || !this.events) return;
      this.events = mergeEvent(this.events, { ...e, has_snapshot: false }, 20); // its thumbnail may not be stored yet
    }));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    for (const s of this.stops) s();
  }

  private async load(): Promise<void> {
    try {
      const [config, events] = await Promise.all([
        get<CameraRow>(`/api/cameras/${this.enc}`, this.abort.signal),
        get<EventRecord[]>(`/api/events?camera=${this.enc}&limit=20`, this.abort.signal),
      ]);
      this.config = config;
      this.events = events.filter((e) => !e.false_positive);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.error = err instanceof ApiError && err.status === 404 ? `There is no camera ${this.camera}, or you may not see it.` : err instanceof ApiError ? err.message : String(err);
    }
  }

  private state(f: Feature): string {
    return this.states[f] ?? (this.config?.[f]?.enabled === undefined ? 'unknown' : this.config[f]!.enabled ? 'ON' : 'OFF');
  }

  private async toggle(f: Feature, on: boolean): Promise<void> {
    this.pending = f;
    this.error = '';
    try {
      const out = (await api<Record<string, string>>('POST', `/api/cameras/${this.enc}/features`, { [f]: on ? 'ON' : 'OFF' })).data;
      if (out[f]) this.states = { ...this.states, [f]: out[f] };
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : String(err);
      this.requestUpdate(); // the checkbox goes back to the state it had
    } finally {
      this.pending = '';
    }
  }

  override render(): TemplateResult {
    if (this.error && !this.config) return html`<h1>Camera ${this.camera}</h1><p class="form-error" role="alert">${this.error}</p><p><a href="/cameras">All cameras</a></p>`;
    const avail = this.availability || 'unknown';
    return html`
      <h1>Camera ${this.camera} <span class="badge ${avail === 'online' ? 'ok' : avail === 'offline' ? 'bad' : 'idle'}" id="availability">${avail}</span></h1>
      ${this.config?.friendly_name ? html`<p class="muted" id="friendly-name">${this.config.friendly_name}</p>` : nothing}
      <p><a id="recordings-link" href=${`/recordings?camera=${this.enc}`}>Recordings</a>${session.user?.role === 'admin' ? html` · <a id="edit-link" href=${`/cameras/${this.enc}/edit`}>Edit</a> · <a id="zones-link" href=${`/cameras/${this.enc}/zones`}>Zones and masks</a>` : nothing}</p>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <div class="top">
        <section aria-labelledby="live-h">
          <h2 id="live-h" class="visually-hidden">Live view</h2>
          <vigil-live-view .camera=${this.camera}></vigil-live-view>
        </section>
        <section aria-labelledby="feat-h">
          <h2 id="feat-h">Features</h2>
          <fieldset>
            <legend>Switch on or off</legend>
            ${FEATURES.map((f) => {
              const s = this.state(f);
              return html`<div class="switch">
                <input type="checkbox" id=${`feature-${f}`} .checked=${s === 'ON'} ?disabled=${!this.canControl || this.pending === f || s === 'unknown'}
                  aria-describedby=${`feature-${f}-state`} @change=${(e: Event) => this.toggle(f, (e.target as HTMLInputElement).checked)}>
                <label for=${`feature-${f}`}>${LABELS[f]}</label>
                <span class="badge ${s === 'ON' ? 'ok' : 'idle'}" id=${`feature-${f}-state`} data-feature=${f}>${s}</span></div>`;
            })}
            ${this.canControl ? nothing : html`<p class="muted">Operators and admins can switch these.</p>`}
          </fieldset>
          <vigil-camera-ptz .camera=${this.camera}></vigil-camera-ptz>
        </section>
      </div>
      <section aria-labelledby="ev-h">
        <h2 id="ev-h">Recent events</h2>
        ${this.events === null ? html`<p aria-busy="true">Loading events…</p>`
          : this.events.length === 0 ? html`<p class="muted" id="no-events">No event yet.</p>`
          : html`<div class="card events" aria-live="polite">${eventTable(this.events, `Recent events of ${this.camera}`)}</div>`}
        <p><a href=${`/events?camera=${this.enc}`}>All events of ${this.camera}</a> · <a href="/cameras">All cameras</a></p>
      </section>`;
  }
}
customElements.define('vigil-camera', VigilCamera);

function text(p: Uint8Array): string { return new TextDecoder().decode(p).trim(); }
