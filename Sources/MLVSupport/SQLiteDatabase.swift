internal import CSQLite

/// A small SQLite connection: every C call goes through one checked funnel (as SwiftPM's
/// `SQLite.checkError`), statements are prepared once and reused.
package final class SQLiteDatabase {
    private var handle: OpaquePointer?
    package let path: String

    package struct Error: UserFacingError {
        package var message: String
        package var hint: String? { "the state index is only a cache: delete '.mlv/tmp/state.db' if this persists" }
    }

    package init(path: String) throws {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw Error(message: "cannot open database '\(path)': \(msg)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit { if let handle { sqlite3_close_v2(handle) } }

    package static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    func check(_ rc: Int32, _ what: String) throws {
        guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            throw Error(message: "\(what) failed on '\(path)': \(msg)")
        }
    }

    package func execute(_ sql: String) throws {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), "sqlite3_exec")
    }

    package func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil), "sqlite3_prepare_v2")
        return Statement(db: self, stmt: stmt!)
    }

    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    package final class Statement {
        private let db: SQLiteDatabase
        private let stmt: OpaquePointer

        init(db: SQLiteDatabase, stmt: OpaquePointer) {
            self.db = db
            self.stmt = stmt
        }

        deinit { sqlite3_finalize(stmt) }

        package enum Value {
            case int(Int64)
            case text(String)
            case blob([UInt8])
            case null
        }

        package func bind(_ values: [Value]) throws {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            for (i, v) in values.enumerated() {
                let idx = Int32(i + 1)
                switch v {
                case .int(let x): try db.check(sqlite3_bind_int64(stmt, idx, x), "sqlite3_bind_int64")
                case .text(let s):
                    // SQLITE_TRANSIENT: sqlite copies the bytes.
                    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
                    try db.check(sqlite3_bind_text(stmt, idx, s, -1, transient), "sqlite3_bind_text")
                case .blob(let b):
                    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
                    // An empty array may have no address, which would bind NULL: an empty blob is bound as such.
                    try db.check(b.isEmpty ? sqlite3_bind_zeroblob(stmt, idx, 0)
                                           : b.withUnsafeBytes { sqlite3_bind_blob(stmt, idx, $0.baseAddress, Int32($0.count), transient) }, "sqlite3_bind_blob")
                case .null: try db.check(sqlite3_bind_null(stmt, idx), "sqlite3_bind_null")
                }
            }
        }

        /// Runs the statement to completion (for writes).
        package func run(_ values: [Value] = []) throws {
            try bind(values)
            var rc = sqlite3_step(stmt)
            while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
            try db.check(rc, "sqlite3_step")
            sqlite3_reset(stmt)
        }

        /// Runs a query and hands each row to `row`.
        package func query(_ values: [Value] = [], row: (Row) throws -> Void) throws {
            try bind(values)
            defer { sqlite3_reset(stmt) }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { try db.check(rc, "sqlite3_step"); break }
                try row(Row(stmt: stmt))
            }
        }
    }

    package struct Row {
        let stmt: OpaquePointer
        package func int(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }
        /// The blob's bytes, without copying them (valid only inside `body`).
        package func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> T) -> T {
            let p = sqlite3_column_blob(stmt, column)
            return body(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : Int(sqlite3_column_bytes(stmt, column))))
        }

        package func blob(_ column: Int32) -> [UInt8]? {
            guard let p = sqlite3_column_blob(stmt, column) else { return nil }
            return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, column))))
        }
        package func text(_ column: Int32) -> String? {
            guard let p = sqlite3_column_text(stmt, column) else { return nil }
            return String(cString: p)
        }
    }
}
