import { parseBody } from './exposition';

describe('exposition bodies with a NUL character', () => {
  it('refuses the lines that carry one (PostgreSQL stores none) and keeps the others', () => {
    const body = [
      '# HELP gpu_temp Temperature\u0000.',
      '# TYPE gpu_temp gauge',
      'gpu_temp{gpu="0"} 71',
      'gpu_temp{gpu="1\u0000"} 72',
      'gpu_temp{gpu="2"} 73',
      '',
    ].join('\n');
    const parsed = parseBody(body, 'text/plain; version=0.0.4');
    expect(parsed.samples.map((s) => s.labels.gpu)).toEqual(['0', '2']);
    expect(parsed.errors).toEqual([
      { line: 1, message: 'contains a NUL character (U+0000), which cannot be stored' },
      { line: 4, message: 'contains a NUL character (U+0000), which cannot be stored' },
    ]);
    expect(parsed.metadata).toEqual([]);
  });
});
