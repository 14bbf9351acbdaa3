import MLVSupport

/// Everything the engine reports to the user: bad params, bad data, bad checkpoints.
/// `main` prints `message` as `mlv: error: …` and `hint` below it; the exit code is 2.
package struct EngineError: UserFacingError, Equatable {
    package var message: String
    package var hint: String?

    package init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

