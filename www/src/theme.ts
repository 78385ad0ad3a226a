/**
 * Dark and light themes: the system's `prefers-color-scheme` unless the user picked one
 * with the header's toggle, remembered in localStorage (`vigil.theme`). The colours are
 * CSS custom properties in index.html, switched by `data-theme` on `<html>`.
 */
export type Theme = 'dark' | 'light';
const KEY = 'vigil.theme';

/** The theme in force: the stored choice, else the system's. */
export function currentTheme(): Theme {
  const stored = storedTheme();
  if (stored) return stored;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function storedTheme(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'dark' || v === 'light' ? v : null;
  } catch { return null; }
}

/** Applies the stored choice (if any) to `<html>`; call once at start. */
export function applyStoredTheme(): void {
  const t = storedTheme();
  if (t) document.documentElement.dataset.theme = t;
}

/** Switches to `theme` and remembers it. */
export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try { localStorage.setItem(KEY, theme); } catch { /* private mode: this page only */ }
}
