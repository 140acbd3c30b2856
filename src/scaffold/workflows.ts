// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * The workflow files, exactly as the templates give them (spec: klaviyo-ingestion-templates.md).
 * The historical workflow is the incremental one with `${hist_datasources}` instead of `${inc_datasources}`.
 */
export const INC_WORKFLOW_FILE = 'klaviyo_ingest_inc.dig';
export const HIST_WORKFLOW_FILE = 'klaviyo_ingest_hist.dig';

export const INC_WORKFLOW = `timezone: UTC

_export:
  !include : config/database.yml
  !include : config/klaviyo_datasources.yml
  !include : config/hist_date_ranges.yml

+load_incremental_data:
  _parallel:
    limit: 3
  for_each>:
    datasource: \${inc_datasources}
  _do:
    +log_ingestion_start:
      td>: sql/log_ingestion_start.sql
      database: \${databases.src}
      source_name: '\${datasource.table_name}'
      workflow_name: '\${datasource.workflow_name}'
      table_name: \${datasource.table_name}

    +setup_table_and_time:
      if>: \${datasource.incremental_field != "" && datasource.incremental_field != null}
      _do:
        +create_incremental_table:
          td>:
          query: |
            CREATE TABLE IF NOT EXISTS \${databases.src}.\${datasource.table_name} (
              \${datasource.incremental_field} VARCHAR,
              time BIGINT
            )
          database: \${databases.src}

        +get_last_incremental_time:
          td>:
          query: |
            SELECT
              COALESCE(
                (SELECT replace(TD_TIME_STRING(TD_TIME_PARSE(max(\${datasource.incremental_field})), 's!'), ' ', 'T') || '.000000' as start_time
                  FROM \${databases.src}.\${datasource.table_name}
                  WHERE \${datasource.incremental_field} IS NOT NULL),
                '\${datasource.default_start_time}'
              ) as start_time,
              SUBSTR(CAST(to_iso8601(current_timestamp) AS VARCHAR),1,19)||'.000000' as end_time
          database: \${databases.src}
          store_last_results: true
      _else_do:
        +create_basic_table:
          td>:
          query: |
            CREATE TABLE IF NOT EXISTS \${databases.src}.\${datasource.table_name} (
              time BIGINT
            )
          database: \${databases.src}

        +set_default_time:
          td>:
          query: |
            SELECT
              '' as start_time,
              SUBSTR(CAST(to_iso8601(current_timestamp) AS VARCHAR),1,19)||'.000000' as end_time
          database: \${databases.src}
          store_last_results: true

    +load_incremental:
      td_load>: config/\${datasource.config_file}
      database: \${databases.src}
      table: \${datasource.table_name}

    +log_ingestion_success:
      td>: sql/log_ingestion_success.sql
      database: \${databases.src}
      source_name: '\${datasource.table_name}'
      workflow_name: '\${datasource.workflow_name}'
      table_name: \${datasource.table_name}

_error:
  +log_ingestion_error:
    td>: sql/log_ingestion_error.sql
    database: \${databases.src}
    source_name: 'klaviyo'
    workflow_name: 'klaviyo_ingest'
    error_message: 'klaviyo ingestion failed. check klaviyo_ingest'
`;

export const HIST_WORKFLOW = INC_WORKFLOW.replace('${inc_datasources}', '${hist_datasources}');
