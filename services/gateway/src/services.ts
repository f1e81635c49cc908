import { artifactService } from '@mast/artifact';
import {
  gatewayClusterConfig,
  graphqlConfig,
  httpConfig,
  type LoadConfigOptions,
  loadConfig,
  redisConfig,
  restRoutes,
  type ServicesConfig,
  serviceConfigFragments,
} from '@mast/common';
import { deployService } from '@mast/deploy';
import { registryService } from '@mast/registry';
import { trackingService } from '@mast/tracking';
import type { AllInOneConfig } from './all-in-one.js';

/**
 * Every Mast service, in the order they are built and migrated. The all-in-one server, the cluster
 * gateway (REST routes, subgraph URLs), `mast db upgrade` and each service's standalone process
 * iterate this list: adding a service is its descriptor plus one entry here.
 */
export const SERVICES = [trackingService, artifactService, registryService, deployService] as const;

/** The settings the services read, together. */
export type ServicesSettings = ServicesConfig<typeof SERVICES>;

/** What the all-in-one server reads: HTTP, GraphQL, Redis and every service's fragments. */
export const ALL_IN_ONE_CONFIG = [
  httpConfig,
  ...serviceConfigFragments(SERVICES),
  graphqlConfig,
  redisConfig,
];

/** What the gateway as its own process reads (cluster mode, `main.ts`). */
export const GATEWAY_CONFIG = [httpConfig, graphqlConfig, gatewayClusterConfig] as const;

/**
 * The all-in-one server's configuration from an environment (every service's fragments, which
 * `loadConfig(env)` alone does not know): what `buildAllInOne` takes.
 */
export function loadAllInOneConfig(
  env: Record<string, string | undefined>,
  options?: LoadConfigOptions,
): AllInOneConfig {
  return loadConfig(env, ALL_IN_ONE_CONFIG, options) as AllInOneConfig;
}

/** Which service owns which REST path (longest prefix wins), from the descriptors. */
export const SERVICE_REST_ROUTES = restRoutes(SERVICES);
