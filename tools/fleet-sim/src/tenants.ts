/**
 * Who sends traffic to the simulated fleet: tenants, their teams, projects and API keys, each
 * project with the request shape of its workload (RAG answers have long prompts, code completion
 * short outputs, agents reuse long system prompts and hit the prefix cache).
 */
export interface WorkloadProfile {
  promptMedian: number;
  promptSigma: number;
  outputMedian: number;
  outputSigma: number;
  /** max_tokens values clients send; a request that reaches it finishes with reason "length". */
  maxTokens: readonly number[];
  /** Share of the prompt served from the prefix cache (shared system prompts, RAG templates). */
  prefixHitRatio: number;
  /** Share of requests the client gives up on before the answer is complete. */
  cancelRate: number;
}

export interface ProjectSpec {
  tenant: string;
  team: string;
  project: string;
  apiKeys: readonly string[];
  /** Relative share of the fleet's request rate. */
  weight: number;
  profile: WorkloadProfile;
}

const chat: WorkloadProfile = {
  promptMedian: 700,
  promptSigma: 0.8,
  outputMedian: 170,
  outputSigma: 0.8,
  maxTokens: [512, 1024, 2048],
  prefixHitRatio: 0.5,
  cancelRate: 0.02,
};
const rag: WorkloadProfile = {
  ...chat,
  promptMedian: 1800,
  promptSigma: 0.6,
  outputMedian: 220,
  outputSigma: 0.7,
  prefixHitRatio: 0.3,
  cancelRate: 0.01,
};
const code: WorkloadProfile = {
  ...chat,
  promptMedian: 2400,
  promptSigma: 0.7,
  outputMedian: 70,
  outputSigma: 1.0,
  maxTokens: [128, 256],
  prefixHitRatio: 0.6,
  cancelRate: 0.04,
};
const summarize: WorkloadProfile = {
  ...chat,
  promptMedian: 3800,
  promptSigma: 0.5,
  outputMedian: 300,
  outputSigma: 0.5,
  maxTokens: [400, 1024],
  prefixHitRatio: 0.05,
  cancelRate: 0.002,
};
const agents: WorkloadProfile = {
  ...chat,
  promptMedian: 3000,
  promptSigma: 0.6,
  outputMedian: 120,
  outputSigma: 0.9,
  maxTokens: [1024, 4096],
  prefixHitRatio: 0.7,
  cancelRate: 0.01,
};
const evals: WorkloadProfile = {
  ...chat,
  promptMedian: 1200,
  promptSigma: 0.9,
  outputMedian: 400,
  outputSigma: 0.9,
  maxTokens: [1024, 2048],
  prefixHitRatio: 0.1,
  cancelRate: 0,
};

export const PROJECTS: readonly ProjectSpec[] = [
  {
    tenant: 'acme',
    team: 'search',
    project: 'rag-answers',
    apiKeys: ['ak-acme-search-prod', 'ak-acme-search-canary'],
    weight: 30,
    profile: rag,
  },
  {
    tenant: 'acme',
    team: 'support',
    project: 'support-bot',
    apiKeys: ['ak-acme-support-prod'],
    weight: 25,
    profile: chat,
  },
  {
    tenant: 'globex',
    team: 'platform',
    project: 'code-assist',
    apiKeys: ['ak-globex-ide', 'ak-globex-ci'],
    weight: 20,
    profile: code,
  },
  {
    tenant: 'globex',
    team: 'research',
    project: 'eval-harness',
    apiKeys: ['ak-globex-evals'],
    weight: 8,
    profile: evals,
  },
  {
    tenant: 'initech',
    team: 'analytics',
    project: 'summarizer',
    apiKeys: ['ak-initech-batch'],
    weight: 10,
    profile: summarize,
  },
  {
    tenant: 'umbrella',
    team: 'ml-platform',
    project: 'agents',
    apiKeys: ['ak-umbrella-agents'],
    weight: 7,
    profile: agents,
  },
];
