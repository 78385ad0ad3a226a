/** `<vigil-kiosks>`: not built yet (issue #14); a helper replaces this file. */
import { LitElement, html, type TemplateResult } from 'lit';
import { shared } from '../styles.ts';

export class VigilKiosks extends LitElement {
  static override properties = { camera: { type: String }, layoutId: { type: String }, query: { type: String } };
  static override styles = [shared];
  override render(): TemplateResult { return html`<h1>Not built yet</h1>`; }
}
customElements.define('vigil-kiosks', VigilKiosks);
