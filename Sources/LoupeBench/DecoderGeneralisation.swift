import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Whether the demo decoder generalises rather than copies (`--decoder-generalisation N`): N counting
/// queries drawn at random, each decoded as `loupe decode --hook blocks.3.hook_resid_post --position -1
/// --prepend-bos --epsilon 0.45 --samples 64` does, next to what the demo model itself allows.
///
/// - Queries (seed 1): string length uniform in 5…12, count uniform in 1…min(4, ⌈L/2⌉), target and the
///   other letters uniform, as `CountingTask` draws them. A query *passes* when at least half of its 64
///   samples lie inside ε, at least nine in ten of those carry the query's count (`ToyTaskVariables` at
///   the matched position), and at least half of those have another letter string.
/// - Exact preimage (seed 2): 40,000 distinct counting prompts, lengths 5…12, counts 0…⌈L/2⌉ (count 0,
///   which the demo never trained on, included: its prompts are inputs like any other). For each query,
///   the prompts whose `:` row lies within ε, and the share of them with the query's count: when that
///   share is under 0.9, or fewer than 10 prompts lie within ε, the activation itself does not pin the
///   count down at this ε, and no faithful decoder can pass the count criterion there.
struct DecoderGeneralisation {
    /// One query and how its decode and its exact preimage came out.
    struct Row {
        var text: String
        var inside, counted, otherStrings: Int
        /// Prompts of the exact-preimage set within ε, and how many of them carry the query's count.
        var preimageInside, preimageCounted: Int

        var passes: Bool { inside * 2 >= 64 && counted * 10 >= inside * 9 && otherStrings * 2 >= counted }
        /// Whether the query's ε-ball, among real prompts, holds enough of them and nine in ten carry its count.
        var countIsDetermined: Bool { preimageInside >= 10 && preimageCounted * 10 >= preimageInside * 9 }
    }

    let queries: Int
    let epsilon = 0.45
    let preimagePrompts = 40_000

    func run(demo: URL) throws -> [Row] {
        let probed = try GPT2Model.load(directory: demo.appendingPathComponent("model"))
        let decoder = try InversionDecoder.load(directory: demo.appendingPathComponent("decoder"))
        let world = ToyWorld()
        let site = try PreimageSite(hook: "blocks.\(probed.config.layers - 1).hook_resid_post", head: nil, model: probed)
        var settings = DecodeSettings()
        settings.epsilon = epsilon

        var promptRng = SeededRandom(seed: 2)
        var seen = Set<[Int]>()
        while seen.count < preimagePrompts {
            seen.insert(Self.prompt(world, lengths: 5...12, counts: { 0...($0 + 1) / 2 }, &promptRng).tokens)
        }
        let prompts = seen.sorted { $0.lexicographicallyPrecedes($1) }
        progress("exact preimage: running \(prompts.count) counting prompts through the demo model…")
        let rows = try Self.readoutRows(prompts, site: site, model: probed)

        var queryRng = SeededRandom(seed: 1)
        return try (0..<queries).map { index in
            let (tokens, count) = Self.prompt(world, lengths: 5...12, counts: { 1...min(4, ($0 + 1) / 2) }, &queryRng)
            let query = try PreimageQuery(model: probed, site: site, tokens: tokens, position: -1, contextLength: probed.config.contextLength)
            let decoded = try DecodedNeighbourhood.run(decoder: decoder, probed: probed, tokenizer: world.tokenizer, query: query, settings: settings)
            let inside = decoded.samples.filter { $0.distance <= epsilon }
            let counted = inside.filter { ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition)["count"] == String(count) }
            let bar = world.tokenizer.encode("|")[0]
            let letters = Self.letterString(tokens, bar: bar)
            let otherStrings = counted.filter { Self.letterString($0.tokens, bar: bar) != letters }

            let norm = query.activation.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            var preimageInside = 0
            var preimageCounted = 0
            for (prompt, row) in zip(prompts, rows) {
                var squared = 0.0
                for (a, b) in zip(query.activation, row) { squared += (Double(a) - Double(b)) * (Double(a) - Double(b)) }
                guard squared.squareRoot() / norm <= epsilon else { continue }
                preimageInside += 1
                if ToyTaskVariables.variables(of: prompt)["count"] == String(count) { preimageCounted += 1 }
            }
            let row = Row(
                text: world.render(Array(tokens.dropFirst())), inside: inside.count, counted: counted.count,
                otherStrings: otherStrings.count, preimageInside: preimageInside, preimageCounted: preimageCounted)
            progress("query \(index + 1)/\(queries) \(row.text): \(row.inside) inside, \(row.counted) with its count, \(row.otherStrings) of those another string; preimage \(row.preimageCounted) of \(row.preimageInside) with its count")
            return row
        }
    }

    /// A counting prompt after `<|endoftext|>` (`CountingTask`'s layout) and its count.
    static func prompt(
        _ world: ToyWorld, lengths: ClosedRange<Int>, counts: (Int) -> ClosedRange<Int>, _ rng: inout SeededRandom
    ) -> (tokens: [Int], count: Int) {
        let letters = world.tokenizer.encode("b c d e f g")
        let length = lengths.lowerBound + rng.nextInt(below: lengths.count)
        let range = counts(length)
        let count = range.lowerBound + rng.nextInt(below: range.count)
        let target = letters[rng.nextInt(below: letters.count)]
        var slots = Array(0..<length)
        for index in 0..<count { slots.swapAt(index, index + rng.nextInt(below: length - index)) }
        let chosen = Set(slots.prefix(count))
        let others = letters.filter { $0 != target }
        let string = (0..<length).map { chosen.contains($0) ? target : others[rng.nextInt(below: others.count)] }
        return ([world.endOfTextID] + string + world.tokenizer.encode("|") + [target] + world.tokenizer.encode(":"), count)
    }

    /// The letters of a prompt: from after `<|endoftext|>` to the first `|`.
    static func letterString(_ tokens: [Int], bar: Int) -> [Int] {
        Array(tokens.drop { $0 == 0 }.prefix { $0 != bar })
    }

    /// The site's row at the last position of each prompt, prompts of one length run together.
    static func readoutRows(_ prompts: [[Int]], site: PreimageSite, model: GPT2Model) throws -> [[Float]] {
        var rows = [[Float]](repeating: [], count: prompts.count)
        let byLength = Dictionary(grouping: prompts.indices, by: { prompts[$0].count })
        for length in byLength.keys.sorted() {
            let members = byLength[length]!
            for start in stride(from: 0, to: members.count, by: 256) {
                let batch = Array(members[start..<min(members.count, start + 256)])
                let result = try model.forward(batch.map { prompts[$0] }, ForwardRequest(cache: [site.hook], computeLogits: false))
                let values = result.cache[site.hook]!.scalars
                for (slot, index) in batch.enumerated() {
                    let base = (slot * length + length - 1) * site.rowWidth
                    rows[index] = Array(values[(base + site.columns.lowerBound)..<(base + site.columns.upperBound)])
                }
            }
        }
        return rows
    }
}
