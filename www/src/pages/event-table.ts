/** The events table shared by the dashboard and the Events page. */
import { html, nothing, type TemplateResult } from 'lit';
import { duration, pct, when } from '../format.ts';
import type { EventRecord } from '../types.ts';

/**
 * A table of events (thumbnail, camera, label, score, zones, start, length) with a link to
 * each. `thumbReady` says whether an event's thumbnail may be fetched yet (an event just
 * announced on MQTT may not have its image stored by the hub for a moment).
 */
export function eventTable(events: EventRecord[], caption: string, thumbReady: (e: EventRecord) => boolean = () => true): TemplateResult {
  return html`<table>
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr><th scope="col">Picture</th><th scope="col">Label</th><th scope="col">Camera</th><th scope="col">Score</th>
      <th scope="col">Zones</th><th scope="col">Started</th><th scope="col">Length</th></tr></thead>
    <tbody>${events.map((e) => html`<tr data-event=${e.id}>
      <td>${e.has_snapshot && thumbReady(e) ? html`<img class="thumb" loading="lazy" alt="" src=${`/api/events/${encodeURIComponent(e.id)}/thumbnail.jpg`}>` : html`<span class="muted">none</span>`}</td>
      <td><a href=${`/events/${encodeURIComponent(e.id)}`} class="label">${e.label}${typeof e.sub_label === 'string' && e.sub_label ? ` (${e.sub_label})` : ''}</a>
        ${e.end_time === null ? html` <span class="badge warn">in progress</span>` : nothing}</td>
      <td>${e.camera}</td>
      <td>${pct(e.top_score)}</td>
      <td>${e.zones.length ? e.zones.join(', ') : html`<span class="muted">—</span>`}</td>
      <td><time datetime=${new Date(e.start_time * 1000).toISOString()}>${when(e.start_time)}</time></td>
      <td>${e.end_time === null ? '—' : duration(e.end_time - e.start_time)}</td>
    </tr>`)}</tbody>
  </table>`;
}
