import Foundation
import Testing

// Several KBs at once, through the real binary: `--kb` repeated and `.attach FILE [as NAME]`
// put a user's collections beside the article's; `.detach` takes them away; `.load article`
// returns to the built-in KB.

@Suite("several KBs") struct AttachTests {
    let scratch: Scratch
    let shipments: String
    init() throws {
        scratch = try Scratch()
        shipments = try scratch.write("shipments.csv", "id,topic,count,unit\ns1,containers,12000,containers\ns2,artillery shells,2000000,shells\n")
    }

    @Test func kbRepeatedPutsACSVBesideTheArticle() {
        let r = kbq(["--kb", "article", "--kb", shipments, "-e", #"shipments where topic = "containers" select id"#,
                     "-e", #"estimates where topic = "containers" select source"#], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("s1"))
        #expect(r.output.contains("U.S. intelligence"))
        // Alone, --kb still replaces the article KB.
        let alone = kbq(["--kb", shipments, "-e", "estimates"], scratch: scratch)
        #expect(alone.status == 1)
        #expect(alone.error.contains("unknown collection 'estimates'"))
    }

    @Test func aClashIsAClearError() {
        let r = kbq(["--kb", "article", "--kb", shipments, "--kb", shipments, "-e", "shipments"], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("'shipments' is already attached"))
        #expect(r.error.contains(".attach FILE as NAME"))
        #expect(r.output.isEmpty)
    }

    @Test func attachAsNameAndDetach() throws {
        let script = try scratch.write("s.kbq", """
            .attach \(shipments) as mine
            .attach \(shipments)
            mine select id, count
            shipments where count > 1e6 select id
            estimates where unit = "containers" select id
            .detach mine
            shipments select id

            """)
        let r = kbq([script], scratch: scratch)
        #expect(r.status == 0, "\(r.error)")
        // s2 in mine, in shipments (count over a million), and in shipments after the detach.
        #expect(r.output.components(separatedBy: "s2").count == 4)
        #expect(r.output.contains("e3"))
        // After .detach mine, mine is gone and shipments stays.
        let gone = try scratch.write("t.kbq", ".attach \(shipments) as mine\n.detach mine\nmine\n")
        let g = kbq([gone], scratch: scratch)
        #expect(g.status == 1)
        #expect(g.error.contains("unknown collection 'mine'"))
    }

    @Test func tabCompletesWhatDetachTakesAndTheCollectionsOfAList() throws {
        let kbq = try TerminalSession(scratch: scratch)
        try kbq.expect("kbq> ")
        kbq.send(".attach \(shipments) as mine\r")
        try kbq.expect("kbq> ")
        // .detach takes what .attach added: its labels, not file names.
        kbq.send(".detach m\t")
        try kbq.expect(".detach mine ")
        kbq.send("\r")
        try kbq.expect("detached mine")
        // The built-in KB is a name .load takes beside the files.
        kbq.send(".load artic\t")
        try kbq.expect(".load article ")
        kbq.send("\u{03}")
        // After a comma, the collections not listed yet.
        kbq.send("claims, est\t")
        try kbq.expect("claims, estimates ")
        kbq.send("where hedge < stated aggregate count()\r")
        try kbq.expect("20")
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func detachOfNothingAndLoadArticle() throws {
        let bad = try scratch.write("u.kbq", ".attach \(shipments) as mine\n.detach mien\n")
        let r = kbq([bad], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("nothing is attached as 'mien'"))
        #expect(r.error.contains("did you mean 'mine'"))
        let back = try scratch.write("v.kbq", ".load \(shipments)\nshipments select id\n.load article\nestimates where topic = \"containers\" select id\n")
        let b = kbq([back], scratch: scratch)
        #expect(b.status == 0, "\(b.error)")
        #expect(b.output.contains("e3"))
    }

    @Test func aCollectionNameTakenIsRefused() throws {
        // Attached as "estimates", the CSV's collection would shadow the article's.
        let s = try scratch.write("x.kbq", ".attach \(shipments) as estimates\n")
        let r = kbq([s], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("already has a collection called 'estimates'"))
    }

    @Test func badNamesAreRefused() throws {
        let s = try scratch.write("w.kbq", ".attach \(shipments) as 2bad\n")
        let r = kbq([s], scratch: scratch)
        #expect(r.status == 2)
        #expect(r.error.contains("'2bad' cannot name collections"))
    }
}
