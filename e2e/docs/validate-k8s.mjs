// Validates Kubernetes manifests against Kubernetes's OpenAPI schemas (kubernetes-models, an ES
// module, hence a script of its own). Input on stdin: [{ file, value }]; output: [{ file, kind, name, error }].
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';

const KINDS = { Deployment, DaemonSet, Service, ConfigMap, Secret, Namespace };
let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map(({ file, value }) => {
  const Kind = KINDS[value.kind];
  if (!Kind) return { file, kind: value.kind, name: value.metadata?.name, error: `no schema for kind ${value.kind}` };
  try {
    new Kind(value).validate();
    return { file, kind: value.kind, name: value.metadata?.name, error: null };
  } catch (err) {
    return { file, kind: value.kind, name: value.metadata?.name, error: String(err.message).slice(0, 500) };
  }
});
process.stdout.write(JSON.stringify(results));
