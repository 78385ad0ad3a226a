/**
 * `<vigil-login>`: sign-in and first-run setup.
 *
 * - `mode="login"`: username and password (`POST /api/auth/login`); when the hub answers
 *   `401 totp_required`, a second step asks for the authenticator code (or a recovery code)
 *   and sends the three together.
 * - `mode="setup"`: the one-time setup token printed on the hub's console, a username and a
 *   password twice (`POST /api/auth/setup`), which creates the first admin and signs in.
 *
 * Errors of the hub are shown next to their field (`error.field`) or above the button.
 * Fires `signed-in` (detail: the user) once a session is open.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, api, session, type SessionAnswer, type User } from '../api.ts';
import { shared } from '../styles.ts';

type Errors = Record<string, string>;

export class VigilLogin extends LitElement {
  static override properties = {
    mode: { type: String },
    step: { state: true },
    errors: { state: true },
    formError: { state: true },
    busy: { state: true },
  };
  declare mode: 'login' | 'setup';
  declare step: 'password' | 'totp';
  declare errors: Errors;
  declare formError: string;
  declare busy: boolean;
  private creds = { username: '', password: '' };

  constructor() {
    super();
    this.mode = 'login';
    this.step = 'password';
    this.errors = {};
    this.formError = '';
    this.busy = false;
  }

  static override styles = [shared, css`
    :host { display: grid; place-items: start center; padding: 48px 16px; }
    form { width: min(420px, 100%); padding: 24px; display: grid; gap: 16px; }
    h1 { margin: 0; }
    p { margin: 0; }
    code { font-size: .9rem; }
  `];

  override render() {
    return this.mode === 'setup' ? this.setupForm() : this.step === 'totp' ? this.totpForm() : this.loginForm();
  }

  private field(name: string, label: string, type: string, autocomplete: string, extra: { hint?: string; inputmode?: string; value?: string } = {}) {
    const err = this.errors[name];
    const id = `f-${name}`;
    return html`<div class="field"><label for=${id}>${label}</label>
      ${extra.hint ? html`<span class="muted" id=${`${id}-hint`}>${extra.hint}</span>` : nothing}
      <input id=${id} name=${name} type=${type} autocomplete=${autocomplete} required
        inputmode=${extra.inputmode ?? nothing} .value=${extra.value ?? ''}
        aria-invalid=${err ? 'true' : 'false'}
        aria-describedby=${[extra.hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || nothing}>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}
    </div>`;
  }

  private errorLine() {
    return this.formError ? html`<p class="form-error" role="alert" id="form-error">${this.formError}</p>` : nothing;
  }

  private loginForm() {
    return html`<form class="card" @submit=${this.onLogin} novalidate aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Vigil</h1>
      ${this.field('username', 'Username', 'text', 'username', { value: this.creds.username })}
      ${this.field('password', 'Password', 'password', 'current-password')}
      ${this.errorLine()}
      <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>`;
  }

  private totpForm() {
    return html`<form class="card" @submit=${this.onTotp} novalidate aria-labelledby="totp-title">
      <h1 id="totp-title">Two-factor authentication</h1>
      <p class="muted">Signing in as <b>${this.creds.username}</b>.</p>
      ${this.field('totp', 'Authentication code', 'text', 'one-time-code', { inputmode: 'numeric', hint: 'The six digits from your authenticator app, or a recovery code.' })}
      ${this.errorLine()}
      <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Checking…' : 'Verify'}</button>
      <button type="button" class="secondary" @click=${this.back}>Use another account</button>
    </form>`;
  }

  private setupForm() {
    return html`<form class="card" @submit=${this.onSetup} novalidate aria-labelledby="setup-title">
      <h1 id="setup-title">Welcome to Vigil</h1>
      <p>There is no user yet. Create the first administrator with the one-time setup token the hub printed on its console
        (also in <code>&lt;data_dir&gt;/setup-token</code>).</p>
      ${this.field('token', 'Setup token', 'text', 'off')}
      ${this.field('username', 'Username', 'text', 'username', { hint: 'Letters, digits and _ . @ - only.' })}
      ${this.field('password', 'Password', 'password', 'new-password', { hint: 'At least 8 characters.' })}
      ${this.field('password2', 'Repeat the password', 'password', 'new-password')}
      ${this.errorLine()}
      <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create the administrator'}</button>
    </form>`;
  }

  private values(e: Event): Record<string, string> {
    e.preventDefault();
    return Object.fromEntries([...new FormData(e.target as HTMLFormElement)].map(([k, v]) => [k, String(v)]));
  }

  /** Checks required fields in the page, so the hub is asked only with something to check. */
  private required(v: Record<string, string>, names: Record<string, string>): boolean {
    const errors: Errors = {};
    for (const [k, label] of Object.entries(names)) if (!v[k]?.trim()) errors[k] = `${label} is required.`;
    this.errors = errors;
    this.formError = '';
    if (Object.keys(errors).length) void this.focusError();
    return Object.keys(errors).length === 0;
  }

  private async onLogin(e: Event) {
    const v = this.values(e);
    this.creds = { username: v.username ?? '', password: v.password ?? '' };
    if (!this.required(v, { username: 'Username', password: 'Password' })) return;
    await this.submit('/api/auth/login', { username: this.creds.username, password: this.creds.password });
  }

  private async onTotp(e: Event) {
    const v = this.values(e);
    if (!this.required(v, { totp: 'The code' })) return;
    await this.submit('/api/auth/login', { ...this.creds, totp: v.totp!.replace(/\s+/g, '') });
  }

  private async onSetup(e: Event) {
    const v = this.values(e);
    if (!this.required(v, { token: 'The setup token', username: 'Username', password: 'Password', password2: 'The repeated password' })) return;
    if (v.password !== v.password2) {
      this.errors = { password2: 'The passwords differ.' };
      void this.focusError();
      return;
    }
    await this.submit('/api/auth/setup', { token: v.token!.trim(), username: v.username!.trim(), password: v.password! });
  }

  private back() {
    this.step = 'password';
    this.creds.password = '';
    this.errors = {};
    this.formError = '';
  }

  private async submit(path: string, body: Record<string, string>) {
    this.busy = true;
    this.errors = {};
    this.formError = '';
    try {
      const { data } = await api<SessionAnswer & { user: User }>('POST', path, body);
      session.accept(data);
      this.creds = { username: '', password: '' };
      this.dispatchEvent(new CustomEvent<User>('signed-in', { detail: data.user, bubbles: true, composed: true }));
    } catch (err) {
      this.showError(err);
    } finally {
      this.busy = false;
    }
  }

  private showError(err: unknown) {
    if (!(err instanceof ApiError)) { this.formError = String(err); return; }
    if (err.code === 'totp_required' && this.step === 'password') {
      this.step = 'totp';
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#f-totp')?.focus());
      return;
    }
    const messages: Record<string, string> = {
      invalid_credentials: 'The username or password is wrong.',
      totp_required: 'That code is wrong or was used already. Try the current one.',
      forbidden: this.mode === 'setup' ? 'The setup token is wrong.' : err.message,
      already_set_up: 'The first administrator exists already: sign in instead.',
    };
    const msg = messages[err.code] ?? err.message;
    const field = err.code === 'forbidden' && this.mode === 'setup' ? 'token' : err.code === 'totp_required' ? 'totp' : err.field;
    if (field && this.renderRoot.querySelector(`[name="${CSS.escape(field)}"]`)) this.errors = { [field]: msg };
    else this.formError = msg;
    void this.focusError();
  }

  private async focusError() {
    await this.updateComplete;
    const bad = this.renderRoot.querySelector<HTMLInputElement>('input[aria-invalid="true"]');
    if (bad) bad.focus();
  }
}
customElements.define('vigil-login', VigilLogin);
