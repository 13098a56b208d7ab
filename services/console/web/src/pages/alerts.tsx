import { useState } from 'react';
import { api, fmt, type Unavailable } from '../api';
import { useData, useLive } from '../hooks';
import { Empty, Failure, Part } from '../ui';
import type { PageProps } from '../main';
import { VirtualTable } from '../virtual';

interface Alert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  state: 'firing' | 'silenced' | 'acknowledged';
  acknowledged: { by: string | null; at: string } | null;
}
interface RuleAlert {
  labels: Record<string, string>;
  state: string;
  activeAt?: string;
  value?: string;
}
interface Silence {
  id: string;
  matchers: Array<{ name: string; value: string; isRegex: boolean }>;
  endsAt?: string;
  createdBy?: string;
  comment?: string;
}
interface Alerts {
  alerts: { items: Alert[] } | Unavailable;
  rules: { items: RuleAlert[] } | Unavailable;
  silences: { items: Silence[] } | Unavailable;
}

const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function AlertsPage({ refresh, principal }: PageProps) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState('');
  const d = useLive('alerts', `alerts:${tick}`, () => api<Alerts>('alerts'), refresh);
  const canAct = principal.role !== 'viewer';
  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      setMessage(`${what}: done`);
      setTick((t) => t + 1);
    } catch (e) {
      setMessage(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const ack = (a: Alert) =>
    act(`acknowledge ${a.labels.alertname}`, () =>
      api(`alerts/${encodeURIComponent(a.fingerprint)}/acknowledge`, {
        method: 'POST',
        body: { comment: 'from the console' },
      }),
    );
  const silence = (a: Alert) =>
    act(`silence ${a.labels.alertname}`, () =>
      api('silences', {
        method: 'POST',
        body: {
          matchers: Object.entries(a.labels)
            .filter(([k]) => ['alertname', 'tenant', 'node', 'instance', 'model'].includes(k))
            .map(([name, value]) => ({ name, value })),
          durationMinutes: 120,
          comment: 'silenced from the console',
        },
      }),
    );
  const group = (state: Alert['state'], items: Alert[]) => items.filter((a) => a.state === state);
  return (
    <section>
      <h1>
        Alerts{' '}
        <span className="live" data-live={d.mode}>
          {d.mode === 'live' ? 'live' : d.mode === 'polling' ? 'polling (stream lost)' : d.mode}
        </span>
      </h1>
      {message ? (
        <p className="notice" role="status">
          {message}
        </p>
      ) : null}
      {d.error ? <Failure error={d.error} /> : null}
      {d.data ? (
        <>
          <Part value={d.data.alerts}>
            {(v) =>
              v.items.length === 0 ? (
                <Empty title="No alerts">
                  Nothing is firing. Alerts come from the anomaly service's rules (CONSOLE_ANOMALY_URL) through the
                  notifier (CONSOLE_NOTIFIER_URL).
                </Empty>
              ) : (
                <>
                  {(['firing', 'acknowledged', 'silenced'] as const).map((state) => (
                    <div key={state}>
                      <h2>
                        {state[0].toUpperCase() + state.slice(1)} ({group(state, v.items).length})
                      </h2>
                      <table aria-label={`${state} alerts`}>
                        <thead>
                          <tr>
                            <th>Alert</th>
                            <th>Labels</th>
                            <th>Since</th>
                            <th>Summary</th>
                            <th />
                          </tr>
                        </thead>
                        <tbody>
                          {group(state, v.items).map((a) => (
                            <tr key={a.fingerprint} data-fingerprint={a.fingerprint} data-state={a.state}>
                              <td>{a.labels.alertname}</td>
                              <td className="mono">{labelText(a.labels)}</td>
                              <td>{fmt.time(a.startsAt)}</td>
                              <td>
                                {a.annotations?.summary ?? a.annotations?.description ?? ''}
                                {a.acknowledged
                                  ? ` — acknowledged by ${a.acknowledged.by ?? '?'} ${fmt.time(a.acknowledged.at)}`
                                  : ''}
                              </td>
                              <td>
                                {canAct && state === 'firing' ? (
                                  <button type="button" data-action="ack" onClick={() => void ack(a)}>
                                    Acknowledge
                                  </button>
                                ) : null}
                                {canAct && state !== 'silenced' ? (
                                  <button type="button" data-action="silence" onClick={() => void silence(a)}>
                                    Silence 2h
                                  </button>
                                ) : null}
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  ))}
                </>
              )
            }
          </Part>
          <h2>Rule evaluation (pending and firing)</h2>
          <Part value={d.data.rules}>
            {(v) =>
              v.items.length === 0 ? (
                <Empty title="No rule is pending or firing" />
              ) : (
                <table aria-label="rule alerts">
                  <thead>
                    <tr>
                      <th>Alert</th>
                      <th>State</th>
                      <th>Labels</th>
                      <th>Active since</th>
                      <th>Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.items.map((a, i) => (
                      <tr key={i}>
                        <td>{a.labels.alertname}</td>
                        <td>{a.state}</td>
                        <td className="mono">{labelText(a.labels)}</td>
                        <td>{fmt.time(a.activeAt)}</td>
                        <td>{a.value ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Part>
          <h2>Silences</h2>
          <Part value={d.data.silences}>
            {(v) =>
              v.items.length === 0 ? (
                <Empty title="No active silences" />
              ) : (
                <table aria-label="silences">
                  <thead>
                    <tr>
                      <th>Matchers</th>
                      <th>Until</th>
                      <th>By</th>
                      <th>Comment</th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.items.map((s) => (
                      <tr key={s.id}>
                        <td className="mono">
                          {s.matchers.map((m) => `${m.name}${m.isRegex ? '=~' : '='}"${m.value}"`).join(', ')}
                        </td>
                        <td>{fmt.time(s.endsAt)}</td>
                        <td>{s.createdBy}</td>
                        <td>{s.comment}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Part>
        </>
      ) : null}
      {principal.tenant === null ? <History refresh={refresh} /> : null}
    </section>
  );
}

interface Notification {
  id: number;
  createdAt: string;
  receiver: string;
  channel: string;
  status: string;
  alertStatus: string;
  alerts: number;
  attempts: number;
  lastError: string | null;
  escalation: { policy: string; level: number } | null;
}

/** The notification log, newest first; virtualised (up to 1,000 rows, a few dozen in the page). */
function History({ refresh }: { refresh: string | undefined }) {
  const h = useData('alerts/history', () => api<{ items: Notification[] }>('alerts/history'), refresh ?? '30s');
  const items = h.data?.items ?? [];
  return (
    <>
      <h2>History (notification log)</h2>
      {h.error ? <Failure error={h.error} /> : null}
      {h.data && items.length === 0 ? <Empty title="Nothing sent yet" /> : null}
      {items.length > 0 ? (
        <VirtualTable
          label="notification history"
          maxHeight={420}
          items={items}
          head={
            <tr>
              <th>Sent</th>
              <th>Receiver</th>
              <th>Channel</th>
              <th>Alerts</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Escalation</th>
              <th>Last error</th>
            </tr>
          }
          row={(n, i) => (
            <tr key={n.id} data-notification={n.id} data-index={i}>
              <td>{fmt.time(n.createdAt)}</td>
              <td>{n.receiver}</td>
              <td>{n.channel}</td>
              <td>
                {n.alerts} {n.alertStatus}
              </td>
              <td className={n.status === 'failed' ? 'bad' : n.status === 'delivered' ? 'ok' : ''}>{n.status}</td>
              <td className="num">{n.attempts}</td>
              <td>{n.escalation ? `${n.escalation.policy} L${n.escalation.level}` : ''}</td>
              <td className="mono">{n.lastError ?? ''}</td>
            </tr>
          )}
        />
      ) : null}
    </>
  );
}
