/**
 * `<vigil-users>` (`/users`, admins): the users (`GET /api/users`) with their role, camera
 * grants, two-factor state and last sign-in; "Add user" (`POST /api/users {username,
 * password, role, cameras}`); per user an Edit dialog for role and grants and a Reset
 * password dialog (`PATCH /api/users/:id`; a new password signs the user out everywhere),
 * and Delete after a confirmation (`DELETE /api/users/:id`; the hub refuses deleting
 * yourself, and that refusal is shown). Errors of the hub appear at the field they name.
 * Below: the activity log (`<vigil-activity-log>`). A link leads to API keys and devices.
 *
 * Users have no MQTT topic: the list reloads after each change made here.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api, get, session } from '../api.ts';
import { shared } from '../styles.ts';
import { errorText, fieldText, grantsText, whenMs, type VigilCameraGrants, type VigilConfirm } from './users-parts.ts';
import './users-parts.ts';
import './users-activity.ts';

/** `GET /api/users` item (times in Unix ms). */
export interface UserRow {
  id: string; username: string; role: 'admin' | 'operator' | 'viewer'; cameras: string[] | null;
  totp_enabled: boolean; created_at: number; last_login_at: number | null;
}

const ROLES = [
  { v: 'viewer', d: 'Viewer — sees its cameras, events and recordings' },
  { v: 'operator', d: 'Operator — a viewer that also switches detection, recording and layouts' },
  { v: 'admin', d: 'Admin — everything: cameras, users, keys, settings, rules' },
] as const;

type Errors = Record<string, string>;

export class VigilUsers extends LitElement {
  static override properties = {
    users: { state: true }, cameras: { state: true }, error: { state: true }, message: { state: true }, busy: { state: true },
    addErrors: { state: true }, addGrants: { state: true }, editing: { state: true }, editErrors: { state: true },
    resetting: { state: true }, resetErrors: { state: true },
  };
  declare users: UserRow[] | null;
  declare cameras: string[];
  declare error: string;
  declare message: string;
  declare busy: boolean;
  declare addErrors: Errors;
  declare addGrants: string[] | null;
  declare editing: UserRow | null;
  declare editErrors: Errors;
  declare resetting: UserRow | null;
  declare resetErrors: Errors;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.users = null;
    this.cameras = [];
    this.error = '';
    this.message = '';
    this.busy = false;
    this.addErrors = {};
    this.addGrants = null;
    this.editing = null;
    this.editErrors = {};
    this.resetting = null;
    this.resetErrors = {};
  }

  static override styles = [shared, css`
    .top { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; justify-content: space-between; }
    .list { overflow-x: auto; padding: 4px 8px; }
    form.card { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; padding: 16px; max-width: 640px; }
    select, input { max-width: 100%; min-width: 0; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
    td .actions { flex-wrap: nowrap; }
    dialog { background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; width: min(520px, calc(100vw - 24px)); }
    dialog::backdrop { background: rgba(0, 0, 0, .5); }
    dialog form { display: grid; gap: 12px; }
    dialog h2 { margin-top: 0; }
    @media (max-width: 720px) {
      thead { display: none; }
      tr { display: grid; grid-template-columns: 1fr; border-bottom: 1px solid var(--line); padding: 8px 0; }
      td { border: 0; padding: 2px 8px; }
      td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
      td .actions { flex-wrap: wrap; }
    }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.abort.abort();
  }

  private async load(): Promise<void> {
    try {
      const [users, cams] = await Promise.all([
        get<UserRow[]>('/api/users', this.abort.signal),
        get<{ name: string }[]>('/api/cameras', this.abort.signal),
      ]);
      this.users = users;
      this.cameras = cams.map((c) => c.name).sort();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = errorText(err);
    }
  }

  private confirm(): VigilConfirm { return this.renderRoot.querySelector<VigilConfirm>('vigil-confirm')!; }

  /** Puts an API error at its field (`cameras.0` → the grants), else returns it as a form error. */
  private place(err: unknown, known: string[]): { errors: Errors; form: string } {
    if (err instanceof ApiError && err.field) {
      const f = err.field.split('.')[0]!;
      if (known.includes(f)) return { errors: { [f]: fieldText(err) }, form: '' };
    }
    return { errors: {}, form: errorText(err) };
  }

  private async focusInvalid(root: ParentNode): Promise<void> {
    await this.updateComplete;
    root.querySelector<HTMLElement>('[aria-invalid="true"], .form-error')?.focus();
  }

  // ---- add --------------------------------------------------------------------------------

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = (n: string): string => (form.elements.namedItem(n) as HTMLInputElement).value;
    const body = { username: v('username').trim(), password: v('password'), role: v('role'), cameras: this.addGrants };
    const errors: Errors = {};
    if (!body.username) errors.username = 'A username is required.';
    if (body.password.length < 8) errors.password = 'At least 8 characters.';
    this.addErrors = errors;
    this.message = '';
    if (Object.keys(errors).length) { void this.focusInvalid(form); return; }
    this.busy = true;
    try {
      const u = (await api<UserRow>('POST', '/api/users', body)).data;
      form.reset();
      this.addGrants = null;
      this.message = `User ${u.username} added as ${u.role} (${grantsText(u.cameras)}).`;
      await this.load();
    } catch (err) {
      const p = this.place(err, ['username', 'password', 'role', 'cameras']);
      this.addErrors = p.form ? { _form: p.form } : p.errors;
      void this.focusInvalid(form);
    } finally {
      this.busy = false;
    }
  }

  // ---- edit -------------------------------------------------------------------------------

  private openEdit(u: UserRow): void {
    this.editing = u;
    this.editErrors = {};
    void this.updateComplete.then(() => {
      const d = this.renderRoot.querySelector<HTMLDialogElement>('#edit-dialog')!;
      const grants = d.querySelector<VigilCameraGrants>('vigil-camera-grants')!;
      grants.value = u.cameras === null ? null : [...u.cameras];
      d.querySelector<HTMLSelectElement>('#e-role')!.value = u.role;
      d.showModal();
      d.querySelector<HTMLSelectElement>('#e-role')!.focus();
    });
  }

  private async saveEdit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const u = this.editing;
    if (!u) return;
    const d = this.renderRoot.querySelector<HTMLDialogElement>('#edit-dialog')!;
    const role = d.querySelector<HTMLSelectElement>('#e-role')!.value;
    const cameras = d.querySelector<VigilCameraGrants>('vigil-camera-grants')!.value;
    this.busy = true;
    try {
      const out = (await api<UserRow>('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { role, cameras })).data;
      d.close();
      this.message = `User ${out.username} is now ${out.role} (${grantsText(out.cameras)}).`;
      await this.load();
      this.focusRow(out.id, '.edit');
    } catch (err) {
      const p = this.place(err, ['role', 'cameras']);
      this.editErrors = p.form ? { _form: p.form } : p.errors;
      void this.focusInvalid(d);
    } finally {
      this.busy = false;
    }
  }

  // ---- reset password ---------------------------------------------------------------------

  private openReset(u: UserRow): void {
    this.resetting = u;
    this.resetErrors = {};
    void this.updateComplete.then(() => {
      const d = this.renderRoot.querySelector<HTMLDialogElement>('#reset-dialog')!;
      d.querySelector<HTMLFormElement>('form')!.reset();
      d.showModal();
      d.querySelector<HTMLInputElement>('#r-password')!.focus();
    });
  }

  private async saveReset(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const u = this.resetting;
    if (!u) return;
    const d = this.renderRoot.querySelector<HTMLDialogElement>('#reset-dialog')!;
    const password = d.querySelector<HTMLInputElement>('#r-password')!.value;
    const again = d.querySelector<HTMLInputElement>('#r-password2')!.value;
    if (password.length < 8) { this.resetErrors = { password: 'At least 8 characters.' }; void this.focusInvalid(d); return; }
    if (password !== again) { this.resetErrors = { password2: 'The passwords differ.' }; void this.focusInvalid(d); return; }
    this.busy = true;
    try {
      await api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { password });
      d.close();
      this.message = `Password of ${u.username} changed; ${u.username} was signed out everywhere.`;
      // Resetting your own password ends this session too: the app then shows the sign-in form.
      await this.load();
      this.focusRow(u.id, '.reset');
    } catch (err) {
      const p = this.place(err, ['password']);
      this.resetErrors = p.form ? { _form: p.form } : p.errors;
      void this.focusInvalid(d);
    } finally {
      this.busy = false;
    }
  }

  // ---- delete -----------------------------------------------------------------------------

  private async askDelete(u: UserRow): Promise<void> {
    const self = u.id === session.user?.id;
    const ok = await this.confirm().ask({
      title: `Delete user ${u.username}?`,
      text: self ? 'This is you. The hub does not let an administrator delete their own account.' : `${u.username} is signed out everywhere and cannot sign in again. This cannot be undone.`,
      confirm: `Delete ${u.username}`,
    });
    if (!ok) return;
    this.error = '';
    this.message = '';
    try {
      await api('DELETE', `/api/users/${encodeURIComponent(u.id)}`);
      this.message = `User ${u.username} deleted.`;
      await this.load();
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
    } catch (err) {
      this.error = `Could not delete ${u.username}: ${errorText(err)}`;
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#users-error')?.focus();
    }
  }

  private focusRow(id: string, sel: string): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`tr[data-user-id="${CSS.escape(id)}"] ${sel}`)?.focus());
  }

  // ---- render -----------------------------------------------------------------------------

  override render(): TemplateResult {
    return html`
      <div class="top">
        <h1 tabindex="-1">Users</h1>
        <a href="/api-keys">API keys and devices</a>
      </div>
      ${this.error ? html`<p class="form-error" role="alert" id="users-error" tabindex="-1">${this.error}</p>` : nothing}
      <p role="status" id="users-message">${this.message}</p>
      ${this.users === null ? (this.error ? nothing : html`<p aria-busy="true">Loading users…</p>`) : html`<div class="card list">${this.table(this.users)}</div>`}
      ${this.addForm()}
      <vigil-activity-log></vigil-activity-log>
      ${this.editDialog()}
      ${this.resetDialog()}
      <vigil-confirm></vigil-confirm>`;
  }

  private table(users: UserRow[]): TemplateResult {
    const me = session.user?.id;
    return html`<table id="user-list">
      <caption class="visually-hidden">Users</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Cameras</th><th scope="col">Two-factor</th>
        <th scope="col">Last sign-in</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${users.map((u) => html`<tr data-user=${u.username} data-user-id=${u.id}>
        <th scope="row">${u.username}${u.id === me ? html` <span class="muted">(you)</span>` : nothing}</th>
        <td data-label="Role" data-col="role">${u.role}</td>
        <td data-label="Cameras" data-col="cameras">${grantsText(u.cameras)}</td>
        <td data-label="Two-factor"><span class="badge ${u.totp_enabled ? 'ok' : 'idle'}">${u.totp_enabled ? 'on' : 'off'}</span></td>
        <td data-label="Last sign-in">${whenMs(u.last_login_at)}</td>
        <td><div class="actions">
          <button class="secondary edit" @click=${() => this.openEdit(u)} aria-label=${`Edit ${u.username}`}>Edit</button>
          <button class="secondary reset" @click=${() => this.openReset(u)} aria-label=${`Reset password of ${u.username}`}>Reset password</button>
          <button class="secondary delete" @click=${() => this.askDelete(u)} aria-label=${`Delete ${u.username}`}>Delete</button>
        </div></td>
      </tr>`)}</tbody>
    </table>`;
  }

  private input(o: { id: string; name: string; label: string; errors: Errors; type?: string; hint?: string; autocomplete?: string }): TemplateResult {
    const err = o.errors[o.name];
    const described = [o.hint ? `${o.id}-hint` : '', err ? `${o.id}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field">
      <label for=${o.id}>${o.label}</label>
      ${o.hint ? html`<span class="hint" id=${`${o.id}-hint`}>${o.hint}</span>` : nothing}
      <input id=${o.id} name=${o.name} type=${o.type ?? 'text'} autocomplete=${o.autocomplete ?? 'off'} spellcheck="false"
        aria-invalid=${err ? 'true' : 'false'} aria-describedby=${described || nothing}>
      ${err ? html`<span class="field-error" id=${`${o.id}-error`}>${err}</span>` : nothing}
    </div>`;
  }

  private roleSelect(id: string, errors: Errors): TemplateResult {
    const err = errors.role;
    return html`<div class="field">
      <label for=${id}>Role</label>
      <select id=${id} name="role" aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? `${id}-error` : nothing}>
        ${ROLES.map((r) => html`<option value=${r.v}>${r.d}</option>`)}
      </select>
      ${err ? html`<span class="field-error" id=${`${id}-error`}>${err}</span>` : nothing}
    </div>`;
  }

  private addForm(): TemplateResult {
    const e = this.addErrors;
    return html`<section aria-labelledby="add-h">
      <h2 id="add-h">Add user</h2>
      <form class="card" id="add-user" @submit=${(ev: SubmitEvent) => this.add(ev)} novalidate>
        ${this.input({ id: 'a-username', name: 'username', label: 'Username', errors: e, hint: 'Letters, digits and _ . @ - only.' })}
        ${this.input({ id: 'a-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', errors: e, hint: 'At least 8 characters. Tell it to the user; they cannot change it themselves.' })}
        ${this.roleSelect('a-role', e)}
        <vigil-camera-grants legend="Cameras this user may see" .cameras=${this.cameras} .value=${this.addGrants} .error=${e.cameras ?? ''}
          @change=${(ev: Event) => { this.addGrants = (ev.target as VigilCameraGrants).value; }}></vigil-camera-grants>
        ${e._form ? html`<p class="form-error" role="alert" tabindex="-1">${e._form}</p>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Add user</button></div>
      </form>
    </section>`;
  }

  private editDialog(): TemplateResult {
    const u = this.editing;
    const e = this.editErrors;
    return html`<dialog id="edit-dialog" aria-labelledby="edit-h" @close=${() => { this.editing = null; }}>
      <form method="dialog" novalidate @submit=${(ev: SubmitEvent) => this.saveEdit(ev)}>
        <h2 id="edit-h">Edit ${u?.username ?? ''}</h2>
        ${this.roleSelect('e-role', e)}
        <vigil-camera-grants legend="Cameras this user may see" .cameras=${this.cameras} .error=${e.cameras ?? ''}></vigil-camera-grants>
        <p class="hint">Changes apply to the user's next request; open live views of cameras no longer granted stop at their next reconnect.</p>
        ${e._form ? html`<p class="form-error" role="alert" tabindex="-1">${e._form}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.renderRoot.querySelector<HTMLDialogElement>('#edit-dialog')?.close()}>Cancel</button>
          <button type="submit" ?disabled=${this.busy}>Save</button>
        </div>
      </form>
    </dialog>`;
  }

  private resetDialog(): TemplateResult {
    const u = this.resetting;
    const e = this.resetErrors;
    const self = u && u.id === session.user?.id;
    return html`<dialog id="reset-dialog" aria-labelledby="reset-h" aria-describedby="reset-note" @close=${() => { this.resetting = null; }}>
      <form method="dialog" novalidate @submit=${(ev: SubmitEvent) => this.saveReset(ev)}>
        <h2 id="reset-h">Reset the password of ${u?.username ?? ''}</h2>
        <p id="reset-note">The new password signs ${self ? 'you' : u?.username ?? 'the user'} out everywhere: every browser, app and MQTT connection
          using a session of ${self ? 'yours' : 'theirs'} ends at once. API keys keep working.</p>
        ${this.input({ id: 'r-password', name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', errors: e, hint: 'At least 8 characters.' })}
        ${this.input({ id: 'r-password2', name: 'password2', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', errors: e })}
        ${e._form ? html`<p class="form-error" role="alert" tabindex="-1">${e._form}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => this.renderRoot.querySelector<HTMLDialogElement>('#reset-dialog')?.close()}>Cancel</button>
          <button type="submit" ?disabled=${this.busy}>Set the password and sign ${self ? 'me' : 'them'} out</button>
        </div>
      </form>
    </dialog>`;
  }
}
customElements.define('vigil-users', VigilUsers);
