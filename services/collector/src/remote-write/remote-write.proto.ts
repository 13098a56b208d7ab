import protobuf from 'protobufjs';

/**
 * The part of prometheus/prompb (remote.proto, types.proto) that remote_write 1.0 sends:
 * WriteRequest → TimeSeries → Label / Sample / Exemplar, plus metadata; native histograms
 * are skipped. Field numbers as upstream.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 },
            metadata: { rule: 'repeated', type: 'MetricMetadata', id: 3 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        MetricMetadata: {
          fields: {
            type: { type: 'int32', id: 1 },
            metric_family_name: { type: 'string', id: 2 },
            help: { type: 'string', id: 4 },
            unit: { type: 'string', id: 5 },
          },
        },
      },
    },
  },
});

/** Metadata is decoded by reflection; series and samples by hand (see remote-write.decoder.ts). */
export const MetricMetadataType = root.lookupType('prometheus.MetricMetadata');

/** Prometheus's MetricMetadata.MetricType numbering. */
export const METADATA_TYPES = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
] as const;
