import type { Project } from './project.js';

/** `databases.src`: the schema the tables and the ingestion log go to (the loader requires it). */
export function srcSchema(project: Project): string {
  const schema = project.databases.src;
  if (schema === undefined)
    throw new Error('internal: loadProject accepted a database.yml without databases.src');
  return schema;
}
