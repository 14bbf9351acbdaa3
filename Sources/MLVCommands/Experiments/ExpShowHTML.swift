import MLVKit
import MLVSupport

/// `mlv exp show --html FILE`: the comparison page, written atomically.
enum ExpShowHTML {
    static func write(_ table: ExperimentTable, to file: String) throws {
        let path = Path.absolute(file)
        try FS.makeDirectories(Path.parent(path))
        try AtomicFile.write(ExperimentsHTML.render(table), to: path)
        let count = table.rows.filter { !$0.commit.isEmpty && $0.commit != $0.baseline }.count
        Console.now("\(count) experiment\(count == 1 ? "" : "s") written to \(file)")
    }
}
