import { type Kysely, sql } from 'kysely';

/**
 * Deployment targets, rollout policies, deployments and their state transitions (issue 12). Plain SQL
 * that PostgreSQL 15 and PGlite both accept. Times are milliseconds since the epoch, as the registry's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of SCHEMA.split(/;\s*\n/)) {
    if (statement.trim()) await sql.raw(statement).execute(db);
  }
}

const SCHEMA = `
    create table deploy.targets (
      name text primary key,
      -- KUBERNETES or LOCAL
      kind text not null,
      namespace text,
      -- where built images are pushed, e.g. registry.example.com/models
      image_repository text,
      -- a KServe InferenceService instead of a Deployment + Service
      kserve boolean not null default false,
      -- name of a kubernetes.io/dockerconfigjson Secret holding the registry credentials
      pull_secret text,
      description text,
      creation_timestamp bigint not null,
      last_updated_timestamp bigint not null
    );
    create table deploy.rollout_policies (
      name text primary key,
      model_name text not null,
      -- STAGE or ALIAS, and the stage (Production) or alias (champion) that triggers a rollout
      trigger_kind text not null,
      trigger_value text not null,
      target_name text not null references deploy.targets (name),
      replicas integer not null,
      -- JSON: {cpu_request, cpu_limit, memory_request, memory_limit}, Kubernetes quantities
      resources text not null,
      -- JSON: {min_replicas, max_replicas, target_cpu_utilization} or null
      autoscaling text,
      -- ROLLING or CANARY
      strategy text not null,
      -- JSON: {percent, health_window_seconds} for CANARY
      canary text,
      paused boolean not null default false,
      creation_timestamp bigint not null,
      last_updated_timestamp bigint not null
    );
    create index rollout_policies_by_model on deploy.rollout_policies (model_name);
    create table deploy.deployments (
      deployment_id uuid primary key,
      policy_name text references deploy.rollout_policies (name) on delete set null,
      target_name text not null references deploy.targets (name),
      model_name text not null,
      model_version text not null,
      -- what triggered it: 'stage Production', 'alias champion', 'manual', 'rollback of <id>'
      cause text not null,
      -- the registry event it was made for: a redelivered event finds it instead of deploying twice
      source_event_id uuid,
      state text not null,
      -- repository@sha256:... once built
      image text,
      -- where it serves once LIVE: http://127.0.0.1:PORT (LOCAL), http://NAME.NAMESPACE.svc:PORT (KUBERNETES)
      endpoint text,
      -- the rollout request applied (JSON): re-applied as the last-good spec when a later rollout fails
      spec text,
      -- the deployment that was LIVE on the target when this one was made (the rollback's spec)
      previous_deployment_id uuid,
      creation_timestamp bigint not null,
      last_updated_timestamp bigint not null,
      unique (policy_name, source_event_id)
    );
    create index deployments_by_version on deploy.deployments (model_name, model_version, creation_timestamp);
    create index deployments_by_target on deploy.deployments (target_name, model_name, creation_timestamp);
    create index deployments_by_state on deploy.deployments (state) where state in ('PENDING', 'BUILDING', 'BUILT', 'ROLLING_OUT', 'FAILED');
    create table deploy.deployment_transitions (
      deployment_id uuid not null references deploy.deployments on delete cascade,
      seq integer not null,
      from_state text,
      to_state text not null,
      timestamp bigint not null,
      reason text not null,
      primary key (deployment_id, seq)
    )
`;

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table deploy.deployment_transitions`.execute(db);
  await sql`drop table deploy.deployments`.execute(db);
  await sql`drop table deploy.rollout_policies`.execute(db);
  await sql`drop table deploy.targets`.execute(db);
}
