/**
 * `<vigil-rule-form>`: creates or edits one simple rule (`components/protocol/rules.ts`
 * `simpleRule`): *when* an event in (ONVIF or synthetic, docs/rules.md "Events in")
 * matches camera, topic, property operation and data values, *do* activate a layout on a
 * display, optionally going back after some seconds, with a cooldown.
 *
 * `POST /api/rules` (new) or `PUT /api/rules/:id` (edit). The hub's `{error: {field}}`
 * (`id`, `when.topic`, `do.layout_id`, `when.data.IsMotion` …) is shown at that field.
 * Fires `saved` (detail: the stored rule) and `cancel`.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, api } from '../api.ts';
import { shared } from '../styles.ts';
import { errorText, fieldText } from './users-parts.ts';

/** A simple rule as `/api/rules` stores it (`components/protocol/rules.ts` `SimpleRule`). */
export interface SimpleRule {
  id: string; name: string; enabled: boolean;
  when: { camera?: string; topic: string; property_op?: 'Initialized' | 'Changed' | 'Deleted'; data?: Record<string, string | number | boolean | null> };
  do: { action: 'activate_layout'; display: string; layout_id: string; revert_after_seconds?: number; revert_to: string; cooldown_seconds: number };
}

/** ONVIF topics cameras commonly send (suggestions only; any topic, or a prefix ending in `/` or `*`, works). */
const TOPICS = [
  'tns1:RuleEngine/CellMotionDetector/Motion',
  'tns1:VideoSource/MotionAlarm',
  'tns1:RuleEngine/FieldDetector/ObjectsInside',
  'tns1:RuleEngine/LineDetector/Crossed',
  'tns1:RuleEngine/TamperDetector/Tamper',
  'tns1:Device/Trigger/DigitalInput',
  'tns1:RuleEngine/*',
];

/** The form's fields: element id → the API field it shows errors of. */
const FIELDS: Record<string, string> = {
  'r-id': 'id', 'r-name': 'name', 'r-enabled': 'enabled', 'r-camera': 'when.camera', 'r-topic': 'when.topic', 'r-op': 'when.property_op',
  'r-data': 'when.data', 'r-action': 'do.action', 'r-display': 'do.display', 'r-layout': 'do.layout_id',
  'r-revert-after': 'do.revert_after_seconds', 'r-revert-to': 'do.revert_to', 'r-cooldown': 'do.cooldown_seconds',
};

/** A name as a rule id suggestion: `Porch motion → zoom` → `porch-motion-zoom`. */
export function slugify(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

/**
 * Reads `name = value` lines (or `name: value`) into the rule's `data`: `true`/`false` become
 * booleans, the rest stays text (the engine compares values as strings anyway).
 * @returns the record, or the first bad line (1-based) as an error
 */
export function parseData(text: string): { data?: Record<string, string | boolean>; error?: string } {
  const data: Record<string, string | boolean> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) return { error: `Line ${i + 1}: write name = value.` };
    const v = m[2]!.trim();
    data[m[1]!.trim()] = v === 'true' ? true : v === 'false' ? false : v;
  }
  return Object.keys(data).length ? { data } : {};
}

export class VigilRuleForm extends LitElement {
  static override properties = {
    rule: { attribute: false }, cameras: { attribute: false }, displays: { attribute: false }, layouts: { attribute: false },
    errors: { state: true }, formError: { state: true }, busy: { state: true },
  };
  /** The rule being edited, or null for a new one. */
  declare rule: SimpleRule | null;
  declare cameras: string[];
  declare displays: { id: string; name?: string }[];
  declare layouts: { id: string; name?: string }[];
  declare errors: Record<string, string>;
  declare formError: string;
  declare busy: boolean;

  constructor() {
    super();
    this.rule = null;
    this.cameras = [];
    this.displays = [];
    this.layouts = [];
    this.errors = {};
    this.formError = '';
    this.busy = false;
  }

  static override styles = [shared, css`
    form { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; padding: 16px; max-width: 720px; }
    select, input { max-width: 100%; min-width: 0; }
    #rule-form-h { margin-top: 0; }
    fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 12px; margin: 0; display: grid; gap: 12px; }
    legend { font-weight: 600; padding: 0 4px; }
    .two { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
    .hint { color: var(--muted); font-size: .9rem; font-weight: 400; }
    .check { display: flex; align-items: center; gap: 8px; }
    .check input { min-height: 0; width: 18px; height: 18px; }
    textarea { font: inherit; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; padding: 8px 10px; border-radius: 6px; border: 1px solid var(--line);
      background: var(--input); color: var(--fg); resize: vertical; }
    textarea[aria-invalid="true"] { border-color: var(--bad); }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; }
  `];

  /** Clears errors and fills the form from `rule` (or empties it). */
  reset(): void {
    this.errors = {};
    this.formError = '';
    void this.updateComplete.then(() => {
      const f = this.renderRoot.querySelector('form');
      f?.reset();
      this.fill();
    });
  }

  override firstUpdated(): void { this.fill(); }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('rule') || changed.has('displays') || changed.has('layouts') || changed.has('cameras')) this.fill();
  }

  /** Sets the controls from {@link rule} (selects need their options rendered first). */
  private fill(): void {
    const r = this.rule;
    const set = (id: string, v: string): void => { const el = this.renderRoot.querySelector<HTMLInputElement>(`#${id}`); if (el) el.value = v; };
    set('r-id', r?.id ?? '');
    set('r-name', r?.name ?? '');
    const en = this.renderRoot.querySelector<HTMLInputElement>('#r-enabled');
    if (en) en.checked = r?.enabled ?? true;
    set('r-camera', r?.when.camera ?? '');
    set('r-topic', r?.when.topic ?? '');
    set('r-op', r?.when.property_op ?? '');
    set('r-data', Object.entries(r?.when.data ?? {}).map(([k, v]) => `${k} = ${String(v)}`).join('\n'));
    set('r-display', r?.do.display ?? this.displays[0]?.id ?? '');
    set('r-layout', r?.do.layout_id ?? this.layouts[0]?.id ?? '');
    set('r-revert-after', r?.do.revert_after_seconds === undefined ? '' : String(r.do.revert_after_seconds));
    set('r-revert-to', r?.do.revert_to ?? 'previous');
    set('r-cooldown', String(r?.do.cooldown_seconds ?? 0));
  }

  private val(id: string): string { return this.renderRoot.querySelector<HTMLInputElement>(`#${id}`)?.value.trim() ?? ''; }

  private num(id: string): number | undefined {
    const v = this.val(id);
    return v === '' ? undefined : Number(v);
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.errors = {};
    this.formError = '';
    const name = this.val('r-name');
    const id = this.rule?.id ?? (this.val('r-id') || slugify(name));
    const data = parseData(this.val('r-data'));
    if (data.error) { this.errors = { 'r-data': data.error }; void this.focusError(); return; }
    const when: Record<string, unknown> = { topic: this.val('r-topic') };
    if (this.val('r-camera')) when.camera = this.val('r-camera');
    if (this.val('r-op')) when.property_op = this.val('r-op');
    if (data.data) when.data = data.data;
    const act: Record<string, unknown> = {
      action: this.val('r-action'), display: this.val('r-display'), layout_id: this.val('r-layout'),
      revert_to: this.val('r-revert-to') || 'previous', cooldown_seconds: this.num('r-cooldown') ?? 0,
    };
    const after = this.num('r-revert-after');
    if (after !== undefined) act.revert_after_seconds = after;
    const body = { id, name, enabled: this.renderRoot.querySelector<HTMLInputElement>('#r-enabled')!.checked, when, do: act };
    this.busy = true;
    try {
      const saved = this.rule
        ? (await api<SimpleRule>('PUT', `/api/rules/${encodeURIComponent(this.rule.id)}`, body)).data
        : (await api<SimpleRule>('POST', '/api/rules', body)).data;
      this.dispatchEvent(new CustomEvent<SimpleRule>('saved', { detail: saved, bubbles: true, composed: true }));
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const f = a?.field;
      // The element showing this field: exact, else the closest parent (`when.data.IsMotion` → when.data).
      const hit = f ? Object.entries(FIELDS).filter(([, api]) => f === api || f.startsWith(`${api}.`)).sort((x, y) => y[1].length - x[1].length)[0] : undefined;
      if (a && hit) this.errors = { [hit[0]]: a.code === 'conflict' ? `A rule ${id} exists already: choose another id.` : fieldText(a) };
      else this.formError = errorText(err);
      void this.focusError();
    } finally {
      this.busy = false;
    }
  }

  private async focusError(): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"], #rule-form-error')?.focus();
  }

  /** Props of a control: invalid state and what describes it. */
  private a11y(id: string, hint?: boolean): { invalid: string; described: string | typeof nothing } {
    const err = this.errors[id];
    const d = [hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ');
    return { invalid: err ? 'true' : 'false', described: d || nothing };
  }

  private err(id: string): TemplateResult | typeof nothing {
    return this.errors[id] ? html`<span class="field-error" id=${`${id}-error`}>${this.errors[id]}</span>` : nothing;
  }

  private text(id: string, label: string, hint?: string, extra: { list?: string; readonly?: boolean; type?: string; min?: string } = {}): TemplateResult {
    const a = this.a11y(id, !!hint);
    return html`<div class="field">
      <label for=${id}>${label}</label>
      ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : nothing}
      <input id=${id} type=${extra.type ?? 'text'} autocomplete="off" spellcheck="false" list=${extra.list ?? nothing} min=${extra.min ?? nothing}
        ?readonly=${extra.readonly} aria-invalid=${a.invalid} aria-describedby=${a.described}>
      ${this.err(id)}
    </div>`;
  }

  private select(id: string, label: string, options: { v: string; t: string }[], hint?: string): TemplateResult {
    const a = this.a11y(id, !!hint);
    return html`<div class="field">
      <label for=${id}>${label}</label>
      ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : nothing}
      <select id=${id} aria-invalid=${a.invalid} aria-describedby=${a.described}>${options.map((o) => html`<option value=${o.v}>${o.t}</option>`)}</select>
      ${this.err(id)}
    </div>`;
  }

  override render(): TemplateResult {
    const editing = this.rule !== null;
    const named = (x: { id: string; name?: string }) => ({ v: x.id, t: x.name && x.name !== x.id ? `${x.name} (${x.id})` : x.id });
    const dataA = this.a11y('r-data', true);
    return html`<form id="rule-form" @submit=${(e: SubmitEvent) => this.submit(e)} novalidate aria-labelledby="rule-form-h">
      <h2 id="rule-form-h" tabindex="-1">${editing ? `Edit rule ${this.rule!.name}` : 'New rule'}</h2>
      <div class="two">
        ${this.text('r-name', 'Rule name', 'What it does, e.g. Porch motion → zoom.')}
        ${this.text('r-id', 'Rule id', editing ? 'The id cannot change.' : 'Lower-case letters, digits, _ and -; left empty, made from the name.', { readonly: editing })}
      </div>
      <label class="check"><input type="checkbox" id="r-enabled"> Enabled</label>
      <fieldset>
        <legend>When an event comes in</legend>
        <div class="two">
          ${this.select('r-camera', 'From camera', [{ v: '', t: 'Any camera' }, ...this.cameras.map((c) => ({ v: c, t: c }))])}
          ${this.select('r-op', 'Property operation', [{ v: '', t: 'Any' }, { v: 'Changed', t: 'Changed' }, { v: 'Initialized', t: 'Initialized' }, { v: 'Deleted', t: 'Deleted' }])}
        </div>
        ${this.text('r-topic', 'Event topic', 'The ONVIF topic (tns1:RuleEngine/CellMotionDetector/Motion) or a synthetic one; a prefix ending in / or * matches every topic below it.', { list: 'r-topics' })}
        <datalist id="r-topics">${TOPICS.map((t) => html`<option value=${t}></option>`)}</datalist>
        <div class="field">
          <label for="r-data">Data values (optional)</label>
          <span class="hint" id="r-data-hint">One per line as name = value, e.g. IsMotion = true. Values match when equal as text.</span>
          <textarea id="r-data" rows="2" spellcheck="false" aria-invalid=${dataA.invalid} aria-describedby=${dataA.described}></textarea>
          ${this.err('r-data')}
        </div>
      </fieldset>
      <fieldset>
        <legend>Do</legend>
        ${this.select('r-action', 'Action', [{ v: 'activate_layout', t: 'Activate a layout on a display' }])}
        <div class="two">
          ${this.select('r-display', 'Display', this.displays.map(named), this.displays.length ? undefined : 'No display yet: pair a kiosk on the Kiosks and displays page.')}
          ${this.select('r-layout', 'Layout', this.layouts.map(named), this.layouts.length ? undefined : 'No layout yet: create one on the Wall page.')}
        </div>
        <div class="two">
          ${this.text('r-revert-after', 'Go back after (s)', 'Empty: stay on the layout.', { type: 'number', min: '1' })}
          ${this.select('r-revert-to', 'Go back to', [{ v: 'previous', t: 'The previous layout' }, ...this.layouts.map(named)])}
          ${this.text('r-cooldown', 'Cooldown (s)', 'Matches during this time after firing are ignored.', { type: 'number', min: '0' })}
        </div>
      </fieldset>
      ${this.formError ? html`<p class="form-error" role="alert" id="rule-form-error" tabindex="-1">${this.formError}</p>` : nothing}
      <div class="actions">
        <button type="submit" ?disabled=${this.busy}>${editing ? 'Save rule' : 'Create rule'}</button>
        ${editing ? html`<button type="button" class="secondary" @click=${() => this.dispatchEvent(new Event('cancel', { bubbles: true, composed: true }))}>Cancel</button>` : nothing}
      </div>
    </form>`;
  }
}
customElements.define('vigil-rule-form', VigilRuleForm);
