import Foundation
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// Reads a circuit task from a JSON Lines file: one prompt pair per line,
/// `{"clean": "...", "corrupted": "...", "answer": " Mary", "wrong_answer": " John"}`; blank lines are skipped.
///
/// Prompts are tokenised as `loupe tokenize` does, with the tokenizer's `<|endoftext|>` first when
/// `prependBOS`. Clean and corrupted must have the same number of tokens, no more than the model's
/// context; `answer` and `wrong_answer`, tokenised alone, must each be exactly one token. Every
/// violation is a `CircuitError.invalidPair` naming the file and the 1-based line.
public enum CircuitTaskFile {
    /// The pairs of the file at `url`, as token ids (`correct = [answer]`, `wrong = [wrong_answer]`).
    public static func load(url: URL, tokenizer: any Tokenizer, prependBOS: Bool, contextLength: Int) throws -> [TaskExample] {
        let path = url.path
        let text: String
        do {
            text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        } catch {
            throw CircuitError.unreadableTaskFile(path: path, reason: (error as NSError).localizedDescription)
        }
        var bos: [Int] = []
        if prependBOS {
            guard let id = tokenizer.id(for: "<|endoftext|>") else {
                throw CircuitError.invalidInput(reason: "--prepend-bos: the tokenizer has no <|endoftext|> token")
            }
            bos = [id]
        }
        var pairs: [TaskExample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let fail = { (reason: String) in CircuitError.invalidPair(path: path, line: index + 1, reason: reason) }
            let object = try JSONObjectReader.parse(
                Data(line.utf8), path: path, error: { key, reason in fail(key.map { "field '\($0)': \(reason)" } ?? reason) })
            func field(_ key: String) throws -> String {
                guard let value = try object.string(key) else { throw fail("missing string field '\(key)'") }
                return value
            }
            let clean = bos + tokenizer.encode(try field("clean"))
            let corrupted = bos + tokenizer.encode(try field("corrupted"))
            guard clean.count > bos.count else { throw fail("the clean prompt has no token") }
            guard clean.count == corrupted.count else {
                throw fail("clean has \(clean.count) tokens, corrupted \(corrupted.count); they must have the same number")
            }
            guard clean.count <= contextLength else {
                throw fail("the prompts have \(clean.count) tokens, more than the model's context of \(contextLength)")
            }
            func answer(_ key: String) throws -> Int {
                let ids = tokenizer.encode(try field(key))
                guard ids.count == 1 else { throw fail("'\(key)' is \(ids.count) tokens, expected exactly 1") }
                return ids[0]
            }
            pairs.append(TaskExample(clean: clean, corrupted: corrupted, correct: [try answer("answer")], wrong: [try answer("wrong_answer")]))
        }
        guard !pairs.isEmpty else { throw CircuitError.emptyTask(path: path) }
        return pairs
    }
}
