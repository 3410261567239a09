/// Errors raised by LoupeCore: reading and writing tensor files, and tensor shape checks.
///
/// Every case names the file (or tensor) involved and says what is wrong, so a user can fix
/// the input without reading the code.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read at all.
    case unreadableFile(path: String, reason: String)
    /// The file could not be written.
    case unwritableFile(path: String, reason: String)
    /// A safetensors file whose layout is broken (truncated, bad header, overlapping offsets, …).
    case corruptSafetensors(path: String, reason: String)
    /// A safetensors tensor with a dtype Loupe does not read.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor that was asked for is not in the file.
    case missingTensor(path: String, tensor: String)
    /// A tensor whose shape is not the one expected.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// A `.npy` file that Loupe cannot read.
    case corruptNpy(path: String, reason: String)
    /// Two tensors (or a tensor and an operation) whose shapes do not fit together.
    case incompatibleShapes(operation: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): "\(path): cannot read the file: \(reason)"
        case let .unwritableFile(path, reason): "\(path): cannot write the file: \(reason)"
        case let .corruptSafetensors(path, reason): "\(path): not a valid safetensors file: \(reason)"
        case let .unsupportedDType(path, tensor, dtype):
            "\(path): tensor '\(tensor)' has dtype \(dtype), which Loupe does not read (F32, F16, BF16, F64, I32, I64 are supported)"
        case let .missingTensor(path, tensor): "\(path): tensor '\(tensor)' is missing"
        case let .shapeMismatch(path, tensor, expected, found): "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .corruptNpy(path, reason): "\(path): not a readable .npy file: \(reason)"
        case let .incompatibleShapes(operation, detail): "\(operation): incompatible shapes: \(detail)"
        }
    }
}
