/** The datasource lists a project defines or iterates, with the file and key path each item lives at. */
import type { Datasource } from '../config-files.js';
import { DATASOURCES_FILE } from '../config-files.js';
import type { WorkflowDefinition } from '../dig-file.js';
import { datasourceListSource, type ProjectSnapshot } from '../project.js';
import { formatPath, type YamlFile } from '../yaml.js';

export interface DatasourceRef {
  datasource: Datasource;
  listName: string;
  index: number;
  /** The file the item is written in, for messages and lines. */
  yaml: YamlFile;
  /** Key path of the item inside `yaml`. */
  at: (string | number)[];
  /** A workflow that iterates this list (its exports fill the load config), if any. */
  workflow: WorkflowDefinition | null;
}

export function keyOf(ref: DatasourceRef, field?: string): string {
  return formatPath(field ? [...ref.at, field] : ref.at);
}

export function lineOf(ref: DatasourceRef, field?: string): number | undefined {
  return ref.yaml.lineOf(field ? [...ref.at, field] : ref.at);
}

export function datasourceRefs(snapshot: ProjectSnapshot): DatasourceRef[] {
  const refs: DatasourceRef[] = [];
  const seen = new Set<string>();
  const add = (
    list: readonly Datasource[],
    listName: string,
    yaml: YamlFile,
    base: (string | number)[],
    workflow: WorkflowDefinition | null,
  ) => {
    const id = `${yaml.file}#${formatPath(base)}`;
    if (seen.has(id)) return;
    seen.add(id);
    list.forEach((datasource, index) => {
      refs.push({ datasource, listName, index, yaml, at: [...base, index], workflow });
    });
  };
  for (const workflow of Object.values(snapshot.workflows)) {
    const loop = workflow.loop;
    if (!loop?.listName || !workflow.datasources) continue;
    const { yaml, at } = datasourceListSource(snapshot.files, workflow, loop.listName);
    add(workflow.datasources, loop.listName, yaml, at, workflow);
  }
  const file = snapshot.files.parsed(DATASOURCES_FILE);
  if (snapshot.datasources && file) {
    const firstWorkflow = Object.values(snapshot.workflows)[0] ?? null;
    add(snapshot.datasources.hist_datasources, 'hist_datasources', file, ['hist_datasources'], firstWorkflow);
    add(snapshot.datasources.inc_datasources, 'inc_datasources', file, ['inc_datasources'], firstWorkflow);
  }
  return refs;
}

export function isIncremental(datasource: Datasource): boolean {
  return datasource.incremental_field !== null && datasource.incremental_field !== '';
}
