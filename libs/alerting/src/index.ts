export * from './state/alert-state.decider';
export * from './state/labels';
export * from './state/rule-group.evaluator';
export * from './template/alert-template';
export { parseTemplate, TemplateError } from './template/go-template.parser';
export { TemplateExecutor, GoStruct } from './template/go-template.exec';
export {
  humanize,
  humanize1024,
  humanizeDuration,
  humanizePercentage,
  humanizeTimestamp,
  QuerySample,
  type TemplateQuery,
} from './template/template-functions';
export { formatG, sprintf } from './template/go-format';
export * from './rule-files';
export {
  runUnitTestFile,
  testRuleFiles,
  type UnitTestFileResult,
  type UnitTestOptions,
} from './promtool/unit-test.runner';
export { formatModelDuration, formatGoDuration } from './promtool/promtool-format';
export { checkRuleFiles, LINT_EXIT_CODE, type CheckRulesOptions } from './promtool/check-rules';
