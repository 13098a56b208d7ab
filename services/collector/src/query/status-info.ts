/**
 * /api/v1/status/buildinfo and /runtimeinfo. Clients read the version to decide which API
 * features they may use (Grafana turns on label-value filtering with match[] from 2.24 on, and
 * treats any `features` entry as a sign of Mimir with a ruler API), so the version is the
 * Prometheus API level this implementation follows and `features` stays empty.
 */
export const PROMETHEUS_API_VERSION = '2.53.0';

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

export function buildInfo(runtimeVersion: string): BuildInfo {
  return {
    version: PROMETHEUS_API_VERSION,
    revision: 'arcwatch-collector',
    branch: 'arcwatch',
    buildUser: 'arcwatch',
    buildDate: '',
    // The field is Go's in Prometheus; here it names the runtime that serves the API.
    goVersion: `node${runtimeVersion.replace(/^v/, '')}`,
  };
}

export interface RuntimeInfo {
  startTime: string;
  CWD: string;
  reloadConfigSuccess: boolean;
  lastConfigTime: string;
  corruptionCount: number;
  goroutineCount: number;
  GOMAXPROCS: number;
  GOMEMLIMIT: number;
  GOGC: string;
  GODEBUG: string;
  storageRetention: string;
}

export interface RuntimeFacts {
  startedAtMs: number;
  cwd: string;
  cpus: number;
  heapLimitBytes: number;
  retention: string;
}

/** Prometheus's field names, filled with what a Node process has in their place. */
export function runtimeInfo(f: RuntimeFacts): RuntimeInfo {
  const started = new Date(f.startedAtMs).toISOString();
  return {
    startTime: started,
    CWD: f.cwd,
    reloadConfigSuccess: true,
    lastConfigTime: started,
    corruptionCount: 0,
    goroutineCount: 1,
    GOMAXPROCS: f.cpus,
    GOMEMLIMIT: f.heapLimitBytes,
    GOGC: '',
    GODEBUG: '',
    storageRetention: f.retention,
  };
}
