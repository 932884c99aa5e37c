// A KB built in code is assembled as the same document a KB file holds (docs/KB-FORMAT.md),
// already parsed, and handed to the file loader's checks: a built KB is validated exactly
// like a loaded one, and its problems carry the same JSON paths.

extension KnowledgeBase {
    /// Builds a knowledge base in code, for hosts whose facts come from somewhere other
    /// than a KB file: declare collections, add rows, then ``build()``.
    ///
    /// ```swift
    /// var b = KnowledgeBase.Builder(name: "shipments")
    /// b.addCollection("sources", fields: [("id", .string), ("name", .string)], key: "id")
    /// b.addCollection("estimates",
    ///                 fields: [("id", .string), ("value", .number()), ("source", .ref("sources"))],
    ///                 key: "id", measure: "value")
    /// b.addRow(to: "sources", ["id": .string("us"), "name": .string("U.S. intelligence")])
    /// b.addRow(to: "estimates", ["id": .string("e1"), "value": .number(16_500), "source": .string("us")])
    /// let kb = try b.build()
    /// ```
    ///
    /// Nothing is checked until ``build()``, which checks everything the file loader checks
    /// (types, keys, references, hedge words, qualifiers) and throws a ``KBLoadError`` listing
    /// every problem with its path, such as `$.collections.estimates.rows[3].value`. Adding a
    /// row never fails on the spot, so rows can be streamed in without a `try` each.
    ///
    /// A builder is a value: copying it copies what was added so far.
    public struct Builder: Sendable {
        /// The KB's short name (``KnowledgeBase/name``); also the file name in errors.
        public var name: String
        /// A human title, if any.
        public var title: String?
        /// The hedge words, strongest first.
        public var hedges: HedgeScale

        private var drafts: [Draft] = []
        private var byName: [String: Int] = [:]
        /// Problems only the builder can see (rows for a collection never declared, rows
        /// of the wrong length); reported by ``build()`` together with the loader's.
        private var problems: [KBProblem] = []
        /// Collections that rows were added to without being declared (reported once each).
        private var undeclared: Set<String> = []

        /// One declared collection and its rows, kept as the document's parsed form.
        private struct Draft: Sendable {
            let name: String
            let fieldNames: [String]
            let fieldIndex: [String: Int]
            let definition: [(String, JSON)]
            let path: String
            var rows: [JSON] = []
        }

        /// Starts an empty KB.
        ///
        /// - Parameters:
        ///   - name: The KB's short name.
        ///   - title: A human title.
        ///   - hedges: The hedge scale rows' `hedge` fields use; the standard one by default.
        public init(name: String, title: String? = nil, hedges: HedgeScale = .standard) {
            self.name = name
            self.title = title
            self.hedges = hedges
        }

        /// How an interval quantity field finds its bounds: the string field holding its
        /// qualifier word ("over", "about", "between" …) and the number field holding the
        /// upper bound of "between".
        public struct Interval: Sendable, Hashable {
            /// The string field with the qualifier word.
            public var qualifier: String?
            /// The number field with the upper bound of "between".
            public var upper: String?

            /// Names the fields an interval quantity reads its bounds from.
            public init(qualifier: String?, upper: String? = nil) {
                self.qualifier = qualifier
                self.upper = upper
            }
        }

        /// Declares a collection. Its fields keep the given order, which is the column order
        /// of query results.
        ///
        /// - Parameters:
        ///   - name: The collection's name: a letter or `_`, then letters, digits or `_`.
        ///   - fields: Each field's name and type. A reference is `.ref("collection")`;
        ///     an interval quantity is `.number(qualified: true)` together with an entry in
        ///     `intervals`.
        ///   - key: The field whose values are unique and non-null; needed for the
        ///     collection to be referenced.
        ///   - measure: The numeric field `compare` and charts use by default.
        ///   - intervals: For interval quantity fields, by field name, where their bounds
        ///     come from.
        public mutating func addCollection(_ name: String, fields: [(name: String, type: FieldType)],
                                           key: String? = nil, measure: String? = nil,
                                           intervals: [String: Interval] = [:]) {
            let path = "$.collections.\(name)"
            if byName[name] != nil {
                problems.append(KBProblem(.duplicateName, path: path, message: "collection '\(name)' is declared twice"))
                return
            }
            var fieldDefs: [(String, JSON)] = []
            var index: [String: Int] = [:]
            for (i, f) in fields.enumerated() {
                if index[f.name] == nil { index[f.name] = i }
                fieldDefs.append((f.name, Builder.typeDocument(f.type, interval: intervals[f.name])))
                if f.type == .number(qualified: true) && intervals[f.name]?.qualifier == nil && intervals[f.name]?.upper == nil {
                    problems.append(KBProblem(.missing, path: "\(path).fields.\(f.name)",
                                              message: "an interval quantity needs its qualifier field: pass intervals: [\"\(f.name)\": .init(qualifier: FIELD)]"))
                }
            }
            for field in intervals.keys.sorted() where index[field] == nil {
                problems.append(KBProblem(.unknownField, path: "\(path).fields.\(field)", message: "intervals names '\(field)', which is not a field of '\(name)'"))
            }
            var definition: [(String, JSON)] = [("fields", .object(fieldDefs))]
            if let key { definition.append(("key", .string(key))) }
            if let measure { definition.append(("measure", .string(measure))) }
            byName[name] = drafts.count
            drafts.append(Draft(name: name, fieldNames: fields.map(\.name), fieldIndex: index, definition: definition, path: path))
        }

        /// Adds a row, giving each field's value by name. Every declared field must be
        /// given (`.null` for no value), and no other.
        ///
        /// Values are read the way a KB file's are: a reference field takes the referenced
        /// row's key (a `.string`, or a ``RowRef``), a hedge field a hedge word, a date
        /// field a ``PartialDate`` (or its text, `"2024-06"`), a percent field the percent
        /// itself (`.percent(76.6)` or `.number(76.6)`). A ``Quantity`` gives its stated
        /// value; its qualifier word belongs in the collection's qualifier field.
        public mutating func addRow(to collection: String, _ values: [String: Value]) {
            guard let d = draftIndex(collection) else { return }
            // Paths are only spelled out when a problem needs one.
            let base = drafts[d].path, r = drafts[d].rows.count
            var members: [(String, JSON)] = []
            members.reserveCapacity(values.count)
            // Declared order first, then any unknown names sorted, so that problems are
            // reported in the same order every time.
            for field in drafts[d].fieldNames {
                if let v = values[field] { members.append((field, document(v, path: "\(base).rows[\(r)].\(field)"))) }
            }
            if values.count > members.count {
                for (k, v) in values.sorted(by: { $0.key < $1.key }) where drafts[d].fieldIndex[k] == nil {
                    members.append((k, document(v, path: "\(base).rows[\(r)].\(k)")))
                }
            }
            drafts[d].rows.append(.object(members))
        }

        /// Adds a row, giving one value per declared field, in the declared order. The
        /// quickest way to add many rows.
        public mutating func addRow(to collection: String, values: [Value]) {
            guard let d = draftIndex(collection) else { return }
            let names = drafts[d].fieldNames
            let base = drafts[d].path, r = drafts[d].rows.count
            if values.count != names.count {
                problems.append(KBProblem(.fieldCount, path: "\(base).rows[\(r)]",
                                          message: "expected \(names.count) values (\(names.joined(separator: ", "))), found \(values.count)"))
            }
            var members: [(String, JSON)] = []
            members.reserveCapacity(names.count)
            for (field, v) in zip(names, values) { members.append((field, document(v, path: "\(base).rows[\(r)].\(field)"))) }
            drafts[d].rows.append(.object(members))
        }

        /// Adds rows given by field name; see ``addRow(to:_:)``.
        public mutating func addRows(to collection: String, _ rows: some Sequence<[String: Value]>) {
            for row in rows { addRow(to: collection, row) }
        }

        /// The names of the collections declared so far, in order.
        public var collectionNames: [String] { drafts.map(\.name) }

        /// The number of rows added to `collection` so far (0 if it was never declared).
        public func rowCount(of collection: String) -> Int {
            byName[collection].map { drafts[$0].rows.count } ?? 0
        }

        /// Checks everything and makes the knowledge base.
        ///
        /// - Throws: ``KBLoadError`` with every problem and its path (at most
        ///   ``KBLoadError/maxProblems`` of them); nothing is half-built.
        public func build() throws(KBLoadError) -> KnowledgeBase {
            var loader = KBLoader(file: name, baseDirectory: nil)
            var loaded: KnowledgeBase?
            var loadProblems: [KBProblem] = []
            var omitted = 0
            do {
                loaded = try loader.load(document: document, name: name)
            } catch {
                loadProblems = error.problems
                omitted = error.omitted
            }
            if problems.isEmpty, let loaded { return loaded }
            var all = problems + loadProblems
            if all.count > KBLoadError.maxProblems {
                omitted += all.count - KBLoadError.maxProblems
                all.removeLast(all.count - KBLoadError.maxProblems)
            }
            throw KBLoadError(file: name, problems: all, omitted: omitted)
        }

        /// The whole KB as its (parsed) JSON document.
        private var document: JSON {
            var top: [(String, JSON)] = [("kbq", .number(1)), ("name", .string(name))]
            if let title { top.append(("title", .string(title))) }
            if hedges != .standard {
                top.append(("hedges", .array(hedges.words.indices.map { i in
                    let aliases = hedges.aliases.filter { $0.value == i }.keys.sorted()
                    if aliases.isEmpty { return .string(hedges.words[i]) }
                    return .object([("word", .string(hedges.words[i])), ("aliases", .array(aliases.map { .string($0) }))])
                })))
            }
            top.append(("collections", .object(drafts.map { d in (d.name, .object(d.definition + [("rows", .array(d.rows))])) })))
            return .object(top)
        }

        private mutating func draftIndex(_ collection: String) -> Int? {
            if let d = byName[collection] { return d }
            // One report per undeclared collection, not one per row.
            if undeclared.insert(collection).inserted {
                let message = "rows added to '\(collection)', which was not declared with addCollection"
                    + (suggest(collection, from: byName.keys).map { "; did you mean '\($0)'?" } ?? "")
                problems.append(KBProblem(.unknownCollection, path: "$.collections.\(collection)", message: message))
            }
            return nil
        }

        /// A field type as a KB document writes it.
        private static func typeDocument(_ t: FieldType, interval: Interval?) -> JSON {
            if let interval, interval.qualifier != nil || interval.upper != nil {
                var members: [(String, JSON)] = [("type", .string(t == .number(qualified: true) ? "number" : t.description))]
                if let q = interval.qualifier { members.append(("qualifier", .string(q))) }
                if let u = interval.upper { members.append(("upper", .string(u))) }
                return .object(members)
            }
            switch t {
            case .ref(let target): return .object([("ref", .string(target))])
            case .list(let element?): return .object([("list", .string(element.description))])
            // A qualified number without its interval is reported by addCollection.
            case .number: return .string("number")
            default: return .string(t.description)
            }
        }

        /// A value as a KB document writes it.
        private mutating func document(_ v: Value, path: @autoclosure () -> String) -> JSON {
            switch v {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .maybe:
                // A query's answer, not a fact: a KB's bool field holds true, false or null.
                problems.append(KBProblem(.typeMismatch, path: path(), message: "expected true, false or null, found maybe (a condition's answer, not a value a KB holds)"))
                return .null
            case .number(let x), .percent(let x): return finite(x, path: path())
            case .quantity(let q): return finite(q.value, path: path())
            case .string(let s): return .string(s)
            case .date(let d): return Builder.dateDocument(d)
            case .hedge(_, let word): return .string(word)
            case .list(let items): return .array(items.map { document($0, path: path()) })
            case .ref(let r): return .string(r.key)
            }
        }

        private mutating func finite(_ x: Double, path: @autoclosure () -> String) -> JSON {
            if x.isFinite { return .number(x) }
            problems.append(KBProblem(.typeMismatch, path: path(), message: "expected a finite number, found \(x)"))
            return .null
        }

        /// A date as a KB document writes it: a string for a point, an object for a span or
        /// a relative date.
        private static func dateDocument(_ d: PartialDate) -> JSON {
            switch d.form {
            case .point:
                return .string(d.description)
            case .span:
                var members: [(String, JSON)] = [("from", .string(PartialDate.format(d.lo, d.precision)))]
                if d.hi != Int32.max { members.append(("to", .string(PartialDate.format(d.hi, d.hiPrecision, end: true)))) }
                return .object(members)
            case .after, .before:
                let unit = ["days", "weeks", "months", "years"][Int(d.unit.rawValue)]
                return .object([(d.form == .after ? "after" : "before", .string(PartialDate.format(d.anchor, d.precision))),
                                ("by", .string(unit))])
            }
        }
    }
}
