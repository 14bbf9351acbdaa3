/// File objects with their sizes, kept as one array sorted by digest (48 bytes an object, where
/// a dictionary of them took three to four times that at a million) and found by bisection.
/// Filled with `insert`, then `seal`ed; the first size inserted for a digest is the one kept.
struct ObjectSizes {
    struct Item {
        var digest: Digest
        var size: Int64
        var order: Int   // insertion order: of two equal digests, the first inserted stays
    }
    private var items: [Item] = []
    private var sealed = true

    var count: Int {
        precondition(sealed, "ObjectSizes read before seal()")
        return items.count
    }

    mutating func insert(_ digest: Digest, size: Int64) {
        if sealed, let last = items.last, !(last.digest < digest) { sealed = false }
        items.append(Item(digest: digest, size: size, order: items.count))
    }

    /// Sorts by digest and drops repeated digests (keeping the first inserted).
    mutating func seal() {
        guard !sealed else { return }
        items.sort { $0.digest != $1.digest ? $0.digest < $1.digest : $0.order < $1.order }
        var kept = 0
        for i in items.indices where kept == 0 || items[kept - 1].digest != items[i].digest {
            items[kept] = items[i]
            items[kept].order = kept
            kept += 1
        }
        items.removeLast(items.count - kept)
        sealed = true
    }

    /// The size of a file object named, nil when it is not one of them.
    subscript(_ h: ContentHash) -> Int64? {
        precondition(sealed, "ObjectSizes read before seal()")
        guard !h.isDirectory else { return nil }
        var lo = 0, hi = items.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if items[mid].digest == h.digest { return items[mid].size }
            if items[mid].digest < h.digest { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    func contains(_ h: ContentHash) -> Bool { self[h] != nil }

    /// Every object, in digest order.
    var keys: LazyMapSequence<[Item], ContentHash> {
        precondition(sealed, "ObjectSizes read before seal()")
        return items.lazy.map { ContentHash($0.digest) }
    }
}
