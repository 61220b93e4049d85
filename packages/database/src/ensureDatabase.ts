import pg from "pg";

/**
 * A fresh machine has the server but not our database: create it rather than fail. Returns true
 * when this call created it.
 */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  url.search = "";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: unknown) => {
      // another process created it between our check and our CREATE
      if ((error as { code?: string }).code !== "42P04") throw error;
    });
    return true;
  } finally {
    await client.end();
  }
}

