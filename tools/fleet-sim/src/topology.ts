/**
 * The fixed shape of the simulated fleet: nodes, their GPUs (with stable UUIDs from the seed),
 * the model each node's vLLM instance serves, and the loopback ports it answers on. Pairs of nodes
 * serve the same model behind the gateway, so when one dies its sibling takes its traffic.
 */
import { type Random, hex, seededRandom } from './random';

export interface ServedModel {
  name: string;
  /** Weights revision, as a gateway reports it. */
  version: string;
  maxModelLen: number;
  maxNumSeqs: number;
  /** KV-cache size in tokens (num_gpu_blocks × block_size). */
  kvCapacityTokens: number;
  prefillTokensPerSec: number;
  /** Engine step time: base + perSeq × running requests. */
  decodeBaseMs: number;
  decodePerSeqMs: number;
  /** Requests per second one instance receives at load 1.0. */
  nominalRps: number;
  /** Tensor-parallel all-reduce traffic per processed token, per GPU. */
  nvlinkBytesPerToken: number;
}

export const MODELS: readonly ServedModel[] = [
  {
    name: 'meta-llama/Llama-3.1-70B-Instruct',
    version: '1605565b47bb9346c5515c34102e054115b4f98b',
    maxModelLen: 32768,
    maxNumSeqs: 128,
    kvCapacityTokens: 160_000,
    prefillTokensPerSec: 14_000,
    decodeBaseMs: 22,
    decodePerSeqMs: 0.2,
    nominalRps: 5,
    nvlinkBytesPerToken: 2_600_000,
  },
  {
    name: 'Qwen/Qwen2.5-72B-Instruct',
    version: 'd3d951150c1e5848237cd6a7ad11df4836aee842',
    maxModelLen: 32768,
    maxNumSeqs: 128,
    kvCapacityTokens: 150_000,
    prefillTokensPerSec: 13_000,
    decodeBaseMs: 23,
    decodePerSeqMs: 0.21,
    nominalRps: 4.5,
    nvlinkBytesPerToken: 2_600_000,
  },
  {
    name: 'meta-llama/Llama-3.1-8B-Instruct',
    version: '0e9e39f249a16976918f6564b8830bc894c89659',
    maxModelLen: 16384,
    maxNumSeqs: 256,
    kvCapacityTokens: 900_000,
    prefillTokensPerSec: 60_000,
    decodeBaseMs: 7,
    decodePerSeqMs: 0.05,
    nominalRps: 18,
    nvlinkBytesPerToken: 520_000,
  },
  {
    name: 'mistralai/Mixtral-8x7B-Instruct-v0.1',
    version: '41bd4c9e7e4fb318ca40e721131d4933966c2cc1',
    maxModelLen: 32768,
    maxNumSeqs: 192,
    kvCapacityTokens: 400_000,
    prefillTokensPerSec: 30_000,
    decodeBaseMs: 12,
    decodePerSeqMs: 0.09,
    nominalRps: 9,
    nvlinkBytesPerToken: 1_100_000,
  },
];

export const GPU_MODEL_NAME = 'NVIDIA H100 80GB HBM3';
export const DRIVER_VERSION = '550.90.07';
export const GPU_MEMORY_MIB = 81559;

export interface GpuSpec {
  index: number;
  uuid: string;
  pciBusId: string;
}

export interface NodeSpec {
  index: number;
  hostname: string;
  /** Index of the model group (pairs of nodes share one). */
  group: number;
  model: ServedModel;
  gpus: readonly GpuSpec[];
  dcgmPort: number;
  vllmPort: number;
  /** host:port of the vLLM endpoint, as a scraper labels it and the gateway reports it. */
  vllmInstance: string;
  dcgmInstance: string;
}

export interface TopologyOptions {
  nodes: number;
  gpusPerNode: number;
  seed: number;
  basePort: number;
  /** Host that scrapers and the gateway use to reach the endpoints. */
  advertiseHost: string;
}

/** H100 SXM boards enumerate at these PCI buses on an 8-GPU HGX baseboard. */
const PCI_BUSES = ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'];

export function buildTopology(opts: TopologyOptions): NodeSpec[] {
  const r: Random = seededRandom(opts.seed ^ 0x5eed);
  const nodes: NodeSpec[] = [];
  for (let n = 0; n < opts.nodes; n++) {
    const group = Math.floor(n / 2);
    const model = MODELS[group % MODELS.length];
    const gpus: GpuSpec[] = [];
    for (let g = 0; g < opts.gpusPerNode; g++) {
      gpus.push({
        index: g,
        uuid: `GPU-${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`,
        pciBusId: `00000000:${PCI_BUSES[g % PCI_BUSES.length]}:00.0`,
      });
    }
    // Ports interleave so that any node count fits above the base port without collisions.
    const dcgmPort = opts.basePort + 2 * n;
    const vllmPort = dcgmPort + 1;
    nodes.push({
      index: n,
      hostname: `gpu-node-${String(n + 1).padStart(3, '0')}`,
      group,
      model,
      gpus,
      dcgmPort,
      vllmPort,
      vllmInstance: `${opts.advertiseHost}:${vllmPort}`,
      dcgmInstance: `${opts.advertiseHost}:${dcgmPort}`,
    });
  }
  return nodes;
}

export function groupCount(nodes: readonly NodeSpec[]): number {
  return nodes.reduce((m, n) => Math.max(m, n.group + 1), 0);
}
