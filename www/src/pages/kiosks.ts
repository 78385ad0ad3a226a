/**
 * `<vigil-kiosks>` (`/displays`): the camera wall's kiosks and their displays (docs/kiosk.md),
 * live without reloading:
 *
 * - each kiosk's availability from the retained `vigil/kiosk/<id>/availability` (`online`,
 *   last will `offline`), and what it reports showing from the retained
 *   `vigil/kiosk/<id>/state` (per display: layout, when the last switch painted, frames/s per
 *   cell; the warmth of its streams);
 * - each display's current layout from the retained `vigil/display/<id>/layout/state` (the
 *   bundle the hub compiled for it: a picture of its cells), first from `layout_id` of the API.
 *
 * Operators and admins: "Activate" a layout per display (`POST /api/displays/:id/activate`).
 * Admins (`GET /api/kiosks`; others see `GET /api/displays` grouped by kiosk): "Pair a kiosk"
 * with the code its screen shows (`POST /api/kiosks/pair {code, name, id?}`; an unknown or
 * expired code is shown at the code field), add a display (`POST /api/kiosks/:id/displays`),
 * rename or resize a display (`PATCH /api/displays/:id`), remove a kiosk after confirming
 * (`DELETE /api/kiosks/:id`: its credential is revoked at once). A kiosk that comes online
 * after being paired elsewhere is fetched when its availability first arrives.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { bus } from '../bus.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';
import { fieldErrors, type Bundle, type Display, type Kiosk, type KioskState, type Layout } from './layouts-grid.ts';
import { bundleBoxes, previewStyles, wallPreview } from './layouts-preview.ts';

/** A dialog's form: which one is open, for what, its field errors and form error. */
interface DialogState { kind: 'add-display' | 'edit-display' | 'remove-kiosk'; kiosk?: Kiosk; display?: Display; errors: Record<string, string> }

const text = (p: Uint8Array): string => new TextDecoder().decode(p).trim();

export class VigilKiosks extends LitElement {
  static override properties = {
    kiosks: { state: true }, layouts: { state: true }, availability: { state: true }, states: { state: true }, bundles: { state: true },
    choice: { state: true }, error: { state: true }, message: { state: true }, pairErrors: { state: true }, busy: { state: true },
    dialog: { state: true }, rowErrors: { state: true },
  };
  declare kiosks: Kiosk[] | null;
  declare layouts: Layout[];
  /** Kiosk id → `online` / `offline` (retained availability). */
  declare availability: Record<string, string>;
  /** Kiosk id → its latest retained state report. */
  declare states: Record<string, KioskState>;
  /** Display id → its retained bundle, or null when the hub cleared it. */
  declare bundles: Record<string, Bundle | null>;
  /** Display id → the layout picked in its "Activate" select. */
  declare choice: Record<string, string>;
  declare error: string;
  declare message: string;
  /** Pair form errors: `code`, `name`, `id`, or `''` for the form. */
  declare pairErrors: Record<string, string>;
  declare busy: string;
  declare dialog: DialogState | null;
  /** Display id → the error of its last activation. */
  declare rowErrors: Record<string, string>;
  private stops: (() => void)[] = [];
  private readonly abort = new AbortController();
  private opener: HTMLElement | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.kiosks = null;
    this.layouts = [];
    this.availability = {};
    this.states = {};
    this.bundles = {};
    this.choice = {};
    this.error = '';
    this.message = '';
    this.pairErrors = {};
    this.busy = '';
    this.dialog = null;
    this.rowErrors = {};
  }

  static override styles = [shared, previewStyles, css`
    .top { display: flex; gap: 8px 16px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
    .top h1 { margin: 0 auto 0 0; }
    ul.kiosks { list-style: none; margin: 0; padding: 0; display: grid; gap: 16px; }
    li.kiosk { padding: 12px 14px; display: grid; gap: 10px; }
    .khead { display: flex; gap: 6px 12px; align-items: center; flex-wrap: wrap; }
    .khead h2 { margin: 0; }
    .khead .spacer { flex: 1; }
    ul.displays { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
    li.display { border: 1px solid var(--line); border-radius: 8px; padding: 10px; display: grid; gap: 8px; align-content: start; background: var(--bg); }
    li.display h3 { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
    .activate { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
    .activate .field { flex: 1; min-width: 160px; }
    .activate select { width: 100%; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; font-size: .9rem; }
    dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
    .id { font-family: ui-monospace, monospace; font-size: .85rem; }
    form.pair { display: grid; gap: 12px; padding: 14px; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); align-items: start; }
    form.pair .actions { align-self: end; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
    input.code { font-family: ui-monospace, monospace; letter-spacing: .15em; text-transform: uppercase; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; width: min(440px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    dialog form { display: grid; gap: 12px; }
  `];

  private get isAdmin(): boolean { return atLeast(session.user?.role, 'admin'); }
  private get canActivate(): boolean { return atLeast(session.user?.role, 'operator'); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.stops.push(bus.on('vigil/kiosk/+/availability', (t, p) => {
      const id = t.split('/')[2]!;
      this.availability = { ...this.availability, [id]: text(p) };
      // A kiosk paired elsewhere (another admin, the API) shows up when it first connects.
      if (this.kiosks && text(p) && !this.kiosks.some((k) => k.id === id)) this.reloadSoon();
    }));
    this.stops.push(bus.on('vigil/kiosk/+/state', (t, p) => {
      const id = t.split('/')[2]!;
      const next = { ...this.states };
      try { if (p.length) next[id] = JSON.parse(text(p)) as KioskState; else delete next[id]; } catch { return; }
      this.states = next;
    }));
    this.stops.push(bus.on('vigil/display/+/layout/state', (t, p) => {
      const id = t.split('/')[2]!;
      let b: Bundle | null = null;
      try { b = p.length ? JSON.parse(text(p)) as Bundle : null; } catch { return; }
      this.bundles = { ...this.bundles, [id]: b };
    }));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
    clearTimeout(this.reloadTimer);
    for (const s of this.stops) s();
  }

  private reloadSoon(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.load(), 300);
  }

  private async load(): Promise<void> {
    try {
      const [kiosks, layouts] = await Promise.all([
        this.isAdmin ? get<Kiosk[]>('/api/kiosks', this.abort.signal) : get<Display[]>('/api/displays', this.abort.signal).then(groupByKiosk),
        get<Layout[]>('/api/layouts', this.abort.signal).catch(() => [] as Layout[]),
      ]);
      this.kiosks = kiosks.sort((a, b) => a.name.localeCompare(b.name));
      this.layouts = layouts.sort((a, b) => a.name.localeCompare(b.name));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  private say(t: string): void { this.message = t === this.message ? `${t}\u00a0` : t; }

  // ---- pairing ------------------------------------------------------------------------

  private async pair(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = (n: string): string => (form.elements.namedItem(n) as HTMLInputElement).value.trim();
    const body: Record<string, string> = { code: v('code') };
    if (v('name')) body.name = v('name');
    if (v('kid')) body.id = v('kid');
    this.pairErrors = {};
    if (!body.code) {
      this.pairErrors = { code: 'Type the code the kiosk screen shows.' };
      await this.focusFirstError();
      return;
    }
    this.busy = 'pair';
    try {
      const k = (await api<Kiosk>('POST', '/api/kiosks/pair', body)).data;
      form.reset();
      this.say(`Kiosk ${k.name} paired: its screen connects within a few seconds. Its first display is ${k.displays[0]?.name ?? '—'}.`);
      await this.load();
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      if (a?.status === 404) this.pairErrors = { code: a.message };
      else if (a?.status === 409) this.pairErrors = { id: a.message };
      else if (a) {
        const f = fieldErrors(a.message, a.field);
        this.pairErrors = Object.fromEntries(Object.entries(f).map(([k, m]) => [k in { code: 1, name: 1, id: 1 } ? k : '', m]));
      } else this.pairErrors = { '': String(err) };
      await this.focusFirstError();
    } finally {
      this.busy = '';
    }
  }

  private async focusFirstError(): Promise<void> {
    await this.updateComplete;
    const first = ['code', 'name', 'id'].find((k) => this.pairErrors[k]);
    this.renderRoot.querySelector<HTMLElement>(first ? `#pair-${first}` : '#pair-error')?.focus();
  }

  // ---- activation -----------------------------------------------------------------------

  private currentLayout(d: Display): string | null {
    const b = this.bundles[d.id];
    return b === undefined ? d.layout_id : b?.layout ?? null;
  }

  private async activate(d: Display): Promise<void> {
    const layout = this.choice[d.id] ?? this.currentLayout(d) ?? this.layouts[0]?.id;
    if (!layout) return;
    this.busy = `activate:${d.id}`;
    this.rowErrors = { ...this.rowErrors, [d.id]: '' };
    try {
      const b = (await api<Bundle>('POST', `/api/displays/${encodeURIComponent(d.id)}/activate`, { layout })).data;
      this.say(`${b.name} activated on ${d.name} (activation ${b.seq}).`);
    } catch (err) {
      this.rowErrors = { ...this.rowErrors, [d.id]: err instanceof ApiError ? err.message : String(err) };
    } finally {
      this.busy = '';
    }
  }

  /** A layout's name: from the display's bundle when it is that layout, else from the list; else its id. */
  private layoutName(id: string, bundle: Bundle | null | undefined): string {
    return (bundle?.layout === id ? bundle.name : undefined) ?? this.layouts.find((l) => l.id === id)?.name ?? id;
  }

  // ---- dialogs ----------------------------------------------------------------------------

  private openDialog(state: DialogState, e: Event): void {
    this.opener = e.currentTarget as HTMLElement;
    this.dialog = state;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.showModal());
  }

  private closeDialog(): void { this.renderRoot.querySelector<HTMLDialogElement>('dialog')?.close(); }

  private onDialogClosed(): void {
    this.dialog = null;
    const o = this.opener;
    this.opener = null;
    if (o?.isConnected) o.focus();
    else this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  private async submitDialog(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const st = this.dialog;
    if (!st) return;
    const form = e.target as HTMLFormElement;
    const v = (n: string): string => (form.elements.namedItem(n) as HTMLInputElement | null)?.value.trim() ?? '';
    this.busy = 'dialog';
    try {
      if (st.kind === 'remove-kiosk') {
        await api('DELETE', `/api/kiosks/${encodeURIComponent(st.kiosk!.id)}`);
        this.say(`Kiosk ${st.kiosk!.name} removed: its credential no longer works.`);
      } else if (st.kind === 'add-display') {
        const d = (await api<Display>('POST', `/api/kiosks/${encodeURIComponent(st.kiosk!.id)}/displays`,
          { id: v('d-id'), name: v('d-name'), width: Number(v('d-width')), height: Number(v('d-height')) })).data;
        this.say(`Display ${d.name} added to ${st.kiosk!.name}.`);
      } else {
        const d = (await api<Display>('PATCH', `/api/displays/${encodeURIComponent(st.display!.id)}`,
          { name: v('d-name'), width: Number(v('d-width')), height: Number(v('d-height')) })).data;
        this.say(`Display ${d.name} saved (${d.width}×${d.height}).`);
      }
      this.closeDialog();
      await this.load();
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const errs = a ? (a.status === 409 ? { id: a.message } : fieldErrors(a.message, a.field)) : { '': String(err) };
      this.dialog = { ...st, errors: Object.fromEntries(Object.entries(errs).map(([k, m]) => [['id', 'name', 'width', 'height'].includes(k) ? k : '', m])) };
      await this.updateComplete;
      const first = ['id', 'name', 'width', 'height'].find((k) => this.dialog?.errors[k]);
      this.renderRoot.querySelector<HTMLElement>(first ? `#d-${first}` : '#dialog-error')?.focus();
    } finally {
      this.busy = '';
    }
  }

  // ---- rendering ----------------------------------------------------------------------------

  override render(): TemplateResult {
    return html`
      <div class="top">
        <h1 tabindex="-1">Kiosks and displays</h1>
        <a href="/layouts">Layouts</a>
      </div>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <p role="status" id="kiosks-message">${this.message}</p>
      ${this.isAdmin ? this.pairForm() : nothing}
      <h2 id="list-h">Kiosks</h2>
      ${this.kiosks === null ? html`<p aria-busy="true">Loading kiosks…</p>`
        : this.kiosks.length === 0 ? html`<p class="muted" id="no-kiosks">No kiosk yet.${this.isAdmin ? ' Open /kiosk on the screen and type the code it shows above.' : ''}</p>`
        : html`<ul class="kiosks" aria-labelledby="list-h">${this.kiosks.map((k) => this.kiosk(k))}</ul>`}
      ${this.dialogView()}`;
  }

  private pairForm(): TemplateResult {
    const f = (id: string, label: string, o: { hint?: string; cls?: string; required?: boolean } = {}): TemplateResult => {
      const err = this.pairErrors[id];
      const described = [o.hint ? `pair-${id}-hint` : '', err ? `pair-${id}-error` : ''].filter(Boolean).join(' ');
      return html`<div class="field">
        <label for=${`pair-${id}`}>${label}</label>
        <input id=${`pair-${id}`} name=${id === 'id' ? 'kid' : id} class=${o.cls ?? ''} autocomplete="off" spellcheck="false" ?required=${o.required}
          aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}>
        ${o.hint ? html`<span class="hint" id=${`pair-${id}-hint`}>${o.hint}</span>` : nothing}
        ${err ? html`<span class="field-error" id=${`pair-${id}-error`}>${err}</span>` : nothing}
      </div>`;
    };
    return html`<section aria-labelledby="pair-h">
      <h2 id="pair-h">Pair a kiosk</h2>
      <p class="hint">Open <code>/kiosk</code> of this hub on the kiosk's screen: it shows a six-character code for 10 minutes.</p>
      <form class="card pair" @submit=${(e: SubmitEvent) => this.pair(e)} novalidate>
        ${f('code', 'Pairing code', { cls: 'code', required: true, hint: 'Case, spaces and dashes do not matter.' })}
        ${f('name', 'Kiosk name (optional)', { hint: 'e.g. Hall screen' })}
        ${f('id', 'Kiosk id (optional)', { hint: 'a-z, 0-9, _ and -; default kiosk-1, kiosk-2 …' })}
        ${this.pairErrors[''] ? html`<p class="form-error" id="pair-error" role="alert" tabindex="-1">${this.pairErrors['']}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy === 'pair'}>${this.busy === 'pair' ? 'Pairing…' : 'Pair kiosk'}</button></div>
      </form>
    </section>`;
  }

  private kiosk(k: Kiosk): TemplateResult {
    const avail = this.availability[k.id];
    const st = this.states[k.id];
    const streams = st ? Object.entries(st.streams) : [];
    return html`<li class="card kiosk" data-kiosk=${k.id} aria-labelledby=${`k-${k.id}`}>
      <div class="khead">
        <h2 id=${`k-${k.id}`}>${k.name}</h2>
        <span class="id muted">${k.id}</span>
        <span class="badge ${avail === 'online' ? 'ok' : avail === 'offline' ? 'bad' : 'idle'}" data-badge="availability">${avail || 'never connected'}</span>
        <span class="spacer"></span>
        ${this.isAdmin ? html`
          <button class="secondary" @click=${(e: Event) => this.openDialog({ kind: 'add-display', kiosk: k, errors: {} }, e)} aria-label=${`Add display to ${k.name}`}>Add display</button>
          <button class="secondary" @click=${(e: Event) => this.openDialog({ kind: 'remove-kiosk', kiosk: k, errors: {} }, e)} aria-label=${`Remove kiosk ${k.name}`}>Remove</button>` : nothing}
      </div>
      ${streams.length ? html`<p class="muted" data-streams>Streams: ${streams.map(([s, w]) => `${s} ${w}`).join(', ')}</p>` : nothing}
      ${k.displays.length ? html`<ul class="displays" aria-label=${`Displays of ${k.name}`}>${k.displays.map((d) => this.display(k, d, st))}</ul>` : html`<p class="muted">No display.</p>`}
    </li>`;
  }

  private display(k: Kiosk, d: Display, st: KioskState | undefined): TemplateResult {
    const bundle = this.bundles[d.id];
    const current = this.currentLayout(d);
    const layoutName = current ? this.layoutName(current, bundle) : '';
    const rep = st?.displays[d.id];
    const sw = rep?.last_switch;
    const fps = rep ? Object.entries(rep.cells) : [];
    const pick = this.choice[d.id] ?? (current && this.layouts.some((l) => l.id === current) ? current : this.layouts[0]?.id ?? '');
    const err = this.rowErrors[d.id];
    const selId = `act-${d.id}`;
    return html`<li class="display" data-display=${d.id} aria-labelledby=${`d-h-${d.id}`}>
      <h3 id=${`d-h-${d.id}`}>${d.name} <span class="id muted">${d.id}</span></h3>
      <dl>
        <dt>Size</dt><dd>${d.width}×${d.height} px</dd>
        <dt>Current layout</dt><dd data-current>${current ? html`${layoutName}${bundle ? html` <span class="muted">(activation ${bundle.seq})</span>` : nothing}` : 'none'}</dd>
        <dt>Kiosk shows</dt><dd data-kiosk-shows>${!rep ? (this.availability[k.id] === 'online' ? 'no report yet' : '—')
          : rep.layout ? html`${this.layoutName(rep.layout, bundle)}${sw?.layout === rep.layout ? (sw.painted_ms !== null ? `, painted in ${Math.round(sw.painted_ms)} ms` : ', waiting for pictures') : ''}` : 'nothing yet'}</dd>
        ${fps.length ? html`<dt>Frames/s</dt><dd data-fps>${fps.map(([c, s]) => `${c} ${s.fps.toFixed(1)}`).join(', ')}</dd>` : nothing}
      </dl>
      ${bundle ? wallPreview(bundleBoxes(bundle), `What ${d.name} shows: ${bundle.name}`, `${d.width} / ${d.height}`) : nothing}
      ${this.canActivate ? html`<div class="activate">
        <div class="field">
          <label for=${selId}>Layout for ${d.name}</label>
          <select id=${selId} ?disabled=${this.layouts.length === 0} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${selId}-error` : nothing}
            @change=${(e: Event) => { this.choice = { ...this.choice, [d.id]: (e.target as HTMLSelectElement).value }; }}>
            ${this.layouts.length === 0 ? html`<option value="">No layout yet</option>` : nothing}
            ${this.layouts.map((l) => html`<option value=${l.id} ?selected=${l.id === pick}>${l.name}</option>`)}
          </select>
        </div>
        <button ?disabled=${this.layouts.length === 0 || this.busy === `activate:${d.id}`} @click=${() => this.activate(d)}
          aria-label=${`Activate on ${d.name}`}>${this.busy === `activate:${d.id}` ? 'Activating…' : 'Activate'}</button>
      </div>
      ${err ? html`<p class="field-error" id=${`${selId}-error`} role="alert">${err}</p>` : nothing}` : nothing}
      ${this.isAdmin ? html`<div class="actions"><button class="secondary" @click=${(e: Event) => this.openDialog({ kind: 'edit-display', kiosk: k, display: d, errors: {} }, e)}
        aria-label=${`Rename or resize ${d.name}`}>Rename or resize</button></div>` : nothing}
    </li>`;
  }

  private dialogView(): TemplateResult {
    const st = this.dialog;
    const field = (id: string, label: string, value: string, type = 'text', hint = ''): TemplateResult => {
      const err = st?.errors[id];
      const described = [hint ? `d-${id}-hint` : '', err ? `d-${id}-error` : ''].filter(Boolean).join(' ');
      return html`<div class="field">
        <label for=${`d-${id}`}>${label}</label>
        <input id=${`d-${id}`} name=${`d-${id}`} type=${type} .value=${value} autocomplete="off" spellcheck="false" required
          min=${type === 'number' ? 64 : nothing} max=${type === 'number' ? 16384 : nothing}
          aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}>
        ${hint ? html`<span class="hint" id=${`d-${id}-hint`}>${hint}</span>` : nothing}
        ${err ? html`<span class="field-error" id=${`d-${id}-error`}>${err}</span>` : nothing}
      </div>`;
    };
    let title = '';
    let body: TemplateResult | typeof nothing = nothing;
    let submit = '';
    if (st?.kind === 'remove-kiosk') {
      title = `Remove kiosk ${st.kiosk!.name}?`;
      body = html`<p>Its credential stops working at once, its displays are deleted and its screen asks to be paired again.</p>`;
      submit = `Remove ${st.kiosk!.name}`;
    } else if (st?.kind === 'add-display') {
      title = `Add a display to ${st.kiosk!.name}`;
      const n = st.kiosk!.displays.length;
      body = html`${field('id', 'Display id', `${st.kiosk!.id}-hdmi-${n}`, 'text', 'a-z, 0-9, _ and -; used in MQTT topics.')}${field('name', 'Display name', `HDMI-${n}`)}
        ${field('width', 'Width (px)', '1920', 'number')}${field('height', 'Height (px)', '1080', 'number')}`;
      submit = 'Add display';
    } else if (st?.kind === 'edit-display') {
      const d = st.display!;
      title = `Rename or resize ${d.name}`;
      body = html`${field('name', 'Display name', d.name)}${field('width', 'Width (px)', String(d.width), 'number')}${field('height', 'Height (px)', String(d.height), 'number', 'A new size recompiles the layout it shows.')}`;
      submit = 'Save display';
    }
    return html`<dialog aria-labelledby="dialog-h" @close=${() => this.onDialogClosed()}>
      ${st ? html`<form @submit=${(e: SubmitEvent) => this.submitDialog(e)} novalidate>
        <h2 id="dialog-h">${title}</h2>
        ${body}
        ${st.errors[''] ? html`<p class="form-error" id="dialog-error" role="alert" tabindex="-1">${st.errors['']}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.closeDialog()}>Cancel</button>
          <button type="submit" id="dialog-submit" ?disabled=${this.busy === 'dialog'}>${submit}</button>
        </div>
      </form>` : html`<h2 id="dialog-h" class="visually-hidden">Dialog</h2>`}
    </dialog>`;
  }
}
customElements.define('vigil-kiosks', VigilKiosks);

/** Displays grouped as kiosks (what non-admins can see: `GET /api/kiosks` is for admins). */
function groupByKiosk(displays: Display[]): Kiosk[] {
  const by = new Map<string, Kiosk>();
  for (const d of displays) {
    const k = by.get(d.kiosk_id) ?? { id: d.kiosk_id, name: d.kiosk_id, created_at: 0, displays: [] };
    k.displays.push(d);
    by.set(d.kiosk_id, k);
  }
  return [...by.values()];
}
