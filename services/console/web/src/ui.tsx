import { useEffect, type ReactNode } from 'react';
import { ApiError, isUnavailable } from './api';

export { Chart, type Series } from './chart-lazy';

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

const ENV_OF: Record<string, string> = {
  collector: 'CONSOLE_COLLECTOR_URL',
  tracing: 'CONSOLE_TRACING_URL',
  billing: 'CONSOLE_BILLING_URL',
  anomaly: 'CONSOLE_ANOMALY_URL',
  notifier: 'CONSOLE_NOTIFIER_URL',
};

/** A service this part of the page needs is away: say which and where it is configured. */
export function Down({ service, message }: { service: string; message: string }) {
  return (
    <div className="down" role="alert" data-down={service}>
      <strong>{service} is unavailable</strong> — {message}. The console reads it at{' '}
      {ENV_OF[service] ?? 'its configured URL'}; other pages keep working.
    </div>
  );
}

export function Failure({ error }: { error: Error }) {
  if (error instanceof ApiError && error.service) return <Down service={error.service} message={error.message} />;
  return (
    <div className="down" role="alert">
      <strong>{error instanceof ApiError ? error.code : 'Error'}</strong> — {error.message}
    </div>
  );
}

/** Renders `ok` with the data, or the unavailability of the part. */
export function Part<T>({
  value,
  children,
}: {
  value: T | { unavailable: { service: string; message: string } } | undefined;
  children: (v: T) => ReactNode;
}) {
  if (value === undefined) return null;
  if (isUnavailable(value)) return <Down service={value.unavailable.service} message={value.unavailable.message} />;
  return <>{children(value)}</>;
}

/** Arrow keys / j k move the selection in a list; Enter opens it. */
export function useListKeys(count: number, selected: number, select: (i: number) => void, open: (i: number) => void) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName)) return;
      if (count === 0) return;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        select(Math.min(count - 1, selected + 1));
        e.preventDefault();
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        select(Math.max(0, selected - 1));
        e.preventDefault();
      } else if (e.key === 'Enter' && selected >= 0) {
        open(selected);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [count, selected, select, open]);
}
