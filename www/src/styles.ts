/** Styles shared by the app's components (colours come from the theme's custom properties). */
import { css } from 'lit';

export const shared = css`
  :host { display: block; color: var(--fg); }
  *, *::before, *::after { box-sizing: border-box; }
  h1 { font-size: 1.5rem; margin: 0 0 16px; }
  h2 { font-size: 1.15rem; margin: 24px 0 10px; }
  h3 { font-size: 1rem; margin: 0; }
  a { color: var(--accent); }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  .muted { color: var(--muted); }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
  .field { display: grid; gap: 4px; }
  label { font-weight: 600; }
  input, select, button { font: inherit; color: var(--fg); }
  input, select { padding: 8px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--input); min-height: 40px; }
  input[aria-invalid="true"], select[aria-invalid="true"] { border-color: var(--bad); }
  button, .button { display: inline-flex; align-items: center; justify-content: center; gap: 6px; min-height: 40px; padding: 8px 14px;
    border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none; font-weight: 600; }
  button.secondary, .button.secondary { background: transparent; color: var(--fg); border-color: var(--line); }
  button[disabled] { opacity: .6; cursor: progress; }
  .field-error { color: var(--bad); font-weight: 400; font-size: .9rem; }
  .form-error { color: var(--bad); margin: 0; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; }
  .badge.ok { color: var(--ok); } .badge.bad { color: var(--bad); } .badge.warn { color: var(--warn); } .badge.idle { color: var(--muted); }
  .visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
  th { font-size: .85rem; color: var(--muted); font-weight: 600; }
  img.thumb { height: 48px; width: 64px; object-fit: cover; border-radius: 4px; background: #000; display: block; }
`;
