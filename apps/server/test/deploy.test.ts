import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig, serviceNames } from '@circles/platform';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../../deploy/kubernetes/', import.meta.url);
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => loadAll(readFileSync(new URL(f, dir), 'utf8')) as any[]);
const configMap = docs.find((d) => d.kind === 'ConfigMap').data as Record<string, string>;
const secret = docs.find((d) => d.kind === 'Secret').stringData as Record<string, string>;
const containers = docs.filter((d) => d.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers as any[]);

describe('Kubernetes manifests', () => {
  it.each(containers.map((c) => [c.name, c]))('%s gets a valid Circles configuration', (_name, c) => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) Object.assign(env, from.configMapRef ? configMap : from.secretRef ? secret : {});
    for (const e of c.env ?? []) env[e.name] = e.value;
    const config = loadConfig(env);
    const port = c.ports[0].containerPort;
    if (config.roles.includes('gateway')) expect(config.gatewayPort).toBe(port);
    else if (config.roles.includes('web')) expect(config.webPort).toBe(port);
    else expect(config.servicePort).toBe(port);
  });

  it('deploys every service and routes the gateway (and services calling each other) to each', () => {
    // In the shared ConfigMap: the gateway routes by it, and services reach each other's APIs by it.
    const urls = configMap.SUBGRAPH_URLS!;
    for (const s of serviceNames) {
      expect(containers.map((c) => c.name)).toContain(s);
      expect(urls).toContain(`${s}=`);
    }
  });
});
