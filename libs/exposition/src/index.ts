export * from './types';
export { LabelCache } from './label-cache';
export { ExpositionParser, parseExposition } from './exposition-parser';
export { writeExposition } from './writer';
export { detectFormat } from './detect-format';
export { sampleLabels, isValidMetricName, isValidLabelName } from './labels';
