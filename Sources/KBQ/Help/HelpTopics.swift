/// A topic of help on the language (`.help TOPIC` in the REPL, hover in an editor): a clause,
/// statement or function, its syntax and examples. The examples
/// run against the article KB in the tests, so this text cannot drift from the language.
public struct HelpTopic: Sendable, Hashable {
    /// The words that name the topic (`sort`, `sort by`); the first is its title.
    public let names: [String]
    /// The syntax, its forms separated by two spaces.
    public let syntax: String
    /// What it does, in a paragraph.
    public let text: String
    /// Queries that show it, each run against the article KB by the tests.
    public let examples: [String]

    /// Every topic, in the order `.help` lists them.
    public static let all: [HelpTopic] = [
        HelpTopic(names: ["where"], syntax: "where [maybe] CONDITION",
                  text: """
                  Keeps the rows for which the condition is true. Comparisons with an interval value \
                  ("over 16,500") can be true, false or maybe: `where maybe` keeps the maybes too.
                  """,
                  examples: ["estimates where topic = \"containers\"",
                             "claims where hedge >= stated and text contains \"treaty\""]),
        HelpTopic(names: ["select"], syntax: "select EXPR [as NAME], …",
                  text: "Chooses and computes the columns; paths follow references (source.name).",
                  examples: ["estimates select topic, value, source.name as source"]),
        HelpTopic(names: ["sort", "sort by"], syntax: "sort by EXPR [asc|desc], …",
                  text: "Orders the rows by one or more keys, ascending unless desc.",
                  examples: ["events sort by date desc"]),
        HelpTopic(names: ["limit", "offset"], syntax: "limit N [offset M]",
                  text: "Keeps the first N rows; with offset M, the first N after skipping M (limit 10 offset 20 keeps rows 21 to 30).",
                  examples: ["sentences limit 3", "sentences limit 3 offset 54"]),
        HelpTopic(names: ["group", "group by", "aggregate"], syntax: "group by EXPR, … [aggregate FUNCTION(…) [as NAME], …]",
                  text: """
                  One row per group; aggregate computes count(), sum, avg, min, max or spread over each \
                  group. `aggregate` alone summarises all rows. Values in different units are never added \
                  up: group by unit, or keep one unit with where. A sum of intervals is an interval \
                  (over 16,500 and 13,000 sum to over 29,500); sum(stated(value)) adds the numbers as written.
                  """,
                  examples: ["claims group by hedge aggregate count()", "estimates where unit = \"containers\" aggregate count(), max(value)"]),
        HelpTopic(names: ["compare"], syntax: "compare FIELD [on MEASURE]",
                  text: """
                  Sets the values of each group side by side, with min, max, spread, ratio and relative \
                  spread. MEASURE defaults to the collection's measure; rows in different units are kept apart.
                  """,
                  examples: ["estimates where topic = \"containers\" compare source"]),
        HelpTopic(names: ["cite"], syntax: "cite",
                  text: "Adds each row's supporting sentence from the article.",
                  examples: ["estimates where unit = \"shells\" cite"]),
        HelpTopic(names: ["timeline"], syntax: "timeline [DATE-FIELD]",
                  text: "Draws the rows along a time line, oldest first.",
                  examples: ["events where date >= 2024-06 sort by date timeline"]),
        HelpTopic(names: ["chart"], syntax: "chart [LABEL [on MEASURE]]",
                  text: "Draws a bar chart of the measure under the table.",
                  examples: ["estimates where unit = \"containers\" chart source on value"]),
        HelpTopic(names: ["follow"], syntax: "follow REFERENCE",
                  text: """
                  Goes to the rows a reference points at: each row becomes the row its reference names \
                  (each once, in the order first reached), and the clauses after it read that collection. \
                  Rows whose reference is empty lead nowhere.
                  """,
                  examples: ["relations where relation = \"signed\" follow from select name, kind",
                             "claims where hedge = claimed follow source.entity"]),
        HelpTopic(names: ["referrers"], syntax: "referrers  referrers COLLECTION  referrers COLLECTION.FIELD",
                  text: """
                  The rows that refer to the rows flowing in. With COLLECTION.FIELD (or COLLECTION, any of \
                  its fields that refers here), the rows of that collection, as stored, so every clause \
                  reads them; alone, every row of every collection that refers to one of these rows, as \
                  describe lists them, with refers_to naming which. With follow, a multi-hop question \
                  fits in one statement.
                  """,
                  examples: ["sources where name = \"South Korea\" referrers",
                             "entities where name = \"Treaty on the Comprehensive Strategic Partnership\" referrers relations.to where relation = \"signed\" follow from"]),
        HelpTopic(names: ["let"], syntax: "let NAME = QUERY",
                  text: "Names a result; later statements query it like a collection.",
                  examples: ["let shipments = estimates where topic in [\"containers\", \"artillery shells\"]"]),
        HelpTopic(names: ["describe"], syntax: "describe \"NAME\"",
                  text: "Everything the KB says about an entity, found by its name or an alias: the rows that refer to it, and the rows that refer to those (the claims a person is the source of); for a part of something (a relation \"part of\": a treaty's article), what refers to the whole too, marked \"via KIND\". A source that is no entity (\"U.S. intelligence\") is described as well: the rows it is the source of.",
                  examples: ["describe \"Pyongyang\"", "describe \"Zelensky\"", "describe \"Article 4\""]),
        HelpTopic(names: ["search"], syntax: "search \"WORDS\"",
                  text: """
                  The article's sentences that contain every one of the words, anywhere and in any case \
                  (search "deterrent nuclear" finds "nuclear deterrent"); a part in double quotes is one \
                  exact phrase (search '"Article 4" treaty'). Each match is marked «like this».
                  """,
                  examples: ["search \"Kursk\"", "search \"deterrent nuclear\"", "search '\"military personnel\" Russia'"]),
        HelpTopic(names: ["union", ","], syntax: "COLLECTION, COLLECTION, … CLAUSE…",
                  text: "Several collections one after another: a collection column, then the fields they all share with one type; clauses apply to all the rows.",
                  examples: ["claims, estimates, events where hedge < stated select collection, id, source, hedge"]),
        HelpTopic(names: ["conflicts"], syntax: "conflicts",
                  text: "Every topic where sources disagree, the largest relative spread first.",
                  examples: ["conflicts"]),
        HelpTopic(names: ["explain"], syntax: "explain QUERY",
                  text: "Shows the checked plan of a query instead of running it.",
                  examples: ["explain estimates where value > 1000"]),
        HelpTopic(names: ["hedges", "hedge"], syntax: "hedge >= WORD  hedge in [\"WORD\", …]",
                  text: """
                  Each row carries the hedge the article uses for it. Hedges compare by strength, so \
                  `hedge >= stated` keeps only firm statements.
                  """,
                  examples: ["claims where hedge >= stated select source.name, text", "claims group by hedge aggregate count()"]),
        HelpTopic(names: ["expressions", "expression", "operators", "functions", "literals"],
                  syntax: "= != < <= > >=  and or not  [not] in [..]  [not] contains  [not] matches  [not] between … and …  is [not] null  is [not] relative  is [not] exact  + - * / %",
                  text: """
                  Literals: "strings", 16500, 16_500, 3e6, 76.6%, dates 2024, 2024-06, 2024-06-19, true, \
                  false, null, [lists], and $name parameters (kbq --param name=value). Functions: lower, \
                  upper, trim, len, substr, replace, concat, abs, round, floor, ceil, year, month, day, \
                  coalesce, low, high, qualifier, stated, text. `date is relative` holds for a date stated \
                  from another ("days after 2024-10-13"): its day, month and year are unknown, and a \
                  comparison with it is maybe unless its anchor decides. `x is exact` holds for a number \
                  with no qualifier and a date given to the day. Comments start with #.
                  """,
                  examples: ["estimates where value between 10_000 and 20_000 and source.name contains \"intelligence\"",
                             "claims select concat(source.name, \": \", substr(text, 1, 40)) as said limit 3"]),
    ]

    /// The topic called `name` (any case), if any.
    public static func find(_ name: String) -> HelpTopic? {
        let key = name.lowercased()
        return all.first { $0.names.contains(key) }
    }
}
