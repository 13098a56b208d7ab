// What tests and benchmarks use from outside the service; the app starts from main.ts.
export { createAnomalyApp } from './app';
export { loadAnomalyConfig, anomalyEnv, type AnomalyConfig } from './config';
export { AnomalyError } from './errors';
export { RulesService } from './rules/rules.service';
