/**
 * `<vigil-pairing>`: the screen of a kiosk that is not paired yet — the pairing code, big
 * and readable from across a room (grouped in threes, monospace), the hub's address to
 * enter it at, and the last problem, if any. The raw code is in `data-pairing-code`.
 * Theming: `--vigil-fg`, `--vigil-muted-color`, `--vigil-accent`, `--vigil-error-color`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** Splits a code into groups of three for reading aloud: `ABC DEF`. */
export function groupCode(code: string): string {
  return code.replace(/(.{3})(?=.)/g, '$1 ');
}

/** The pairing screen: code, hub address, last problem. */
@customElement('vigil-pairing')
export class PairingScreen extends LitElement {
  static override styles = css`
    :host { position: fixed; inset: 0; display: flex; flex-direction: column; align-items: center; justify-content: center;
      gap: 3vmin; color: var(--vigil-fg, #eee); font-family: system-ui, sans-serif; text-align: center; }
    h1 { margin: 0; font-size: 3.2vmin; font-weight: 500; color: var(--vigil-muted-color, #999); }
    .code { font: 700 16vmin/1 ui-monospace, 'DejaVu Sans Mono', monospace; letter-spacing: .12em;
      color: var(--vigil-accent, #fff); white-space: nowrap; }
    .how { font-size: 2.8vmin; max-width: 80vw; }
    .hub { font-family: ui-monospace, monospace; color: var(--vigil-accent, #fff); }
    .error { font-size: 2.2vmin; color: var(--vigil-error-color, #e07070); }
  `;

  /** The code to show; empty while the first ticket is on its way. */
  @property() code = '';
  /** The hub's address (the page's origin). */
  @property() hub = '';
  /** The latest problem, or empty. */
  @property() error = '';

  override render() {
    return html`
      <h1>Vigil camera wall — not paired yet</h1>
      <div class="code" data-pairing-code=${this.code} aria-label="pairing code">${this.code ? groupCode(this.code) : '······'}</div>
      <div class="how">An admin enters this code in Vigil at <span class="hub">${this.hub}</span> (Kiosks → Pair).</div>
      ${this.error ? html`<div class="error" role="status">${this.error}</div>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'vigil-pairing': PairingScreen }
}
