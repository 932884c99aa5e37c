/// `kbq push …`, `kbq export …`, `kbq --db …` and `kbq --sql …` are served by kbq-db, the program beside
/// kbq that links PostgreSQL's client. kbq itself stays one static executable that loads no
/// database client: its start-up on the article KB is not charged for a feature it does not
/// use, and this check costs a comparison per argument.
enum DatabaseCommands {
    /// Whether the command line asks for the database side.
    static func asked(_ arguments: [String]) -> Bool {
        if arguments.first == "push" || arguments.first == "export" { return true }
        for a in arguments {
            if a == "--" { return false }
            if a == "--db" || a.hasPrefix("--db=") || a == "--sql" || a == "--dialect" || a.hasPrefix("--dialect=") { return true }
        }
        return false
    }
}
