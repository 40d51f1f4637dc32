import CCacheHints

/// The engine's only door to `CCacheHints`.
enum CacheHints {
    /// Starts loading the cache line that holds `address` into L2, for a read soon but not next; never faults.
    @inline(__always)
    static func prefetchToL2(_ address: UnsafeRawPointer) {
        bottleneck_prefetch_to_l2(address)
    }
}
