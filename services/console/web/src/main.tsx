import { StrictMode, useCallback, useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { ApiError, api, type Principal } from './api';
import { bootSession } from './boot';
import { useUrl } from './hooks';
import { RANGES, REFRESH, viewOf, windowOf, type Params, type View } from './url-state';
import { AlertsPage } from './pages/alerts';
import { ConfigurationPage } from './pages/configuration';
import { CostsPage } from './pages/costs';
import { FleetPage } from './pages/fleet';
import { InstancesPage } from './pages/instances';
import { NodePage } from './pages/node';
import { RequestPage, RequestsPage } from './pages/requests';

export interface PageProps {
  params: Params;
  navigate: (next: Params, replace?: boolean) => void;
  /** Links keep the range and refresh choices. */
  go: (view: View, extra?: Params) => void;
  from: string;
  to: string;
  refresh: string | undefined;
  principal: Principal;
}

const NAV: Array<[View, string]> = [
  ['fleet', 'Fleet'],
  ['instances', 'Model instances'],
  ['requests', 'Requests'],
  ['costs', 'Costs'],
  ['alerts', 'Alerts'],
  ['configuration', 'Configuration'],
];

function Login({ onDone }: { onDone: (p: Principal) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ principal: Principal }>('session', { method: 'POST', body: { token } });
      onDone(r.principal);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <main className="login">
      <h1>ArcWatch</h1>
      <form onSubmit={submit}>
        <label>
          API token
          <input
            name="token"
            type="password"
            autoComplete="off"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <button type="submit">Sign in</button>
        {error ? <p className="error">{error}</p> : null}
        <p className="hint">`npm start` prints a first admin token; admins issue more under Configuration.</p>
      </form>
    </main>
  );
}

function App() {
  const [principal, setPrincipal] = useState<Principal | null | undefined>(undefined);
  const [params, navigate] = useUrl();
  const view = viewOf(params);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    (bootSession as Promise<{ principal: Principal }>).then(
      (r) => setPrincipal(r.principal),
      (e: unknown) => setPrincipal(e instanceof ApiError && e.status === 401 ? null : null),
    );
  }, []);

  const go = useCallback(
    (v: View, extra: Params = {}) => {
      const keep: Params = {};
      if (params.range) keep.range = params.range;
      if (params.refresh) keep.refresh = params.refresh;
      navigate({ ...keep, view: v, ...extra });
      setNow(Date.now());
    },
    [params.range, params.refresh, navigate],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= NAV.length) go(NAV[n - 1][0]);
      if (e.key === 'r') setNow(Date.now());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  // With auto-refresh on, the window slides with the clock.
  useEffect(() => {
    const every = REFRESH[params.refresh ?? 'off'] ?? 0;
    if (every <= 0) return;
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [params.refresh]);

  if (principal === undefined) return <p className="loading">Loading…</p>;
  if (principal === null) return <Login onDone={setPrincipal} />;

  const { from, to } = windowOf(params, now);
  const props: PageProps = { params, navigate, go, from, to, refresh: params.refresh, principal };
  const set = (k: string, v: string) => navigate({ ...params, [k]: v }, true);
  const logout = async () => {
    await api('session', { method: 'DELETE' }).catch(() => undefined);
    setPrincipal(null);
  };

  return (
    <div className="app">
      <header>
        <span className="brand">ArcWatch</span>
        <nav aria-label="pages">
          {NAV.map(([v, label], i) => (
            <a
              key={v}
              href={`/?view=${v}`}
              className={
                view === v || (v === 'requests' && view === 'request') || (v === 'fleet' && view === 'node')
                  ? 'active'
                  : ''
              }
              onClick={(e) => (e.preventDefault(), go(v))}
              title={`key ${i + 1}`}
            >
              {label}
            </a>
          ))}
        </nav>
        <div className="controls">
          <label>
            Range
            <select name="range" value={params.range ?? '1h'} onChange={(e) => set('range', e.target.value)}>
              {Object.keys(RANGES).map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Refresh
            <select name="refresh" value={params.refresh ?? 'off'} onChange={(e) => set('refresh', e.target.value)}>
              {Object.keys(REFRESH).map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <span className="who" data-role={principal.role}>
            {principal.name} · {principal.role}
            {principal.tenant ? ` · tenant ${principal.tenant}` : ''}
          </span>
          <button type="button" onClick={logout}>
            Sign out
          </button>
        </div>
      </header>
      <main key={view}>
        {view === 'fleet' && <FleetPage {...props} />}
        {view === 'node' && <NodePage {...props} />}
        {view === 'instances' && <InstancesPage {...props} />}
        {view === 'requests' && <RequestsPage {...props} />}
        {view === 'request' && <RequestPage {...props} />}
        {view === 'costs' && <CostsPage {...props} />}
        {view === 'alerts' && <AlertsPage {...props} />}
        {view === 'configuration' && <ConfigurationPage {...props} />}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
