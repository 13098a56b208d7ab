export * from './detector';
export { RobustDetector, robustParamsSchema, robustSpread, type RobustParams } from './robust.detector';
export { SeasonalDetector, seasonalParamsSchema, type SeasonalParams } from './seasonal.detector';
export { CusumDetector, cusumParamsSchema, type CusumParams } from './cusum.detector';
export {
  createDetector,
  EnsembleDetector,
  ensembleParamsSchema,
  DETECTOR_PARAM_SCHEMAS,
  type DetectorSpec,
  type EnsembleParams,
} from './registry';
export * from './nab/nab-scorer';
export * from './nab/nab-corpus';
export * from './nab/nab-run';
export * from './nab/nab-detectors';
export * from './flap';
export * from './detector-config.schema';
