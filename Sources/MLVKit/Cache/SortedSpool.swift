import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// One object an output reaches: its digest, whether it is a `.dir` manifest, and a tag (the
/// index of the output that reaches it). Ordered by digest, then files before manifests (the
/// order of the cache listing and of index objects), then tag.
struct SpoolRecord: Comparable {
    var digest: Digest
    var kind: UInt8
    var tag: UInt32

    init(_ h: ContentHash, tag: UInt32 = 0) {
        digest = h.digest
        kind = h.isDirectory ? 1 : 0
        self.tag = tag
    }

    var hash: ContentHash { ContentHash(digest, isDirectory: kind == 1) }

    static func < (a: SpoolRecord, b: SpoolRecord) -> Bool {
        a.digest != b.digest ? a.digest < b.digest : a.kind != b.kind ? a.kind < b.kind : a.tag < b.tag
    }
}

/// An external sort: records appended in any order come back sorted, each distinct one once,
/// in memory that does not grow with their number. Past `runRecords` the buffer is sorted and
/// written as a run to one unnamed file in `directory`; reading merges the runs, a buffer of
/// `readRecords` each. Where no unnamed file can be made, the records stay in memory.
final class SortedSpool {
    private let directory: String
    private let runRecords: Int
    private let readRecords: Int
    private var buffer: [SpoolRecord] = []
    private var file: Int32 = -1
    private var runs: [(start: Int64, count: Int)] = []
    private var written: Int64 = 0
    private static let stride = MemoryLayout<SpoolRecord>.stride

    init(in directory: String, runRecords: Int = 1 << 17, readRecords: Int = 1 << 11) {
        self.directory = directory
        self.runRecords = max(1, runRecords)
        self.readRecords = max(1, readRecords)
    }

    deinit { if file >= 0 { close(file) } }

    /// How many runs went to the file (for tests).
    var spilledRuns: Int { runs.count }

    private var inMemoryOnly = false

    func append(_ record: SpoolRecord) throws {
        buffer.append(record)
        if buffer.count >= runRecords && !inMemoryOnly { try spill() }
    }

    /// Sorts the buffer (dropping repeats) and writes it as a run.
    private func spill() throws {
        if file < 0 {
            try FS.makeDirectories(directory)
            guard let fd = try FS.openTemporary(in: directory, mode: 0o600, readable: true) else { inMemoryOnly = true; return }
            file = fd
        }
        sortBuffer()
        try buffer.withUnsafeBytes { try FS.writeAll(file, $0, at: written, path: Path.join(directory, "(sorted runs)")) }
        runs.append((written, buffer.count))
        written += Int64(buffer.count * Self.stride)
        buffer.removeAll(keepingCapacity: true)
    }

    private func sortBuffer() {
        buffer.sort()
        var kept = 0
        for i in buffer.indices where kept == 0 || buffer[kept - 1] != buffer[i] {
            buffer[kept] = buffer[i]
            kept += 1
        }
        buffer.removeLast(buffer.count - kept)
    }

    /// A reader of every distinct record in order. The spool must not be appended to while one is in use.
    func reader() -> Reader {
        sortBuffer()
        return Reader(self)
    }

    /// Calls `body` with every distinct record, in order.
    func forEach(_ body: (SpoolRecord) throws -> Void) throws {
        let r = reader()
        while let record = try r.next() { try body(record) }
    }

    /// Merges the runs and the sorted buffer: a small binary heap of their heads.
    final class Reader {
        private let spool: SortedSpool
        private var cursors: [Cursor]
        private var heap: [Int] = []   // cursor indexes, by head (ties: the earlier run first)
        private var last: SpoolRecord?

        fileprivate init(_ spool: SortedSpool) {
            self.spool = spool
            cursors = spool.runs.map { Cursor(start: $0.start, count: $0.count) }
            cursors.append(Cursor(memory: spool.buffer))
            heap = Array(cursors.indices)
        }

        private var primed = false

        /// The next distinct record, nil at the end.
        func next() throws -> SpoolRecord? {
            if !primed {
                primed = true
                var live: [Int] = []
                for i in heap {
                    try cursors[i].advance(spool)
                    if cursors[i].head != nil { live.append(i) }
                }
                heap = []
                for i in live { push(i) }
            }
            while let top = heap.first {
                let record = cursors[top].head!
                try cursors[top].advance(spool)
                if cursors[top].head == nil {
                    let end = heap.removeLast()
                    if !heap.isEmpty { heap[0] = end; siftDown(0) }
                } else {
                    siftDown(0)
                }
                if record != last {
                    last = record
                    return record
                }
            }
            return nil
        }

        private func before(_ a: Int, _ b: Int) -> Bool {
            let x = cursors[a].head!, y = cursors[b].head!
            return x != y ? x < y : a < b
        }

        private func push(_ i: Int) {
            heap.append(i)
            var k = heap.count - 1
            while k > 0 {
                let parent = (k - 1) / 2
                guard before(heap[k], heap[parent]) else { break }
                heap.swapAt(k, parent)
                k = parent
            }
        }

        private func siftDown(_ start: Int) {
            var k = start
            while true {
                let l = 2 * k + 1, r = l + 1
                var m = k
                if l < heap.count && before(heap[l], heap[m]) { m = l }
                if r < heap.count && before(heap[r], heap[m]) { m = r }
                if m == k { return }
                heap.swapAt(k, m)
                k = m
            }
        }
    }

    /// One run being read: its next record (`head`) and a buffer of those after it.
    fileprivate struct Cursor {
        var head: SpoolRecord?
        var chunk: [SpoolRecord] = []
        var at = 0
        var offset: Int64 = 0
        var remaining: Int   // records still in the file
        let inMemory: Bool

        init(start: Int64, count: Int) {
            offset = start
            remaining = count
            inMemory = false
        }

        init(memory: [SpoolRecord]) {
            chunk = memory
            remaining = 0
            inMemory = true
        }

        /// Moves `head` to the next record (nil at the end of the run).
        mutating func advance(_ spool: SortedSpool) throws {
            if at < chunk.count {
                head = chunk[at]
                at += 1
                return
            }
            guard !inMemory, remaining > 0 else { head = nil; chunk = []; return }
            let n = min(remaining, spool.readRecords)
            chunk = try [SpoolRecord](unsafeUninitializedCapacity: n) { b, count in
                try FS.readFully(spool.file, into: UnsafeMutableRawBufferPointer(b), offset: offset,
                                 path: Path.join(spool.directory, "(sorted runs)"), short: "ended early")
                count = n
            }
            offset += Int64(n * SortedSpool.stride)
            remaining -= n
            at = 1
            head = chunk[0]
        }
    }
}
