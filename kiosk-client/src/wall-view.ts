/**
 * `<vigil-wall>`: renders a bundle's cells at their window-px rectangles — web cells as
 * `<iframe src>`, html cells as `<iframe sandbox srcdoc>` (sandbox without allow-scripts),
 * camera and empty cells as backgrounds — and the players' layer (from
 * {@link WallController}) on top, in the same stacking context: cells are z-index 1, shown
 * players 2, off-screen players 0. A small badge shows `notice` (e.g. hub offline), and a
 * hint `waiting` when there is no layout yet.
 * Theming: `--vigil-bg`, `--vigil-cell-bg`, `--vigil-empty-bg`, `--vigil-muted-color`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { PlacedCell } from './wall-controller.ts';

/** The wall: cells at window-px rectangles plus the players' layer (see the file comment). */
@customElement('vigil-wall')
export class WallView extends LitElement {
  static override styles = css`
    :host { position: fixed; inset: 0; overflow: hidden; background: var(--vigil-bg, #000); }
    .cell { position: absolute; z-index: 1; box-sizing: border-box; margin: 0; border: 0; display: block; }
    .camera { background: var(--vigil-cell-bg, #000); }
    .empty { background: var(--vigil-empty-bg, #050505); }
    iframe.cell { background: #fff; }
    .notice, .waiting { position: absolute; z-index: 3; font: 13px system-ui, sans-serif; color: var(--vigil-muted-color, #888); }
    .notice { right: 8px; bottom: 8px; padding: 2px 8px; border-radius: 4px; background: rgba(0, 0, 0, .7); }
    .waiting { inset: 0; display: flex; align-items: center; justify-content: center; font-size: 2.5vmin; }
  `;

  /** Cells with their rectangles in window px. */
  @property({ attribute: false }) cells: PlacedCell[] = [];
  /** The players' layer element (rendered once; players are placed in it by the controller). */
  @property({ attribute: false }) layer: HTMLElement | null = null;
  /** A small status text in the corner, or empty. */
  @property() notice = '';
  /** Shown centred while there are no cells, or empty. */
  @property() waiting = '';

  override render() {
    return html`
      ${repeat(this.cells, (c) => `${c.type}:${c.name}`, (c) => this.cell(c))}
      ${this.layer ?? nothing}
      ${this.cells.length === 0 && this.waiting ? html`<div class="waiting">${this.waiting}</div>` : nothing}
      ${this.notice ? html`<div class="notice" role="status">${this.notice}</div>` : nothing}
    `;
  }

  private cell(c: PlacedCell) {
    const at = styleMap({ left: `${c.screen.x}px`, top: `${c.screen.y}px`, width: `${c.screen.w}px`, height: `${c.screen.h}px` });
    switch (c.type) {
      case 'web':
        return html`<iframe class="cell web" data-cell=${c.name} style=${at} src=${c.url} referrerpolicy="no-referrer" title=${c.name}></iframe>`;
      case 'html':
        return html`<iframe class="cell html" data-cell=${c.name} style=${at} sandbox="" .srcdoc=${c.html} title=${c.name}></iframe>`;
      case 'camera':
        return html`<div class="cell camera" data-cell=${c.name} style=${at}></div>`;
      default:
        return html`<div class="cell empty" data-cell=${c.name} style=${at}></div>`;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap { 'vigil-wall': WallView }
}
