import MLVKit
import MLVSupport

/// Opening the workspace the way every workspace command does.
enum WorkspaceCommand {
    static func open() throws -> Workspace {
        let ws = try Workspace.open()
        ws.onLockWait = {
            Terminal.writeError("mlv: another mlv process is working in this workspace; waiting for it to finish…\n")
        }
        ws.onWarning = { Terminal.writeError("mlv: warning: \(TerminalText.visible($0))\n") }
        return ws
    }
}
