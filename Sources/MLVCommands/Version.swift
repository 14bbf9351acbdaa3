import ArgumentParser

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print mlv's version.")

    func run() {
        print("mlv \(MLV.version)")
    }
}
