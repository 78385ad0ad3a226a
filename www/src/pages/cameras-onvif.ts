/**
 * `<vigil-cameras-onvif>`: adding an ONVIF camera, for admins (placed by
 * www/src/pages/cameras.ts under its "Add camera" form). A button opens a modal dialog
 * that walks through three steps:
 *
 * 1. **Find** — "Search the network" (`POST /api/onvif/discover`, WS-Discovery on the
 *    hub's networks, 3 s) lists the devices that answered (name, hardware, location,
 *    address); or the device service URL is typed in (discovery does not cross routers).
 * 2. **Log in** — username and password for the chosen device; "Connect"
 *    (`POST /api/onvif/probe`) reads it. A refused login shows at the password field, an
 *    unreachable or non-ONVIF device at the address.
 * 3. **Add** — the device (manufacturer, model, firmware), what it can do (events, PTZ,
 *    relays) and its media profiles (encoding, resolution, fps, PTZ); a camera name
 *    (suggested from the device's name); "Add this camera" (`POST /api/cameras/onvif`:
 *    record/live on the highest-resolution profile, detect on the lowest).
 *
 * On success the dialog closes and the element dispatches `camera-added`
 * (`detail: {name}`, bubbling, composed) for the page to reload its list. Focus moves to
 * each step's heading and back to the opening button when the dialog closes; async
 * results are announced through a `role=status` line, errors through `role=alert`.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api } from '../api.ts';
import { shared } from '../styles.ts';

/** A device that answered WS-Discovery (`POST /api/onvif/discover`). */
export interface DiscoveredDevice { xaddr: string; xaddrs: string[]; urn: string; name: string | null; hardware: string | null; location: string | null; address: string }

/** A media profile in a probe's answer. */
export interface OnvifProfile { token: string; name: string; encoding: string | null; width: number | null; height: number | null; fps: number | null; ptz: boolean; stream_uri: string | null }

/** `POST /api/onvif/probe` answer (the fields shown). */
export interface OnvifProbe {
  url: string;
  device: { manufacturer: string; model: string; firmware_version: string; serial_number: string; hardware_id: string };
  capabilities: { events: boolean; ptz: boolean; relays: number };
  profiles: OnvifProfile[];
  suggested: { paths: { record?: string; live?: string; detect?: string } };
}

type Step = 'find' | 'login' | 'add';

/** How long discovery listens, ms (the hub's default). */
const DISCOVERY_MS = 3000;

/** A camera name (lower-case slug, ≤ 64) suggested from a device's name or model. */
export function suggestName(from: string): string {
  const slug = from.toLowerCase().normalize('NFKD').replace(/[^a-z0-9_-]+/g, '_').replace(/^[_-]+|_+$/g, '').slice(0, 64);
  return slug || 'camera';
}

export class VigilCamerasOnvif extends LitElement {
  static override properties = {
    step: { state: true }, devices: { state: true }, searching: { state: true }, busy: { state: true }, status: { state: true },
    chosen: { state: true }, probe: { state: true }, fieldErrors: { state: true }, formError: { state: true },
  };
  declare step: Step;
  /** null: not searched yet. */
  declare devices: DiscoveredDevice[] | null;
  declare searching: boolean;
  declare busy: boolean;
  /** What the live region says. */
  declare status: string;
  /** The device being added: its service URL and how to call it. */
  declare chosen: { url: string; label: string } | null;
  declare probe: OnvifProbe | null;
  declare fieldErrors: Record<string, string>;
  declare formError: string;
  /** The login of the probe, reused to add the camera. */
  private login: { username?: string; password?: string } = {};
  private controller: AbortController | null = null;

  constructor() {
    super();
    this.step = 'find';
    this.devices = null;
    this.searching = false;
    this.busy = false;
    this.status = '';
    this.chosen = null;
    this.probe = null;
    this.fieldErrors = {};
    this.formError = '';
  }

  static override styles = [shared, css`
    section { margin-top: 8px; }
    .intro { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 16px; }
    .intro p { margin: 0; flex: 1 1 280px; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; padding: 0;
      width: min(720px, calc(100vw - 16px)); max-height: calc(100dvh - 16px); }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    .dlg { display: grid; gap: 12px; padding: 16px; }
    .dlg h2 { margin: 0; }
    .dlg h3 { font-size: 1.05rem; }
    .head { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
    .steps { display: flex; gap: 6px; flex-wrap: wrap; margin: 0; padding: 0; list-style: none; font-size: .85rem; }
    .steps li { padding: 2px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
    .steps li[aria-current="step"] { border-color: var(--accent); color: var(--fg); font-weight: 600; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .scroll { overflow-x: auto; }
    form { display: grid; gap: 12px; }
    .manual { display: grid; gap: 8px; border-top: 1px solid var(--line); padding-top: 12px; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
    dt { color: var(--muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    td, th { white-space: nowrap; }
    .devices { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
    .devices li { display: flex; gap: 8px 12px; align-items: center; justify-content: space-between; flex-wrap: wrap;
      border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
    .dev { display: grid; gap: 2px; min-width: 0; overflow-wrap: anywhere; }
  `];

  private get dialog(): HTMLDialogElement | null { return this.renderRoot.querySelector('dialog'); }

  private open(): void {
    this.step = 'find';
    this.status = '';
    this.formError = '';
    this.fieldErrors = {};
    this.dialog?.showModal();
    void this.focusStep();
  }

  private close(): void { this.dialog?.close(); }

  private onClosed(): void {
    this.controller?.abort();
    this.controller = null;
    this.searching = false;
    this.busy = false;
    this.login = {};
    this.renderRoot.querySelector<HTMLButtonElement>('#onvif-open')?.focus();
  }

  /** Moves focus to the current step's heading (screen readers read where they are). */
  private async focusStep(): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(`#onvif-step-${this.step}`)?.focus();
  }

  private go(step: Step): void {
    this.step = step;
    this.formError = '';
    this.fieldErrors = {};
    void this.focusStep();
  }

  private async search(): Promise<void> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.searching = true;
    this.formError = '';
    this.status = `Searching the network for ${DISCOVERY_MS / 1000} s…`;
    try {
      const found = (await api<DiscoveredDevice[]>('POST', '/api/onvif/discover', { timeout_ms: DISCOVERY_MS }, controller.signal)).data;
      this.devices = found;
      this.status = found.length === 0 ? 'No ONVIF device answered. Enter the device address below.' : `Found ${found.length} device${found.length === 1 ? '' : 's'}.`;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.status = '';
      this.formError = err instanceof ApiError ? err.message : String(err);
    } finally {
      if (this.controller === controller) { this.controller = null; this.searching = false; }
    }
  }

  private choose(d: DiscoveredDevice): void {
    this.chosen = { url: d.xaddr, label: `${d.name ?? d.hardware ?? 'ONVIF device'} (${d.address})` };
    this.probe = null;
    this.status = '';
    this.go('login');
  }

  private chooseTyped(e: SubmitEvent): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('device-url') as HTMLInputElement;
    const url = input.value.trim();
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) {
      this.fieldErrors = { 'device-url': 'Enter the device service URL, e.g. http://192.168.1.20/onvif/device_service.' };
      input.focus();
      return;
    }
    this.chosen = { url, label: url };
    this.probe = null;
    this.status = '';
    this.go('login');
  }

  private async connect(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.chosen) return;
    const form = e.target as HTMLFormElement;
    const v = (id: string): string => (form.elements.namedItem(id) as HTMLInputElement).value;
    this.login = { ...(v('onvif-username').trim() ? { username: v('onvif-username').trim() } : {}), ...(v('onvif-password') ? { password: v('onvif-password') } : {}) };
    this.fieldErrors = {};
    this.formError = '';
    this.busy = true;
    this.status = 'Connecting to the device…';
    const controller = new AbortController();
    this.controller = controller;
    try {
      const probe = (await api<OnvifProbe>('POST', '/api/onvif/probe', { url: this.chosen.url, ...this.login }, controller.signal)).data;
      this.probe = probe;
      this.status = `Connected to ${probe.device.manufacturer} ${probe.device.model}: ${probe.profiles.length} profile${probe.profiles.length === 1 ? '' : 's'}.`;
      this.go('add');
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.status = '';
      this.showError(err, { password: 'onvif-password', username: 'onvif-username' }, form);
    } finally {
      if (this.controller === controller) { this.controller = null; this.busy = false; }
    }
  }

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.chosen) return;
    const form = e.target as HTMLFormElement;
    const name = (form.elements.namedItem('onvif-name') as HTMLInputElement).value.trim();
    this.fieldErrors = {};
    this.formError = '';
    this.busy = true;
    this.status = `Adding camera ${name}…`;
    try {
      const cam = (await api<{ name: string }>('POST', '/api/cameras/onvif', { name, url: this.chosen.url, ...this.login })).data;
      this.status = '';
      this.close();
      this.dispatchEvent(new CustomEvent('camera-added', { detail: { name: cam.name }, bubbles: true, composed: true }));
    } catch (err) {
      this.status = '';
      this.showError(err, { name: 'onvif-name' }, form);
    } finally {
      this.busy = false;
    }
  }

  /** An API error at the field it names (`map`: API field → input id), else as the step's form error. */
  private showError(err: unknown, map: Record<string, string>, form: HTMLFormElement): void {
    const a = err instanceof ApiError ? err : null;
    const id = a?.field ? map[a.field] : undefined;
    if (id) this.fieldErrors = { [id]: a!.message };
    else this.formError = a ? a.message : String(err);
    void this.updateComplete.then(() => (id ? form.querySelector<HTMLElement>(`#${id}`) : this.renderRoot.querySelector<HTMLElement>('#onvif-error'))?.focus());
  }

  override render(): TemplateResult {
    return html`<section aria-labelledby="onvif-h">
      <h2 id="onvif-h">ONVIF cameras</h2>
      <div class="card intro">
        <p>Find ONVIF cameras on the hub's network, check their login and profiles, and add one with its streams and PTZ set up.</p>
        <button id="onvif-open" class="secondary" aria-haspopup="dialog" @click=${() => this.open()}>ONVIF discovery…</button>
      </div>
    </section>
    <dialog aria-labelledby="onvif-dlg-h" @close=${() => this.onClosed()}>
      <div class="dlg">
        <div class="head"><h2 id="onvif-dlg-h">Add an ONVIF camera</h2>
          <button class="secondary" @click=${() => this.close()}>Close</button></div>
        <ol class="steps" aria-label="Steps">
          ${(['find', 'login', 'add'] as const).map((s, i) => html`<li aria-current=${this.step === s ? 'step' : 'false'}>${i + 1}. ${s === 'find' ? 'Find' : s === 'login' ? 'Log in' : 'Add'}</li>`)}
        </ol>
        ${this.step === 'find' ? this.findStep() : this.step === 'login' ? this.loginStep() : this.addStep()}
        <p role="status" id="onvif-status" class="muted">${this.status}</p>
        ${this.formError ? html`<p class="form-error" id="onvif-error" role="alert" tabindex="-1">${this.formError}</p>` : nothing}
      </div>
    </dialog>`;
  }

  private findStep(): TemplateResult {
    const d = this.devices;
    return html`<h3 id="onvif-step-find" tabindex="-1">Find the device</h3>
      <div class="actions"><button id="onvif-search" @click=${() => this.search()} ?disabled=${this.searching}>${this.searching ? 'Searching…' : 'Search the network'}</button></div>
      ${d && d.length ? html`<ul id="onvif-devices" class="devices" aria-label="ONVIF devices that answered">
        ${d.map((x) => html`<li data-urn=${x.urn}>
          <div class="dev"><strong data-field="name">${x.name ?? 'ONVIF device'}</strong>
            <span class="muted"><span data-field="hardware">${x.hardware ?? 'unknown hardware'}</span> · <span data-field="location">${x.location ?? 'no location'}</span> · <span data-field="address">${x.address}</span></span></div>
          <button class="secondary" aria-label=${`Choose ${x.name ?? x.hardware ?? 'device'} at ${x.address}`} @click=${() => this.choose(x)}>Choose</button>
        </li>`)}</ul>` : nothing}
      <form class="manual" @submit=${(e: SubmitEvent) => this.chooseTyped(e)} novalidate>
        ${this.input('device-url', 'Or the device address', 'url', 'The device service URL, e.g. http://192.168.1.20/onvif/device_service', this.chosen?.url ?? '')}
        <div class="actions"><button type="submit" class="secondary">Use this address</button></div>
      </form>`;
  }

  private loginStep(): TemplateResult {
    return html`<h3 id="onvif-step-login" tabindex="-1">Log in to ${this.chosen?.label ?? 'the device'}</h3>
      <form @submit=${(e: SubmitEvent) => this.connect(e)} novalidate>
        ${this.input('onvif-username', 'Device username', 'text', '', this.login.username ?? 'admin')}
        ${this.input('onvif-password', 'Device password', 'password', 'Stored sealed; never shown again.', '')}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.go('find')}>Back</button>
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Connecting…' : 'Connect'}</button>
        </div>
      </form>`;
  }

  private addStep(): TemplateResult {
    const p = this.probe;
    if (!p) return html``;
    const dev = p.device;
    return html`<h3 id="onvif-step-add" tabindex="-1">${dev.manufacturer} ${dev.model}</h3>
      <dl id="onvif-device">
        <dt>Firmware</dt><dd>${dev.firmware_version || '—'}</dd>
        <dt>Serial number</dt><dd>${dev.serial_number || '—'}</dd>
        <dt>Address</dt><dd>${p.url}</dd>
        <dt>Can do</dt><dd>${[p.capabilities.events ? 'events' : '', p.capabilities.ptz ? 'PTZ' : '', p.capabilities.relays ? `${p.capabilities.relays} relay${p.capabilities.relays === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ') || 'video only'}</dd>
      </dl>
      <div class="scroll"><table id="onvif-profiles">
        <caption class="visually-hidden">Media profiles of the device</caption>
        <thead><tr><th scope="col">Profile</th><th scope="col">Encoding</th><th scope="col">Resolution</th><th scope="col">fps</th><th scope="col">PTZ</th><th scope="col">Used for</th></tr></thead>
        <tbody>${p.profiles.map((x) => html`<tr data-profile=${x.token}>
          <td>${x.name}</td><td>${x.encoding ?? '—'}</td><td>${x.width && x.height ? `${x.width}×${x.height}` : '—'}</td>
          <td>${x.fps ?? '—'}</td><td>${x.ptz ? 'yes' : 'no'}</td><td>${this.usedFor(x)}</td></tr>`)}</tbody>
      </table></div>
      <form @submit=${(e: SubmitEvent) => this.add(e)} novalidate>
        ${this.input('onvif-name', 'Camera name', 'text', 'Letters, digits, _ and -; used in MQTT topics.', suggestName(dev.model || dev.manufacturer))}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.go('login')}>Back</button>
          <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Adding…' : 'Add this camera'}</button>
        </div>
      </form>`;
  }

  /** Which of the camera's path slots a profile's stream would feed. */
  private usedFor(x: OnvifProfile): string {
    const s = this.probe?.suggested.paths ?? {};
    const uses = [s.record === x.stream_uri && x.stream_uri ? 'record, live' : '', s.detect === x.stream_uri && x.stream_uri ? 'detect' : ''].filter(Boolean);
    return uses.join(', ') || (x.stream_uri ? '—' : 'no RTSP stream');
  }

  private input(id: string, label: string, type: string, hint: string, value: string): TemplateResult {
    const err = this.fieldErrors[id];
    const described = [hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field">
      <label for=${id}>${label}</label>
      ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : nothing}
      <input id=${id} name=${id} type=${type} .value=${value} autocomplete=${type === 'password' ? 'new-password' : 'off'} spellcheck="false"
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}
    </div>`;
  }
}
customElements.define('vigil-cameras-onvif', VigilCamerasOnvif);
