/**
 * `<vigil-rules>` (`/automations`, operators read, admins edit): the simple rules of
 * docs/rules.md and the state of the rules engine.
 *
 * - Engine: `GET /api/rules-status` `{deployed, synced_at, error}` (fetched every 10 s —
 *   it has no MQTT topic — and after each change); admins get a link to the Node-RED
 *   editor at `/rules` (a normal page of the hub, opened in a new tab).
 * - Rules: `GET /api/rules` as a table — enabled state (admins switch it: `PUT
 *   /api/rules/:id`), when, do; Edit, Delete (confirmed, `DELETE /api/rules/:id`).
 * - New / edit: `<vigil-rule-form>` (rules-form.ts), with the cameras, displays and
 *   layouts the rule may name.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { api, get, session } from '../api.ts';
import { atLeast } from '../routes.ts';
import { shared } from '../styles.ts';
import { errorText, whenMs, type VigilConfirm } from './users-parts.ts';
import type { SimpleRule, VigilRuleForm } from './rules-form.ts';
import './users-parts.ts';
import './rules-form.ts';

/** `GET /api/rules-status` (`synced_at` Unix ms). */
interface RulesStatus { deployed: boolean; synced_at?: number; error?: string }

const POLL_MS = 10_000;

/** A rule's condition in words. */
function whenText(r: SimpleRule): string {
  const w = r.when;
  const data = Object.entries(w.data ?? {}).map(([k, v]) => `${k} = ${String(v)}`).join(', ');
  return [`${w.topic}`, w.camera ? `from ${w.camera}` : 'from any camera', w.property_op ? `(${w.property_op})` : '', data ? `with ${data}` : ''].filter(Boolean).join(' ');
}

/** A rule's action in words. */
function doText(r: SimpleRule): string {
  const d = r.do;
  const back = d.revert_after_seconds ? `, back to ${d.revert_to === 'previous' ? 'the previous layout' : d.revert_to} after ${d.revert_after_seconds} s` : '';
  return `Show ${d.layout_id} on ${d.display}${back}${d.cooldown_seconds ? `; cooldown ${d.cooldown_seconds} s` : ''}`;
}

export class VigilRules extends LitElement {
  static override properties = {
    rules: { state: true }, status: { state: true }, error: { state: true }, message: { state: true }, editing: { state: true },
    cameras: { state: true }, displays: { state: true }, layouts: { state: true },
  };
  declare rules: SimpleRule[] | null;
  declare status: RulesStatus | null;
  declare error: string;
  declare message: string;
  declare editing: SimpleRule | null;
  declare cameras: string[];
  declare displays: { id: string; name?: string }[];
  declare layouts: { id: string; name?: string }[];
  private timer?: ReturnType<typeof setInterval>;
  private readonly abort = new AbortController();

  constructor() {
    super();
    this.rules = null;
    this.status = null;
    this.error = '';
    this.message = '';
    this.editing = null;
    this.cameras = [];
    this.displays = [];
    this.layouts = [];
  }

  static override styles = [shared, css`
    .engine { padding: 12px 16px; display: flex; gap: 12px 24px; flex-wrap: wrap; align-items: center; margin-bottom: 16px; }
    .engine p, .engine h2 { margin: 0; }
    .list { overflow-x: auto; padding: 4px 8px; }
    .actions { display: flex; gap: 8px; flex-wrap: nowrap; }
    .switch { display: flex; align-items: center; gap: 8px; font-weight: 400; }
    .switch input { min-height: 0; width: 18px; height: 18px; }
    .card.form { margin-top: 16px; }
    td.small { font-size: .9rem; }
    @media (max-width: 720px) {
      thead { display: none; }
      tr { display: grid; border-bottom: 1px solid var(--line); padding: 8px 0; }
      td, th[scope="row"] { border: 0; padding: 2px 8px; }
      td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
      .actions { flex-wrap: wrap; }
    }
  `];

  private get isAdmin(): boolean { return atLeast(session.user?.role, 'admin'); }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    void this.loadStatus();
    if (this.isAdmin) void this.loadTargets();
    this.timer = setInterval(() => { if (document.visibilityState === 'visible') void this.loadStatus(); }, POLL_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
    this.abort.abort();
  }

  private async load(): Promise<void> {
    try {
      this.rules = await get<SimpleRule[]>('/api/rules', this.abort.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = errorText(err);
    }
  }

  private async loadStatus(): Promise<void> {
    try {
      this.status = await get<RulesStatus>('/api/rules-status', this.abort.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.status = { deployed: false, error: errorText(err) };
    }
  }

  /** What a rule may name: cameras, displays and layouts. */
  private async loadTargets(): Promise<void> {
    const s = this.abort.signal;
    const [cams, displays, layouts] = await Promise.all([
      get<{ name: string }[]>('/api/cameras', s).catch(() => []),
      get<{ id: string; name?: string }[]>('/api/displays', s).catch(() => []),
      get<{ id: string; name?: string }[]>('/api/layouts', s).catch(() => []),
    ]);
    this.cameras = cams.map((c) => c.name).sort();
    this.displays = displays;
    this.layouts = layouts;
  }

  private async focusOn(sel: string): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(sel)?.focus();
  }

  private edit(r: SimpleRule): void {
    this.editing = r;
    this.message = '';
    void this.updateComplete.then(() => {
      const f = this.renderRoot.querySelector<VigilRuleForm>('vigil-rule-form');
      f?.reset();
      void f?.updateComplete.then(() => {
        f.scrollIntoView({ block: 'start' });
        f.renderRoot.querySelector<HTMLElement>('#r-name')?.focus();
      });
    });
  }

  private async saved(r: SimpleRule): Promise<void> {
    const was = this.editing;
    this.editing = null;
    this.message = `Rule ${r.name} ${was ? 'saved' : 'created'}.`;
    this.renderRoot.querySelector<VigilRuleForm>('vigil-rule-form')?.reset();
    await Promise.all([this.load(), this.loadStatus()]);
    void this.focusOn(`tr[data-rule="${CSS.escape(r.id)}"] .edit`);
  }

  private cancelEdit(): void {
    const id = this.editing?.id;
    this.editing = null;
    this.renderRoot.querySelector<VigilRuleForm>('vigil-rule-form')?.reset();
    if (id) void this.focusOn(`tr[data-rule="${CSS.escape(id)}"] .edit`);
  }

  private async setEnabled(r: SimpleRule, enabled: boolean): Promise<void> {
    this.error = '';
    try {
      await api('PUT', `/api/rules/${encodeURIComponent(r.id)}`, { ...r, enabled });
      this.message = `Rule ${r.name} ${enabled ? 'enabled' : 'disabled'}.`;
    } catch (err) {
      this.error = `Could not change ${r.name}: ${errorText(err)}`;
    }
    await Promise.all([this.load(), this.loadStatus()]);
  }

  private async askDelete(r: SimpleRule): Promise<void> {
    const ok = await this.renderRoot.querySelector<VigilConfirm>('vigil-confirm')!.ask({
      title: `Delete the rule ${r.name}?`,
      text: 'It is removed from the rules engine at once. This cannot be undone.',
      confirm: `Delete ${r.name}`,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/rules/${encodeURIComponent(r.id)}`);
      this.message = `Rule ${r.name} deleted.`;
      if (this.editing?.id === r.id) this.cancelEdit();
    } catch (err) {
      this.error = `Could not delete ${r.name}: ${errorText(err)}`;
    }
    await Promise.all([this.load(), this.loadStatus()]);
    void this.focusOn('h1');
  }

  override render(): TemplateResult {
    return html`
      <h1 tabindex="-1">Rules</h1>
      ${this.engine()}
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      <p role="status" id="rules-message">${this.message}</p>
      <section aria-labelledby="list-h">
        <h2 id="list-h">Simple rules</h2>
        <p class="muted">When an event from a camera (ONVIF) or a synthetic one (<code>POST /api/events/trigger</code>) matches, show a layout on a display.
          They run in the rules engine as the <q>Simple rules</q> flow${this.isAdmin ? '; build anything else in the Node-RED editor' : ''}.</p>
        ${this.rules === null ? html`<p aria-busy="true">Loading rules…</p>` : this.rules.length === 0 ? html`<p class="muted" id="no-rules">No rule yet.</p>` : this.table(this.rules)}
      </section>
      ${this.isAdmin ? html`<div class="card form"><vigil-rule-form .rule=${this.editing} .cameras=${this.cameras} .displays=${this.displays} .layouts=${this.layouts}
        @saved=${(e: CustomEvent<SimpleRule>) => this.saved(e.detail)} @cancel=${() => this.cancelEdit()}></vigil-rule-form></div>` : nothing}
      <vigil-confirm></vigil-confirm>`;
  }

  private engine(): TemplateResult {
    const s = this.status;
    const state = s === null ? 'unknown' : s.deployed ? 'deployed' : 'not deployed';
    return html`<section class="card engine" aria-labelledby="engine-h">
      <h2 id="engine-h">Rules engine</h2>
      <p>Simple rules: <span class="badge ${s?.deployed ? 'ok' : s ? 'bad' : 'idle'}" id="engine-state">${state}</span></p>
      ${s?.synced_at ? html`<p class="muted">Last deployed ${whenMs(s.synced_at)}</p>` : nothing}
      ${s?.error ? html`<p class="form-error" id="engine-error">${s.error}</p>` : nothing}
      ${this.isAdmin ? html`<a href="/rules" data-external target="_blank" rel="noopener">Open the Node-RED editor<span class="visually-hidden"> (opens in a new tab)</span></a>` : nothing}
    </section>`;
  }

  private table(rules: SimpleRule[]): TemplateResult {
    const admin = this.isAdmin;
    return html`<div class="card list"><table id="rule-list">
      <caption class="visually-hidden">Simple rules</caption>
      <thead><tr><th scope="col">Rule</th><th scope="col">Enabled</th><th scope="col">When</th><th scope="col">Do</th>
        ${admin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : nothing}</tr></thead>
      <tbody>${rules.map((r) => html`<tr data-rule=${r.id}>
        <th scope="row">${r.name} <span class="muted">(${r.id})</span></th>
        <td data-label="Enabled">${admin
          ? html`<span class="switch"><input type="checkbox" class="enabled" aria-label=${`${r.name} enabled`} .checked=${r.enabled}
              @change=${(e: Event) => this.setEnabled(r, (e.target as HTMLInputElement).checked)}><span aria-hidden="true">${r.enabled ? 'on' : 'off'}</span></span>`
          : html`<span class="badge ${r.enabled ? 'ok' : 'idle'}">${r.enabled ? 'on' : 'off'}</span>`}</td>
        <td data-label="When" class="small">${whenText(r)}</td>
        <td data-label="Do" class="small">${doText(r)}</td>
        ${admin ? html`<td><div class="actions">
          <button class="secondary edit" @click=${() => this.edit(r)} aria-label=${`Edit ${r.name}`}>Edit</button>
          <button class="secondary" @click=${() => this.askDelete(r)} aria-label=${`Delete ${r.name}`}>Delete</button>
        </div></td>` : nothing}
      </tr>`)}</tbody>
    </table></div>`;
  }
}
customElements.define('vigil-rules', VigilRules);
