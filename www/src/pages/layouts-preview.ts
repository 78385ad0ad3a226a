/**
 * A small picture of a camera-wall layout: its regions as boxes at their place on the
 * screen, each labelled with what it shows. Used by the layouts list (regions on the 12×12
 * grid) and the kiosks page (a display's compiled bundle, rectangles in px). For screen
 * readers the picture is one `role="img"` with a text summary; the boxes are hidden from them.
 */
import { css, html, type TemplateResult } from 'lit';
import { GRID, cellText, type Bundle, type Region } from './layouts-grid.ts';

/** One box of a preview: position and size as fractions (0–1) of the screen. */
export interface PreviewBox { name: string; x: number; y: number; w: number; h: number; kind: 'camera' | 'web' | 'html' | 'empty'; text: string }

/** Boxes of a layout's regions (grid units → fractions). */
export function regionBoxes(regions: readonly Region[]): PreviewBox[] {
  return regions.map((r) => ({ name: r.name, x: r.x / GRID, y: r.y / GRID, w: r.w / GRID, h: r.h / GRID, kind: r.cell?.type ?? 'empty', text: cellText(r.cell) }));
}

/** Boxes of a compiled bundle (px of the display → fractions). */
export function bundleBoxes(b: Pick<Bundle, 'width' | 'height' | 'cells'>): PreviewBox[] {
  return b.cells.map((c) => ({
    name: c.name, x: c.rect.x / b.width, y: c.rect.y / b.height, w: c.rect.w / b.width, h: c.rect.h / b.height, kind: c.type,
    text: c.type === 'camera' ? `${c.camera ?? ''}${c.stream ? ` (${c.stream})` : ''}` : c.type === 'web' ? 'web page' : c.type === 'html' ? 'HTML' : 'empty',
  }));
}

/** The accessible summary of a preview: `r1: front; r2: empty`. */
export function previewSummary(boxes: readonly PreviewBox[]): string {
  return boxes.map((b) => `${b.name}: ${b.text}`).join('; ');
}

/**
 * The preview. `label` names it for screen readers (e.g. "Layout Front: 4 regions");
 * `aspect` is the screen's aspect ratio as CSS (`16 / 9`).
 */
export function wallPreview(boxes: readonly PreviewBox[], label: string, aspect = '16 / 9'): TemplateResult {
  return html`<div class="wall-preview" role="img" aria-label=${`${label}. ${previewSummary(boxes)}`} style=${`aspect-ratio: ${aspect}`}>
    ${boxes.map((b) => html`<div class="pv-box pv-${b.kind}" aria-hidden="true" data-region=${b.name}
      style=${`left:${(b.x * 100).toFixed(3)}%;top:${(b.y * 100).toFixed(3)}%;width:${(b.w * 100).toFixed(3)}%;height:${(b.h * 100).toFixed(3)}%`}>
      <span class="pv-name">${b.name}</span><span class="pv-text">${b.text}</span></div>`)}
  </div>`;
}

/** Styles of {@link wallPreview} (add to the page's `styles`). */
export const previewStyles = css`
  .wall-preview { position: relative; width: 100%; background: #000; border-radius: 6px; overflow: hidden; border: 1px solid var(--line); }
  .pv-box { position: absolute; box-sizing: border-box; border: 1px solid var(--bg); padding: 2px 4px; overflow: hidden;
    display: flex; flex-direction: column; justify-content: flex-end; font-size: .72rem; line-height: 1.2; background: var(--card); color: var(--fg); }
  .pv-camera { background: color-mix(in srgb, var(--accent) 30%, var(--card)); }
  .pv-web, .pv-html { background: color-mix(in srgb, var(--warn) 22%, var(--card)); }
  .pv-empty { background: var(--card); color: var(--muted); }
  .pv-name { font-weight: 700; }
  .pv-text { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
`;
