// History-API router: paths such as /album/al-3 (the server answers every client route with
// index.html). Links are ordinary <a href> elements; clicks on them are routed here.

const routes = [];
let onRoute = () => {};

/** Registers `pattern` ('/album/:id') → view(params, query). */
export function route(pattern, view) {
  const keys = [];
  const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return '([^/]+)'; })}/?$`);
  routes.push({ regex, keys, view });
}

export function start(render) {
  onRoute = render;
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented || e.button !== 0) return;
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/rest/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener('popstate', () => resolve());
  resolve();
}

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search) return resolve();
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  resolve();
}

export function resolve() {
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
      return onRoute(r.view, params, query);
    }
  }
  return onRoute(null, {}, query);
}
