export * from './types';
export { ExpositionParser, parseExposition } from './exposition-parser';
export { sampleLabels, isValidMetricName, isValidLabelName } from './labels';
