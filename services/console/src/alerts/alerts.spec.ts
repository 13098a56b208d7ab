import { scopedMatchers, visibleAlert, visibleSilence } from './alerts';

describe('alerts under a tenant scope', () => {
  it('shows a scoped caller only alerts labelled with its tenant', () => {
    expect(visibleAlert({ tenant: null }, { alertname: 'X' })).toBe(true);
    expect(visibleAlert({ tenant: 'acme' }, { tenant: 'acme' })).toBe(true);
    expect(visibleAlert({ tenant: 'acme' }, { tenant: 'globex' })).toBe(false);
    expect(visibleAlert({ tenant: 'acme' }, { alertname: 'GpuHot' })).toBe(false);
  });

  it('pins a scoped silence to the tenant and refuses one that reaches further', () => {
    const m = { name: 'alertname', value: 'HighLatency', isRegex: false, isEqual: true };
    expect(scopedMatchers({ tenant: null }, [m])).toEqual([m]);
    expect(scopedMatchers({ tenant: 'acme' }, [m])).toEqual([
      m,
      { name: 'tenant', value: 'acme', isRegex: false, isEqual: true },
    ]);
    expect(() => scopedMatchers({ tenant: 'acme' }, [m, { ...m, name: 'tenant', value: 'globex' }])).toThrow(
      /tenant="acme"/,
    );
    expect(() =>
      scopedMatchers({ tenant: 'acme' }, [{ ...m, name: 'tenant', value: 'acme|globex', isRegex: true }]),
    ).toThrow(/exactly/);
    expect(() => scopedMatchers({ tenant: 'acme' }, [{ ...m, name: 'tenant', value: 'acme', isEqual: false }])).toThrow(
      /exactly/,
    );
    expect(visibleSilence({ tenant: 'acme' }, [{ name: 'tenant', value: 'acme', isRegex: false, isEqual: true }])).toBe(
      true,
    );
    expect(visibleSilence({ tenant: 'acme' }, [{ name: 'alertname', value: 'x' }])).toBe(false);
  });
});
