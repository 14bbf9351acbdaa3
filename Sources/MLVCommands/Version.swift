import ArgumentParser

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print mlv's version.")

    func run() {
        print("mlv \(MLV.version)")
    }
}
