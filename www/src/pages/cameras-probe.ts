/**
 * `<vigil-camera-probe for="f-detect" label="Detect stream URL">`: a "Test connection"
 * button for one stream URL field of the "Add camera" form (www/src/pages/cameras.ts).
 * It sends the field's URL — and the form's `username` / `password` fields — to
 * `POST /api/cameras/probe` (admin; ffprobe on the hub) and shows what the stream is:
 * codec and profile, resolution, frames/s, audio (a `role=status` line); or the hub's
 * error beside the field at fault (`url` → this URL field, `password` → the form's
 * password field: `aria-invalid` and `aria-describedby` point at the message).
 *
 * It renders into the light DOM, inside the form's own shadow tree, so that the URL
 * input can reference its message by id; the form's styles (`shared`) apply to it.
 * The result is cleared when the URL changes or the form is reset.
 */
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import type { ProbedStream } from '../../../components/protocol/stream-probe.ts';
import { ApiError, api } from '../api.ts';

/** One stream of a `POST /api/cameras/probe` answer. */
export type { ProbedStream };

/** `POST /api/cameras/probe` answer. */
export interface StreamProbe { url: string; format: string | null; streams: ProbedStream[] }

/** A stream as one short phrase: `H264 (High) 768×576 at 10 fps`, `audio AAC (LC) 16 kHz mono`. */
export function describeStream(s: ProbedStream): string {
  const codec = `${(s.codec ?? 'unknown codec').toUpperCase()}${s.profile ? ` (${s.profile})` : ''}`;
  if (s.type === 'audio') {
    const rate = s.sample_rate ? ` ${s.sample_rate % 1000 === 0 ? s.sample_rate / 1000 : (s.sample_rate / 1000).toFixed(1)} kHz` : '';
    const ch = s.channels === 1 ? ' mono' : s.channels === 2 ? ' stereo' : s.channels ? ` ${s.channels} channels` : '';
    return `audio ${codec}${rate}${ch}`;
  }
  const size = s.width && s.height ? ` ${s.width}×${s.height}` : '';
  const fps = s.fps ? ` at ${s.fps} fps` : '';
  return `${codec}${size}${fps}`;
}

export class VigilCameraProbe extends LitElement {
  static override properties = {
    for: { type: String }, label: { type: String },
    busy: { state: true }, result: { state: true }, error: { state: true },
  };
  /** Id of the URL input this button tests (in the same shadow tree). */
  declare for: string;
  /** That input's label, for the button's accessible name. */
  declare label: string;
  declare busy: boolean;
  declare result: StreamProbe | null;
  declare error: string;
  /** The input marked invalid by the last error, with the attributes it had before. */
  private marked: { input: HTMLElement; invalid: string | null; describedBy: string | null } | null = null;
  private controller: AbortController | null = null;
  private input: HTMLInputElement | null = null;
  private form: HTMLFormElement | null = null;

  constructor() {
    super();
    this.for = '';
    this.label = '';
    this.busy = false;
    this.result = null;
    this.error = '';
  }

  /** Light DOM: the URL input can point at the message by id. */
  protected override createRenderRoot(): HTMLElement { return this; }

  private readonly onChange = (): void => { this.clear(); };

  override connectedCallback(): void {
    super.connectedCallback();
    void this.updateComplete.then(() => {
      this.input = this.root().getElementById(this.for) as HTMLInputElement | null;
      this.form = this.closest('form');
      this.input?.addEventListener('input', this.onChange);
      this.form?.addEventListener('reset', this.onChange);
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller?.abort();
    this.input?.removeEventListener('input', this.onChange);
    this.form?.removeEventListener('reset', this.onChange);
  }

  private root(): Document | ShadowRoot { return this.getRootNode() as Document | ShadowRoot; }
  /** The field's label without ` URL` and ` (optional)`, lower case: `detect stream` (the button's name must not contain the input's label). */
  private get subject(): string { return this.label.replace(/ \(optional\)$/, '').replace(/ URL$/, '').toLowerCase(); }
  private get statusId(): string { return `${this.for}-probe`; }
  private get errorId(): string { return `${this.for}-probe-error`; }

  private clear(): void {
    this.controller?.abort();
    this.result = null;
    this.error = '';
    this.unmark();
  }

  private unmark(): void {
    const m = this.marked;
    if (!m) return;
    this.marked = null;
    if (m.invalid === null) m.input.removeAttribute('aria-invalid'); else m.input.setAttribute('aria-invalid', m.invalid);
    if (m.describedBy === null) m.input.removeAttribute('aria-describedby'); else m.input.setAttribute('aria-describedby', m.describedBy);
  }

  /** Marks the input of the field at fault invalid and described by the message. */
  private mark(field: string | undefined): void {
    const target = field === 'password' ? this.form?.querySelector<HTMLElement>('[name="password"]') ?? this.input : this.input;
    if (!target) return;
    const describedBy = target.getAttribute('aria-describedby');
    this.marked = { input: target, invalid: target.getAttribute('aria-invalid'), describedBy };
    target.setAttribute('aria-invalid', 'true');
    target.setAttribute('aria-describedby', [describedBy, this.errorId].filter(Boolean).join(' '));
  }

  private async test(): Promise<void> {
    this.clear();
    const url = this.input?.value.trim() ?? '';
    if (!url) {
      this.error = `Enter the ${this.subject} URL first.`;
      this.mark('url');
      this.input?.focus();
      return;
    }
    const field = (name: string): string => (this.form?.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
    const body: Record<string, string> = { url };
    if (field('username')) body.username = field('username');
    if (field('password')) body.password = field('password');
    const controller = new AbortController();
    this.controller = controller;
    this.busy = true;
    try {
      this.result = (await api<StreamProbe>('POST', '/api/cameras/probe', body, controller.signal)).data;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      const e = err instanceof ApiError ? err : null;
      this.error = e ? e.message : String(err);
      this.mark(e?.field);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.busy = false;
      }
    }
  }

  override render(): TemplateResult {
    const r = this.result;
    const video = r?.streams.filter((s) => s.type === 'video') ?? [];
    const audio = r?.streams.filter((s) => s.type === 'audio') ?? [];
    return html`<div class="probe" style="display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center">
      <button type="button" class="secondary" aria-label=${`Test connection (${this.subject})`} aria-controls=${this.statusId}
        ?disabled=${this.busy} @click=${() => this.test()}>${this.busy ? 'Testing…' : 'Test connection'}</button>
      <span role="status" id=${this.statusId} data-probe=${r ? 'ok' : this.busy ? 'busy' : ''}>${this.busy ? 'Connecting to the stream…'
        : r ? html`<span class="badge ok">OK</span> ${video.map(describeStream).join(', ') || 'no video'}${audio.length ? html`; ${audio.map(describeStream).join(', ')}` : nothing}`
        : nothing}</span>
      ${this.error ? html`<span class="field-error" id=${this.errorId} role="alert" style="flex-basis:100%">${this.error}</span>` : nothing}
    </div>`;
  }
}
customElements.define('vigil-camera-probe', VigilCameraProbe);
