/** The load configs and the datasources list, byte for byte as the templates give them. */

/** What every load config ends with: TD's add_time filter (the `time` column) and the write mode. */
const ADD_TIME_AND_OUT = `filters:
- type: add_time
  to_column:
    name: time
    type: timestamp
  from_value:
    mode: upload_time

out:
  mode: \${datasource.mode}
`;

/** Type 1: standard incremental (profiles, lists, email templates, campaigns). */
export const LOAD_CONFIG_STANDARD =
  `in:
  type: klaviyo
  data_source: \${datasource.name}
  td_authentication_id: 360030
  incremental: true
  start_time: \${td.last_results.start_time}
  end_time: \${td.last_results.end_time}
  incremental_field: \${datasource.incremental_field_connector}

` + ADD_TIME_AND_OUT;

/** Type 2: events — `skip_related_objects: true` and no `incremental_field`. */
export const LOAD_CONFIG_EVENTS =
  `in:
  type: klaviyo
  data_source: \${datasource.name}
  td_authentication_id: 360030
  skip_related_objects: true
  incremental: true
  start_time: \${td.last_results.start_time}
  end_time: \${td.last_results.end_time}

` + ADD_TIME_AND_OUT;

/** Type 3: metrics — no incremental parameters, a full load each run. */
export const LOAD_CONFIG_METRICS =
  `in:
  type: klaviyo
  data_source: \${datasource.name}
  td_authentication_id: 360030

` + ADD_TIME_AND_OUT;

export const DATASOURCES = `hist_datasources:
  - name: events
    table_name: klaviyo_events_hist
    config_file: klaviyo_events_load.yml
    incremental_field: datetime
    incremental_field_connector: datetime
    default_start_time: "2023-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: templates
    table_name: klaviyo_email_templates_hist
    config_file: klaviyo_email_templates_load.yml
    incremental_field: created
    incremental_field_connector: created
    default_start_time: "2023-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: campaigns
    table_name: klaviyo_campaigns_hist
    config_file: klaviyo_campaigns_load.yml
    incremental_field: created_at
    incremental_field_connector: created
    default_start_time: "2023-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: lists
    table_name: klaviyo_lists_hist
    config_file: klaviyo_lists_load.yml
    incremental_field: created
    incremental_field_connector: created
    default_start_time: "2023-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: profiles
    table_name: klaviyo_profiles_hist
    config_file: klaviyo_profiles_load.yml
    incremental_field: created
    incremental_field_connector: created
    default_start_time: "2023-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

inc_datasources:
  - name: events
    table_name: klaviyo_events
    config_file: klaviyo_events_load.yml
    incremental_field: datetime
    incremental_field_connector: datetime
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: templates
    table_name: klaviyo_email_templates
    config_file: klaviyo_email_templates_load.yml
    incremental_field: updated
    incremental_field_connector: updated
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: campaigns
    table_name: klaviyo_campaigns
    config_file: klaviyo_campaigns_load.yml
    incremental_field: updated_at
    incremental_field_connector: updated
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: lists
    table_name: klaviyo_lists
    config_file: klaviyo_lists_load.yml
    incremental_field: updated
    incremental_field_connector: updated
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: profiles
    table_name: klaviyo_profiles
    config_file: klaviyo_profiles_load.yml
    incremental_field: updated
    incremental_field_connector: updated
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append

  - name: metrics
    table_name: klaviyo_metric_data
    config_file: klaviyo_metric_data_load.yml
    incremental_field:
    incremental_field_connector:
    default_start_time: "2025-09-01T00:00:00.000000"
    workflow_name: klaviyo_ingest.dig
    mode: append
`;
