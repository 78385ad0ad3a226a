/**
 * `<vigil-camera-ptz camera="door">`: pan, tilt, zoom and presets of an ONVIF camera, on
 * the camera's page (www/src/pages/camera.ts), for operators and admins only.
 *
 * Shown only when the camera can move: its config has an `onvif` block with `ptz` on
 * (`GET /api/cameras/<cam>`) and its ONVIF link reports a PTZ profile
 * (`/api/system` → `components.onvif.cameras.<cam>.ptz`; the link's state has no MQTT
 * topic, so it is polled: every 5 s until known, then every 20 s). The preset names come
 * from the same place (`presets`, read by the hub at each login to the device).
 *
 * Commands are Frigate's PTZ payloads published on `vigil/camera/<cam>/ptz` through the
 * page's MQTT connection (operators may publish there: hub/broker/acl.ts):
 * - the direction and zoom buttons move while held: `MOVE_LEFT` … / `ZOOM_IN` on
 *   pointer down, `STOP` on release (pointer up or cancel, focus lost, page hidden);
 * - keyboard: Space or Enter on a button holds it; arrow keys (and + / −) move while any
 *   button of the pad has focus; a click without a press (assistive technology) nudges:
 *   move, then `STOP` after {@link NUDGE_MS};
 * - a preset: select it, "Go" → `preset_<name>`.
 * Refusals come back on `vigil/bridge/response/ptz` (`{status: 'error', error, data:
 * {topic}}`) and those for this camera are shown with `role=alert`.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';

/** A PTZ motion: the payload that starts it. */
export type PtzMove = 'MOVE_UP' | 'MOVE_DOWN' | 'MOVE_LEFT' | 'MOVE_RIGHT' | 'ZOOM_IN' | 'ZOOM_OUT';

/** How long a click without a press moves, ms. */
export const NUDGE_MS = 400;
/** Polling of the link state while PTZ is unknown / known, ms. */
const POLL_UNKNOWN_MS = 5000;
const POLL_KNOWN_MS = 20_000;

/** The ONVIF link's state as `/api/system` shows it (the fields read here). */
interface LinkStatus { connected: boolean; ptz: boolean; ptz_enabled?: boolean; presets?: string[]; last_error?: string | null }

const BUTTONS: { move: PtzMove; label: string; glyph: string; area: string }[] = [
  { move: 'MOVE_UP', label: 'Tilt up', glyph: '▲', area: 'up' },
  { move: 'MOVE_LEFT', label: 'Pan left', glyph: '◀', area: 'left' },
  { move: 'MOVE_RIGHT', label: 'Pan right', glyph: '▶', area: 'right' },
  { move: 'MOVE_DOWN', label: 'Tilt down', glyph: '▼', area: 'down' },
  { move: 'ZOOM_IN', label: 'Zoom in', glyph: '+', area: 'zin' },
  { move: 'ZOOM_OUT', label: 'Zoom out', glyph: '−', area: 'zout' },
];
const KEYS: Record<string, PtzMove> = { ArrowUp: 'MOVE_UP', ArrowDown: 'MOVE_DOWN', ArrowLeft: 'MOVE_LEFT', ArrowRight: 'MOVE_RIGHT', '+': 'ZOOM_IN', '=': 'ZOOM_IN', '-': 'ZOOM_OUT' };
const SAYS: Record<PtzMove, string> = { MOVE_UP: 'Tilting up', MOVE_DOWN: 'Tilting down', MOVE_LEFT: 'Panning left', MOVE_RIGHT: 'Panning right', ZOOM_IN: 'Zooming in', ZOOM_OUT: 'Zooming out' };

export class VigilCameraPtz extends LitElement {
  static override properties = {
    camera: { type: String }, link: { state: true }, enabled: { state: true }, loaded: { state: true }, moving: { state: true },
    status: { state: true }, error: { state: true }, preset: { state: true },
  };
  declare camera: string;
  /** The link's state, or null while unknown. */
  declare link: LinkStatus | null;
  /** The camera's config has `onvif.ptz` on. */
  declare enabled: boolean;
  /** The camera's config was read (or could not be). */
  declare loaded: boolean;
  /** The motion running, or null. */
  declare moving: PtzMove | null;
  declare status: string;
  declare error: string;
  declare preset: string;
  /** The key that holds the current motion (released → STOP), or null for a pointer. */
  private heldKey: string | null = null;
  private suppressClickUntil = 0;
  private nudgeTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private stops: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.camera = '';
    this.link = null;
    this.enabled = false;
    this.loaded = false;
    this.moving = null;
    this.status = '';
    this.error = '';
    this.preset = '';
  }

  static override styles = [shared, css`
    section { margin-top: 16px; }
    h2 { margin-top: 0; }
    .box { padding: 12px 16px; display: grid; gap: 12px; }
    .pad { display: grid; grid-template-columns: repeat(3, 52px); grid-template-rows: repeat(3, 52px); gap: 6px;
      grid-template-areas: ". up zin" "left . right" ". down zout"; justify-content: start; }
    .pad button { min-height: 0; padding: 0; font-size: 1.2rem; touch-action: none; user-select: none; -webkit-user-select: none; }
    .a-up { grid-area: up; } .a-down { grid-area: down; } .a-left { grid-area: left; } .a-right { grid-area: right; } .a-zin { grid-area: zin; } .a-zout { grid-area: zout; }
    .pad button[aria-pressed="true"] { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
    .presets { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
    .presets .field { flex: 1 1 140px; }
    .help { font-size: .85rem; margin: 0; }
    p[role="status"] { margin: 0; min-height: 1.4em; }
    .form-error { overflow-wrap: anywhere; }
  `];

  private get canControl(): boolean { return atLeast(session.user?.role, 'operator'); }
  private get topic(): string { return `vigil/camera/${this.camera}/ptz`; }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.canControl || !this.camera) return;
    void this.load();
    this.stops.push(bus.on('vigil/bridge/response/ptz', (_t, p) => this.onResponse(p)));
    document.addEventListener('visibilitychange', this.onHidden);
    window.addEventListener('blur', this.onHidden);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    clearTimeout(this.pollTimer);
    clearTimeout(this.nudgeTimer);
    for (const s of this.stops) s();
    document.removeEventListener('visibilitychange', this.onHidden);
    window.removeEventListener('blur', this.onHidden);
    if (this.moving) void this.send('STOP');
  }

  private readonly onHidden = (): void => { if (document.hidden || !document.hasFocus()) void this.stop(); };

  private async load(): Promise<void> {
    try {
      const cam = await get<{ onvif?: { ptz?: boolean } }>(`/api/cameras/${encodeURIComponent(this.camera)}`, this.abort.signal);
      this.enabled = Boolean(cam.onvif && cam.onvif.ptz !== false);
      this.loaded = true;
      if (this.enabled) await this.poll();
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.loaded = true;
      if (!(err instanceof ApiError && err.status === 404)) this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** Reads the link's state, then polls again (more often while PTZ is not known yet). */
  private async poll(): Promise<void> {
    try {
      const sys = await get<{ components?: { onvif?: { cameras?: Record<string, LinkStatus> } } }>('/api/system', this.abort.signal);
      const link = sys.components?.onvif?.cameras?.[this.camera] ?? null;
      this.link = link;
      const presets = link?.presets ?? [];
      if (!presets.includes(this.preset)) this.preset = presets[0] ?? '';
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
    }
    // The device said it has no PTZ: nothing more to learn.
    if (this.link?.connected && !this.link.ptz) return;
    this.pollTimer = setTimeout(() => void this.poll(), this.link?.ptz ? POLL_KNOWN_MS : POLL_UNKNOWN_MS);
  }

  private onResponse(p: Uint8Array): void {
    try {
      const r = JSON.parse(new TextDecoder().decode(p)) as { status?: string; error?: string; data?: { topic?: string } };
      if (r.status === 'error' && r.data?.topic === this.topic) {
        this.error = `The camera refused: ${r.error ?? 'unknown error'}`;
        this.status = '';
      }
    } catch {
      // not JSON: not an answer of ours
    }
  }

  private async send(payload: string): Promise<boolean> {
    try {
      await bus.publish(this.topic, payload);
      return true;
    } catch (err) {
      this.error = `Could not send ${payload}: ${(err as Error).message}`;
      return false;
    }
  }

  /** Starts a motion (stopping another first). `key`: the key holding it, if any. */
  private async start(move: PtzMove, key: string | null): Promise<void> {
    if (this.moving === move) return;
    clearTimeout(this.nudgeTimer);
    this.error = '';
    this.heldKey = key;
    this.moving = move;
    this.status = `${SAYS[move]}…`;
    if (!(await this.send(move))) { this.moving = null; this.status = ''; }
  }

  private async stop(): Promise<void> {
    clearTimeout(this.nudgeTimer);
    if (!this.moving) return;
    this.moving = null;
    this.heldKey = null;
    if (await this.send('STOP')) this.status = 'Stopped.';
  }

  private down(e: PointerEvent, move: PtzMove): void {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault(); // no text selection, no focus-stealing scroll on touch
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    (e.currentTarget as HTMLElement).focus();
    this.suppressClickUntil = Infinity;
    void this.start(move, null);
  }

  private up(): void {
    if (this.heldKey !== null || !this.moving) return;
    this.suppressClickUntil = performance.now() + 500;
    void this.stop();
  }

  /** A click with no press before it (a screen reader's activation): a short nudge. */
  private tap(move: PtzMove): void {
    if (performance.now() < this.suppressClickUntil) return;
    void this.start(move, null).then(() => { this.nudgeTimer = setTimeout(() => void this.stop(), NUDGE_MS); });
  }

  private keydown(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const own = target.dataset.move as PtzMove | undefined;
    const move = KEYS[e.key] ?? ((e.key === ' ' || e.key === 'Enter') && own ? own : undefined);
    if (!move) return;
    e.preventDefault(); // no scrolling, and Space/Enter do not also click
    if (e.repeat) return;
    void this.start(move, e.key);
  }

  private keyup(e: KeyboardEvent): void {
    if (e.key === ' ' || e.key === 'Enter' || KEYS[e.key]) e.preventDefault();
    if (this.heldKey === null || e.key !== this.heldKey) return;
    this.suppressClickUntil = performance.now() + 500;
    void this.stop();
  }

  private async gotoPreset(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.preset) return;
    this.error = '';
    if (await this.send(`preset_${this.preset}`)) this.status = `Going to preset ${this.preset}.`;
  }

  /** `data-ptz` on the element: `loading`, `off` (not allowed, no ONVIF PTZ, or the device has none), `waiting` (for the link), `on`. */
  protected override updated(): void {
    const state = !this.canControl ? 'off'
      : this.link?.ptz ? 'on'
      : !this.enabled ? (this.loaded ? 'off' : 'loading')
      : this.link?.connected ? 'off' : 'waiting';
    if (this.dataset.ptz !== state) this.dataset.ptz = state;
  }

  override render(): TemplateResult | typeof nothing {
    if (!this.canControl || !this.enabled || !this.link?.ptz) return this.error && this.enabled ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing;
    const l = this.link;
    const presets = l.presets ?? [];
    const off = !l.connected;
    return html`<section aria-labelledby="ptz-h">
      <h2 id="ptz-h">Pan, tilt and zoom</h2>
      <div class="card box">
        ${off ? html`<p class="muted" id="ptz-offline">The camera's ONVIF device is not connected${l.last_error ? ` (${l.last_error})` : ''}; the hub keeps trying.</p>` : nothing}
        <div class="pad" role="group" aria-label="Move the camera" aria-describedby="ptz-help"
          @keydown=${(e: KeyboardEvent) => this.keydown(e)} @keyup=${(e: KeyboardEvent) => this.keyup(e)}
          @focusout=${(e: FocusEvent) => { if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) void this.stop(); }}>
          ${BUTTONS.map((b) => html`<button class=${`secondary a-${b.area}`} data-move=${b.move} title=${b.label}
            aria-label=${b.label} aria-pressed=${this.moving === b.move ? 'true' : 'false'} ?disabled=${off}
            @pointerdown=${(e: PointerEvent) => this.down(e, b.move)} @pointerup=${() => this.up()} @pointercancel=${() => this.up()}
            @lostpointercapture=${() => this.up()} @contextmenu=${(e: Event) => e.preventDefault()}
            @click=${() => this.tap(b.move)}><span aria-hidden="true">${b.glyph}</span></button>`)}
        </div>
        <p class="muted help" id="ptz-help">Hold a button — or Space or Enter on it — to move. With a button focused, the arrow keys pan and tilt and + / − zoom while held.</p>
        ${presets.length ? html`<form class="presets" @submit=${(e: SubmitEvent) => this.gotoPreset(e)}>
          <div class="field"><label for="ptz-preset">Preset</label>
            <select id="ptz-preset" .value=${this.preset} ?disabled=${off} @change=${(e: Event) => { this.preset = (e.target as HTMLSelectElement).value; }}>
              ${presets.map((p) => html`<option value=${p} ?selected=${p === this.preset}>${p}</option>`)}
            </select></div>
          <button type="submit" ?disabled=${off || !this.preset}>Go</button>
        </form>` : html`<p class="muted" id="ptz-no-presets">The camera has no presets.</p>`}
        <p role="status" id="ptz-status">${this.status}</p>
        ${this.error ? html`<p class="form-error" role="alert" id="ptz-error">${this.error}</p>` : nothing}
      </div>
    </section>`;
  }
}
customElements.define('vigil-camera-ptz', VigilCameraPtz);
