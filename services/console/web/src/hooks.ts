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

export type LiveMode = 'connecting' | 'live' | 'polling' | 'off';

/**
 * useData for the pages that refresh themselves: the console's event stream
 * (/api/console/events, server-sent events) pushes `topic` whenever it changes. When the stream
 * drops, the page falls back to polling `fn`, waiting the refresh interval (30 s by default)
 * doubled after each failure up to 5 minutes, and tries the stream again after a poll that
 * worked. With refresh `off` it loads once, like useData.
 */
export function useLive<T>(
  topic: 'fleet' | 'alerts',
  key: string,
  fn: () => Promise<T>,
  refresh: string | undefined,
  /** An answer already on its way (asked at start): shown if it comes before the stream's first event. */
  initial?: Promise<T | undefined>,
): Loaded<T> & { mode: LiveMode } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const initialRef = useRef(initial);

  useEffect(() => {
    setData(undefined);
  }, [key]);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stream: EventSource | undefined;
    let failures = 0;
    let fresh = false;
    const every = REFRESH[refresh ?? '30s'] ?? 0;
    const got = (d: T) => {
      fresh = true;
      setData(d);
      setError(undefined);
      setUpdatedAt(Date.now());
      setLoading(false);
    };
    const poll = (then: 'stream' | 'stop') => {
      fnRef.current().then(
        (d) => {
          if (cancelled) return;
          failures = 0;
          got(d);
          if (then === 'stream') timer = setTimeout(open, nextDelay(every, 0));
        },
        (e: unknown) => {
          if (cancelled) return;
          failures += 1;
          setError(e instanceof Error ? e : new Error(String(e)));
          setLoading(false);
          if (then === 'stream') timer = setTimeout(() => poll('stream'), nextDelay(every, failures));
        },
      );
    };
    function open() {
      if (cancelled) return;
      if (typeof EventSource === 'undefined') {
        setMode('polling');
        poll('stream');
        return;
      }
      const es = new EventSource(`/api/console/events?topics=${topic}`);
      stream = es;
      es.addEventListener(topic, (ev) => {
        if (cancelled) return;
        failures = 0;
        setMode('live');
        got(JSON.parse((ev as MessageEvent<string>).data) as T);
      });
      es.addEventListener('unavailable', (ev) => {
        const m = JSON.parse((ev as MessageEvent<string>).data) as { message?: string };
        if (!cancelled) setError(new Error(m.message ?? `${topic} is unavailable`));
      });
      es.onerror = () => {
        es.close();
        if (cancelled || stream !== es) return;
        stream = undefined;
        failures += 1;
        setMode('polling');
        // Poll now, then keep polling with back-off until a poll works; then try the stream again.
        timer = setTimeout(() => poll('stream'), failures <= 1 ? 0 : nextDelay(every, failures - 1));
      };
    }
    setLoading(true);
    const early = initialRef.current;
    initialRef.current = undefined;
    void early?.then((d) => {
      if (!cancelled && !fresh && d !== undefined) got(d);
    });
    if (every <= 0) {
      setMode('off');
      poll('stop');
    } else {
      setMode('connecting');
      open();
    }
    return () => {
      cancelled = true;
      stream?.close();
      if (timer) clearTimeout(timer);
    };
  }, [key, topic, refresh, tick]);

  return { data, error, loading, reload: () => setTick((t) => t + 1), updatedAt, mode };
}
