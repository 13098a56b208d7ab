import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';
import { REFRESH, nextDelay, parseParams, toSearch, type Params } from './url-state';

/** The URL's query string as state; navigation pushes history so Back works. */
export function useUrl(): [Params, (next: Params, replace?: boolean) => void] {
  const [params, setParams] = useState<Params>(() => parseParams(window.location.search));
  useEffect(() => {
    const onPop = () => setParams(parseParams(window.location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: Params, replace = false) => {
    const search = toSearch(next);
    if (replace) window.history.replaceState(null, '', `/${search}`);
    else window.history.pushState(null, '', `/${search}`);
    setParams(parseParams(search));
  }, []);
  return [params, navigate];
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
  updatedAt: number | null;
}

/**
 * Loads `fn` whenever `key` changes and again on the refresh interval; a failure keeps the last
 * data on screen and doubles the wait before the next try (capped), a success resets it.
 */
export function useData<T>(key: string, fn: () => Promise<T>, refresh: string | undefined): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const failures = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    setData(undefined);
    failures.current = 0;
  }, [key]);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLoading(true);
    fnRef
      .current()
      .then(
        (d) => {
          if (cancelled) return;
          failures.current = 0;
          setData(d);
          setError(undefined);
          setUpdatedAt(Date.now());
        },
        (e: unknown) => {
          if (cancelled) return;
          failures.current += 1;
          setError(e instanceof Error ? e : new Error(String(e)));
        },
      )
      .finally(() => {
        if (cancelled) return;
        setLoading(false);
        const delay = nextDelay(REFRESH[refresh ?? 'off'] ?? 0, failures.current);
        if (delay > 0) timer = setTimeout(() => setTick((t) => t + 1), delay);
      });
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, tick, refresh]);

  return { data, error, loading, reload: () => setTick((t) => t + 1), updatedAt };
}
