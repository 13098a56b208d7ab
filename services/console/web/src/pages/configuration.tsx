import { useState, type FormEvent } from 'react';
import { api, fmt, isUnavailable } from '../api';
import { useData } from '../hooks';
import { Down, Empty, Failure } from '../ui';
import type { PageProps } from '../main';
import { ConfigFiles } from './config-editor';

interface Token {
  id: string;
  name: string;
  hint: string;
  role: string;
  tenant: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface Configuration {
  prices: unknown;
  rules: unknown;
  routing: unknown;
  collector: unknown;
  tokens: Token[] | null;
}

type Row = Record<string, unknown>;
const rowsOf = (v: unknown, key: string): Row[] | undefined => {
  const list = (v as Record<string, unknown> | null)?.[key];
  return Array.isArray(list) ? (list.filter((x) => typeof x === 'object' && x !== null) as Row[]) : undefined;
};
const cell = (v: unknown) =>
  v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** Rows as a table with the given columns; anything else as JSON. */
function Rows({ label, rows, columns }: { label: string; rows: Row[]; columns: string[] }) {
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {columns.map((c) => (
              <td key={c} className={c === 'query' ? 'mono' : ''}>
                {cell(r[c])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Prices({ value }: { value: unknown }) {
  const rows = rowsOf(value, 'items');
  if (!rows)
    return (
      <Block
        title="Prices"
        value={value}
        hint="Billing reads prices from infra/billing/prices.yaml (BILLING_PRICES_FILE)."
      />
    );
  return (
    <div className="block">
      <h2>Prices ({cell((value as Row).source)})</h2>
      {rows.length === 0 ? (
        <Empty title="No prices">Add GPU prices to infra/billing/prices.yaml (BILLING_PRICES_FILE).</Empty>
      ) : (
        <Rows
          label="prices"
          rows={rows}
          columns={[
            'gpuModel',
            'instanceType',
            'provider',
            'region',
            'pricingKind',
            'perInstanceHour',
            'gpusPerInstance',
            'currency',
            'effectiveFrom',
          ]}
        />
      )}
    </div>
  );
}

function Rules({ value }: { value: unknown }) {
  const groups = rowsOf((value as Row | null)?.data, 'groups');
  if (!groups)
    return (
      <Block title="Alert rules" value={value} hint="The anomaly service loads rule files (ANOMALY_RULE_FILES)." />
    );
  const rules = groups.flatMap((g) => (rowsOf(g, 'rules') ?? []).map((r) => ({ group: g.name, file: g.file, ...r })));
  return (
    <div className="block">
      <h2>Alert rules</h2>
      {rules.length === 0 ? (
        <Empty title="No rules loaded">
          Point ANOMALY_RULE_FILES at rule files (e.g. infra/rules/llm-fleet.rules.yml).
        </Empty>
      ) : (
        <Rows label="rules" rows={rules} columns={['group', 'name', 'type', 'state', 'health', 'query', 'duration']} />
      )}
    </div>
  );
}

function Routing({ value }: { value: unknown }) {
  const original = ((value as Row | null)?.config as Row | undefined)?.original;
  if (typeof original !== 'string')
    return (
      <Block
        title="Routing"
        value={value}
        hint="The notifier loads its Alertmanager-style routing file (NOTIFIER_CONFIG)."
      />
    );
  return (
    <div className="block">
      <h2>Routing (notifier configuration)</h2>
      <pre className="json">{original}</pre>
    </div>
  );
}

function Collector({ value }: { value: unknown }) {
  if (isUnavailable(value)) return <Down service={value.unavailable.service} message={value.unavailable.message} />;
  const rt = (value as Row | null)?.data as Row | undefined;
  return (
    <p className="muted">
      Collector: {cell(rt?.storageRetention)} retention; configuration loaded {cell(rt?.lastConfigTime)}{' '}
      (COLLECTOR_CONFIG).
    </p>
  );
}

function Block({ title, value, hint }: { title: string; value: unknown; hint: string }) {
  return (
    <div className="block">
      <h2>{title}</h2>
      {isUnavailable(value) ? (
        <Down service={value.unavailable.service} message={value.unavailable.message} />
      ) : value === null || value === undefined ? (
        <Empty title="Not configured">{hint}</Empty>
      ) : (
        <pre className="json">{JSON.stringify(value, null, 2)}</pre>
      )}
    </div>
  );
}

export function ConfigurationPage({ principal }: PageProps) {
  const [tick, setTick] = useState(0);
  const services = useData(
    `services:${tick}`,
    () => api<{ services: Array<{ service: string; url: string; up: boolean; message: string | null }> }>('services'),
    undefined,
  );
  const scoped = principal.tenant !== null;
  const cfg = useData(
    `configuration:${tick}`,
    () => (scoped ? Promise.resolve(undefined) : api<Configuration>('configuration')),
    undefined,
  );
  const [issued, setIssued] = useState('');
  const issue = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    try {
      const r = await api<{ token: string }>('tokens', {
        method: 'POST',
        body: { name: f.get('name'), role: f.get('role'), tenant: String(f.get('tenant') ?? '') || null },
      });
      setIssued(r.token);
      setTick((t) => t + 1);
    } catch (err) {
      setIssued(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <section>
      <h1>Configuration</h1>
      <h2>Services</h2>
      {services.error ? <Failure error={services.error} /> : null}
      <table aria-label="services">
        <thead>
          <tr>
            <th>Service</th>
            <th>URL</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {(services.data?.services ?? []).map((s) => (
            <tr key={s.service} data-service={s.service} data-up={String(s.up)}>
              <td>{s.service}</td>
              <td className="mono">{s.url}</td>
              <td className={s.up ? 'ok' : 'bad'}>{s.up ? 'ready' : s.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cfg.data ? <Collector value={cfg.data.collector} /> : null}
      {scoped ? (
        <Empty title="Configuration spans every tenant">This token sees tenant {principal.tenant} only.</Empty>
      ) : null}
      {cfg.error ? <Failure error={cfg.error} /> : null}
      {cfg.data ? (
        <>
          <Prices value={cfg.data.prices} />
          <Rules value={cfg.data.rules} />
          <Routing value={cfg.data.routing} />
          <ConfigFiles editable={principal.role === 'admin'} />
          {cfg.data.tokens ? (
            <div className="block">
              <h2>API tokens</h2>
              <table aria-label="tokens">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Token</th>
                    <th>Role</th>
                    <th>Tenant</th>
                    <th>Created</th>
                    <th>Last used</th>
                    <th>Revoked</th>
                  </tr>
                </thead>
                <tbody>
                  {cfg.data.tokens.map((t) => (
                    <tr key={t.id}>
                      <td>{t.name}</td>
                      <td className="mono">{t.hint}…</td>
                      <td>{t.role}</td>
                      <td>{t.tenant ?? 'all'}</td>
                      <td>{fmt.time(t.createdAt)}</td>
                      <td>{fmt.time(t.lastUsedAt)}</td>
                      <td>{t.revokedAt ? fmt.time(t.revokedAt) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <form className="filters" onSubmit={issue}>
                <label>
                  Name
                  <input name="name" required />
                </label>
                <label>
                  Role
                  <select name="role">
                    {['viewer', 'operator', 'admin'].map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </label>
                <label>
                  Tenant (empty: all)
                  <input name="tenant" />
                </label>
                <button type="submit">Issue token</button>
              </form>
              {issued ? <p className="notice mono">Shown once: {issued}</p> : null}
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
