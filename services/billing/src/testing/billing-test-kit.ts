import { TEST_AUTH_ENV } from '@arcwatch/testing';
import { loadBillingConfig, type BillingConfig } from '../config';

/** Integration tests only: the service's test configuration. */
export function testConfig(databaseUrl: string, namespace: string, extra: Record<string, string> = {}): BillingConfig {
  return loadBillingConfig({
    DATABASE_URL: databaseUrl,
    NATS_NAMESPACE: namespace,
    BILLING_PORT: '0',
    LOG_LEVEL: 'silent',
    ...TEST_AUTH_ENV,
    ...extra,
  });
}
