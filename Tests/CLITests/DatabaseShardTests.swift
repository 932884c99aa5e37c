import Foundation
import Testing

// Several PostgreSQL nodes with what Debian has: the coordinator's `claims` becomes a
// hash-partitioned table whose partitions are postgres_fdw foreign tables on two more
// servers (KBQ_TEST_PG_SHARDS; .ci/run starts them), and `kbq --db` on the coordinator must
// still answer as the file does. docs/ENGINES.md gives the same recipe.

let testShardServers = (ProcessInfo.processInfo.environment["KBQ_TEST_PG_SHARDS"] ?? "").split(separator: " ").map(String.init)

@Suite(.enabled(if: databaseTestsEnabled, "needs KBQ_TEST_PG and KBQ_TEST_PG_SHARDS (PostgreSQL servers; .ci/run starts them)"))
struct DatabaseShardTests {
    @Test func aCollectionShardedOverForeignServersGivesTheFilesOutput() throws {
        guard testShardServers.count >= 2 else {
            throw DatabaseTestError("KBQ_TEST_PG_SHARDS names \(testShardServers.count) servers; the sharding test needs two (.ci/run starts them)")
        }
        let scratch = try Scratch()
        let coordinator = try TestDatabase()
        let shards = try testShardServers.prefix(2).map { try TestDatabase(server: $0) }
        // Each shard gets the tables exactly as kbq makes them (indexes and all), then only
        // the coordinator's rows of claims.
        for db in [coordinator] + shards {
            let push = kbq(["push", db.url], scratch: scratch)
            #expect(push.status == 0, "\(push.error)")
        }
        for shard in shards { _ = try shard.query("TRUNCATE claims") }
        var sql = ["CREATE EXTENSION IF NOT EXISTS postgres_fdw"]
        for (i, shard) in shards.enumerated() {
            guard let parts = URLComponents(string: shard.url), let host = parts.host, let port = parts.port else {
                throw DatabaseTestError("not a URL with a host and port: \(shard.url)")
            }
            let database = parts.path.dropFirst()
            sql.append("CREATE SERVER shard\(i) FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '\(host)', port '\(port)', dbname '\(database)')")
            sql.append("CREATE USER MAPPING FOR CURRENT_USER SERVER shard\(i) OPTIONS (user '\(parts.user ?? "kbq")')")
        }
        sql += ["ALTER TABLE claims RENAME TO claims_pushed",
                "CREATE TABLE claims (LIKE claims_pushed) PARTITION BY HASH (kbq_row)"]
        for i in shards.indices {
            sql.append("CREATE FOREIGN TABLE claims_\(i) PARTITION OF claims FOR VALUES WITH (MODULUS \(shards.count), REMAINDER \(i)) SERVER shard\(i) OPTIONS (table_name 'claims')")
        }
        sql += ["INSERT INTO claims SELECT * FROM claims_pushed", "DROP TABLE claims_pushed", "ANALYZE claims"]
        _ = try coordinator.query(sql.joined(separator: ";\n"))
        // The rows are on the shards, and each holds some.
        let total = try coordinator.query("SELECT count(*) FROM claims")
        let held = try shards.map { try $0.query("SELECT count(*) FROM claims") }
        #expect(held.allSatisfy { (Int($0) ?? 0) > 0 }, "\(held)")
        #expect(held.compactMap { Int($0) }.reduce(0, +) == Int(total), "\(held) of \(total)")
        #expect(try coordinator.query("SELECT relkind FROM pg_class WHERE relname = 'claims'") == "p")

        let queries = DatabaseQueryTests.corpus.filter { $0.query.hasPrefix("claims") }
        #expect(queries.count >= 10)
        for (query, parameters) in queries {
            let file = kbq(parameters + ["-e", query], scratch: scratch)
            let sharded = kbq(parameters + ["--db", coordinator.url, "-e", query], scratch: scratch)
            #expect(sharded.status == file.status, "\(query): \(sharded.error)")
            #expect(sharded.error == file.error, "\(query)")
            #expect(sharded.output == file.output, "\(query):\n\(difference(file.output, sharded.output))")
        }
        // Statements kbq finishes over the rows it reads (cite, compare, conflicts …) read
        // the sharded claims too.
        for name in ["05-what-each-source-claims.kbq", "06-hedged-claims.kbq", "12-conflicts.kbq", "23-what-a-person-said.kbq"] {
            let path = "Examples/" + name
            let file = kbq([path], scratch: scratch, directory: packageRoot.path)
            let sharded = kbq(["--db", coordinator.url, path], scratch: scratch, directory: packageRoot.path)
            #expect(sharded.status == file.status, "\(name): \(sharded.error)")
            #expect(sharded.output == file.output, "\(name):\n\(difference(file.output, sharded.output))")
        }
    }
}
