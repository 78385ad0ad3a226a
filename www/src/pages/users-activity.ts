/**
 * `<vigil-activity-log>`: the activity log (`GET /api/activity?limit&offset&actor&action`,
 * admins; newest first, `X-Total-Count`) as a section of the Users page: who did what,
 * when, from where, and the outcome, 20 entries a page with Newer / Older, filters by
 * actor and action. The log has no MQTT topic: the first page is fetched again every
 * 10 s while shown (docs/security.md, "Activity log").
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { api } from '../api.ts';
import { shared } from '../styles.ts';
import { errorText, whenMs } from './users-parts.ts';

/** `GET /api/activity` item (`ts` Unix ms; `details` redacted by the hub). */
export interface ActivityRow { id: number; ts: number; actor: string; action: string; target: string | null; ip: string | null; outcome: string; details: unknown }

const PAGE = 20;
const POLL_MS = 10_000;

export class VigilActivityLog extends LitElement {
  static override properties = { rows: { state: true }, total: { state: true }, offset: { state: true }, error: { state: true }, actor: { state: true }, action: { state: true } };
  declare rows: ActivityRow[] | null;
  declare total: number;
  declare offset: number;
  declare error: string;
  declare actor: string;
  declare action: string;
  private timer?: ReturnType<typeof setInterval>;
  private abort = new AbortController();

  constructor() {
    super();
    this.rows = null;
    this.total = 0;
    this.offset = 0;
    this.error = '';
    this.actor = '';
    this.action = '';
  }

  static override styles = [shared, css`
    .list { overflow-x: auto; padding: 4px 8px; }
    form { display: flex; gap: 12px; flex-wrap: wrap; align-items: end; margin-bottom: 12px; }
    .pager { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 8px; }
    code { font-size: .8rem; word-break: break-word; }
    td { font-size: .9rem; }
    @media (max-width: 720px) {
      thead { display: none; }
      tr { display: grid; border-bottom: 1px solid var(--line); padding: 6px 0; }
      td { border: 0; padding: 1px 8px; }
      td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
      td:empty { display: none; }
    }
  `];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.timer = setInterval(() => { if (this.offset === 0 && document.visibilityState === 'visible') void this.load(); }, POLL_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
    this.abort.abort();
  }

  private async load(): Promise<void> {
    this.abort.abort();
    this.abort = new AbortController();
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(this.offset) });
    if (this.actor) q.set('actor', this.actor);
    if (this.action) q.set('action', this.action);
    try {
      const r = await api<ActivityRow[]>('GET', `/api/activity?${q}`, undefined, this.abort.signal);
      this.rows = r.data;
      this.total = Number(r.headers.get('x-total-count') ?? r.data.length);
      this.error = '';
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = errorText(err);
    }
  }

  private filter(e: SubmitEvent): void {
    e.preventDefault();
    const f = e.target as HTMLFormElement;
    this.actor = (f.elements.namedItem('actor') as HTMLInputElement).value.trim();
    this.action = (f.elements.namedItem('action') as HTMLInputElement).value.trim();
    this.offset = 0;
    void this.load();
  }

  private go(offset: number): void {
    this.offset = Math.max(0, offset);
    void this.load();
  }

  override render(): TemplateResult {
    const rows = this.rows;
    const last = Math.min(this.total, this.offset + PAGE);
    return html`<section aria-labelledby="act-h">
      <h2 id="act-h">Activity log</h2>
      <form @submit=${(e: SubmitEvent) => this.filter(e)} aria-label="Filter the activity log">
        <div class="field"><label for="act-actor">Who</label><input id="act-actor" name="actor" autocomplete="off" placeholder="e.g. admin"></div>
        <div class="field"><label for="act-action">Action</label><input id="act-action" name="action" autocomplete="off" placeholder="e.g. auth.login"></div>
        <button type="submit" class="secondary">Filter</button>
      </form>
      ${this.error ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${rows === null ? html`<p aria-busy="true">Loading the activity log…</p>` : rows.length === 0 ? html`<p class="muted">Nothing logged${this.actor || this.action ? ' that matches' : ''}.</p>` : html`
        <div class="card list" tabindex="0" role="region" aria-label="Activity entries (scrolls sideways on narrow screens)"><table id="activity">
          <caption class="visually-hidden">Activity, newest first</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th>
            <th scope="col">From</th><th scope="col">Outcome</th><th scope="col">Details</th></tr></thead>
          <tbody>${rows.map((r) => html`<tr data-action=${r.action}>
            <td data-label="When">${whenMs(r.ts)}</td><td data-label="Who">${r.actor}</td><td data-label="Action">${r.action}</td>
            <td data-label="Target">${r.target ?? ''}</td><td data-label="From">${r.ip ?? ''}</td>
            <td data-label="Outcome"><span class="badge ${r.outcome === 'ok' ? 'ok' : r.outcome === 'denied' ? 'bad' : 'warn'}">${r.outcome}</span></td>
            <td data-label="Details">${r.details && typeof r.details === 'object' && Object.keys(r.details).length ? html`<code>${JSON.stringify(r.details)}</code>` : ''}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <nav class="pager" aria-label="Activity log pages">
        <button class="secondary" ?disabled=${this.offset === 0} @click=${() => this.go(this.offset - PAGE)}>Newer</button>
        <span id="act-range">${this.total ? `${this.offset + 1}–${last} of ${this.total}` : ''}</span>
        <button class="secondary" ?disabled=${last >= this.total} @click=${() => this.go(this.offset + PAGE)}>Older</button>
        <button class="secondary" @click=${() => this.load()}>Refresh</button>
      </nav>
    </section>`;
  }
}
customElements.define('vigil-activity-log', VigilActivityLog);
