import { blankComments, parsePromql } from './parser';
import { PromqlError } from './errors';

describe('comments in queries', () => {
  it('ignores a comment after, before and inside an expression', () => {
    const plain = parsePromql('sum by (job) (rate(http_requests_total[5m]))');
    for (const q of [
      'sum by (job) (rate(http_requests_total[5m])) # per job',
      '# requests per second, per job\nsum by (job) (rate(http_requests_total[5m]))',
      'sum by (job) (\n  rate(http_requests_total[5m]) # the rate\n)',
    ]) {
      const e = parsePromql(q);
      expect(e.kind).toBe(plain.kind);
      expect(JSON.stringify(e, (k, v) => (k === 'pos' ? undefined : v))).toBe(
        JSON.stringify(plain, (k, v) => (k === 'pos' ? undefined : v)),
      );
    }
  });

  it('leaves a # inside a string alone', () => {
    expect(blankComments('x{a="#1"} # note')).toBe('x{a="#1"}       ');
    expect(blankComments("x{a='\\'#'}")).toBe("x{a='\\'#'}");
    const e = parsePromql('x{a="#1"}');
    expect(e.kind === 'vectorSelector' && e.matchers.find((m) => m.name === 'a')?.value).toBe('#1');
  });

  it('keeps error positions pointing into the query as written', () => {
    try {
      parsePromql('# c\nsum(x');
      throw new Error('expected a parse error');
    } catch (err) {
      expect(err).toBeInstanceOf(PromqlError);
      expect((err as PromqlError).message).toMatch(/^2:\d+: parse error: unclosed left parenthesis/);
    }
  });
});
