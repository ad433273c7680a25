/**
 * `npm run k8s:config`: deploy/k8s/configmap.yaml from config/, and the projected `config` volume
 * of every Deployment under deploy/k8s that mounts it. A ConfigMap key cannot hold a "/", so
 * `systems/<id>.yaml` is stored as `systems.<id>.yaml` and the volume's items put each key back at
 * its path; the gateway then reads OW_CONFIG_DIR exactly as it reads config/ on a disk.
 * test/deploy.test.ts fails when config/ and these files drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const CONFIG_MAP = 'onewindow-config';
export const CONFIG_VOLUME = 'config';

export interface ConfigItem {
  key: string;
  path: string;
}

/** Every file of a config folder, as ConfigMap key and relative path, in a stable order. */
export function configItems(configDir: string): Array<ConfigItem & { text: string }> {
  const out: Array<ConfigItem & { text: string }> = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relPath);
      else out.push({ key: relPath.replace(/\//g, '.'), path: relPath, text: fs.readFileSync(path.join(dir, entry.name), 'utf8') });
    }
  };
  walk(configDir, '');
  return out;
}

export function configMapYaml(configDir: string): string {
  const items = configItems(configDir);
  const doc = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIG_MAP, labels: { 'app.kubernetes.io/name': 'onewindow-gateway' } },
    data: Object.fromEntries(items.map((i) => [i.key, i.text])),
  };
  return `# Generated from config/ by \`npm run k8s:config\`; edit config/ and run it again.\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/** A Deployment manifest with its `config` volume's items set to `items` (comments kept). */
export function withConfigItems(manifest: string, items: ConfigItem[]): string {
  const doc = YAML.parseDocument(manifest);
  const volumes = doc.getIn(['spec', 'template', 'spec', 'volumes']) as YAML.YAMLSeq<YAML.YAMLMap> | undefined;
  const volume = volumes?.items.find((v) => v.get('name') === CONFIG_VOLUME);
  if (!volume) return manifest;
  volume.setIn(['projected', 'sources'], doc.createNode([{ configMap: { name: CONFIG_MAP, items: items.map(({ key, path }) => ({ key, path })) } }]));
  return doc.toString({ lineWidth: 0 });
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  const configDir = path.join(root, 'config');
  const k8s = path.join(root, 'deploy/k8s');
  fs.writeFileSync(path.join(k8s, 'configmap.yaml'), configMapYaml(configDir));
  const items = configItems(configDir);
  for (const file of fs.readdirSync(k8s).filter((f) => f.endsWith('.yaml'))) {
    const text = fs.readFileSync(path.join(k8s, file), 'utf8');
    const next = withConfigItems(text, items);
    if (next !== text) fs.writeFileSync(path.join(k8s, file), next);
  }
  process.stdout.write(`deploy/k8s: ${items.length} files of config/ in ConfigMap ${CONFIG_MAP}\n`);
}
