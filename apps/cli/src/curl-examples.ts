/**
 * The copy-paste curl sequence `kvbench up` prints and the README shows (up.test checks they are the
 * same lines, sized so that the comparison exercises the link; README "A stack that stays up"): create a workload,
 * submit a PCIe and a C2C run, follow one live, fetch the comparison. Node is the JSON tool
 * (it is there wherever kvbench is); jq would do the same.
 */
export function curlExamples(apiUrl: string, aggregatorUrl: string, token?: string): string {
  const auth = token ? ` -H "Authorization: Bearer $KVBENCH_TOKEN"` : '';
  const json = `-H 'content-type: application/json'`;
  const field = (name: string) => `node -pe 'JSON.parse(require("fs").readFileSync(0)).${name}'`;
  const run = (label: string) =>
    `curl -s -X POST ${apiUrl}/runs${auth} ${json} -d '{"workload_id":"'$WL'","system_label":"${label}","model":"meta-llama/Llama-3.1-8B-Instruct","overrides":{"gpu_kv_max_tokens":32896,"host_cache_gb":16},"max_batch_size":8,"max_seq_len":32768}' | ${field('run_id')}`;
  return [
    ...(token ? [`export KVBENCH_TOKEN=${token}`] : []),
    `WL=$(curl -s -X POST ${apiUrl}/workloads${auth} ${json} -d '{"params":{"contexts":[16384],"batches_per_context":12,"batch_sizes":[2],"prompt_pool_size":8,"reuse_start_batch":4}}' | ${field('id')})`,
    `PCIE=$(${run('pcie')})`,
    `C2C=$(${run('c2c')})`,
    `curl -sN${auth} ${aggregatorUrl}/runs/$PCIE/events      # live samples; ends with the run's final event`,
    `curl -sN${auth} ${aggregatorUrl}/runs/$C2C/events > /dev/null`,
    `curl -s${auth} "${aggregatorUrl}/compare?workload_id=$WL&baseline=pcie"; echo`,
    `echo "open ${aggregatorUrl}/compare.html?workload_id=$WL"`,
  ].join('\n');
}
