/**
 * What the ClickHouse store needs to know, as the integrator maps configuration onto it. The
 * password is only ever handed to the client: store errors and health() never contain it.
 */
export interface ClickHouseCluster {
  /** The cluster name in the servers' `remote_servers` (the Distributed table reads it). */
  name: string;
  /** HTTP URL of every shard, where the store creates (and migrates) the local table itself. */
  shards: string[];
}

export interface ClickHouseStoreOptions {
  /** HTTP(S) URL of the server inserts and queries go to (any shard, with a cluster). */
  url: string;
  database: string;
  username: string;
  password: string | null;
  /** Flow table name; default `flows` (with a cluster, `flows_local` on each shard). */
  table?: string;
  /** null: one server, a MergeTree table. Else a Distributed table over one local table per shard. */
  cluster: ClickHouseCluster | null;
  /** Per request, ms; default 60 s. */
  requestTimeoutMs?: number;
}

export interface ResolvedClickHouseOptions {
  url: string;
  database: string;
  username: string;
  password: string;
  /** The table inserts and queries name (the Distributed one with a cluster). */
  table: string;
  /** The MergeTree table holding the rows (same as `table` without a cluster). */
  localTable: string;
  cluster: ClickHouseCluster | null;
  requestTimeoutMs: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Names go into DDL unquoted, so only plain identifiers are accepted. */
function identifier(v: string, what: string): string {
  if (!IDENT.test(v)) throw new RangeError(`ClickHouse ${what} "${v}" must be letters, digits and _`);
  return v;
}

export function resolveClickHouseOptions(o: ClickHouseStoreOptions): ResolvedClickHouseOptions {
  const table = identifier(o.table ?? 'flows', 'table');
  if (o.cluster !== null) {
    identifier(o.cluster.name, 'cluster name');
    if (o.cluster.shards.length === 0)
      throw new RangeError('ClickHouse cluster needs at least one shard URL');
  }
  return {
    url: o.url,
    database: identifier(o.database, 'database'),
    username: o.username,
    password: o.password ?? '',
    table,
    localTable: o.cluster === null ? table : `${table}_local`,
    cluster: o.cluster,
    requestTimeoutMs: o.requestTimeoutMs ?? 60_000,
  };
}
