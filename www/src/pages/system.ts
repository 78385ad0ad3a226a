/**
 * `<vigil-system>` (`/system`, viewer+): the running system.
 *
 * - Version, uptime and the MQTT broker (embedded or external, connected, clients) from
 *   `GET /api/system`, polled every 5 s (it has no topic of its own).
 * - Charts of the last hour — the hub process's CPU (% of one core) and memory (resident and
 *   V8 heap, MiB), the detectors' inference time (ms) — from `GET /api/system/metrics`, asked
 *   again with `since` at the hub's sampling interval (`interval_ms`, at most every 5 s).
 * - Components (operators and admins): status live from `vigil/component/+/availability`
 *   and `…/state` on the bus, the hub's own optional services from the polled report.
 * - Cameras the user may see: availability, fps, restarts and last error live from
 *   `vigil/camera/+/availability` and `…/state`; the detector's per-camera figures from the
 *   report.
 * - Logs tail (admins): `GET /api/system/logs?after=<next>` every 2 s, a level filter,
 *   pause/resume and auto-scroll, in a monospace `role="log"` region.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { duration } from '../format.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';
import './system-chart.ts';

/** `GET /api/system` as this page reads it (viewers get version, uptime and their cameras). */
interface SystemReport {
  version: string;
  uptime_s: number;
  mqtt?: { embedded: boolean; url?: string; port?: number; connected: boolean; clients?: number };
  components?: Record<string, Record<string, unknown>>;
  cameras: Record<string, CameraReport>;
  process?: { cpu_percent: number | null; rss_bytes: number; heap_bytes: number };
}

/** One camera of the report: the camera's state fields and the detector's figures. */
interface CameraReport {
  availability?: string; fps?: number; restarts?: number; last_error?: string | null; status?: string;
  detection?: { frames_received?: number; frames_detected?: number; frames_dropped?: number; inferences?: number };
}

/** `GET /api/system/metrics` point. */
interface MetricsPoint { t: number; cpu_percent: number; rss_bytes: number; heap_bytes: number; inference_ms: number | null; cameras: Record<string, { fps: number }> }

/** `GET /api/system/logs` line. */
interface LogLine { seq: number; time: number; level: string; msg: string; module?: string; err?: string; context?: Record<string, unknown> }

const REPORT_MS = 5_000;
const LOGS_MS = 2_000;
/** Points kept on the page: an hour at the hub's default 5 s. */
const MAX_POINTS = 720;
/** Log lines kept on the page. */
const MAX_LINES = 500;
const MIB = 2 ** 20;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const text = (p: Uint8Array): string => new TextDecoder().decode(p).trim();
const json = (p: Uint8Array): Record<string, unknown> | null => { try { return JSON.parse(text(p)) as Record<string, unknown>; } catch { return null; } };

export class VigilSystem extends LitElement {
  static override properties = {
    camera: { type: String }, layoutId: { type: String }, query: { type: String },
    report: { state: true }, points: { state: true }, liveComponents: { state: true }, liveCameras: { state: true },
    lines: { state: true }, level: { state: true }, paused: { state: true }, autoScroll: { state: true }, error: { state: true }, logError: { state: true },
  };
  declare camera: string;
  declare layoutId: string;
  declare query: string;
  declare report: SystemReport | null;
  declare points: MetricsPoint[];
  /** Component id → availability and state from the bus. */
  declare liveComponents: Record<string, { availability?: string; state?: Record<string, unknown> | null }>;
  /** Camera → availability and state from the bus. */
  declare liveCameras: Record<string, { availability?: string; state?: Record<string, unknown> | null }>;
  declare lines: LogLine[];
  /** Least level shown in the logs tail ('' = all). */
  declare level: string;
  declare paused: boolean;
  declare autoScroll: boolean;
  declare error: string;
  declare logError: string;
  private stops: (() => void)[] = [];
  /** The next run of each poller (`report`, `metrics`, `logs`). */
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Bumped when the logs view restarts (a new level): answers of older requests are dropped. */
  private logGen = 0;
  private readonly abort = new AbortController();
  private logAfter = 0;
  private metricsMs = REPORT_MS;

  constructor() {
    super();
    this.camera = '';
    this.layoutId = '';
    this.query = '';
    this.report = null;
    this.points = [];
    this.liveComponents = {};
    this.liveCameras = {};
    this.lines = [];
    this.level = '';
    this.paused = false;
    this.autoScroll = true;
    this.error = '';
    this.logError = '';
  }

  static override styles = [shared, css`
    .summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; padding: 12px 16px; }
    dt { color: var(--muted); } dd { margin: 0; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 320px), 1fr)); gap: 12px; }
    .table { overflow-x: auto; padding: 4px 8px; }
    td.num { font-variant-numeric: tabular-nums; }
    td.err { color: var(--bad); max-width: 28ch; overflow-wrap: anywhere; }
    .details { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
    .controls { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; margin-bottom: 8px; }
    .check { display: flex; gap: 6px; align-items: center; font-weight: 400; min-height: 40px; }
    .check input { min-height: auto; width: 20px; height: 20px; }
    .log { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .82rem; line-height: 1.5; padding: 8px 10px;
      height: 360px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
    .log .l { border-bottom: 1px solid color-mix(in srgb, var(--line) 40%, transparent); }
    .lvl { font-weight: 700; }
    .lvl-warn .lvl { color: var(--warn); } .lvl-error .lvl, .lvl-fatal .lvl { color: var(--bad); } .lvl-debug .lvl, .lvl-trace .lvl { color: var(--muted); }
    .mod { color: var(--accent); }
    .ctx { color: var(--muted); }
  `];

  private get userRole(): string | undefined { return session.user?.role; }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadReport();
    void this.loadMetrics();
    const setComp = (t: string, p: Uint8Array): void => {
      const [, , id, leaf] = t.split('/'); // vigil/component/<id>/<availability|state>
      const cur = this.liveComponents[id!] ?? {};
      this.liveComponents = { ...this.liveComponents, [id!]: leaf === 'state' ? { ...cur, state: json(p) } : { ...cur, availability: text(p) } };
    };
    const setCam = (t: string, p: Uint8Array): void => {
      const [, , cam, leaf] = t.split('/'); // vigil/camera/<cam>/<availability|state>
      const cur = this.liveCameras[cam!] ?? {};
      this.liveCameras = { ...this.liveCameras, [cam!]: leaf === 'state' ? { ...cur, state: json(p) } : { ...cur, availability: text(p) } };
    };
    this.stops.push(
      bus.on('vigil/camera/+/availability', setCam),
      bus.on('vigil/camera/+/state', setCam),
    );
    if (atLeast(this.userRole, 'operator')) {
      this.stops.push(bus.on('vigil/component/+/availability', setComp), bus.on('vigil/component/+/state', setComp));
    }
    if (this.userRole === 'admin') void this.loadLogs();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    for (const s of this.stops) s();
    for (const t of this.timers.values()) clearTimeout(t);
  }

  /** Runs poller `key` again after `ms` (replacing its pending run) unless the page is gone. */
  private later(key: string, fn: () => Promise<void>, ms: number): void {
    clearTimeout(this.timers.get(key));
    if (this.abort.signal.aborted) return;
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); void fn(); }, ms));
  }

  private async loadReport(): Promise<void> {
    try {
      this.report = await get<SystemReport>('/api/system', this.abort.signal);
      this.error = '';
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.error = err instanceof ApiError ? `System status: ${err.message}` : String(err);
    }
    this.later('report', () => this.loadReport(), REPORT_MS);
  }

  private async loadMetrics(): Promise<void> {
    try {
      const since = this.points.at(-1)?.t ?? 0;
      const m = await get<{ interval_ms: number; points: MetricsPoint[] }>(`/api/system/metrics${since ? `?since=${since}` : ''}`, this.abort.signal);
      this.metricsMs = Math.min(REPORT_MS, Math.max(500, m.interval_ms));
      if (m.points.length) this.points = [...this.points, ...m.points].slice(-MAX_POINTS);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.error = err instanceof ApiError ? `Metrics: ${err.message}` : String(err);
    }
    this.later('metrics', () => this.loadMetrics(), this.metricsMs);
  }

  private async loadLogs(): Promise<void> {
    if (this.paused) return;
    const gen = this.logGen;
    try {
      const q = new URLSearchParams({ limit: '200' });
      if (this.logAfter) q.set('after', String(this.logAfter));
      if (this.level) q.set('level', this.level);
      const r = await get<{ lines: LogLine[]; next: number }>(`/api/system/logs?${q}`, this.abort.signal);
      if (gen !== this.logGen) return; // the level changed meanwhile: a newer request runs
      this.logAfter = r.next;
      if (r.lines.length) {
        this.lines = [...this.lines, ...r.lines].slice(-MAX_LINES);
        await this.updateComplete;
        const box = this.renderRoot.querySelector<HTMLElement>('#log');
        if (box && this.autoScroll) box.scrollTop = box.scrollHeight;
      }
      this.logError = '';
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.logError = err instanceof ApiError ? err.message : String(err);
    }
    if (gen === this.logGen) this.later('logs', () => this.loadLogs(), LOGS_MS);
  }

  /** Shows the latest lines at `level` and above, then follows them. */
  private setLevel(level: string): void {
    this.level = level;
    this.lines = [];
    this.logAfter = 0;
    this.logGen++;
    clearTimeout(this.timers.get('logs'));
    void this.loadLogs();
  }

  private togglePause(): void {
    this.paused = !this.paused;
    clearTimeout(this.timers.get('logs'));
    if (!this.paused) { this.logGen++; void this.loadLogs(); }
  }

  override render(): TemplateResult {
    const r = this.report;
    return html`
      <h1 tabindex="-1">System</h1>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${r === null ? html`<p aria-busy="true">Loading…</p>` : this.summary(r)}
      <section aria-labelledby="charts-h">
        <h2 id="charts-h">Last hour</h2>
        ${this.charts()}
      </section>
      ${r?.components ? this.components(r.components) : nothing}
      ${r ? this.cameras(r) : nothing}
      ${this.userRole === 'admin' ? this.logs() : nothing}`;
  }

  private summary(r: SystemReport): TemplateResult {
    const m = r.mqtt;
    return html`<dl class="card summary" id="summary">
      <dt>Version</dt><dd>${r.version}</dd>
      <dt>Uptime</dt><dd>${duration(r.uptime_s)}</dd>
      ${m ? html`<dt>MQTT broker</dt><dd>${m.embedded ? `embedded${m.port ? `, port ${m.port}` : ''}` : `external ${m.url ?? ''}`}</dd>
        <dt>Hub connected</dt><dd><span class="badge ${m.connected ? 'ok' : 'bad'}" id="mqtt-connected">${m.connected ? 'connected' : 'not connected'}</span></dd>
        ${m.clients !== undefined ? html`<dt>MQTT clients</dt><dd id="mqtt-clients">${m.clients}</dd>` : nothing}` : nothing}
      ${r.process ? html`<dt>Hub process</dt><dd>CPU ${r.process.cpu_percent === null ? '—' : `${r.process.cpu_percent.toFixed(1)} %`} · memory ${(r.process.rss_bytes / MIB).toFixed(0)} MiB</dd>` : nothing}
    </dl>`;
  }

  private charts(): TemplateResult {
    const p = this.points;
    const times = p.map((x) => x.t);
    const hasInference = p.some((x) => x.inference_ms !== null);
    return html`<div class="charts">
      <vigil-system-chart class="card" id="chart-cpu" label="CPU (hub process)" unit="%" .times=${times}
        .series=${[{ name: 'CPU', values: p.map((x) => x.cpu_percent), color: 'var(--accent)' }]}></vigil-system-chart>
      <vigil-system-chart class="card" id="chart-memory" label="Memory (hub process)" unit="MiB" .digits=${0} .times=${times}
        .series=${[{ name: 'Resident', values: p.map((x) => x.rss_bytes / MIB), color: 'var(--accent)' }, { name: 'JS heap', values: p.map((x) => x.heap_bytes / MIB), color: 'var(--warn)' }]}></vigil-system-chart>
      <vigil-system-chart class="card" id="chart-inference" label=${hasInference ? 'Inference time' : 'Inference time (no detector has run yet)'} unit="ms" .times=${times}
        .series=${[{ name: 'Inference', values: p.map((x) => x.inference_ms), color: 'var(--ok)' }]}></vigil-system-chart>
    </div>`;
  }

  /** The status word and badge class of a component, from the bus (live) or the report. */
  private componentStatus(id: string, c: Record<string, unknown> | undefined): { word: string; cls: string } {
    const live = this.liveComponents[id];
    const status = typeof c?.status === 'string' ? c.status : typeof c?.state === 'string' ? c.state : undefined;
    if (status === 'failed') return { word: 'failed', cls: 'bad' };
    const avail = live?.availability ?? (typeof c?.availability === 'string' ? c.availability : undefined);
    if (avail === 'online') return { word: 'online', cls: 'ok' };
    if (avail === 'offline') return { word: 'offline', cls: 'bad' };
    if (status === 'running') return { word: 'running', cls: 'ok' };
    // A part of the hub itself (the event store) without a status: it runs while the hub answers.
    if (status === undefined && c && live === undefined) return { word: 'running', cls: 'ok' };
    return { word: status ?? 'unknown', cls: 'idle' };
  }

  /** A component's figures in a line: its plain fields, the live state first. */
  private details(id: string, c: Record<string, unknown> | undefined): string {
    const live = this.liveComponents[id]?.state;
    const src = { ...(c && typeof c.state === 'object' && c.state ? c.state as Record<string, unknown> : c ?? {}), ...(live ?? {}) };
    return Object.entries(src)
      .filter(([k, v]) => !['status', 'availability', 'state', 'role'].includes(k)
        && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'))))
      .slice(0, 8)
      .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'number' ? Math.round(v * 10) / 10 : Array.isArray(v) ? v.join(', ') : v}`)
      .join(' · ');
  }

  private components(reported: Record<string, Record<string, unknown>>): TemplateResult {
    const ids = [...new Set([...Object.keys(reported), ...Object.keys(this.liveComponents)])].sort();
    return html`<section aria-labelledby="components-h">
      <h2 id="components-h">Components</h2>
      <div class="card table"><table id="components">
        <caption class="visually-hidden">Components of the hub and on the bus</caption>
        <thead><tr><th scope="col">Component</th><th scope="col">Status</th><th scope="col">Figures</th></tr></thead>
        <tbody>${ids.map((id) => {
          const s = this.componentStatus(id, reported[id]);
          const err = reported[id]?.error ?? reported[id]?.load_error;
          return html`<tr data-component=${id}>
            <th scope="row">${id}</th>
            <td><span class="badge ${s.cls}" data-badge="status">${s.word}</span></td>
            <td class="details">${typeof err === 'string' ? html`<span class="field-error">${err}</span> ` : nothing}${this.details(id, reported[id])}</td>
          </tr>`;
        })}</tbody>
      </table></div>
    </section>`;
  }

  private cameras(r: SystemReport): TemplateResult {
    const names = [...new Set([...Object.keys(r.cameras), ...Object.keys(this.liveCameras)])].sort();
    return html`<section aria-labelledby="cameras-h">
      <h2 id="cameras-h">Cameras</h2>
      ${names.length === 0 ? html`<p class="muted">No camera.</p>` : html`<div class="card table"><table id="system-cameras">
        <caption class="visually-hidden">Cameras: ingest and detection figures</caption>
        <thead><tr><th scope="col">Camera</th><th scope="col">Availability</th><th scope="col">fps</th><th scope="col">Restarts</th>
          <th scope="col">Frames detected / received</th><th scope="col">Inferences</th><th scope="col">Dropped</th><th scope="col">Last error</th></tr></thead>
        <tbody>${names.map((n) => {
          const rep = r.cameras[n] ?? {};
          const live = this.liveCameras[n];
          const st = { ...rep, ...(live?.state ?? {}) } as CameraReport;
          const avail = live?.availability ?? rep.availability ?? 'unknown';
          const d = rep.detection;
          return html`<tr data-camera=${n}>
            <th scope="row"><a href=${`/cameras/${encodeURIComponent(n)}`}>${n}</a></th>
            <td><span class="badge ${avail === 'online' ? 'ok' : avail === 'offline' ? 'bad' : 'idle'}" data-badge="availability">${avail}</span></td>
            <td class="num" data-field="fps">${st.fps ?? '—'}</td>
            <td class="num">${st.restarts ?? '—'}</td>
            <td class="num">${d ? `${d.frames_detected ?? 0} / ${d.frames_received ?? 0}` : '—'}</td>
            <td class="num">${d?.inferences ?? '—'}</td>
            <td class="num">${d?.frames_dropped ?? '—'}</td>
            <td class="err">${st.last_error ?? ''}</td>
          </tr>`;
        })}</tbody>
      </table></div>`}
    </section>`;
  }

  private logs(): TemplateResult {
    const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour12: false });
    return html`<section aria-labelledby="logs-h">
      <h2 id="logs-h">Hub log</h2>
      <div class="controls">
        <div class="field">
          <label for="log-level">Level</label>
          <select id="log-level" .value=${this.level} @change=${(e: Event) => this.setLevel((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            ${LEVELS.slice(1, 5).map((l) => html`<option value=${l} ?selected=${this.level === l}>${l} and above</option>`)}
          </select>
        </div>
        <button class="secondary" id="log-pause" aria-pressed=${this.paused ? 'true' : 'false'} @click=${() => this.togglePause()}>${this.paused ? 'Resume' : 'Pause'}</button>
        <label class="check"><input type="checkbox" id="log-scroll" .checked=${this.autoScroll} @change=${(e: Event) => { this.autoScroll = (e.target as HTMLInputElement).checked; }}> Scroll to the newest</label>
        <span class="muted" id="log-state">${this.paused ? 'Paused' : 'Following'} · ${this.lines.length} lines</span>
      </div>
      ${this.logError ? html`<p class="form-error" role="alert">${this.logError}</p>` : nothing}
      <div class="card log" id="log" role="log" aria-label="Hub log lines" tabindex="0">${this.lines.length === 0 ? html`<span class="muted">No line yet.</span>` : this.lines.map((l) => html`<div class="l lvl-${l.level}" data-seq=${l.seq}><span>${clock(l.time)}</span> <span class="lvl">${l.level.toUpperCase()}</span>${l.module ? html` <span class="mod">[${l.module}]</span>` : nothing} ${l.msg}${l.err ? ` — ${l.err}` : ''}${l.context ? html` <span class="ctx">${JSON.stringify(l.context)}</span>` : nothing}</div>`)}</div>
    </section>`;
  }
}
customElements.define('vigil-system', VigilSystem);
