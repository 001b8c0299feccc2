// node-fhir-server-core (npm @asymmetrik/node-fhir-server-core, MIT) serving FHIR R4 (4_0_1)
// Patient with an in-memory Patient service. The framework owns the HTTP layer: routes,
// argument sanitising, CapabilityStatement, status codes, headers (its fhir-response-util:
// Content-Type, ETag, Last-Modified, Location) and errors. This file is only the service the
// framework asks every implementer to write, shaped like the framework's own MongoDB example:
// resources with meta.versionId/lastUpdated, a searchset Bundle of the matches, and nothing
// (hence the framework's 404) for an unknown id; _count paging with a next link.
'use strict';

const crypto = require('node:crypto');
const { initialize, loggers, constants, resolveSchema, ServerError } = require('@asymmetrik/node-fhir-server-core');

const port = Number(process.env.PORT || 8107);
const VERSION = constants.VERSIONS['4_0_1'];
const history = new Map(); // id -> [versions, oldest first]

function current(id) {
  const versions = history.get(id);
  return versions && versions[versions.length - 1];
}

function store(id, body) {
  const versions = history.get(id) || [];
  const resource = {
    ...body,
    resourceType: 'Patient',
    id,
    meta: { ...(body.meta || {}), versionId: String(versions.length + 1), lastUpdated: new Date().toISOString() },
  };
  versions.push(resource);
  history.set(id, versions);
  return resource;
}

function tokenMatches(identifiers, query) {
  const [system, value] = query.includes('|') ? query.split('|', 2) : [null, query];
  return (identifiers || []).some((i) => (system === null || i.system === system) && (!value || i.value === value));
}

function base(req) {
  return `${req.protocol}://${req.get('host')}/${VERSION}`;
}

const patientService = {
  search: async (args, { req }) => {
    const Bundle = resolveSchema(args.base_version, 'bundle');
    let matches = [...history.values()].map((v) => v[v.length - 1]);
    if (args.identifier) matches = matches.filter((p) => tokenMatches(p.identifier, args.identifier));
    if (args.family) {
      const family = args.family.toLowerCase();
      matches = matches.filter((p) => (p.name || []).some((n) => (n.family || '').toLowerCase().startsWith(family)));
    }
    // Paging is the service's job in this framework: _count pages, _offset continues.
    const count = Number.parseInt(req.query._count, 10);
    const offset = Number.parseInt(req.query._offset, 10) || 0;
    const page = Number.isInteger(count) && count >= 0 ? matches.slice(offset, offset + count) : matches.slice(offset);
    const self = `${req.protocol}://${req.get('host')}${req.originalUrl}`;
    const link = [{ relation: 'self', url: self }];
    if (offset + page.length < matches.length) {
      const next = new URL(self);
      next.searchParams.set('_offset', String(offset + page.length));
      link.push({ relation: 'next', url: next.toString() });
    }
    const bundle = { type: 'searchset', total: matches.length, link };
    if (page.length > 0) {
      bundle.entry = page.map((resource) => ({ fullUrl: `${base(req)}/Patient/${resource.id}`, resource, search: { mode: 'match' } }));
    }
    return new Bundle(bundle);
  },
  searchById: async (args) => current(args.id),
  searchByVersionId: async (args) => (history.get(args.id) || []).find((r) => r.meta.versionId === args.version_id),
  historyById: async (args, { req }) => {
    const Bundle = resolveSchema(args.base_version, 'bundle');
    const versions = [...(history.get(args.id) || [])].reverse();
    if (versions.length === 0) throw new ServerError('Not found', { statusCode: 404, issue: [{ severity: 'error', code: 'not-found' }] });
    return new Bundle({
      type: 'history',
      total: versions.length,
      entry: versions.map((resource) => ({
        fullUrl: `${base(req)}/Patient/${resource.id}`,
        resource,
        request: { method: resource.meta.versionId === '1' ? 'POST' : 'PUT', url: `Patient/${resource.id}` },
      })),
    });
  },
  create: async (_args, { req }) => {
    const body = req.body || {};
    if (body.resourceType !== 'Patient') {
      throw new ServerError('Not a Patient', { statusCode: 400, issue: [{ severity: 'error', code: 'invalid' }] });
    }
    const resource = store(crypto.randomUUID(), body);
    return { id: resource.id, resource_version: resource.meta.versionId };
  },
  update: async (args, { req }) => {
    const created = !history.has(args.id);
    const resource = store(args.id, req.body || {});
    return { id: resource.id, created, resource_version: resource.meta.versionId };
  },
  remove: async (args) => {
    history.delete(args.id);
    return {};
  },
};

const server = initialize({
  profiles: { patient: { service: patientService, versions: [VERSION] } },
  server: { port },
  logging: { level: 'warn' },
});
server.listen(port, '127.0.0.1', () => loggers.get('default').warn(`listening on http://127.0.0.1:${port}/${VERSION}`));
