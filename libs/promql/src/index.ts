export type { Expr, ValueType, PosRange } from './ast';
export { PromqlError, type PromqlErrorType, type ErrorPosition } from './errors';
export { parsePromql } from './parser';
export { formatPromValue } from './literals';
export { selectorsOf, matchesAll, matchesLabel } from './selectors';
export {
  PromqlEngine,
  formatResult,
  responseJson,
  type PromqlEngineOptions,
  type QueryResult,
  type QueryTimings,
  type RawQueryResult,
  type RawResult,
  type RawSeries,
} from './engine';
export { MemoryQueryable } from './memory-queryable';
export { runTestFile, runTestScript, type TestFileReport, type TestCaseOutcome } from './promqltest/test-runner';
export {
  parseSeriesLine,
  parseSeriesHead,
  parseSeriesValues,
  type SeriesLine,
  type SeriesPoint,
} from './promqltest/series-notation';
