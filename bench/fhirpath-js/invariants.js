// The workload of crates/fhir/examples/fhirpath_invariants.rs in fhirpath.js:
// every invariant of the core resource definitions on every example of its type.
// usage: node invariants.js WORKLOAD.json EXAMPLES_DIR
const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

const [workloadFile, dir] = process.argv.slice(2);
const workload = JSON.parse(fs.readFileSync(workloadFile, 'utf8'));
// Compile once, as assure parses once.
const compiled = {};
for (const [type, cs] of Object.entries(workload)) {
  compiled[type] = [];
  for (const c of cs) {
    try {
      compiled[type].push({ base: fhirpath.compile(c.path, r4), expr: c.expression });
    } catch (e) { /* counted below as errors */ }
  }
}
const resources = fs.readdirSync(dir).sort()
  .filter((f) => f.endsWith('.json'))
  .map((f) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch (e) { return null; } })
  .filter((r) => r && r.resourceType && workload[r.resourceType]);

// trace() output would otherwise go to the console.
const quiet = { traceFn: () => {} };
let pairs = 0, errors = 0, falses = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (const resource of resources) {
  for (const c of workload[resource.resourceType]) {
    pairs++;
    try {
      const result = fhirpath.evaluate(resource, { base: c.path, expression: c.expression }, { resource }, r4, quiet);
      if (result.length === 1 && result[0] === false) falses++;
    } catch (e) {
      errors++;
    }
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ engine: 'fhirpath.js ' + require('fhirpath/package.json').version, resources: resources.length, pairs, errors, false: falses, seconds: Number(seconds.toFixed(3)), cpu_seconds: (cpu.user + cpu.system) / 1e6 }));
