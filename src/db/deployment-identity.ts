/**
 * DEPLOYMENT_ID's default: a name derived from the database, the same for every instance on
 * one database and different for another database — its server's system identifier (set when
 * the cluster was created, kept by backups and replicas) and the database's name. Redis keys
 * carry it, so two deployments sharing one Redis never share entries.
 */
import type { TrustedSql } from './trusted-sql.ts'

export async function databaseIdentity (sql: TrustedSql): Promise<string> {
  const [row] = await sql<{ system: string, name: string }>`select system_identifier::text as system, current_database() as name from pg_control_system()`
  return `${row.system}.${row.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64)
}
