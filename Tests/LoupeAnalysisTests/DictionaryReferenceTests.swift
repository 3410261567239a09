import Foundation
import LoupeCore
import Testing
@testable import LoupeAnalysis

/// Paths of the SAELens reference dictionaries (`Tests/Fixtures/sae`, from `Tools/make_sae_fixtures.py`).
enum DictionaryFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("sae")

    static let names = ["standard-nested", "topk-flat", "topk-rescaled", "jumprelu-nested", "jumprelu-log-threshold", "standard-scaled"]

    static func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    /// `input` `[20, d_in]`, SAELens's `feature_acts` `[20, 64]` and `reconstruction` `[20, d_in]`.
    static func reference(_ name: String) throws -> (input: Tensor, features: Tensor, reconstruction: Tensor) {
        let file = try SafetensorsFile(url: url(name).appendingPathComponent("reference.safetensors"))
        return (try file.tensor("input"), try file.tensor("feature_acts"), try file.tensor("reconstruction"))
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-dictionary-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Copies fixture `name` into a fresh temporary directory and returns it.
    static func copy(_ name: String) throws -> URL {
        let target = try temporaryDirectory(name).appendingPathComponent(name)
        try FileManager.default.copyItem(at: url(name), to: target)
        return target
    }
}

@Suite("Dictionary: SAELens reference fixtures")
struct DictionaryReferenceTests {
    @Test(arguments: DictionaryFixtures.names)
    func encodeAndDecodeMatchSAELens(name: String) throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url(name))
        let reference = try DictionaryFixtures.reference(name)
        let features = try dictionary.encode(reference.input)
        #expect(features.shape == reference.features.shape)
        #expect(features.maxAbsDifference(reference.features) <= 1e-4)
        // Every fixture row has active and inactive features, so the comparison tells them apart.
        let active = features.scalars.filter { $0 > 0 }.count
        #expect(active > 20 && active < features.count / 2 + features.count / 4)
        let reconstruction = try dictionary.decode(reference.features)
        #expect(reconstruction.maxAbsDifference(reference.reconstruction) <= 1e-4)
        #expect(try dictionary.reconstruct(reference.input).maxAbsDifference(reference.reconstruction) <= 1e-4)
    }

    @Test func configurationsAreReadFromBothLayouts() throws {
        let nested = try SparseDictionary.load(directory: DictionaryFixtures.url("standard-nested"))
        #expect(nested.architecture == .standard)
        #expect(nested.hookName == "blocks.1.hook_resid_post")
        #expect(nested.modelName == "loupe-fixture")
        #expect((nested.inputWidth, nested.width) == (32, 64))
        #expect(nested.applyDecoderBiasToInput)
        #expect(nested.normalization == .none)

        let flat = try SparseDictionary.load(directory: DictionaryFixtures.url("topk-flat"))
        #expect(flat.architecture == .topk)
        #expect(flat.k == 6)
        #expect(flat.hookName == "blocks.0.hook_mlp_out")
        #expect(!flat.applyDecoderBiasToInput)
        #expect((flat.inputWidth, flat.width) == (16, 64))

        let rescaled = try SparseDictionary.load(directory: DictionaryFixtures.url("topk-rescaled"))
        #expect(rescaled.k == 5 && rescaled.rescalesByDecoderNorm)

        let jump = try SparseDictionary.load(directory: DictionaryFixtures.url("jumprelu-nested"))
        let logJump = try SparseDictionary.load(directory: DictionaryFixtures.url("jumprelu-log-threshold"))
        #expect(jump.architecture == .jumprelu && logJump.architecture == .jumprelu)
        #expect(try #require(logJump.threshold).scalars.allSatisfy { $0 > 0.04 && $0 < 0.7 })

        let scaled = try SparseDictionary.load(directory: DictionaryFixtures.url("standard-scaled"))
        let factor = try #require(scaled.normalization.scalingFactor)
        #expect(abs(factor - 0.08224170608437559) < 1e-7)
    }

    @Test func scalingFactorMatters() throws {
        var scaled = try SparseDictionary.load(directory: DictionaryFixtures.url("standard-scaled"))
        let reference = try DictionaryFixtures.reference("standard-scaled")
        scaled.normalization = .expectedAverageOnlyIn(scalingFactor: nil)
        let unscaled = try scaled.encode(reference.input)
        #expect(unscaled.maxAbsDifference(reference.features) > 1)
    }

    @Test func decoderDirectionsAreWhatOneUnitOfAFeatureAdds() throws {
        for name in DictionaryFixtures.names {
            let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url(name))
            let directions = dictionary.decoderDirections
            #expect(directions.shape == [dictionary.width, dictionary.inputWidth])
            let zero = try dictionary.decode(Tensor(shape: [1, dictionary.width]))
            for feature in [0, 17, 63] {
                var unit = Tensor(shape: [1, dictionary.width])
                unit.scalars[feature] = 1
                let delta = try dictionary.decode(unit).scalars.enumerated().map { $0.element - zero.scalars[$0.offset] }
                let row = Array(directions.scalars[(feature * dictionary.inputWidth)..<((feature + 1) * dictionary.inputWidth)])
                #expect(zip(delta, row).allSatisfy { abs($0 - $1) < 1e-5 }, "\(name) feature \(feature)")
            }
        }
    }

    @Test func encodeKeepsLeadingDimensions() throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url("topk-flat"))
        let reference = try DictionaryFixtures.reference("topk-flat")
        let batched = try reference.input.reshaped([4, 5, 16])
        let features = try dictionary.encode(batched)
        #expect(features.shape == [4, 5, 64])
        // Each sequence of a batch gets the bits it has alone (`ProductLayout`); a flat matrix places
        // the same rows elsewhere in its tiles, so it agrees to rounding.
        for sequence in 0..<4 {
            let alone = try Tensor(shape: [5, 16], scalars: Array(reference.input.scalars[(sequence * 80)..<((sequence + 1) * 80)]))
            #expect(try dictionary.encode(alone).scalars == Array(features.scalars[(sequence * 320)..<((sequence + 1) * 320)]))
        }
        let flat = try dictionary.encode(reference.input).scalars
        #expect(zip(features.scalars, flat).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(try dictionary.decode(features).shape == [4, 5, 16])
        #expect(throws: DictionaryError.inputWidth(source: "encode", expected: 16, found: [20, 32])) {
            try dictionary.encode(Tensor(shape: [20, 32]))
        }
        #expect(throws: DictionaryError.featureWidth(source: "decode", expected: 64, found: [3, 16])) {
            try dictionary.decode(Tensor(shape: [3, 16]))
        }
    }

    @Test(arguments: DictionaryFixtures.names)
    func saveThenLoadGivesTheSameOutputs(name: String) throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url(name))
        let reference = try DictionaryFixtures.reference(name)
        let directory = try DictionaryFixtures.temporaryDirectory("save")
        defer { try? FileManager.default.removeItem(at: directory) }
        try dictionary.save(to: directory)
        let loaded = try SparseDictionary.load(directory: directory)
        #expect(loaded.architecture == dictionary.architecture)
        #expect(loaded.hookName == dictionary.hookName)
        #expect(loaded.k == dictionary.k)
        #expect(loaded.applyDecoderBiasToInput == dictionary.applyDecoderBiasToInput)
        #expect(loaded.normalization.scalingFactor == nil)
        let features = try loaded.encode(reference.input)
        #expect(features.maxAbsDifference(reference.features) <= 1e-4)
        #expect(try loaded.decode(features).maxAbsDifference(reference.reconstruction) <= 1e-4)
        #expect(loaded.decoderDirections.maxAbsDifference(dictionary.decoderDirections) <= 1e-5)
        if dictionary.normalization == .none {
            #expect(loaded == dictionary)
        }
        // The configuration is the flat form SAELens converts on load.
        let config = try readJSONObject(url: directory.appendingPathComponent("cfg.json")).values
        #expect(config["hook_name"] as? String == dictionary.hookName)
        #expect(config["d_in"] as? Int == dictionary.inputWidth)
        #expect(config["d_sae"] as? Int == dictionary.width)
        #expect(config["architecture"] as? String == dictionary.architecture.rawValue)
        #expect(config["normalize_activations"] as? String == "none")
    }

    @Test func savingIsDeterministic() throws {
        let dictionary = try SparseDictionary.load(directory: DictionaryFixtures.url("jumprelu-nested"))
        let first = try DictionaryFixtures.temporaryDirectory("a")
        let second = try DictionaryFixtures.temporaryDirectory("b")
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        try dictionary.save(to: first)
        try dictionary.save(to: second)
        for file in ["cfg.json", "sae_weights.safetensors"] {
            #expect(try Data(contentsOf: first.appendingPathComponent(file)) == Data(contentsOf: second.appendingPathComponent(file)))
        }
    }
}
