/**
 * Parts shared by the Users, API keys and devices, Account and Rules pages:
 *
 * - `<vigil-camera-grants>`: "All cameras" or "Only these cameras" with a checkbox per
 *   camera; `value` is `null` (all) or the chosen names (the `cameras` field of
 *   `/api/users` and `/api/api-keys`).
 * - `<vigil-shown-once>`: a secret shown once (an API key, a device password, a TOTP
 *   secret, recovery codes) in a read-only field with a Copy button and a status line.
 * - `<vigil-confirm>`: a modal confirmation (`<dialog>`); `ask()` resolves true/false.
 * - {@link errorText}: an error as one line for a form error.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError } from '../api.ts';
import { shared } from '../styles.ts';

/** A thrown value as a sentence for the page (the hub's message for an {@link ApiError}). */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? 'The hub cannot be reached.' : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The hub's message for a field, without the `field: ` prefix zod's messages carry. */
export function fieldText(err: ApiError): string {
  const f = err.field;
  return f && err.message.startsWith(`${f}: `) ? err.message.slice(f.length + 2) : err.message;
}

/** A Unix time in ms as the browser's local date and time, or `never`. */
export function whenMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? 'never' : new Date(ms).toLocaleString();
}

/** Camera grants as text: `all cameras` or the names. */
export function grantsText(cameras: string[] | null | undefined): string {
  return cameras === null || cameras === undefined ? 'all cameras' : cameras.length === 0 ? 'no camera' : cameras.join(', ');
}

let seq = 0;

/**
 * `<vigil-camera-grants .cameras=${names} .value=${null | names} legend="Cameras">`: a fieldset
 * with two radios and, for "Only these cameras", a checkbox per camera. Read `value`.
 * `error` is shown under the legend (aria-invalid on the group).
 */
export class VigilCameraGrants extends LitElement {
  static override properties = { cameras: { attribute: false }, value: { attribute: false }, legend: { type: String }, error: { type: String } };
  declare cameras: string[];
  declare value: string[] | null;
  declare legend: string;
  declare error: string;
  private readonly uid = `g${++seq}`;

  constructor() {
    super();
    this.cameras = [];
    this.value = null;
    this.legend = 'Cameras';
    this.error = '';
  }

  static override styles = [shared, css`
    fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 12px; margin: 0; display: grid; gap: 6px; }
    legend { font-weight: 600; padding: 0 4px; }
    .opt { display: flex; align-items: center; gap: 8px; font-weight: 400; min-height: 32px; }
    .opt input { min-height: 0; width: 18px; height: 18px; }
    .cams { display: flex; flex-wrap: wrap; gap: 4px 16px; padding-left: 26px; }
  `];

  private setAll(all: boolean): void {
    this.value = all ? null : (this.value ?? []);
    this.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  private toggle(name: string, on: boolean): void {
    const set = new Set(this.value ?? []);
    if (on) set.add(name); else set.delete(name);
    this.value = this.cameras.filter((c) => set.has(c));
    this.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  override render(): TemplateResult {
    const all = this.value === null;
    const u = this.uid;
    return html`<fieldset aria-invalid=${this.error ? 'true' : 'false'} aria-describedby=${this.error ? `${u}-err` : nothing}>
      <legend>${this.legend}</legend>
      ${this.error ? html`<span class="field-error" id=${`${u}-err`}>${this.error}</span>` : nothing}
      <label class="opt"><input type="radio" name=${`${u}-mode`} .checked=${all} @change=${() => this.setAll(true)}> All cameras (also ones added later)</label>
      <label class="opt"><input type="radio" name=${`${u}-mode`} .checked=${!all} @change=${() => this.setAll(false)}> Only these cameras</label>
      ${all ? nothing : this.cameras.length === 0 ? html`<p class="muted cams">There is no camera yet.</p>` : html`<div class="cams" role="group" aria-label="Granted cameras">
        ${this.cameras.map((c) => html`<label class="opt"><input type="checkbox" .checked=${this.value?.includes(c) ?? false}
          @change=${(e: Event) => this.toggle(c, (e.target as HTMLInputElement).checked)}> ${c}</label>`)}
      </div>`}
    </fieldset>`;
  }
}
customElements.define('vigil-camera-grants', VigilCameraGrants);

/**
 * `<vigil-shown-once label="API key" .value=${key} multiline>`: a read-only field with the
 * secret, a Copy button (Clipboard API; else the text is selected and `execCommand('copy')`
 * tried — plain-http pages on a LAN have no Clipboard API) and a status line.
 */
export class VigilShownOnce extends LitElement {
  static override properties = { label: { type: String }, value: { type: String }, multiline: { type: Boolean }, status: { state: true } };
  declare label: string;
  declare value: string;
  declare multiline: boolean;
  declare status: string;
  private readonly uid = `s${++seq}`;

  constructor() {
    super();
    this.label = 'Secret';
    this.value = '';
    this.multiline = false;
    this.status = '';
  }

  static override styles = [shared, css`
    .row { display: flex; gap: 8px; align-items: flex-start; flex-wrap: wrap; }
    input, textarea { flex: 1 1 260px; min-width: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .95rem; }
    textarea { padding: 8px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--input); color: var(--fg); resize: vertical; }
    .status { min-height: 1.2em; margin: 4px 0 0; font-size: .9rem; }
  `];

  private async copy(): Promise<void> {
    const field = this.renderRoot.querySelector<HTMLInputElement | HTMLTextAreaElement>('input, textarea');
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(this.value);
      this.status = 'Copied.';
    } catch {
      field?.focus();
      field?.select();
      // The old API still works where the Clipboard API is missing (insecure origins).
      const ok = document.execCommand?.('copy') ?? false;
      this.status = ok ? 'Copied.' : 'Copying is not allowed here: the text is selected, copy it with Ctrl+C.';
    }
  }

  override render(): TemplateResult {
    const id = `${this.uid}-v`;
    const rows = Math.min(12, this.value.split('\n').length);
    return html`<div class="field">
      <label for=${id}>${this.label}</label>
      <div class="row">
        ${this.multiline
          ? html`<textarea id=${id} readonly rows=${rows} spellcheck="false" .value=${this.value}></textarea>`
          : html`<input id=${id} readonly spellcheck="false" autocomplete="off" .value=${this.value} @focus=${(e: Event) => (e.target as HTMLInputElement).select()}>`}
        <button type="button" class="secondary" @click=${() => this.copy()} aria-label=${`Copy ${this.label}`}>Copy</button>
      </div>
      <p class="status" role="status">${this.status}</p>
    </div>`;
  }
}
customElements.define('vigil-shown-once', VigilShownOnce);

/**
 * `<vigil-confirm>`: `await el.ask({title, text, confirm})` opens a modal `<dialog>` (focus on
 * Cancel; Escape cancels) and resolves whether the user confirmed.
 */
export class VigilConfirm extends LitElement {
  static override properties = { heading: { state: true }, text: { state: true }, confirmLabel: { state: true } };
  declare heading: string;
  declare text: string;
  declare confirmLabel: string;
  private resolve?: (ok: boolean) => void;
  private returnFocus: HTMLElement | null = null;

  constructor() {
    super();
    this.heading = '';
    this.text = '';
    this.confirmLabel = 'Confirm';
  }

  static override styles = [shared, css`
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; max-width: 440px; }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    h2 { margin-top: 0; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; justify-content: flex-end; }
  `];

  /** Opens the dialog. @returns true when confirmed */
  async ask(o: { title: string; text: string; confirm: string }): Promise<boolean> {
    this.resolve?.(false);
    this.heading = o.title;
    this.text = o.text;
    this.confirmLabel = o.confirm;
    // The element that opened the dialog, inside shadow roots too.
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    this.returnFocus = a as HTMLElement | null;
    await this.updateComplete;
    const d = this.renderRoot.querySelector('dialog')!;
    d.showModal();
    d.querySelector<HTMLButtonElement>('.cancel')?.focus();
    return new Promise((r) => { this.resolve = r; });
  }

  private done(ok: boolean): void {
    const r = this.resolve;
    this.resolve = undefined;
    this.renderRoot.querySelector('dialog')?.close();
    if (!ok) this.returnFocus?.focus?.();
    r?.(ok);
  }

  override render(): TemplateResult {
    return html`<dialog aria-labelledby="c-h" aria-describedby="c-t" @close=${() => this.done(false)}>
      <h2 id="c-h">${this.heading}</h2>
      <p id="c-t">${this.text}</p>
      <div class="actions">
        <button class="secondary cancel" @click=${() => this.done(false)}>Cancel</button>
        <button class="confirm" @click=${() => this.done(true)}>${this.confirmLabel}</button>
      </div>
    </dialog>`;
  }
}
customElements.define('vigil-confirm', VigilConfirm);
