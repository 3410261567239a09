import Foundation
import LoupeCore
import LoupeFindings

/// How a saved partition was trained: its settings and merging rounds (`merging.json`).
public struct NDMRecord: Codable, Sendable, Equatable {
    public var samples, blockSize: Int
    public var threshold: Double
    /// Steps taken.
    public var steps: Int
    /// Whether a round merged nothing (otherwise training stopped at the step limit).
    public var converged: Bool
    public var rounds: [NDMRound]

    public init(samples: Int, blockSize: Int, threshold: Double, steps: Int, converged: Bool, rounds: [NDMRound]) {
        (self.samples, self.blockSize, self.threshold) = (samples, blockSize, threshold)
        (self.steps, self.converged, self.rounds) = (steps, converged, rounds)
    }
}

/// A learned partition on disk: `rotation.safetensors` (tensor `rotation`, `[d, d]` F32, `z = h R`),
/// `partition.json` (`{"site", "blocks"}`), `training_log.csv` (`step,loss,blocks,gradient_norm`) and
/// `merging.json` (an `NDMRecord`).
public struct SubspaceFiles: Sendable {
    public static let rotation = "rotation.safetensors"
    public static let partition = "partition.json"
    public static let log = "training_log.csv"
    public static let merging = "merging.json"

    /// `[d, d]`, orthogonal.
    public var rotation: Tensor
    public var partition: SubspacePartition
    /// The training log's losses, one per step.
    public var losses: [Double]
    public var record: NDMRecord

    public init(rotation: Tensor, partition: SubspacePartition, losses: [Double], record: NDMRecord) {
        (self.rotation, self.partition, self.losses, self.record) = (rotation, partition, losses, record)
    }

    /// The files of a finished training run.
    public init(trainer: NDMTrainer, samples: Int) {
        self.init(
            rotation: trainer.rotation, partition: trainer.partition, losses: trainer.log.map(\.loss),
            record: NDMRecord(
                samples: samples, blockSize: trainer.settings.blockSize, threshold: trainer.settings.threshold, steps: trainer.step,
                converged: trainer.converged, rounds: trainer.rounds))
    }

    /// Whether `directory` holds a partition (its `partition.json`, written last).
    public static func exist(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(partition).path)
    }

    /// Writes the files into a staging folder beside `directory`, then swaps it in; `log` is the CSV.
    public func save(to directory: URL, log: String) throws {
        do {
            try StagedFolder.replace(directory) { staging in
                try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                try SafetensorsWriter.write(["rotation": .float32(rotation)], to: staging.appendingPathComponent(Self.rotation))
                try AtomicFile.write(Data(log.utf8), to: staging.appendingPathComponent(Self.log))
                try AtomicFile.write(JSONWriter.encode(record, layout: .pretty), to: staging.appendingPathComponent(Self.merging))
                try AtomicFile.write(JSONWriter.encode(partition, layout: .pretty), to: staging.appendingPathComponent(Self.partition))
            }
        } catch {
            throw SubspaceError.invalidFile(path: directory.path, reason: "cannot write the partition: \((error as NSError).localizedDescription)")
        }
    }

    /// Reads and checks the files in `directory`: the rotation must be `[width, width]` and orthogonal
    /// (to 1e-3), the partition of `site` and covering `0..<width`.
    public static func load(from directory: URL, site: String, width: Int) throws -> SubspaceFiles {
        func read(_ name: String) throws -> Data {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw SubspaceError.invalidFile(path: url.path, reason: "missing or unreadable")
            }
            return data
        }
        let rotationURL = directory.appendingPathComponent(Self.rotation)
        let rotation: Tensor
        do {
            rotation = try SafetensorsFile(url: rotationURL).tensor("rotation", shape: [width, width])
        } catch {
            throw SubspaceError.invalidFile(path: rotationURL.path, reason: "\(error)")
        }
        guard rotation.scalars.allSatisfy(\.isFinite), OrthogonalMatrix.deviation(rotation) < 1e-3 else {
            throw SubspaceError.invalidFile(path: rotationURL.path, reason: "the rotation is not orthogonal (RᵀR differs from the identity)")
        }
        let partitionURL = directory.appendingPathComponent(Self.partition)
        let partition: SubspacePartition
        do {
            let decoded = try JSONDecoder().decode(SubspacePartition.self, from: try read(Self.partition))
            partition = try SubspacePartition(site: decoded.site, blocks: decoded.blocks, width: width)
        } catch let error as SubspaceError {
            if case let .invalidInput(reason) = error { throw SubspaceError.invalidFile(path: partitionURL.path, reason: reason) }
            throw error
        } catch {
            throw SubspaceError.invalidFile(path: partitionURL.path, reason: "not a partition ({\"site\", \"blocks\"}): \(error)")
        }
        guard partition.site == site else {
            throw SubspaceError.invalidFile(path: partitionURL.path, reason: "the partition is of '\(partition.site)', not '\(site)'")
        }
        let logURL = directory.appendingPathComponent(Self.log)
        let losses = try String(decoding: try read(Self.log), as: UTF8.self).split(separator: "\n").dropFirst().enumerated().map { index, line -> Double in
            let fields = line.split(separator: ",")
            guard fields.count == 4, let loss = Double(fields[1]) else {
                throw SubspaceError.invalidFile(path: logURL.path, reason: "line \(index + 2) is not step,loss,blocks,gradient_norm")
            }
            return loss
        }
        let mergingURL = directory.appendingPathComponent(Self.merging)
        let record: NDMRecord
        do {
            record = try JSONDecoder().decode(NDMRecord.self, from: try read(Self.merging))
        } catch let error as SubspaceError {
            throw error
        } catch {
            throw SubspaceError.invalidFile(path: mergingURL.path, reason: "not a merging record: \(error)")
        }
        return SubspaceFiles(rotation: rotation, partition: partition, losses: losses, record: record)
    }
}
