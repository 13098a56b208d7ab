import type { LabelMatcher } from '@arcwatch/contracts';
import { PromqlError, parsePromql } from '@arcwatch/promql';
import { CollectorError } from '../errors';

/**
 * The series selectors of `match[]` (`name`, `name{l="v",…}`, `{l=~"v",…}`), read by the same
 * PromQL parser that answers queries, so a selector is accepted or refused — with the same
 * message and position — exactly as `/api/v1/query` would. Like Prometheus, only a plain vector
 * selector is allowed here, and it must have a matcher that does not match the empty string
 * (the parser's own rule).
 */
export function parseSelector(text: string): LabelMatcher[] {
  if (text.trim() === '') throw new CollectorError('QUERY_INVALID', 'empty selector in match[]');
  let expr;
  try {
    expr = parsePromql(text);
  } catch (err) {
    if (err instanceof PromqlError)
      throw new CollectorError('QUERY_INVALID', `invalid parameter "match[]": ${err.message}`);
    throw err;
  }
  if (expr.kind !== 'vectorSelector' || expr.offset !== undefined || expr.at !== undefined) {
    throw new CollectorError(
      'QUERY_INVALID',
      `invalid parameter "match[]": ${JSON.stringify(text)} is not a series selector`,
    );
  }
  return expr.matchers;
}
