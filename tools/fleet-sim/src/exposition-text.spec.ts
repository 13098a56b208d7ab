import { formatLabels, goFixed6, pythonFloat } from './exposition-text';

describe('exposition text as the real exporters write it', () => {
  it('prints Python floats the way prometheus_client does', () => {
    expect(pythonFloat(0)).toBe('0.0');
    expect(pythonFloat(28)).toBe('28.0');
    expect(pythonFloat(0.25)).toBe('0.25');
    expect(pythonFloat(123456.5)).toBe('123456.5');
    // Go-style exponent once the integer part passes six digits (as in the real vLLM scrape).
    expect(pythonFloat(1774011461.2872875)).toBe('1.7740114612872875e+09');
    expect(pythonFloat(12345678)).toBe('1.2345678e+07');
    expect(pythonFloat(1e-5)).toBe('1e-05');
    expect(pythonFloat(Infinity)).toBe('+Inf');
  });

  it('prints dcgm float fields with six decimals and escapes label values', () => {
    expect(goFixed6(16.365)).toBe('16.365000');
    expect(formatLabels({ a: 'x"y\\z\n' })).toBe('{a="x\\"y\\\\z\\n"}');
    expect(formatLabels({ b: '2', a: '1' }, ['a', 'b'])).toBe('{a="1",b="2"}');
  });
});
