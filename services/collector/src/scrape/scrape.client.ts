import { CollectorError } from '../errors';

/** What Prometheus 2.x sends: OpenMetrics preferred, text 0.0.4 accepted. */
const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

export interface FetchedExposition {
  body: string;
  contentType: string | undefined;
}

/** One HTTP GET of a target's metrics, bounded by the scrape timeout. */
export async function fetchExposition(url: string, timeoutMs: number): Promise<FetchedExposition> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Accept: ACCEPT, 'User-Agent': 'arcwatch-collector/0.1', 'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutMs / 1000) },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new CollectorError('SCRAPE_TIMEOUT', `scrape of ${url} timed out after ${timeoutMs} ms`);
    const cause = (e.cause as Error | undefined)?.message;
    throw new CollectorError('SCRAPE_FAILED', `GET ${url}: ${cause ?? e.message}`, { cause: err });
  }
  try {
    if (!res.ok) {
      await res.body?.cancel();
      throw new CollectorError('SCRAPE_FAILED', `GET ${url}: server returned HTTP status ${res.status} ${res.statusText}`);
    }
    return { body: await res.text(), contentType: res.headers.get('content-type') ?? undefined };
  } catch (err) {
    if (err instanceof CollectorError) throw err;
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new CollectorError('SCRAPE_TIMEOUT', `scrape of ${url} timed out after ${timeoutMs} ms`);
    throw new CollectorError('SCRAPE_FAILED', `GET ${url}: ${e.message}`, { cause: err });
  }
}
