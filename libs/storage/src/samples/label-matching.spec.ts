import { canonicalLabelKey, compileMatchers } from './label-matching';

const gpu = { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0', Hostname: 'gpu-node-001' };

describe('label matching', () => {
  it('supports the four match types with fully anchored regexes', () => {
    expect(compileMatchers([{ name: 'gpu', type: '=', value: '0' }])(gpu)).toBe(true);
    expect(compileMatchers([{ name: 'gpu', type: '!=', value: '0' }])(gpu)).toBe(false);
    expect(compileMatchers([{ name: 'Hostname', type: '=~', value: 'gpu-node-00[0-9]' }])(gpu)).toBe(true);
    expect(compileMatchers([{ name: 'Hostname', type: '=~', value: 'gpu-node' }])(gpu)).toBe(false); // anchored
    expect(compileMatchers([{ name: 'Hostname', type: '!~', value: 'gpu-.*' }])(gpu)).toBe(false);
  });

  it('treats an absent label as the empty string, as Prometheus does', () => {
    expect(compileMatchers([{ name: 'model', type: '=', value: '' }])(gpu)).toBe(true);
    expect(compileMatchers([{ name: 'model', type: '=~', value: '.+' }])(gpu)).toBe(false);
    expect(compileMatchers([{ name: 'model', type: '!=', value: '' }])(gpu)).toBe(false);
  });

  it('rejects an invalid regex with a coded error', () => {
    expect(() => compileMatchers([{ name: 'gpu', type: '=~', value: '(' }])).toThrow(
      expect.objectContaining({ code: 'INVALID_MATCHER' }),
    );
  });

  it('gives label sets a key independent of label order, ignoring empty values', () => {
    expect(canonicalLabelKey({ b: '1', a: '2' })).toBe(canonicalLabelKey({ a: '2', b: '1', c: '' }));
    expect(canonicalLabelKey({ a: '1b' })).not.toBe(canonicalLabelKey({ a: '1', b: '' }));
  });
});
