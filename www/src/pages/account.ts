/**
 * `<vigil-account>` (`/account`, anyone signed in; the header's user name links here):
 *
 * - who you are (`GET /api/auth/me`: name, role, the cameras you may see);
 * - two-factor sign-in (TOTP, RFC 6238): "Set up" (`POST /api/auth/totp/setup` → secret and
 *   `otpauth://` URI) shows the URI as a QR code (npm `qrcode`, drawn as SVG) and the
 *   secret as text for manual entry; the code from the app (`POST /api/auth/totp/enable
 *   {code}`) turns it on and returns ten single-use recovery codes, shown once with Copy
 *   and a `.txt` download. "Turn off" asks for the password (`POST /api/auth/totp/disable`).
 *
 * Not here, because the hub has no endpoint for them: changing your own password (only an
 * admin can, `PATCH /api/users/:id`, which also signs you out) and a list of your sessions.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get } from '../api.ts';
import { shared } from '../styles.ts';
import { errorText, fieldText, grantsText } from './users-parts.ts';
import './users-parts.ts';

/** `GET /api/auth/me` for a user. */
interface Me { kind: string; id: string; name: string; role: string; cameras: string[] | null; totp_enabled?: boolean }

/** A QR code's dark modules as one SVG path (1 unit per module) and its size in modules. */
interface QrShape { size: number; d: string }

/**
 * Encodes `text` as a QR code (error correction M) with the `qrcode` package, loaded on
 * first use so the rest of the app does not carry it.
 */
async function qrShape(text: string): Promise<QrShape> {
  const mod = await import('qrcode');
  const create = mod.create ?? (mod as unknown as { default: typeof mod }).default.create;
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  let d = '';
  for (let r = 0; r < modules.size; r++) for (let c = 0; c < modules.size; c++) if (modules.get(r, c)) d += `M${c} ${r}h1v1h-1z`;
  return { size: modules.size, d };
}

type Step = 'idle' | 'enrolling' | 'codes';

export class VigilAccount extends LitElement {
  static override properties = {
    me: { state: true }, error: { state: true }, step: { state: true }, secret: { state: true }, uri: { state: true }, qr: { state: true },
    codes: { state: true }, errors: { state: true }, busy: { state: true }, message: { state: true },
  };
  declare me: Me | null;
  declare error: string;
  declare step: Step;
  declare secret: string;
  declare uri: string;
  declare qr: QrShape | null;
  declare codes: string[];
  declare errors: Record<string, string>;
  declare busy: boolean;
  declare message: string;
  private download = '';

  constructor() {
    super();
    this.me = null;
    this.error = '';
    this.step = 'idle';
    this.secret = '';
    this.uri = '';
    this.qr = null;
    this.codes = [];
    this.errors = {};
    this.busy = false;
    this.message = '';
  }

  static override styles = [shared, css`
    section.card { padding: 16px; margin-bottom: 16px; max-width: 760px; }
    section.card h2 { margin-top: 0; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
    dt { color: var(--muted); }
    dd { margin: 0; }
    ol { padding-left: 20px; display: grid; gap: 12px; }
    .qr { width: 220px; height: 220px; display: block; border-radius: 4px; }
    form { display: grid; gap: 12px; max-width: 420px; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .once { border: 2px solid var(--warn); border-radius: 8px; padding: 12px 16px; display: grid; gap: 8px; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.download) URL.revokeObjectURL(this.download);
  }

  private async load(): Promise<void> {
    try {
      this.me = await get<Me>('/api/auth/me');
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async focusOn(sel: string): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(sel)?.focus();
  }

  private async startSetup(): Promise<void> {
    this.busy = true;
    this.errors = {};
    this.message = '';
    try {
      const r = (await api<{ secret: string; otpauth_url: string }>('POST', '/api/auth/totp/setup', {})).data;
      this.secret = r.secret;
      this.uri = r.otpauth_url;
      this.qr = await qrShape(r.otpauth_url);
      this.step = 'enrolling';
      void this.focusOn('#enrol-h');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conflict') await this.load();
      this.errors = { _setup: errorText(err) };
    } finally {
      this.busy = false;
    }
  }

  private async enable(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#t-code')!;
    const code = input.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) { this.errors = { code: 'Type the six digits your app shows.' }; void this.focusOn('#t-code'); return; }
    this.busy = true;
    this.errors = {};
    try {
      const r = (await api<{ recovery_codes: string[] }>('POST', '/api/auth/totp/enable', { code })).data;
      this.codes = r.recovery_codes;
      if (this.download) URL.revokeObjectURL(this.download);
      const text = `Vigil recovery codes for ${this.me?.name ?? ''} (each works once, instead of an authenticator code)\n\n${this.codes.join('\n')}\n`;
      this.download = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      this.secret = '';
      this.uri = '';
      this.qr = null;
      this.step = 'codes';
      if (this.me) this.me = { ...this.me, totp_enabled: true };
      this.message = 'Two-factor sign-in is on.';
      void this.focusOn('#codes-h');
    } catch (err) {
      this.errors = err instanceof ApiError && err.field === 'code' ? { code: err.code === 'invalid_code' ? 'That code does not match. Check the time on your phone and type the current code.' : fieldText(err) } : { _enable: errorText(err) };
      void this.focusOn(this.errors.code ? '#t-code' : '#enable-error');
    } finally {
      this.busy = false;
    }
  }

  private cancelSetup(): void {
    this.step = 'idle';
    this.secret = '';
    this.qr = null;
    this.errors = {};
    void this.focusOn('#setup');
  }

  private async disable(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#t-password')!;
    if (!input.value) { this.errors = { password: 'Your password is required.' }; void this.focusOn('#t-password'); return; }
    this.busy = true;
    this.errors = {};
    try {
      await api('POST', '/api/auth/totp/disable', { password: input.value });
      input.value = '';
      if (this.me) this.me = { ...this.me, totp_enabled: false };
      this.step = 'idle';
      this.message = 'Two-factor sign-in is off.';
      void this.focusOn('#setup');
    } catch (err) {
      this.errors = err instanceof ApiError && err.field === 'password' ? { password: err.code === 'invalid_credentials' ? 'The password is wrong.' : fieldText(err) } : { _disable: errorText(err) };
      void this.focusOn(this.errors.password ? '#t-password' : '#disable-error');
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    const me = this.me;
    return html`
      <h1 tabindex="-1">Your account</h1>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${me === null ? (this.error ? nothing : html`<p aria-busy="true">Loading…</p>`) : html`
        <section class="card" aria-labelledby="who-h">
          <h2 id="who-h">Who you are</h2>
          <dl id="who">
            <dt>User</dt><dd id="me-name">${me.name}</dd>
            <dt>Role</dt><dd id="me-role">${me.role}</dd>
            <dt>Cameras</dt><dd id="me-cameras">${grantsText(me.cameras)}</dd>
          </dl>
        </section>
        ${me.kind === 'user' ? this.passwordSection() : nothing}
        ${me.kind === 'user' ? this.totpSection(me) : nothing}`}
      <p role="status" id="account-message">${this.message}</p>`;
  }

  private async changePassword(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const current = form.querySelector<HTMLInputElement>('#p-current')!;
    const next = form.querySelector<HTMLInputElement>('#p-new')!;
    const again = form.querySelector<HTMLInputElement>('#p-again')!;
    const errors: Record<string, string> = {};
    if (!current.value) errors.current_password = 'Your current password is required.';
    if (next.value.length < 8) errors.new_password = 'At least 8 characters.';
    else if (next.value !== again.value) errors.again = 'The two new passwords differ.';
    this.errors = errors;
    this.message = '';
    if (Object.keys(errors).length) { void this.focusOn(`#p-${errors.current_password ? 'current' : errors.new_password ? 'new' : 'again'}`); return; }
    this.busy = true;
    try {
      const r = await api<{ other_sessions_ended: number }>('POST', '/api/auth/password', { current_password: current.value, new_password: next.value });
      form.reset();
      const n = r.data.other_sessions_ended;
      this.message = `Your password is changed.${n ? ` ${n} other ${n === 1 ? 'session was' : 'sessions were'} signed out.` : ''}`;
    } catch (err) {
      if (err instanceof ApiError && err.field === 'current_password') this.errors = { current_password: err.code === 'invalid_credentials' ? 'The current password is wrong.' : fieldText(err) };
      else if (err instanceof ApiError && err.field === 'new_password') this.errors = { new_password: fieldText(err) };
      else this.errors = { _password: errorText(err) };
      void this.focusOn(this.errors.current_password ? '#p-current' : this.errors.new_password ? '#p-new' : '#password-error');
    } finally {
      this.busy = false;
    }
  }

  /** A password input with its label and its error (`errors[key]`). */
  private passwordInput(id: string, key: string, label: string, autocomplete: string): TemplateResult {
    const err = this.errors[key];
    return html`<div class="field"><label for=${id}>${label}</label>
      <input id=${id} type="password" autocomplete=${autocomplete} required aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-error` : nothing}>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}</div>`;
  }

  private passwordSection(): TemplateResult {
    return html`<section class="card" aria-labelledby="pw-h">
      <h2 id="pw-h">Password</h2>
      <p class="hint">A new password signs out your other sessions (other browsers and devices); this one stays signed in.</p>
      <form @submit=${(e: SubmitEvent) => this.changePassword(e)} novalidate>
        ${this.passwordInput('p-current', 'current_password', 'Current password', 'current-password')}
        ${this.passwordInput('p-new', 'new_password', 'New password', 'new-password')}
        ${this.passwordInput('p-again', 'again', 'Repeat the new password', 'new-password')}
        ${this.errors._password ? html`<p class="form-error" role="alert" id="password-error" tabindex="-1">${this.errors._password}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Change the password</button></div>
      </form>
    </section>`;
  }

  private totpSection(me: Me): TemplateResult {
    return html`<section class="card" aria-labelledby="totp-h">
      <h2 id="totp-h">Two-factor sign-in</h2>
      <p>State: <span class="badge ${me.totp_enabled ? 'ok' : 'idle'}" id="totp-state">${me.totp_enabled ? 'on' : 'off'}</span></p>
      ${this.step === 'codes' ? this.codesView() : me.totp_enabled ? this.disableForm() : this.step === 'enrolling' ? this.enrolView() : html`
        <p>With two-factor sign-in, signing in also needs a six-digit code from an authenticator app on your phone
          (such as Aegis, FreeOTP or Google Authenticator). MQTT cannot ask for a code: MQTT clients of yours then need an API key.</p>
        ${this.errors._setup ? html`<p class="form-error" role="alert">${this.errors._setup}</p>` : nothing}
        <button id="setup" @click=${() => this.startSetup()} ?disabled=${this.busy}>Set up two-factor sign-in</button>`}
    </section>`;
  }

  private enrolView(): TemplateResult {
    const qr = this.qr;
    const err = this.errors.code;
    const q = 4; // quiet zone, modules (ISO/IEC 18004 asks for 4)
    return html`<h3 id="enrol-h" tabindex="-1">Set up your authenticator app</h3>
      <ol>
        <li>Scan this QR code with the app:
          ${qr ? html`<svg class="qr" id="totp-qr" role="img" aria-label="QR code with your two-factor secret, for the authenticator app"
            viewBox=${`${-q} ${-q} ${qr.size + 2 * q} ${qr.size + 2 * q}`} shape-rendering="crispEdges">
            <rect x=${-q} y=${-q} width=${qr.size + 2 * q} height=${qr.size + 2 * q} fill="#fff"></rect>
            <path d=${qr.d} fill="#000"></path></svg>` : nothing}
        </li>
        <li>Or type this secret key into the app (time-based, 6 digits, 30 s):
          <vigil-shown-once label="Secret key" .value=${this.secret}></vigil-shown-once>
        </li>
        <li>
          <form @submit=${(e: SubmitEvent) => this.enable(e)} novalidate>
            <div class="field">
              <label for="t-code">Code from the app</label>
              <input id="t-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" spellcheck="false"
                aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 't-code-error' : nothing}>
              ${err ? html`<span class="field-error" id="t-code-error">${err}</span>` : nothing}
            </div>
            ${this.errors._enable ? html`<p class="form-error" role="alert" id="enable-error" tabindex="-1">${this.errors._enable}</p>` : nothing}
            <div class="actions">
              <button type="submit" ?disabled=${this.busy}>Turn on two-factor sign-in</button>
              <button type="button" class="secondary" @click=${() => this.cancelSetup()}>Cancel</button>
            </div>
          </form>
        </li>
      </ol>`;
  }

  private codesView(): TemplateResult {
    return html`<div class="once" id="recovery">
      <h3 id="codes-h" tabindex="-1">Your recovery codes</h3>
      <p role="alert"><strong>Save these ten codes now: they are shown only once.</strong> Each works once instead of an authenticator
        code, for when your phone is lost.</p>
      <vigil-shown-once label="Recovery codes" multiline .value=${this.codes.join('\n')}></vigil-shown-once>
      <div class="actions">
        <a class="button secondary" href=${this.download} download="vigil-recovery-codes.txt">Download as .txt</a>
        <button @click=${() => { this.step = 'idle'; this.codes = []; void this.focusOn('#t-password'); }}>Done, I saved them</button>
      </div>
    </div>`;
  }

  private disableForm(): TemplateResult {
    const err = this.errors.password;
    return html`<p>Signing in needs a code from your authenticator app (or one of your recovery codes).</p>
      <form @submit=${(e: SubmitEvent) => this.disable(e)} novalidate aria-labelledby="off-h">
        <h3 id="off-h">Turn two-factor sign-in off</h3>
        <div class="field">
          <label for="t-password">Your password</label>
          <input id="t-password" name="password" type="password" autocomplete="current-password"
            aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 't-password-error' : nothing}>
          ${err ? html`<span class="field-error" id="t-password-error">${err}</span>` : nothing}
        </div>
        ${this.errors._disable ? html`<p class="form-error" role="alert" id="disable-error" tabindex="-1">${this.errors._disable}</p>` : nothing}
        <div class="actions"><button type="submit" class="secondary" ?disabled=${this.busy}>Turn off two-factor sign-in</button></div>
      </form>`;
  }
}
customElements.define('vigil-account', VigilAccount);
