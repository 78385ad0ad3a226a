/**
 * A small History API router. Paths are matched against patterns with `:param` segments
 * (`/events/:id`); the query string is the page's state (filters), so deep links and the
 * back button work (the hub answers every unknown non-API path with index.html).
 * Same-origin `<a href>` clicks inside the app (shadow DOM included) navigate without a
 * reload; `navigate()` does it from code.
 */

/** The current route: matched pattern name, path params and query. */
export interface Route { name: string; params: Record<string, string>; query: URLSearchParams; path: string }

/** A route table entry: `name` and a pattern like `/events/:id`. */
export interface RouteDef { name: string; pattern: string }

/** Matches `path` against `routes` in order. @returns the route, or name `not-found` */
export function match(routes: RouteDef[], path: string, search = ''): Route {
  const parts = path.split('/').filter(Boolean);
  for (const r of routes) {
    const pat = r.pattern.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length && ok; i++) {
      const p = pat[i]!;
      let seg: string;
      try { seg = decodeURIComponent(parts[i]!); } catch { ok = false; break; }
      if (p.startsWith(':')) params[p.slice(1)] = seg;
      else ok = p === seg;
    }
    if (ok) return { name: r.name, params, query: new URLSearchParams(search), path };
  }
  return { name: 'not-found', params: {}, query: new URLSearchParams(search), path };
}

/** Fires `vigil-navigate` on window after every navigation (push, replace or back/forward). */
export const NAVIGATE = 'vigil-navigate';

/** Goes to `url` (path and query) without reloading; `replace` keeps the history length. */
export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATE));
}

/**
 * Starts listening: back/forward, and clicks on same-origin links (not with a modifier
 * key, a target or `download`). @returns a function that stops listening
 */
export function startRouter(root: EventTarget): () => void {
  const onPop = (): void => { window.dispatchEvent(new Event(NAVIGATE)); };
  const onClick = (ev: Event): void => {
    const e = ev as MouseEvent;
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || !a.href || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || a.dataset.external !== undefined) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  };
  window.addEventListener('popstate', onPop);
  root.addEventListener('click', onClick);
  return () => { window.removeEventListener('popstate', onPop); root.removeEventListener('click', onClick); };
}
