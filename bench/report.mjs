// Writes the figures section of docs/benchmarks.md from the runs of bench/gateway_bench.sh, on
// stdout, and prints the checks of the performance targets on stderr too.
//
//   node bench/report.mjs --results RESULTS.jsonl --meta META.json
//
// RESULTS holds one JSON object per run: kind "wrk" (target, scenario, rps, p50_us, p99_us,
// p999_us, cpu_us, exhausted) or kind "open" (target, percent, rate, achieved_rate, p50_us,
// p99_us, p999_us, cpu_us, errors, timeouts). Every figure is the median over the rounds, with
// the min-max range when there was more than one round. A ratio divides two medians of the same
// run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { results: { type: 'string' }, meta: { type: 'string' } },
});
if (!values.results || !values.meta) {
  process.stderr.write('usage: node bench/report.mjs --results RESULTS.jsonl --meta META.json\n');
  process.exit(2);
}
const runs = readFileSync(values.results, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
const meta = JSON.parse(readFileSync(values.meta, 'utf8'));

const kTargets = ['direct', 'relay', 'nginx', 'haproxy', 'cg-pass', 'cg-jwt', 'cg-full'];
const kReferences = ['relay', 'nginx', 'haproxy'];
const kSetNames = {
  one: '1 JWT',
  '10k': `${Number(meta.callers).toLocaleString('en-US')} JWTs`,
  distinct: 'all-distinct JWTs',
};

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// Median and range of FIELD over the runs that match FILTER, or undefined without runs.
function summary(filter, field) {
  const numbers = runs.filter(filter).map((run) => run[field]).filter((v) => typeof v === 'number');
  if (numbers.length === 0) return undefined;
  return { median: median(numbers), min: Math.min(...numbers), max: Math.max(...numbers), count: numbers.length };
}

const fixed = (value, digits) => (value === undefined ? 'n/a' : value.toFixed(digits));
const thousands = (value) => (value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US'));
function withRange(stat, format) {
  if (stat === undefined) return 'n/a';
  if (stat.count < 2) return format(stat.median);
  return `${format(stat.median)} (${format(stat.min)}-${format(stat.max)})`;
}
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2));
const ms = (us) => (us === undefined ? undefined : us / 1000);

const scenarios = [...new Set(runs.filter((run) => run.kind === 'wrk').map((run) => run.scenario))];
const percents = [...new Set(runs.filter((run) => run.kind === 'open').map((run) => run.percent))].sort((a, b) => a - b);
const wrkStat = (target, scenario, field) =>
  summary((run) => run.kind === 'wrk' && run.target === target && run.scenario === scenario, field);
const openStat = (target, percent, field) =>
  summary((run) => run.kind === 'open' && run.target === target && run.percent === percent, field);

const out = [];
const say = (line = '') => out.push(line);

say(`Run of ${meta.date}, checkout ${meta.checkout}${meta.quick === '1' ? ', quick mode (BENCH_QUICK=1)' : ''}.`);
say();
say(`- Machine: ${meta.cpus} CPUs (${meta.cpu_model}), Linux ${meta.kernel}. The load generators, every`);
say('  target and the upstream share these CPUs.');
// The binary's path relative to the checkout, so the recorded text names no machine's folders.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const credgateBin = meta.credgate_bin && path.relative(repoRoot, meta.credgate_bin);
say(`- nginx ${meta.nginx}, HAProxy ${meta.haproxy}. credgate: \`${credgateBin}\``);
say(`  (modified ${meta.credgate_modified}), build type ${meta.build_type}, \`--threads ${meta.credgate_threads_option}\``);
say(`  (0 is one I/O thread per core); the process had ${meta.credgate_threads} threads at the end of the run.`);
say(`- ${meta.rounds} interleaved round(s). wrk runs: \`wrk -t${meta.wrk_threads} -cCONNECTIONS -d${meta.duration}s --timeout 2s -s bench/callers.lua URL\`,`);
say(`  after a ${meta.warmup} s warm-up per target. Open-loop runs: \`open_loop --rate R --duration ${meta.open_duration} --connections ${meta.open_connections} --threads ${meta.open_threads}\``);
say(`  with the 1-JWT RS256 caller, at ${percents.join(', ')}% of the relay's median peak of ${thousands(Number(meta.relay_peak))} requests/s`);
say(`  (scenario ${meta.peak_scenario}).`);
say(`- Callers: ${kSetNames['10k']} with one token each, and ${Number(meta.distinct_tokens).toLocaleString('en-US')} distinct tokens per key.`);
say('  In the all-distinct scenarios, haproxy, cg-jwt and cg-full get each token at most once, and');
say("  credgate's caches of verified tokens are emptied before each of its runs. A run that sends");
say('  every token stops early, and its requests/s is computed over the time it ran ("exhausted").');
say('  The other targets draw those tokens at random.');
if (meta.jwt_mode === 'validate-jwt') {
  say('- cg-jwt runs the validate-jwt statement alone.');
} else {
  say('- cg-jwt: this credgate build has no validate-jwt statement, so cg-jwt runs');
  say('  get-authorization-context without set-header: the JWT check, the access policy match and the');
  say('  token lookup, without the header. It is an upper bound on the cost of a JWT-only check.');
}
say(`- Load average (1 minute): ${meta.load_before} before the setup, ${meta.load_at_measurement} when the measurement`);
say(`  started, ${meta.load_after} at its end.`);
if (meta.load_quiet === '1') {
  say(`  The script waited ${meta.load_waited} s for a load below ${meta.max_load}.`);
} else {
  say(`  The load was still at least ${meta.max_load} after the script had waited ${meta.load_waited} s, so this`);
  say('  run was measured anyway, on a machine that other work kept busy.');
}
say();

say('#### Throughput (wrk)');
say();
say('Requests/s as median (min-max), its ratio to the relay, nginx and HAProxy in the same');
say("scenario, wrk's p50 and p99 latency, and the target's CPU time per request (user + system,");
say('from `/proc/<pid>/stat`; the upstream for direct, nginx counting its workers) with the same');
say('ratios. The last column sums every round.');
for (const scenario of scenarios) {
  const [set, alg, connections] = scenario.split(':');
  say();
  say(`${kSetNames[set]}, ${alg}, ${connections} connections:`);
  say();
  say('| target | requests/s | x relay | x nginx | x haproxy | p50 (ms) | p99 (ms) | CPU/request (µs) | CPU x relay | CPU x nginx | CPU x haproxy | timeouts + socket errors |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const target of kTargets) {
    const rps = wrkStat(target, scenario, 'rps');
    if (rps === undefined) continue;
    const exhausted = runs.some(
      (run) => run.kind === 'wrk' && run.target === target && run.scenario === scenario && run.exhausted === 1,
    );
    const cells = kReferences.map((reference) => ratio(rps.median, wrkStat(reference, scenario, 'rps')?.median));
    const cpu = wrkStat(target, scenario, 'cpu_us')?.median;
    const cpuCells = kReferences.map((reference) => ratio(cpu, wrkStat(reference, scenario, 'cpu_us')?.median));
    const failures = runs
      .filter((run) => run.kind === 'wrk' && run.target === target && run.scenario === scenario)
      .reduce((sum, run) => sum + run.timeouts + run.read_errors + run.write_errors, 0);
    say(
      `| ${target}${exhausted ? ' (exhausted)' : ''} | ${withRange(rps, thousands)} | ${cells.join(' | ')} | ` +
        `${fixed(ms(wrkStat(target, scenario, 'p50_us')?.median), 2)} | ${fixed(ms(wrkStat(target, scenario, 'p99_us')?.median), 2)} | ` +
        `${fixed(cpu, 1)} | ${cpuCells.join(' | ')} | ${failures} |`,
    );
  }
}
say();

say('#### Latency at fixed rates (open loop)');
say();
say('Latency from the intended send time, median over the rounds. "added p99" is the p99 minus');
say("the direct upstream's p99 at the same rate; the ratios compare p99 with the relay's, nginx's");
say("and HAProxy's at the same rate.");
for (const percent of percents) {
  const rate = openStat('relay', percent, 'rate')?.median;
  say();
  say(`${percent}% of the relay's peak, ${thousands(rate)} requests/s:`);
  say();
  say('| target | achieved/s | p50 (ms) | p99 (ms) | p99.9 (ms) | added p99 (ms) | p99 x relay | p99 x nginx | p99 x haproxy | CPU/request (µs) | errors + timeouts |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const directP99 = openStat('direct', percent, 'p99_us')?.median;
  for (const target of kTargets) {
    const p99 = openStat(target, percent, 'p99_us');
    if (p99 === undefined) continue;
    const failures = runs
      .filter((run) => run.kind === 'open' && run.target === target && run.percent === percent)
      .reduce((sum, run) => sum + (run.errors ?? 0) + (run.timeouts ?? 0), 0);
    const cells = kReferences.map((reference) => ratio(p99.median, openStat(reference, percent, 'p99_us')?.median));
    say(
      `| ${target} | ${thousands(openStat(target, percent, 'achieved_rate')?.median)} | ` +
        `${fixed(ms(openStat(target, percent, 'p50_us')?.median), 2)} | ${withRange(p99, (v) => fixed(ms(v), 2))} | ` +
        `${fixed(ms(openStat(target, percent, 'p999_us')?.median), 2)} | ` +
        `${target === 'direct' ? '-' : fixed(ms(p99.median - directP99), 2)} | ${cells.join(' | ')} | ` +
        `${fixed(openStat(target, percent, 'cpu_us')?.median, 1)} | ${failures} |`,
    );
  }
  const directAchieved = openStat('direct', percent, 'achieved_rate')?.median;
  if (rate !== undefined && directAchieved !== undefined && directAchieved < 0.95 * rate) {
    say();
    say(`The direct upstream completed only ${thousands(directAchieved)} requests/s, so the generator or the`);
    say('upstream could not sustain this rate on this machine, and the latencies at it measure that queue.');
  }
}
say();

// The performance targets, each checked on the medians of this run.
const checks = [];
const check = (name, met, numbers) => checks.push(`- ${met === undefined ? 'not measured' : met ? 'met' : 'missed'}: ${name} (${numbers})`);
for (const scenario of scenarios) {
  const full = wrkStat('cg-full', scenario, 'rps')?.median;
  const nginx = wrkStat('nginx', scenario, 'rps')?.median;
  const haproxy = wrkStat('haproxy', scenario, 'rps')?.median;
  const pass = wrkStat('cg-pass', scenario, 'rps')?.median;
  const relay = wrkStat('relay', scenario, 'rps')?.median;
  const known = (...numbers) => (numbers.every((n) => n !== undefined) ? true : undefined);
  check(`cg-full >= 1.0x nginx requests/s, ${scenario}`, known(full, nginx) && full >= nginx,
    `${thousands(full)} vs ${thousands(nginx)}, ${ratio(full, nginx)}x`);
  check(`cg-full >= 1.5x haproxy requests/s, ${scenario}`, known(full, haproxy) && full >= 1.5 * haproxy,
    `${thousands(full)} vs ${thousands(haproxy)}, ${ratio(full, haproxy)}x`);
  check(`cg-pass >= 0.8x relay requests/s, ${scenario}`, known(pass, relay) && pass >= 0.8 * relay,
    `${thousands(pass)} vs ${thousands(relay)}, ${ratio(pass, relay)}x`);
}
for (const percent of percents.filter((p) => p === 25 || p === 50)) {
  const direct = openStat('direct', percent, 'p99_us')?.median;
  const nginx = openStat('nginx', percent, 'p99_us')?.median;
  const full = openStat('cg-full', percent, 'p99_us')?.median;
  if ([direct, nginx, full].some((n) => n === undefined)) {
    check(`cg-full added p99 <= nginx's at ${percent}%`, undefined, 'a target was not measured');
    continue;
  }
  const fullAdded = (full - direct) / 1000;
  const nginxAdded = (nginx - direct) / 1000;
  check(`cg-full added p99 <= nginx's at ${percent}% of the relay's peak`, fullAdded <= nginxAdded,
    `${fullAdded.toFixed(2)} ms vs ${nginxAdded.toFixed(2)} ms`);
  if (nginxAdded < 1) {
    check(`cg-full added p99 < 1 ms at ${percent}%, where nginx adds less than 1 ms`, fullAdded < 1,
      `${fullAdded.toFixed(2)} ms`);
  } else {
    checks.push(`- not applicable: cg-full added p99 < 1 ms at ${percent}%, because nginx adds ${nginxAdded.toFixed(2)} ms`);
  }
}
say('#### Targets');
say();
for (const line of checks) say(line);
say();
say(`credgate's resident memory (VmRSS in /proc/<pid>/status): ${(meta.rss_before_kb / 1024).toFixed(1)} MiB after`);
say(`the setup, ${(meta.rss_after_kb / 1024).toFixed(1)} MiB after the last run; peak (VmHWM) ${(meta.hwm_kb / 1024).toFixed(1)} MiB.`);
say();

process.stdout.write(`${out.join('\n')}`);
process.stderr.write(`${checks.join('\n')}\n`);
