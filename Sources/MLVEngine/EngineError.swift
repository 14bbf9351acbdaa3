import MLVSupport

/// Everything the engine reports to the user: bad params, bad data, bad checkpoints.
/// `main` prints `message` as `mlv: error: …` and `hint` below it; the exit code is 2.
public struct EngineError: UserFacingError, Equatable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

