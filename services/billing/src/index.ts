// What tests and tools use from outside the service; the app starts from main.ts.
export { createBillingApp } from './app';
export { loadBillingConfig, billingEnv, type BillingConfig } from './config';
export { BillingError } from './errors';
