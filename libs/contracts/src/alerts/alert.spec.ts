import { readFileSync } from 'node:fs';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { alertFingerprint, alertSubject } from './alert.v1';

describe('alert fingerprint', () => {
  it('is FNV-1a 64 over sorted names and values with 0xff separators', () => {
    // The empty label set is the FNV offset basis itself.
    expect(alertFingerprint({})).toBe('cbf29ce484222325');
    expect(alertFingerprint({ b: '2', a: '1' })).toBe(alertFingerprint({ a: '1', b: '2' }));
    expect(alertFingerprint({ a: '1', b: '2' })).not.toBe(alertFingerprint({ a: '1', b: '3' }));
    expect(alertFingerprint({ alertname: 'x' })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('puts status, severity and team in the subject', () => {
    expect(alertSubject('firing', { severity: 'P0', team: 'serving' })).toBe('aw.alerts.v1.firing.P0.serving');
    expect(alertSubject('resolved', {})).toBe('aw.alerts.v1.resolved.none.none');
  });
});

describe('alert fingerprint against a real Alertmanager', () => {
  it('matches every fingerprint of a captured /api/v2/alerts answer', () => {
    const alerts = JSON.parse(
      readFileSync(`${FIXTURES_DIR}/alertmanager/captured-api/api-am-alerts.json`, 'utf8'),
    ) as Array<{ fingerprint: string; labels: Record<string, string> }>;
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.map((a) => alertFingerprint(a.labels))).toEqual(alerts.map((a) => a.fingerprint));
  });
});
